// Copyright 2026 The daemonkit Authors.
//
// Program::Start and the monitor's end of its program's tree, on real
// processes: what the program finds in its environment (through /proc),
// how a failed exec reads, and that EndChildren leaves no descendant.

#include "daemon/internal/program.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/options.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// The program's environment once it runs `sleep` (the exec done: the
// environment /proc shows is the program's own).
std::vector<std::string> EnvironOnceRunning(pid_t pid) {
  for (int i = 0; i < 30000; ++i) {
    const absl::StatusOr<std::string> comm =
        ReadProcFile(absl::StrCat("/proc/", pid, "/comm"));
    if (comm.ok() && absl::StartsWith(*comm, "sleep")) {
      const absl::StatusOr<std::string> environ =
          ReadProcFile(absl::StrCat("/proc/", pid, "/environ"));
      if (environ.ok() && !environ->empty()) {
        return absl::StrSplit(*environ, '\0', absl::SkipEmpty());
      }
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return {};
}

bool Has(const std::vector<std::string>& environ, const std::string& entry) {
  return std::find(environ.begin(), environ.end(), entry) != environ.end();
}

void KillAndReap(Program& program) {
  program.Kill();
  int status = 0;
  ASSERT_EQ(waitpid(program.pid(), &status, 0), program.pid());
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// Socket activation names the program: LISTEN_PID is its own pid, which
// the child wrote after the fork.
TEST(ProgramStartTest, ActivatedSocketsNameTheProgram) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  ASSERT_EQ(setenv("LISTEN_FDS", "9", 1), 0);  // the monitor's own: dropped
  absl::StatusOr<std::unique_ptr<Program>> program =
      Program::Start({"sleep", "600"}, ReadyMode(), {{"web", pair[0]}});
  unsetenv("LISTEN_FDS");
  ASSERT_TRUE(program.ok()) << program.status();
  const pid_t pid = (*program)->pid();
  const std::vector<std::string> environ = EnvironOnceRunning(pid);
  EXPECT_TRUE(Has(environ, absl::StrCat("LISTEN_PID=", pid)));
  EXPECT_TRUE(Has(environ, "LISTEN_FDS=1"));
  EXPECT_TRUE(Has(environ, "LISTEN_FDNAMES=web"));
  EXPECT_FALSE(Has(environ, "LISTEN_FDS=9"));
  KillAndReap(**program);
  close(pair[0]);
  close(pair[1]);
}

// --daemon_watchdog for a notify program: the shorter of its own period
// and an outer manager's, and WATCHDOG_PID naming the program.
TEST(ProgramStartTest, TheWatchdogPeriodIsTheShorterOne) {
  ReadyMode ready;
  ready.kind = ReadyMode::Kind::kNotify;
  ready.watchdog = absl::Seconds(2);
  ASSERT_EQ(setenv("WATCHDOG_USEC", "1500000", 1), 0);
  absl::StatusOr<std::unique_ptr<Program>> program =
      Program::Start({"sleep", "600"}, ready, {});
  unsetenv("WATCHDOG_USEC");
  ASSERT_TRUE(program.ok()) << program.status();
  const pid_t pid = (*program)->pid();
  const std::vector<std::string> environ = EnvironOnceRunning(pid);
  EXPECT_TRUE(Has(environ, "WATCHDOG_USEC=1500000"));
  EXPECT_TRUE(Has(environ, absl::StrCat("WATCHDOG_PID=", pid)));
  KillAndReap(**program);
}

TEST(ProgramStartTest, AProgramThatCannotRunIsNamedAndReaped) {
  const absl::StatusOr<std::unique_ptr<Program>> program =
      Program::Start({"daemonkit-no-such-program"}, ReadyMode(), {});
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().message(),
            "daemonkit-no-such-program: No such file or directory");
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1) << "the child was reaped";
}

TEST(ProgramStartTest, FdNIsNotALListeningSocketsNumber) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  ReadyMode ready;
  ready.kind = ReadyMode::Kind::kFd;
  ready.fd = 3;
  const absl::StatusOr<std::unique_ptr<Program>> program =
      Program::Start({"sleep", "600"}, ready, {{"web", pair[0]}});
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(UsageErrorField(program.status()), "ready");
  close(pair[0]);
  close(pair[1]);
}

// The monitor, a child subreaper, ends its program's whole tree: a
// grandchild that ignores the stop signal is killed after the grace, and
// nothing is left below it.
TEST(EndChildrenTest, NothingIsLeftBelowTheMonitor) {
  const pid_t monitor = fork();
  ASSERT_GE(monitor, 0);
  if (monitor == 0) {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) _exit(10);
    // A program whose child ignores SIGTERM and outlives it.
    const pid_t program = fork();
    if (program == 0) {
      if (fork() == 0) {
        signal(SIGTERM, SIG_IGN);
        for (;;) pause();
      }
      for (;;) pause();
    }
    absl::SleepFor(absl::Milliseconds(50));
    EndChildren(SIGTERM, absl::Milliseconds(200));
    // No child left: waitpid says so.
    _exit(waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD ? 0 : 11);
  }
  int status = 0;
  ASSERT_EQ(waitpid(monitor, &status, 0), monitor);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(RestartScheduleTest, BacksOffAndGivesUpAtTheLimit) {
  Options options;
  options.restart = RestartPolicy::kAlways;
  options.restart_delay = absl::Seconds(1);
  options.restart_max_delay = absl::Seconds(3);
  options.restart_limit = 3;
  options.restart_reset_after = absl::Minutes(1);
  RestartSchedule schedule(options);
  const int exit_1 = 1 << 8;  // a wait status: exited with 1
  std::vector<absl::Duration> delays;
  absl::StatusOr<std::optional<absl::Duration>> next;
  for (int i = 0; i < 3; ++i) {
    next = schedule.Next(exit_1, absl::Seconds(1));
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_TRUE(next->has_value());
    delays.push_back(**next);
  }
  EXPECT_EQ(delays, (std::vector<absl::Duration>{
                        absl::Seconds(1), absl::Seconds(2), absl::Seconds(3)}));
  next = schedule.Next(exit_1, absl::Seconds(1));
  ASSERT_FALSE(next.ok());
  EXPECT_TRUE(absl::StrContains(next.status().message(), "giving up"))
      << next.status();
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
