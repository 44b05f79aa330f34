// Copyright 2026 The daemonkit Authors.

#include "tools/executable_pages.h"

#include <link.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace {

struct Segment {
  uintptr_t begin = 0, end = 0;
};

// The executable's largest non-writable loadable segment.
int Largest(struct dl_phdr_info* info, size_t, void* data) {
  Segment* segment = static_cast<Segment*>(data);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_LOAD || (phdr.p_flags & PF_W) != 0) continue;
    if (phdr.p_memsz > segment->end - segment->begin) {
      segment->begin = info->dlpi_addr + phdr.p_vaddr;
      segment->end = segment->begin + phdr.p_memsz;
    }
  }
  return 1;
}

// The resident kB of the mappings of /proc/PID/smaps that overlap
// [begin, end).
double ResidentKb(pid_t pid, uintptr_t begin, uintptr_t end) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::stringstream text;
  text << in.rdbuf();
  double kb = 0;
  bool inside = false;
  for (absl::string_view line : absl::StrSplit(text.str(), '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.empty()) continue;
    std::vector<absl::string_view> range = absl::StrSplit(words[0], '-');
    uint64_t from, to;
    if (range.size() == 2 && absl::SimpleHexAtoi(range[0], &from) &&
        absl::SimpleHexAtoi(range[1], &to)) {
      inside = from < end && to > begin;
      continue;
    }
    double value;
    if (inside && words.size() >= 2 && words[0] == "Rss:" &&
        absl::SimpleAtod(words[1], &value)) {
      kb += value;
    }
  }
  return kb;
}

// Reads every page of the segment, so that all of it is resident. Not
// under AddressSanitizer: the bytes read are its redzones around globals.
__attribute__((no_sanitize("address"))) uint64_t TouchAll(
    const Segment& segment) {
  uint64_t sum = 0;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (uintptr_t at = segment.begin; at < segment.end; at += page) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    sum += *reinterpret_cast<const volatile unsigned char*>(at);
  }
  return sum;
}

// A function that lives in the code that was dropped: it must still run.
__attribute__((noinline)) int Fibonacci(int n) {
  return n < 2 ? n : Fibonacci(n - 1) + Fibonacci(n - 2);
}

// Waits until `child` stops (true) or ends.
bool AwaitStop(pid_t child) {
  int status;
  return waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status);
}

// The pages are counted in a child stopped right after the drop, from
// outside: whatever code runs after the drop faults its pages back, and on
// kernels that keep an executable in large page-cache folios (6.x, ext4)
// one fault maps a whole folio. The test's own reading of smaps faulted
// back over half of a 2 MB segment so (the gate of 2026-12-07, every run;
// 64 kB at a time once the file was read in again).
TEST(DropExecutablePagesTest, ReleasesTheTouchedCodeAndTheCodeStillRuns) {
  Segment segment;
  dl_iterate_phdr(Largest, &segment);
  ASSERT_GT(segment.end, segment.begin);
  const double size_kb = (segment.end - segment.begin) / 1024.0;
  // The test binary's code is megabytes; the few pages the child runs
  // between the drop and its stop (the drop's return, raise's PLT entry)
  // are far below half.
  ASSERT_GT(size_kb, 1024);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const uint64_t before_sum = TouchAll(segment);
    raise(SIGSTOP);
    const bool dropped = DropExecutablePages().ok();
    raise(SIGSTOP);
    // The same bytes come back from the file, and the code runs.
    const bool same = TouchAll(segment) == before_sum && Fibonacci(20) == 6765;
    _exit(dropped && same ? 0 : 1);
  }
  ASSERT_TRUE(AwaitStop(child));
  const double before = ResidentKb(child, segment.begin, segment.end);
  EXPECT_GT(before, size_kb * 0.9);
  ASSERT_EQ(kill(child, SIGCONT), 0);
  ASSERT_TRUE(AwaitStop(child));
  const double after = ResidentKb(child, segment.begin, segment.end);
  EXPECT_LT(after, before / 2) << "before " << before << " kB";
  ASSERT_EQ(kill(child, SIGCONT), 0);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the drop failed, or the code read back differs (status " << status
      << ")";
}

TEST(DropExecutablePagesTest, LeavesWritableDataAlone) {
  static int counter = 41;
  static char buffer[1 << 16];
  buffer[12345] = 'x';
  ++counter;
  ASSERT_TRUE(DropExecutablePages().ok());
  EXPECT_EQ(counter, 42);
  EXPECT_EQ(buffer[12345], 'x');
}

}  // namespace
}  // namespace daemonkit
