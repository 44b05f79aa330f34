// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/environment.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "daemon/proc.h"

extern char** environ;

namespace daemonkit {
namespace internal {

namespace {

// The kernel shows /proc/PID/environ from the block the process was started
// with, not from libc's environ: unsetenv alone leaves a removed secret
// readable there (and in memory). So does a setenv() that replaced it before
// (libc then points environ at a new string and leaves the old one in the
// block). This zeroes every entry of that block whose name `kept` refuses;
// the entries kept do not move, so a pointer getenv() returned for them
// stays valid. Strings the application set later (setenv, putenv) live
// elsewhere and are not ours to overwrite.
template <typename Kept>
void ScrubStartBlock(const Kept& kept) {
  absl::StatusOr<ProcStat> stat = ReadOwnProcStat();
  uintptr_t start = 0, end = 0;
  // env_start and env_end exist since Linux 3.5.
  if (!stat.ok() || !stat->ParseField(ProcStat::kEnvStart, &start) ||
      !stat->ParseField(ProcStat::kEnvEnd, &end) || start == 0 ||
      end <= start) {
    return;
  }
  // The kernel gives the block's bounds as numbers (/proc/self/stat fields
  // 50 and 51): they are addresses in this very process.
  char* entry =
      reinterpret_cast<char*>(start);  // NOLINT(performance-no-int-to-ptr)
  char* const block_end =
      reinterpret_cast<char*>(end);  // NOLINT(performance-no-int-to-ptr)
  while (entry < block_end) {
    const size_t length = strnlen(entry, block_end - entry);
    const absl::string_view variable(entry, length);
    const size_t equals = variable.find('=');
    if (equals != absl::string_view::npos && equals > 0 &&
        !kept(variable.substr(0, equals))) {
      std::memset(entry, 0, length);
    }
    entry += length + 1;
  }
}

}  // namespace

void KeepOnlyVariables(const std::vector<std::string>& keep) {
  auto kept = [&keep](absl::string_view name) {
    return std::find(keep.begin(), keep.end(), name) != keep.end() ||
           std::find(std::begin(kSupervisorVariables),
                     std::end(kSupervisorVariables),
                     name) != std::end(kSupervisorVariables);
  };
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    absl::string_view name = variable.substr(0, variable.find('='));
    if (!name.empty() && !kept(name)) names.emplace_back(name);
  }
  // unsetenv only takes entries out of the environ array: the kept strings
  // stay where they are, and so do the pointers getenv() handed out. After
  // it, environ points at no entry of the block that the scrub zeroes.
  for (const std::string& name : names) unsetenv(name.c_str());
  ScrubStartBlock(kept);
}

}  // namespace internal
}  // namespace daemonkit
