// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/termination.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/time/time.h"
#include "daemon/internal/proc.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// A child that ignores SIGTERM (or not) and waits to be killed. It tells
// the parent through a pipe once its disposition is in place.
pid_t StartChild(bool ignore_term) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    if (ignore_term) signal(SIGTERM, SIG_IGN);
    close(ready[1]);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  (void)read(ready[0], &byte, 1);  // end-of-file: the child is set up
  close(ready[0]);
  return pid;
}

int Reap(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST(TerminateProcessTest, SigtermEndsAProcessThatHeedsIt) {
  const pid_t pid = StartChild(/*ignore_term=*/false);
  ASSERT_GT(pid, 0);
  const int pidfd = PidfdOpen(pid);
  ASSERT_GE(pidfd, 0);
  EXPECT_TRUE(TerminateProcess(pidfd, absl::Seconds(60), "child").ok());
  const int status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  close(pidfd);
}

TEST(TerminateProcessTest, SigkillEndsAProcessThatIgnoresSigterm) {
  const pid_t pid = StartChild(/*ignore_term=*/true);
  ASSERT_GT(pid, 0);
  const int pidfd = PidfdOpen(pid);
  ASSERT_GE(pidfd, 0);
  EXPECT_TRUE(TerminateProcess(pidfd, absl::Milliseconds(100), "child").ok());
  const int status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  close(pidfd);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
