// Copyright 2026 The daemonkit Authors.
//
// --daemon_watchdog on real processes: a supervised worker that stops
// calling WaitUntil is aborted and restarted (killed when it ignores
// SIGABRT), a healthy one whose work takes longer than the watchdog period
// is never restarted, and bad values are usage errors.

#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::ReportedStart;
using ::daemonkit::test_support::ReportedStarts;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

// utime + stime of `pid` in clock ticks (/proc/PID/stat fields 14 and 15),
// or -1.
int64_t CpuTicks(pid_t pid) {
  const ProcStat stat = test_support::StatOf(pid);
  int64_t user = 0, system = 0;
  if (!stat.ParseField(14, &user) || !stat.ParseField(15, &system)) return -1;
  return user + system;
}

class WatchdogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("watchdog");
    pidfile_ = dir_ + "/supervisor.pid";
    child_pidfile_ = dir_ + "/worker.pid";
    report_ = dir_ + "/report";
    err_ = dir_ + "/stderr";
  }
  void TearDown() override {
    test_support::KillPidFileHolder(pidfile_);
    for (const ReportedStart& start : ReportedStarts(report_)) {
      test_support::KillAndWait(start.pid);
    }
  }

  RunResult Run(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        test_support::RunfilePath("tests/progress_app"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_child_pidfile=" + child_pidfile_, "--daemon_stderr=" + err_,
        "--report=" + report_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }
  size_t Starts() const { return ReportedStarts(report_).size(); }
  int Lines(const std::string& prefix) const {
    int count = 0;
    for (absl::string_view line :
         absl::StrSplit(ReadFileOrEmpty(report_), '\n')) {
      if (absl::StartsWith(line, prefix)) ++count;
    }
    return count;
  }

  // Stops the daemon and checks nothing is left.
  void StopAndCheckGone() {
    const pid_t supervisor = ReadPid(pidfile_);
    RunResult stop = Run({"--daemon_control=stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
    EXPECT_FALSE(IsAlive(supervisor));
    for (const ReportedStart& start : ReportedStarts(report_)) {
      EXPECT_FALSE(IsAlive(start.pid)) << start.pid;
    }
    EXPECT_FALSE(FileExists(pidfile_));
    EXPECT_FALSE(FileExists(child_pidfile_));
  }

  std::string dir_, pidfile_, child_pidfile_, report_, err_;
};

TEST_F(WatchdogTest, HungWorkerIsAbortedAndRestarted) {
  RunResult start =
      Run({"--hang_starts=1", "--daemon_restart=on-failure",
           "--daemon_restart_delay=100ms", "--daemon_watchdog=500ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  // The first worker hangs; the watchdog aborts it, the supervisor starts
  // a second one, which stays healthy and ticks.
  ASSERT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 &&
           ReadPid(child_pidfile_) == ReportedStarts(report_)[1].pid &&
           Lines("tick ") >= 3;
  })) << ReadFileOrEmpty(report_)
      << ReadFileOrEmpty(err_);
  const std::vector<ReportedStart> starts = ReportedStarts(report_);
  EXPECT_EQ(Lines("hang "), 1);
  EXPECT_FALSE(IsAlive(starts[0].pid));
  EXPECT_TRUE(IsAlive(starts[1].pid));
  EXPECT_TRUE(IsAlive(supervisor));
  const std::string log = ReadFileOrEmpty(err_);
  EXPECT_THAT(log, HasSubstr(absl::StrCat("watchdog: worker ", starts[0].pid,
                                          " reported no progress for 500ms")));
  EXPECT_THAT(log,
              HasSubstr("restarting in 100ms after signal Aborted, restart 1"));
  EXPECT_THAT(log, Not(HasSubstr("restart 2")));
  EXPECT_THAT(log, Not(HasSubstr("SIGKILL")));
  StopAndCheckGone();
}

TEST_F(WatchdogTest, WorkerDeafToSigabrtIsKilledAfterTheGrace) {
  // The grace is three quarters of the stop timeout: 750ms.
  RunResult start =
      Run({"--hang_starts=1", "--ignore_abort", "--daemon_restart=always",
           "--daemon_restart_delay=100ms", "--daemon_watchdog=300ms",
           "--daemon_stop_timeout=1s"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 &&
           ReadPid(child_pidfile_) == ReportedStarts(report_)[1].pid;
  })) << ReadFileOrEmpty(report_)
      << ReadFileOrEmpty(err_);
  const std::vector<ReportedStart> starts = ReportedStarts(report_);
  EXPECT_FALSE(IsAlive(starts[0].pid));
  const std::string log = ReadFileOrEmpty(err_);
  EXPECT_THAT(log,
              HasSubstr(absl::StrCat("watchdog: worker ", starts[0].pid,
                                     " survived SIGABRT; sending SIGKILL")));
  EXPECT_THAT(log,
              HasSubstr("restarting in 100ms after signal Killed, restart 1"));
  StopAndCheckGone();
}

TEST_F(WatchdogTest, WorkerThatDeclaresItselfUnhealthyIsRestarted) {
  // SetHealthy(false) stops the keep-alives, as it does systemd's.
  RunResult start =
      Run({"--hang_starts=1", "--unhealthy", "--daemon_restart=on-failure",
           "--daemon_restart_delay=100ms", "--daemon_watchdog=300ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 &&
           ReadPid(child_pidfile_) == ReportedStarts(report_)[1].pid;
  })) << ReadFileOrEmpty(report_)
      << ReadFileOrEmpty(err_);
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("restarting in 100ms after signal Aborted, restart 1"));
  StopAndCheckGone();
}

TEST_F(WatchdogTest, HealthyWorkerWithLongWorkIsNeverRestarted) {
  // Each tick waits 1s in WaitFor, longer than the 300ms period: WaitUntil
  // wakes by itself to report progress. Four ticks are over ten periods.
  RunResult start =
      Run({"--tick=1s", "--daemon_restart=always", "--daemon_watchdog=300ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t worker = ReadPid(child_pidfile_);
  ASSERT_GT(worker, 0);
  ASSERT_TRUE(test_support::WaitFor([&] { return Lines("tick ") >= 4; }))
      << ReadFileOrEmpty(report_) << ReadFileOrEmpty(err_);
  EXPECT_EQ(Starts(), 1u);
  EXPECT_EQ(ReadPid(child_pidfile_), worker);
  EXPECT_TRUE(IsAlive(worker));
  const std::string log = ReadFileOrEmpty(err_);
  EXPECT_THAT(log, Not(HasSubstr("watchdog")));
  EXPECT_THAT(log, Not(HasSubstr("restarting")));
  StopAndCheckGone();
}

// Issue 18.10, found by an attack: daemon.h's poll loop (poll on
// signal_fd() with no timeout, as //examples:echo does) sent no keep-alive
// while idle, so --daemon_watchdog aborted a healthy, idle echo every
// period. signal_fd() becomes readable when a keep-alive is due, and
// servicing it (WaitUntil(absl::InfinitePast())) sends it.
TEST_F(WatchdogTest, AnIdlePollLoopOnTheSignalFdKeepsTheWatchdogFed) {
  test_support::ShortTempDir tmp;
  const std::string socket = tmp.path() + "/echo.sock";
  RunResult start = RunProgram(
      {test_support::RunfilePath("examples/echo"),
       "--daemon_pidfile=" + pidfile_,
       "--daemon_child_pidfile=" + child_pidfile_, "--daemon_stderr=" + err_,
       "--daemon_listen=echo=unix:" + socket, "--daemon_restart=always",
       "--daemon_restart_delay=10ms", "--daemon_watchdog=1s"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  const pid_t worker = ReadPid(child_pidfile_);
  ASSERT_GT(worker, 0);
  // A client that stays connected, idle, through the periods.
  std::string error;
  const int client = test_support::ConnectTo(socket, &error);
  ASSERT_GE(client, 0) << error;
  // Idle for three and a half watchdog periods: the condition under test
  // is that nothing happens for that long.
  const int64_t cpu_before = CpuTicks(worker);
  const absl::Time until = absl::Now() + absl::Milliseconds(3500);
  while (absl::Now() < until) {
    EXPECT_EQ(ReadPid(child_pidfile_), worker) << ReadFileOrEmpty(err_);
    EXPECT_TRUE(IsAlive(worker));
    if (ReadPid(child_pidfile_) != worker) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(ReadPid(child_pidfile_), worker);
  EXPECT_TRUE(IsAlive(worker));
  // Idle means idle: a keep-alive left unread would make echo's poll loop
  // spin (a second of CPU in 3.5 s is far beyond a few wake-ups).
  EXPECT_LT(CpuTicks(worker) - cpu_before, sysconf(_SC_CLK_TCK) / 2);
  const std::string log = ReadFileOrEmpty(err_);
  EXPECT_THAT(log, Not(HasSubstr("watchdog:")));
  EXPECT_THAT(log, Not(HasSubstr("restarting")));
  // The idle connection survived and is served, by the same worker.
  ASSERT_EQ(write(client, "still\n", 6), 6);
  std::string reply;
  char c;
  while (reply.size() < 64 && read(client, &c, 1) == 1 && c != '\n') {
    reply.push_back(c);
  }
  close(client);
  EXPECT_EQ(reply, absl::StrCat(worker, " still"));
  EXPECT_EQ(test_support::Exchange(socket, "new\n"),
            absl::StrCat(worker, " new\n"));
  EXPECT_TRUE(IsAlive(supervisor));
  StopAndCheckGone();
}

TEST_F(WatchdogTest, BadValuesAreUsageErrorsNamingTheFlag) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--daemon_restart=always", "--daemon_watchdog=-1s"},
           {"--daemon_restart=always", "--daemon_watchdog=soon"},
           {"--daemon_restart=always", "--daemon_watchdog=1ms"},
           // No supervisor to restart (and no worker's pid file).
           {"--daemon_child_pidfile=", "--daemon_watchdog=1s"},
       }) {
    RunResult result = Run(args);
    EXPECT_EQ(result.exit_code, 2) << args.back();
    EXPECT_THAT(result.stderr_text, HasSubstr("--daemon_watchdog="))
        << args.back();
    EXPECT_EQ(
        std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'),
        1)
        << result.stderr_text;
    EXPECT_FALSE(FileExists(pidfile_));
    EXPECT_EQ(Starts(), 0u);
  }
}

}  // namespace
}  // namespace daemonkit
