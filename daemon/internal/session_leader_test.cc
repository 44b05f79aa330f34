// Copyright 2026 The daemonkit Authors.
//
// RunSessionLeader in a real first child: it must leave a daemon in a new
// session that is not its leader, report that daemon's pid, and exit; a
// failed setsid() must reach the launcher as an error.

#include "daemon/internal/session_leader.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/testing_hooks.h"
#include "daemon/options.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

class SessionLeaderTest : public ::testing::Test {
 protected:
  // The daemon outlives the first child: the test inherits and reaps it.
  void SetUp() override { ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
};

TEST_F(SessionLeaderTest, DaemonIsInANewSessionItDoesNotLead) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  const pid_t first_child = fork();
  ASSERT_GE(first_child, 0);
  if (first_child == 0) {
    // An ignored SIGTERM must not reach the daemon (daemon(7) step 2).
    signal(SIGTERM, SIG_IGN);
    ReadyReporter reporter = RunSessionLeader(*pipe, {pipe->write_fd});
    // Only the daemon gets here; the launcher hears it is ready, and it
    // waits to be looked at.
    if (!reporter.ReportReady()) _exit(3);
    for (;;) pause();
  }
  close(pipe->write_fd);
  // The first child reports the daemon's pid and exits; reaping it before
  // the pipe is read and closed keeps its report from meeting a closed pipe
  // (SIGPIPE) when the daemon's ready message came first.
  const int first_status = test_support::ReapChild(first_child);
  ReadyOutcome outcome = AwaitReady(pipe->read_fd, absl::Minutes(1));
  close(pipe->read_fd);
  ASSERT_TRUE(WIFEXITED(first_status)) << first_status;
  EXPECT_EQ(WEXITSTATUS(first_status), kExitSuccess);
  ASSERT_EQ(outcome.kind, ReadyOutcome::Kind::kReady) << outcome.message;
  ASSERT_GT(outcome.daemon_pid, 0);
  const pid_t daemon = outcome.daemon_pid;
  EXPECT_NE(daemon, first_child);

  absl::StatusOr<ProcStat> stat = ReadProcStat(daemon);
  ASSERT_TRUE(stat.ok()) << stat.status();
  pid_t sid = 0, pgrp = 0;
  int tty = -1;
  ASSERT_TRUE(stat->ParseField(ProcStat::kSession, &sid));
  ASSERT_TRUE(stat->ParseField(ProcStat::kPgrp, &pgrp));
  ASSERT_TRUE(stat->ParseField(ProcStat::kTtyNr, &tty));
  EXPECT_EQ(sid, first_child);  // setsid() in the first child
  EXPECT_EQ(pgrp, first_child);
  EXPECT_NE(sid, daemon);  // not a leader: can never get a terminal again
  EXPECT_NE(sid, getsid(0));
  EXPECT_EQ(tty, 0);
  // The ignored SIGTERM was reset to its default (and is held, not lost,
  // until the daemon's own handling is in place).
  absl::StatusOr<std::string> status =
      ReadProcFile("/proc/" + std::to_string(daemon) + "/status");
  ASSERT_TRUE(status.ok()) << status.status();
  const size_t at = status->find("SigIgn:\t");
  ASSERT_NE(at, std::string::npos) << *status;
  const uint64_t ignored = std::strtoull(status->c_str() + at + 8, nullptr, 16);
  EXPECT_EQ(ignored & (1ULL << (SIGTERM - 1)), 0u) << *status;

  if (outcome.daemon_pidfd >= 0) close(outcome.daemon_pidfd);
  kill(daemon, SIGKILL);
  test_support::ReapChild(daemon);
}

TEST_F(SessionLeaderTest, FailedSetsidIsReportedAndNothingForks) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  const pid_t first_child = fork();
  ASSERT_GE(first_child, 0);
  if (first_child == 0) {
    // A process-group leader may not call setsid(): EPERM.
    if (setpgid(0, 0) != 0) _exit(4);
    RunSessionLeader(*pipe, {pipe->write_fd});
    _exit(5);  // a daemon was forked although setsid failed
  }
  close(pipe->write_fd);
  ReadyOutcome outcome = AwaitReady(pipe->read_fd, absl::Minutes(1));
  close(pipe->read_fd);
  const int first_status = test_support::ReapChild(first_child);
  ASSERT_TRUE(WIFEXITED(first_status)) << first_status;
  EXPECT_EQ(WEXITSTATUS(first_status), kExitFailure);
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kFailed);
  EXPECT_EQ(outcome.daemon_pid, 0);
  EXPECT_TRUE(absl::StrContains(outcome.message, "setsid")) << outcome.message;
  EXPECT_TRUE(absl::StrContains(outcome.message, "Operation not permitted"))
      << outcome.message;
}

// Set in the first child only: what the hook saw, written to this pipe.
int g_hook_report_fd = -1;

void ReportSessionOnHook() {
  // In the first child, after setsid() and before the daemon exists: this
  // process leads its new session.
  const char seen = getsid(0) == getpid() ? 'L' : 'N';
  (void)write(g_hook_report_fd, &seen, 1);
}

TEST_F(SessionLeaderTest, HookRunsInTheNewSessionBeforeTheSecondFork) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  int hook[2];
  ASSERT_EQ(pipe2(hook, O_CLOEXEC), 0);
  const pid_t first_child = fork();
  ASSERT_GE(first_child, 0);
  if (first_child == 0) {
    close(hook[0]);
    g_hook_report_fd = hook[1];
    SetBetweenForksHookForTesting(&ReportSessionOnHook);
    ReadyReporter reporter = RunSessionLeader(*pipe, {pipe->write_fd, hook[1]});
    // The daemon: the hook ran once, before it was forked.
    _exit(0);
  }
  close(hook[1]);
  close(pipe->write_fd);
  const int first_status = test_support::ReapChild(first_child);  // as above
  ReadyOutcome outcome = AwaitReady(pipe->read_fd, absl::Minutes(1));
  close(pipe->read_fd);
  std::string seen;
  char buffer[8];
  ssize_t n;
  while ((n = read(hook[0], buffer, sizeof(buffer))) > 0) {
    seen.append(buffer, n);
  }
  close(hook[0]);
  EXPECT_EQ(seen, "L");
  EXPECT_TRUE(WIFEXITED(first_status)) << first_status;
  if (outcome.daemon_pidfd >= 0) close(outcome.daemon_pidfd);
  if (outcome.daemon_pid > 0) test_support::ReapChild(outcome.daemon_pid);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
