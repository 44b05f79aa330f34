// Copyright 2026 The daemonkit Authors.
//
// Issue 23.5: a step of the wall clock (NTP, `date -s`) seen by the
// daemon's processes, from //tests:fault_shim.so, which adds the number of
// seconds in a file to CLOCK_REALTIME. The test writes the file when the
// step is due; the test itself keeps the real clock, so its deadlines are
// not stepped. What must hold: the supervisor's restart delay and its
// watchdog run on CLOCK_MONOTONIC (a step back neither delays a restart by
// the hour nor blinds the watchdog, nor makes it kill a healthy worker),
// an interval (`WaitFor`, the ticker) is an interval, and a wall-clock
// deadline (`WaitUntil`) fires when the clock steps past it.

#include <signal.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::ReportedStart;
using ::daemonkit::test_support::ReportedStarts;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHourBack[] = "-3600\n";
constexpr char kTwoHoursOn[] = "7200\n";

class ClockStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("clock_step");
    pidfile_ = dir_ + "/daemon.pid";
    child_pidfile_ = dir_ + "/worker.pid";
    report_ = dir_ + "/report";
    err_ = dir_ + "/stderr";
    clock_ = dir_ + "/clock_offset";
  }
  void TearDown() override {
    test_support::KillPidFileHolder(pidfile_);
    for (const ReportedStart& start : ReportedStarts(report_)) {
      test_support::KillAndWait(start.pid);
    }
    for (pid_t pid : test_support::LiveProcessesSpawnedByThisTest()) {
      test_support::KillAndWait(pid);
    }
  }

  // Runs `binary` with the shim, the pid files, the log and the report.
  RunResult Run(const std::string& binary,
                std::vector<std::string> extra) const {
    std::vector<std::string> argv = {RunfilePath(binary),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--daemon_stderr=" + err_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv, test_support::FaultShimEnvironment(
                                {{"DAEMONKIT_FAULT_CLOCK_FILE", clock_}}));
  }
  RunResult RunSupervised(const std::string& binary,
                          std::vector<std::string> extra) const {
    extra.push_back("--daemon_child_pidfile=" + child_pidfile_);
    extra.push_back("--report=" + report_);
    return Run(binary, std::move(extra));
  }
  void StepClock(const char* offset) {
    ASSERT_TRUE(test_support::WriteFile(clock_, offset));
  }
  size_t Starts() const { return ReportedStarts(report_).size(); }
  int ReportLines(absl::string_view prefix) const {
    int count = 0;
    for (absl::string_view line :
         absl::StrSplit(ReadFileOrEmpty(report_), '\n')) {
      if (absl::StartsWith(line, prefix)) ++count;
    }
    return count;
  }
  void Stop(const std::string& binary) {
    const pid_t daemon = ReadPid(pidfile_);
    RunResult stop = Run(binary, {"--daemon_control=stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
    EXPECT_FALSE(IsAlive(daemon));
  }

  std::string dir_, pidfile_, child_pidfile_, report_, err_, clock_;
};

// A worker crashes; while the supervisor waits out the restart delay the
// clock steps back an hour. The restart comes after the delay, not after
// the hour.
TEST_F(ClockStepTest, RestartDelaySurvivesAStepBack) {
  RunResult start = RunSupervised(
      "tests/fake_daemon",
      {"--behavior=crash_times", "--crash_times=1",
       "--daemon_restart=on-failure", "--daemon_restart_delay=1s"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_), "restarting in 1s");
  })) << ReadFileOrEmpty(err_);
  StepClock(kHourBack);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 &&
           ReadPid(child_pidfile_) == ReportedStarts(report_)[1].pid;
  })) << "no restart after the clock stepped back:\n"
      << ReadFileOrEmpty(err_);
  Stop("tests/fake_daemon");
}

// A worker hangs, and the clock steps back an hour: the watchdog still
// aborts it after its period and the supervisor restarts it.
TEST_F(ClockStepTest, WatchdogCatchesAHungWorkerAcrossAStepBack) {
  RunResult start = RunSupervised(
      "tests/progress_app",
      {"--hang_starts=1", "--daemon_restart=on-failure",
       "--daemon_restart_delay=100ms", "--daemon_watchdog=500ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] { return ReportLines("hang ") == 1; }))
      << ReadFileOrEmpty(report_);
  StepClock(kHourBack);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 && ReportLines("tick ") >= 3;
  })) << "the hung worker was not caught:\n"
      << ReadFileOrEmpty(err_);
  EXPECT_THAT(ReadFileOrEmpty(err_), HasSubstr("reported no progress"));
  Stop("tests/progress_app");
}

// A healthy worker across the same step: its keep-alives go on (they are
// due on the monotonic clock too), so the watchdog, now monotonic, does not
// take it for hung. Forty ticks of 50ms are four watchdog periods.
TEST_F(ClockStepTest, AHealthyWorkerIsNotTakenForHungAfterAStepBack) {
  RunResult start =
      RunSupervised("tests/progress_app",
                    {"--daemon_restart=always", "--daemon_watchdog=500ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] { return ReportLines("tick ") >= 2; }))
      << ReadFileOrEmpty(report_);
  StepClock(kHourBack);
  const int before = ReportLines("tick ");
  ASSERT_TRUE(test_support::WaitFor([&] {
    return ReportLines("tick ") >= before + 40 || Starts() > 1;
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(Starts(), 1u) << ReadFileOrEmpty(err_);
  EXPECT_THAT(ReadFileOrEmpty(err_), Not(HasSubstr("watchdog:")));
  Stop("tests/progress_app");
}

// The ticker's interval is an interval: a step back does not stop it for
// the hour.
TEST_F(ClockStepTest, TheTickerKeepsTickingAfterAStepBack) {
  const std::string ticks = dir_ + "/ticks";
  RunResult start =
      Run("examples/ticker", {"--daemon_stdout=" + ticks, "--interval=50ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  auto count_ticks = [&] {
    int count = 0;
    for (absl::string_view line :
         absl::StrSplit(ReadFileOrEmpty(ticks), '\n')) {
      if (!line.empty() && line[0] >= '0' && line[0] <= '9') ++count;
    }
    return count;
  };
  ASSERT_TRUE(test_support::WaitFor([&] { return count_ticks() >= 2; }));
  StepClock(kHourBack);
  const int before = count_ticks();
  EXPECT_TRUE(test_support::WaitFor([&] {
    return count_ticks() >= before + 10;
  })) << "the ticker stopped after the clock stepped back:\n"
      << ReadFileOrEmpty(ticks);
  Stop("examples/ticker");
}

// WaitUntil(absl::Time) waits for a time of the wall clock: an hour ahead,
// it returns kTimeout once the clock steps two hours on, not an hour later.
TEST_F(ClockStepTest, AWallClockDeadlineFiresWhenTheClockStepsPastIt) {
  RunResult start = Run("tests/fake_daemon",
                        {"--behavior=wall_deadline", "--report=" + report_});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return ReportLines("waiting for the deadline") == 1; }));
  StepClock(kTwoHoursOn);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return ReportLines("event timeout") == 1;
  })) << ReadFileOrEmpty(err_);
  Stop("tests/fake_daemon");
}

}  // namespace
}  // namespace daemonkit
