// Copyright 2026 The daemonkit Authors.
//
// A launcher ended from outside while its daemon starts (Ctrl-C, a closed
// terminal, kill, timeout(1), SIGKILL) must not leave a daemon running
// behind an exit status that says the start failed. Found by the
// independent attack: every one of these left a ready daemon running.

#include <signal.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::LiveProcessesSpawnedByThisTest;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;

class InterruptedStartTest : public test_support::TickerFixture {
 protected:
  // Starts the launcher and returns once its daemon runs its own start-up
  // (the ticker's "Process id:" line, written before --startup_delay).
  // `extra` comes last, so it may shorten the start-up.
  test_support::Spawned LaunchSlowStart(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--startup_delay=30s", "--interval=1h"};
    args.insert(args.end(), extra.begin(), extra.end());
    test_support::Spawned launcher =
        test_support::SpawnProgram(TickerArgs(std::move(args)));
    EXPECT_TRUE(test_support::WaitFor([&] {
      return absl::StrContains(ReadFileOrEmpty(log_), "Process id:");
    })) << "the daemon never started";
    return launcher;
  }

  // SIGKILLs the launcher of a start that is never ready (its ready
  // timeout 5 s): the daemon gives the start up at that timeout, says so,
  // and nothing is left.
  void KillTheLauncherOfANeverReadyStart(
      const test_support::Spawned& launcher) {
    ASSERT_EQ(kill(launcher.pid, SIGKILL), 0);
    EXPECT_EQ(test_support::WaitProgram(launcher).term_signal, SIGKILL);
    ExpectNothingLeft();
    EXPECT_THAT(ReadFileOrEmpty(err_),
                HasSubstr("the daemon was not ready within 5s and its "
                          "launcher is gone; its start failed, so the daemon "
                          "stops"));
  }

  // Nothing of the start is left, however long it takes to go.
  void ExpectNothingLeft() {
    EXPECT_TRUE(test_support::WaitFor([] {
      return LiveProcessesSpawnedByThisTest().empty();
    })) << "left running: "
        << LiveProcessesSpawnedByThisTest().size();
    for (pid_t pid : LiveProcessesSpawnedByThisTest()) {
      test_support::KillAndWait(pid);
    }
    EXPECT_FALSE(FileExists(pidfile_));
  }
};

class InterruptedLauncherTest : public InterruptedStartTest,
                                public ::testing::WithParamInterface<int> {};

TEST_P(InterruptedLauncherTest, EndsTheStartAndDiesOfTheSignal) {
  const int signo = GetParam();
  test_support::Spawned launcher = LaunchSlowStart({});
  ASSERT_EQ(kill(launcher.pid, signo), 0);
  RunResult result = test_support::WaitProgram(launcher);
  EXPECT_EQ(result.term_signal, signo) << result.stderr_text;
  EXPECT_THAT(result.stderr_text,
              HasSubstr(absl::StrCat("interrupted by SIG", sigabbrev_np(signo),
                                     " before the daemon was ready")));
  ExpectNothingLeft();
}

INSTANTIATE_TEST_SUITE_P(Signals, InterruptedLauncherTest,
                         ::testing::Values(SIGINT, SIGTERM, SIGHUP, SIGQUIT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(sigabbrev_np(info.param));
                         });

// SIGKILL cannot be turned into a clean failure: the daemon learns that
// nobody waits for it when it reports ready, and stops.
TEST_F(InterruptedStartTest, AKilledLaunchersDaemonStopsWhenItWouldBeReady) {
  test_support::Spawned launcher = LaunchSlowStart({"--startup_delay=300ms"});
  ASSERT_EQ(kill(launcher.pid, SIGKILL), 0);
  EXPECT_EQ(test_support::WaitProgram(launcher).term_signal, SIGKILL);
  ExpectNothingLeft();
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("the launcher is gone before the daemon was ready"));
}

// Found by the second independent attack: the daemon stopped, but a
// process it had started during its start-up ran on under pid 1.
TEST_F(InterruptedStartTest, AKilledLaunchersDaemonEndsWhatItStarted) {
  const std::string report = dir_ + "/report";
  test_support::Spawned launcher = test_support::SpawnProgram(
      {test_support::RunfilePath("tests/fake_daemon"), "--behavior=ready",
       "--helper", "--delay=400ms", "--report=" + report,
       "--daemon_pidfile=" + pidfile_, "--daemon_stdout=" + log_});
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(report), "helper "); }));
  ASSERT_EQ(kill(launcher.pid, SIGKILL), 0);
  EXPECT_EQ(test_support::WaitProgram(launcher).term_signal, SIGKILL);
  ExpectNothingLeft();
}

TEST_F(InterruptedStartTest, AKilledLaunchersSupervisorStopsToo) {
  test_support::Spawned launcher =
      LaunchSlowStart({"--startup_delay=300ms", "--daemon_restart=always"});
  ASSERT_EQ(kill(launcher.pid, SIGKILL), 0);
  EXPECT_EQ(test_support::WaitProgram(launcher).term_signal, SIGKILL);
  ExpectNothingLeft();
}

// Found by the attack of stop 33: a killed launcher's daemon that never got
// ready ran on, unready, for good (only the launcher timed the start). Past
// the ready timeout it gives the start up itself, as the launcher would.
TEST_F(InterruptedStartTest,
       AKilledLaunchersDaemonNeverReadyStopsAtTheTimeout) {
  test_support::Spawned launcher =
      LaunchSlowStart({"--startup_delay=1h", "--daemon_ready_timeout=5s"});
  KillTheLauncherOfANeverReadyStart(launcher);
}

TEST_F(InterruptedStartTest, AKilledLaunchersSupervisorNeverReadyStopsToo) {
  test_support::Spawned launcher =
      LaunchSlowStart({"--startup_delay=1h", "--daemon_ready_timeout=5s",
                       "--daemon_restart=always"});
  KillTheLauncherOfANeverReadyStart(launcher);
}

// The daemonkit command's monitor, for a program that never says ready.
TEST_F(InterruptedStartTest, AKilledLaunchersCommandNeverReadyStopsToo) {
  const std::string started = dir_ + "/started";
  test_support::Spawned launcher = test_support::SpawnProgram(
      {test_support::RunfilePath("tools/daemonkit"),
       "--daemon_pidfile=" + pidfile_, "--daemon_stdout=" + log_,
       "--daemon_stderr=" + err_, "--ready=notify", "--daemon_ready_timeout=5s",
       "--", "/bin/sh", "-c",
       absl::StrCat(": > ", started, "; exec sleep 3600")});
  ASSERT_TRUE(test_support::WaitFor([&] { return FileExists(started); }));
  KillTheLauncherOfANeverReadyStart(launcher);
}

}  // namespace
}  // namespace daemonkit
