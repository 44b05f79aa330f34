// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/session.h"

#include <signal.h>
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

TEST(KillSessionTest, AnEmptySessionIsDoneAtOnce) {
  const pid_t sid = StartSession(0);
  kill(sid, SIGKILL);
  waitpid(sid, nullptr, 0);
  EXPECT_TRUE(KillSession(sid, -1, absl::ZeroDuration()));
}

TEST(ReapChildBeforeTest, ReapsAnExitedChildAndWaitsNoLongerThanAsked) {
  pid_t quick = fork();
  if (quick == 0) _exit(0);
  EXPECT_TRUE(ReapChildBefore(quick, absl::Now() + absl::Seconds(30)));
  EXPECT_EQ(waitpid(quick, nullptr, WNOHANG), -1) << "not reaped";

  pid_t slow = fork();
  if (slow == 0) {
    for (;;) pause();
  }
  EXPECT_FALSE(ReapChildBefore(slow, absl::Now() + absl::Milliseconds(20)));
  kill(slow, SIGKILL);
  EXPECT_TRUE(ReapChildBefore(slow, absl::Now() + absl::Seconds(30)));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
