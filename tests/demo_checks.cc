// Copyright 2026 The daemonkit Authors.

#include "tests/demo_checks.h"

#include <unistd.h>

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace test_support {

bool IsDemoTimestamp(const std::string& line) {
  // D for a digit, anything else literal.
  static constexpr char kPattern[] = "DDDD-DD-DDTDD:DD:DD.DDDDDD+DD:DD";
  if (line.size() != sizeof(kPattern) - 1) return false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char want = kPattern[i];
    const char have = line[i];
    if (want == 'D') {
      if (!std::isdigit(static_cast<unsigned char>(have))) return false;
    } else if (want == '+') {
      if (have != '+' && have != '-') return false;
    } else if (have != want) {
      return false;
    }
  }
  return true;
}

void ExpectDemoOutput(const std::string& log, pid_t pid, int ticks) {
  std::vector<std::string> lines;
  const bool enough = WaitFor(
      [&] {
        lines = absl::StrSplit(ReadFileOrEmpty(log), '\n', absl::SkipEmpty());
        int seen = 0;
        for (const std::string& line : lines) seen += IsDemoTimestamp(line);
        return lines.size() >= 3 && seen >= ticks;
      },
      absl::Seconds(60));
  ASSERT_TRUE(enough) << log << ":\n" << ReadFileOrEmpty(log);
  EXPECT_EQ(lines[0], "Run daemon");
  EXPECT_EQ(lines[1],
            absl::StrCat("User gid: ", getegid(), ", uid: ", geteuid()));
  const std::string process = absl::StrCat("Process id: ", pid, " ");
  EXPECT_EQ(lines[2].substr(0, process.size()), process) << lines[2];
  for (size_t i = 3; i < lines.size(); ++i) {
    EXPECT_TRUE(IsDemoTimestamp(lines[i]) || lines[i] == "reloaded" ||
                lines[i] == "stopped")
        << "line " << i + 1 << ": " << lines[i];
  }
}

void ExpectDaemonInProc(pid_t pid) {
  const ProcStat stat = StatOf(pid);
  ASSERT_TRUE(stat.running()) << "pid " << pid;
  pid_t sid = 0;
  pid_t ppid = 0;
  int tty = -1;
  ASSERT_TRUE(stat.ParseField(ProcStat::kSession, &sid));
  ASSERT_TRUE(stat.ParseField(ProcStat::kPpid, &ppid));
  ASSERT_TRUE(stat.ParseField(ProcStat::kTtyNr, &tty));
  EXPECT_EQ(tty, 0);
  EXPECT_NE(sid, getsid(0));
  EXPECT_NE(ppid, getpid());
  char target[256] = {};
  ASSERT_GT(readlink(absl::StrCat("/proc/", pid, "/fd/0").c_str(), target,
                     sizeof(target) - 1),
            0);
  EXPECT_STREQ(target, "/dev/null");
}

}  // namespace test_support
}  // namespace daemonkit
