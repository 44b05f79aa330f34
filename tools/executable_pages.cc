// Copyright 2026 The daemonkit Authors.

#include "tools/executable_pages.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace {

struct Walk {
  bool found = false;
  bool text_relocations = false;
  uintptr_t page = 0;
  // The executable's non-writable PT_LOAD ranges, whole pages only.
  struct Range {
    uintptr_t begin, end;
  } ranges[8];
  int count = 0;
};

bool HasTextRelocations(const struct dl_phdr_info* info,
                        const ElfW(Phdr) & phdr) {
  // The loader gives the segment's address as an integer (ELF's design).
  const uintptr_t address = info->dlpi_addr + phdr.p_vaddr;
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  const auto* dynamic = reinterpret_cast<const ElfW(Dyn)*>(address);
  for (; dynamic->d_tag != DT_NULL; ++dynamic) {
    if (dynamic->d_tag == DT_TEXTREL) return true;
    if (dynamic->d_tag == DT_FLAGS && (dynamic->d_un.d_val & DF_TEXTREL)) {
      return true;
    }
  }
  return false;
}

// dl_iterate_phdr reports the executable first; only it is looked at.
int FirstObject(struct dl_phdr_info* info, size_t, void* data) {
  Walk* walk = static_cast<Walk*>(data);
  walk->found = true;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type == PT_DYNAMIC && HasTextRelocations(info, phdr)) {
      walk->text_relocations = true;
    }
    if (phdr.p_type != PT_LOAD || (phdr.p_flags & PF_W) != 0) continue;
    if (walk->count ==
        static_cast<int>(sizeof(walk->ranges) / sizeof(walk->ranges[0]))) {
      continue;
    }
    // Rounded inwards: a page the segment shares with a writable one (a
    // layout without page alignment) stays.
    const uintptr_t begin = info->dlpi_addr + phdr.p_vaddr;
    const uintptr_t end = begin + phdr.p_memsz;
    const uintptr_t page_begin = (begin + walk->page - 1) & ~(walk->page - 1);
    const uintptr_t page_end = end & ~(walk->page - 1);
    if (page_end > page_begin) {
      walk->ranges[walk->count++] = {page_begin, page_end};
    }
  }
  return 1;  // stop after the executable
}

}  // namespace

absl::Status DropExecutablePages() {
  Walk walk;
  const int64_t page = sysconf(_SC_PAGESIZE);
  if (page <= 0) return absl::InternalError("sysconf(_SC_PAGESIZE) failed");
  walk.page = static_cast<uintptr_t>(page);
  dl_iterate_phdr(FirstObject, &walk);
  if (!walk.found) return absl::InternalError("no executable found");
  if (walk.text_relocations) {
    return absl::FailedPreconditionError(
        "the executable has text relocations: its code pages are modified "
        "copies and must stay");
  }
  for (int i = 0; i < walk.count; ++i) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    if (madvise(reinterpret_cast<void*>(walk.ranges[i].begin),
                walk.ranges[i].end - walk.ranges[i].begin,
                MADV_DONTNEED) != 0) {
      const int error = errno;
      return absl::ErrnoToStatus(
          error, absl::StrCat("madvise(MADV_DONTNEED) of the executable: ",
                              std::strerror(error)));
    }
  }
  return absl::OkStatus();
}

}  // namespace daemonkit
