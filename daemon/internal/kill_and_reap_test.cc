// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/kill_and_reap.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
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

// The running (not zombie) processes of process group `group`, from /proc.
std::vector<pid_t> ProcessesInGroup(pid_t group) {
  std::vector<pid_t> members;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return members;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    pid_t pgrp = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    if (stat.ok() && stat->running() &&
        stat->ParseField(ProcStat::kPgrp, &pgrp) && pgrp == group) {
      members.push_back(pid);
    }
  }
  closedir(proc);
  return members;
}

// A child from StartChild with a pidfd of it, stopped (SIGSTOP, seen by
// waitpid) when `stopped`; pid -1 when it could not be set up.
struct Target {
  pid_t pid = -1;
  int pidfd = -1;
};
Target StartTarget(bool ignore_term, bool stopped) {
  Target target;
  const pid_t pid = StartChild(ignore_term);
  if (pid <= 0) return target;
  target.pidfd = PidfdOpen(pid);
  int status = 0;
  if (stopped &&
      (kill(pid, SIGSTOP) != 0 || waitpid(pid, &status, WUNTRACED) != pid ||
       !WIFSTOPPED(status))) {
    return target;
  }
  target.pid = pid;
  return target;
}

int Reap(pid_t pid) {
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST(TerminateProcessTest, SigtermEndsAProcessThatHeedsIt) {
  const Target target = StartTarget(/*ignore_term=*/false, /*stopped=*/false);
  const pid_t pid = target.pid;
  const int pidfd = target.pidfd;
  ASSERT_GT(pid, 0);
  ASSERT_GE(pidfd, 0);
  EXPECT_TRUE(TerminateProcess(pidfd, absl::Seconds(60), "child").ok());
  const int status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  close(pidfd);
}

TEST(TerminateProcessTest, SigkillEndsAProcessThatIgnoresSigterm) {
  const Target target = StartTarget(/*ignore_term=*/true, /*stopped=*/false);
  const pid_t pid = target.pid;
  const int pidfd = target.pidfd;
  ASSERT_GT(pid, 0);
  ASSERT_GE(pidfd, 0);
  EXPECT_TRUE(TerminateProcess(pidfd, absl::Milliseconds(100), "child").ok());
  const int status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  close(pidfd);
}

// A stopped process acts on nothing but SIGKILL: the request must be
// followed by SIGCONT for the grace to mean anything.
TEST(EndProcessTest, ThenContinueLetsAStoppedProcessTakeTheRequest) {
  const Target target = StartTarget(/*ignore_term=*/false, /*stopped=*/true);
  const pid_t pid = target.pid;
  const int pidfd = target.pidfd;
  ASSERT_GT(pid, 0);
  ASSERT_GE(pidfd, 0);
  int status = 0;
  EndPolicy policy;
  policy.then_continue = true;
  policy.grace = absl::Seconds(60);
  bool killed = false;
  const absl::StatusOr<EndOutcome> ended =
      EndProcess(pidfd, policy, "child", [&] { killed = true; });
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, EndOutcome::kExited);
  EXPECT_FALSE(killed);
  status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  close(pidfd);
}

// Without SIGCONT, a stopped process holds the SIGTERM pending through the
// whole grace, and only SIGKILL ends it; `before_kill` is told first.
TEST(EndProcessTest, AStoppedProcessNotContinuedIsKilledAfterTheGrace) {
  const Target target = StartTarget(/*ignore_term=*/false, /*stopped=*/true);
  const pid_t pid = target.pid;
  const int pidfd = target.pidfd;
  ASSERT_GT(pid, 0);
  ASSERT_GE(pidfd, 0);
  int status = 0;
  EndPolicy policy;
  policy.grace = absl::Milliseconds(100);
  int warnings = 0;
  const absl::StatusOr<EndOutcome> ended =
      EndProcess(pidfd, policy, "child", [&] { ++warnings; });
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, EndOutcome::kKilled);
  EXPECT_EQ(warnings, 1);
  status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  close(pidfd);
}

// SIGCONT alone as the request: a process that finishes once resumed (a
// path keeper left stopped) exits within the grace.
TEST(EndProcessTest, SigcontAloneResumesAStoppedProcess) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    raise(SIGSTOP);
    _exit(7);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(status));
  const int pidfd = PidfdOpen(pid);
  ASSERT_GE(pidfd, 0);
  EndPolicy policy;
  policy.first_signal = SIGCONT;
  policy.grace = absl::Seconds(60);
  const absl::StatusOr<EndOutcome> ended =
      EndProcess(pidfd, policy, "child", [] {});
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, EndOutcome::kExited);
  status = Reap(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
  close(pidfd);
}

TEST(EndProcessTest, AProcessAlreadyGoneHasExited) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  const int pidfd = PidfdOpen(pid);
  ASSERT_GE(pidfd, 0);
  Reap(pid);
  const absl::StatusOr<EndOutcome> ended =
      EndProcess(pidfd, EndPolicy(), "child", [] { ADD_FAILURE(); });
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, EndOutcome::kExited);
  close(pidfd);
}

// A sweep keeps killing while the set grows: a parent that keeps forking
// is ended with every child it made.
TEST(KillUntilGoneTest, EndsASetThatKeepsGrowing) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t leader = fork();
  ASSERT_GE(leader, 0);
  if (leader == 0) {
    setpgid(0, 0);
    close(ready[0]);
    if (fork() == 0) {
      close(ready[1]);
      for (;;) pause();
    }
    close(ready[1]);  // one child made: the set has two
    // Bounded, so that a sweep that fails does not exhaust the pid space.
    for (int i = 0; i < 1000; ++i) {
      if (fork() == 0) {
        for (;;) pause();
      }
      usleep(200);
    }
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  (void)read(ready[0], &byte, 1);
  close(ready[0]);
  std::set<pid_t> seen;
  int rounds = 0;
  const bool gone = KillUntilGone(
      [&] {
        ++rounds;
        bool running = false;
        // The leader's group, found in /proc as a session's would be.
        for (pid_t pid : ProcessesInGroup(leader)) {
          seen.insert(pid);
          KillNow(pid);
          running = true;
        }
        return running;
      },
      Deadline::In(absl::Seconds(30)));
  EXPECT_TRUE(gone);
  EXPECT_GE(rounds, 2);
  EXPECT_GE(seen.size(), 2u);
  Reap(leader);
}

TEST(KillAndReapTest, EndsTheChildAndItsGroup) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setpgid(0, 0);
    if (fork() == 0) {
      close(ready[0]);
      close(ready[1]);
      for (;;) pause();
    }
    close(ready[0]);
    close(ready[1]);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  (void)read(ready[0], &byte, 1);  // both ends closed: both are set up
  close(ready[0]);
  const int pidfd = PidfdOpen(child);
  ASSERT_GE(pidfd, 0);
  KillAndReap(child, pidfd);
  close(pidfd);
  EXPECT_EQ(waitpid(child, nullptr, WNOHANG), -1) << "not reaped";
  // The grandchild got its SIGKILL too; the kernel finishes it shortly.
  const Deadline deadline = Deadline::In(absl::Seconds(30));
  while (!ProcessesInGroup(child).empty() && !deadline.Passed()) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_TRUE(ProcessesInGroup(child).empty());
}

TEST(KillSelfAfterTest, TheTimerKillsTheProcess) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!KillSelfAfter(absl::Milliseconds(50)).ok()) _exit(1);
    for (;;) pause();
  }
  const int status = Reap(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
