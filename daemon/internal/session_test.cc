// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/session.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "daemon/internal/proc.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// Forks a session leader that forks `members` more processes into its
// session, all waiting forever. Returns the leader's pid (= the session id)
// once every member runs.
pid_t StartSession(int members) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t leader = fork();
  if (leader == 0) {
    close(fds[0]);
    if (setsid() < 0) _exit(1);
    for (int i = 0; i < members; ++i) {
      if (fork() == 0) {
        (void)write(fds[1], "m", 1);
        for (;;) pause();
      }
    }
    (void)write(fds[1], "l", 1);
    for (;;) pause();
  }
  close(fds[1]);
  char byte;
  for (int i = 0; i <= members; ++i) EXPECT_EQ(read(fds[0], &byte, 1), 1);
  close(fds[0]);
  return leader;
}

TEST(KillSessionTest, EndsEveryProcessOfTheSession) {
  const pid_t sid = StartSession(3);
  std::vector<pid_t> members = LiveSessionMembers(sid);
  EXPECT_EQ(members.size(), 4u);
  EXPECT_NE(std::find(members.begin(), members.end(), sid), members.end());
  // Not the caller's own session.
  EXPECT_EQ(std::find(members.begin(), members.end(), getpid()), members.end());

  EXPECT_TRUE(KillSession(sid, -1, absl::Seconds(30)));
  for (pid_t pid : members) EXPECT_FALSE(IsRunning(pid)) << pid;
  int status = 0;
  ASSERT_EQ(waitpid(sid, &status, 0), sid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(LiveSessionMembers(sid).empty());
}

// A process whose main thread has exited is a 'Z' in /proc/PID/stat while
// its other threads run on and keep its descriptors open (a daemon's
// pid-file lock): it is a member until its pidfd says the whole thread
// group is gone. Here such a member holds a pipe's write end.
TEST(KillSessionTest, EndsAMemberWhoseMainThreadExitedBeforeReturning) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t leader = fork();
  ASSERT_GE(leader, 0);
  if (leader == 0) {
    close(fds[0]);
    close(ready[0]);
    if (setsid() < 0) _exit(1);
    if (fork() == 0) {
      // The member, in a process group of its own (out of reach of the
      // session's group kill): a thread that keeps the write end, then the
      // main thread exits.
      if (setpgid(0, 0) != 0) _exit(1);
      pthread_t thread;
      if (pthread_create(
              &thread, nullptr,
              [](void*) -> void* {
                for (;;) pause();
              },
              nullptr) != 0) {
        _exit(1);
      }
      (void)write(ready[1], "m", 1);
      // Only this thread ends (exit(2), not exit_group(2)); pthread_exit
      // would unwind through the test body.
      syscall(SYS_exit, 0);
      _exit(1);
    }
    close(fds[1]);
    for (;;) pause();
  }
  close(fds[1]);
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);

  EXPECT_TRUE(KillSession(leader, -1, absl::Seconds(30)));
  // Returned only once the member's last thread is gone: its write end is
  // closed, so the read end sees end-of-file at once.
  struct pollfd pfd = {fds[0], POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 0), 1);
  EXPECT_EQ(read(fds[0], &byte, 1), 0);
  close(fds[0]);
  waitpid(leader, nullptr, 0);
}

TEST(KillSessionTest, AnEmptySessionIsDoneAtOnce) {
  const pid_t sid = StartSession(0);
  kill(sid, SIGKILL);
  waitpid(sid, nullptr, 0);
  EXPECT_TRUE(KillSession(sid, -1, absl::ZeroDuration()));
}

TEST(ReapChildBeforeTest, ReapsAnExitedChildAndWaitsNoLongerThanAsked) {
  pid_t quick = fork();
  if (quick == 0) _exit(0);
  EXPECT_TRUE(ReapChildBefore(quick, Deadline::In(absl::Seconds(30))));
  EXPECT_EQ(waitpid(quick, nullptr, WNOHANG), -1) << "not reaped";

  pid_t slow = fork();
  if (slow == 0) {
    for (;;) pause();
  }
  EXPECT_FALSE(ReapChildBefore(slow, Deadline::In(absl::Milliseconds(20))));
  kill(slow, SIGKILL);
  EXPECT_TRUE(ReapChildBefore(slow, Deadline::In(absl::Seconds(30))));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
