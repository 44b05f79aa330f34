// Copyright 2026 The daemonkit Authors.

#include "daemon/proc.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

TEST(ProcStatTest, NumbersFieldsAsProcFive) {
  absl::StatusOr<ProcStat> stat =
      ProcStat::Parse("42 (ticker) S 1 40 41 34816 40 4194304 7\n");
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->size(), 10);
  EXPECT_EQ(stat->field(ProcStat::kPid), "42");
  EXPECT_EQ(stat->field(ProcStat::kComm), "ticker");
  EXPECT_EQ(stat->state(), 'S');
  EXPECT_EQ(stat->field(ProcStat::kPpid), "1");
  EXPECT_EQ(stat->field(ProcStat::kPgrp), "40");
  EXPECT_EQ(stat->field(ProcStat::kSession), "41");
  EXPECT_EQ(stat->field(ProcStat::kTtyNr), "34816");
  EXPECT_EQ(stat->field(10), "7") << "the trailing newline is not part of it";
  EXPECT_EQ(stat->field(11), "");
  EXPECT_EQ(stat->field(0), "");
  EXPECT_FALSE(stat->has(0));
  EXPECT_FALSE(stat->has(11));
}

// A process names itself: its command may hold ") ", spaces and parentheses,
// and the fields after it must not shift.
TEST(ProcStatTest, CommandWithParenthesesAndSpacesDoesNotShiftFields) {
  absl::StatusOr<ProcStat> stat =
      ProcStat::Parse("7 (a) S 9 (b)) Z 3 5 6 0 -1");
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->field(ProcStat::kComm), "a) S 9 (b)");
  EXPECT_EQ(stat->state(), 'Z');
  EXPECT_FALSE(stat->running());
  pid_t session = 0;
  EXPECT_TRUE(stat->ParseField(ProcStat::kSession, &session));
  EXPECT_EQ(session, 6);
}

TEST(ProcStatTest, ParseFieldRejectsWhatIsNotANumber) {
  absl::StatusOr<ProcStat> stat = ProcStat::Parse("1 (x) R x 2");
  ASSERT_TRUE(stat.ok());
  int value = 0;
  EXPECT_FALSE(stat->ParseField(ProcStat::kPpid, &value));
  EXPECT_TRUE(stat->ParseField(ProcStat::kPgrp, &value));
  EXPECT_EQ(value, 2);
  EXPECT_FALSE(stat->ParseField(ProcStat::kSession, &value)) << "absent";
}

TEST(ProcStatTest, RejectsMalformedLines) {
  for (const char* line : {"", "42", "42 ticker S 1", "42 (ticker)",
                           "42 (ticker) ", "(ticker) S 1", "42 )ticker( S"}) {
    absl::StatusOr<ProcStat> stat = ProcStat::Parse(line);
    EXPECT_EQ(stat.status().code(), absl::StatusCode::kInvalidArgument)
        << "'" << line << "'";
  }
}

TEST(ProcStatTest, RunningByState) {
  for (char state : {'R', 'S', 'D', 'T', 't', 'I'}) {
    EXPECT_TRUE(ProcStat::Parse(absl::StrCat("1 (x) ", std::string(1, state)))
                    ->running())
        << state;
  }
  for (char state : {'Z', 'X', 'x'}) {
    EXPECT_FALSE(ProcStat::Parse(absl::StrCat("1 (x) ", std::string(1, state)))
                     ->running())
        << state;
  }
  EXPECT_FALSE(ProcStat().running());
  EXPECT_EQ(ProcStat().state(), '\0');
  EXPECT_EQ(ProcStat().size(), 0);
}

TEST(ReadProcStatTest, ReadsThisProcess) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(getpid());
  ASSERT_TRUE(stat.ok()) << stat.status();
  pid_t pid = 0, ppid = 0, pgrp = 0, session = 0;
  ASSERT_TRUE(stat->ParseField(ProcStat::kPid, &pid));
  ASSERT_TRUE(stat->ParseField(ProcStat::kPpid, &ppid));
  ASSERT_TRUE(stat->ParseField(ProcStat::kPgrp, &pgrp));
  ASSERT_TRUE(stat->ParseField(ProcStat::kSession, &session));
  EXPECT_EQ(pid, getpid());
  EXPECT_EQ(ppid, getppid());
  EXPECT_EQ(pgrp, getpgrp());
  EXPECT_EQ(session, getsid(0));
  EXPECT_TRUE(stat->running());
}

// The environment block's bounds (fields 50 and 51) hold the block the
// process started with: where environ's first string was put by the kernel.
TEST(ReadProcStatTest, OwnStatHasTheEnvironmentBlock) {
  ASSERT_EQ(setenv("DAEMONKIT_PROC_TEST", "1", 0), 0);
  absl::StatusOr<ProcStat> stat = ReadOwnProcStat();
  ASSERT_TRUE(stat.ok()) << stat.status();
  uintptr_t start = 0, end = 0;
  ASSERT_TRUE(stat->ParseField(ProcStat::kEnvStart, &start));
  ASSERT_TRUE(stat->ParseField(ProcStat::kEnvEnd, &end));
  EXPECT_LT(start, end);
  absl::StatusOr<std::string> environ_file = ReadProcFile("/proc/self/environ");
  ASSERT_TRUE(environ_file.ok()) << environ_file.status();
  EXPECT_EQ(end - start, environ_file->size());
}

// A comm that looks like the end of the line: prctl(PR_SET_NAME) is the
// process choosing its own field 2.
TEST(ReadProcStatTest, ChildWithHostileNameReadsRight) {
  test_support::PausedChild child(
      [] { return prctl(PR_SET_NAME, "x) Z 1 2 3 (y") == 0; });
  absl::StatusOr<ProcStat> stat = ReadProcStat(child.pid());
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->field(ProcStat::kComm), "x) Z 1 2 3 (y");
  EXPECT_TRUE(stat->running()) << stat->state();
  pid_t ppid = 0;
  EXPECT_TRUE(stat->ParseField(ProcStat::kPpid, &ppid));
  EXPECT_EQ(ppid, getpid());

  // Exited but not reaped: still readable, and a zombie.
  child.KillButDoNotReap();
  stat = ReadProcStat(child.pid());
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->state(), 'Z');
  EXPECT_FALSE(stat->running());
  // Reaped: gone.
  const pid_t gone = child.Reap();
  EXPECT_EQ(ReadProcStat(gone).status().code(), absl::StatusCode::kNotFound);
}

TEST(ReadProcFileTest, NamesThePathOnFailure) {
  absl::StatusOr<std::string> content =
      ReadProcFile("/proc/self/no-such-entry");
  EXPECT_EQ(content.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(content.status().message().find("/proc/self/no-such-entry"),
            absl::string_view::npos)
      << content.status();
}

}  // namespace
}  // namespace daemonkit
