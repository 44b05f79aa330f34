// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/wait_status.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// The status of a real child that ran `body`.
int StatusOfChild(void (*body)()) {
  const pid_t child = fork();
  if (child == 0) {
    body();
    _exit(99);
  }
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  return status;
}

TEST(ExitCodeOfTest, AnExitIsItsOwnCode) {
  EXPECT_EQ(ExitCodeOf(StatusOfChild([] { _exit(0); })), 0);
  EXPECT_EQ(ExitCodeOf(StatusOfChild([] { _exit(3); })), 3);
  EXPECT_EQ(ExitCodeOf(StatusOfChild([] { _exit(255); })), 255);
}

TEST(ExitCodeOfTest, ASignalIs128PlusItsNumber) {
  EXPECT_EQ(ExitCodeOf(StatusOfChild([] { raise(SIGKILL); })), 137);
  EXPECT_EQ(ExitCodeOf(StatusOfChild([] {
              signal(SIGTERM, SIG_DFL);
              raise(SIGTERM);
            })),
            143);
}

TEST(ExitCodeOfTest, AStopIsNoEnd) {
  const pid_t child = fork();
  if (child == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, WUNTRACED), child);
  EXPECT_TRUE(WIFSTOPPED(status));
  EXPECT_EQ(ExitCodeOf(status), 1);
  kill(child, SIGKILL);
  ASSERT_EQ(waitpid(child, &status, 0), child);
}

TEST(ReapChildTest, ReapsAndTellsTheStatus) {
  const pid_t child = fork();
  if (child == 0) _exit(7);
  int status = 0;
  ASSERT_TRUE(ReapChild(child, &status));
  EXPECT_EQ(ExitCodeOf(status), 7);
  // Reaped: no such child any more.
  EXPECT_FALSE(ReapChild(child));
  EXPECT_EQ(errno, ECHILD);
}

TEST(DescribeWaitStatusTest, SaysHowARealChildEnded) {
  EXPECT_EQ(DescribeWaitStatus(StatusOfChild([] { _exit(3); })),
            "exited with status 3");
  EXPECT_EQ(DescribeWaitStatus(StatusOfChild([] { raise(SIGKILL); })),
            "was killed by signal 9 (Killed)");
  // A stopped child's status (WIFSTOPPED) tells no end.
  EXPECT_EQ(DescribeWaitStatus(0x137f), "ended");
}

TEST(WaitStatusSummaryTest, NamesHowARealChildEnded) {
  EXPECT_EQ(WaitStatusSummary(StatusOfChild([] { _exit(0); })), "exit code 0");
  EXPECT_EQ(WaitStatusSummary(StatusOfChild([] { raise(SIGTERM); })),
            "signal Terminated");
  EXPECT_EQ(WaitStatusSummary(0x137f), "unknown status");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
