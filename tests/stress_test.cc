// Copyright 2026 The daemonkit Authors.
//
// Start/stop cycles and concurrent starts on one pid file, counted by the
// environment: STRESS_CYCLES (default 50) and STRESS_CONCURRENT (default 20).
// //tests:stress_test runs the short version in every `bazel test //...`;
// //tests:stress_long_test (manual) runs 1,000 cycles and 100 concurrent
// starts.

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunResult;

int FromEnvironment(const char* name, int fallback) {
  int value = 0;
  const char* text = std::getenv(name);
  return text != nullptr && absl::SimpleAtoi(text, &value) && value > 0
             ? value
             : fallback;
}

int OpenDescriptorCount() {
  return static_cast<int>(test_support::OpenDescriptors(getpid()).size());
}

// Tickers this test started that still run, and only those: other tickers
// may run on the machine, and without a pid namespace the test sees them.
int LiveTickers() {
  return static_cast<int>(
      test_support::LiveProcessesSpawnedByThisTest().size());
}

class StressTest : public ::daemonkit::test_support::TickerFixture {};

TEST_F(StressTest, StartStopCyclesLoseNothing) {
  const int cycles = FromEnvironment("STRESS_CYCLES", 50);
  const int descriptors_before = OpenDescriptorCount();
  for (int cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    RunResult start = Ticker({"--interval=1h"});
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    const pid_t pid = ReadPid(pidfile_);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(Ticker({"--daemon_control=status"}).exit_code, 0);
    RunResult stop = Ticker({"--daemon_control=stop"});
    ASSERT_EQ(stop.exit_code, 0) << stop.stderr_text;
    ASSERT_FALSE(IsAlive(pid));
    ASSERT_FALSE(FileExists(pidfile_));
  }
  EXPECT_EQ(OpenDescriptorCount(), descriptors_before);
  EXPECT_EQ(LiveTickers(), 0);
}

TEST_F(StressTest, ConcurrentStartsEndWithExactlyOneDaemon) {
  const int starts = FromEnvironment("STRESS_CONCURRENT", 20);
  std::vector<test_support::Spawned> launchers;
  launchers.reserve(starts);
  for (int i = 0; i < starts; ++i) {
    launchers.push_back(
        test_support::SpawnProgram(TickerArgs({"--interval=1h"})));
  }
  std::vector<RunResult> results;
  results.reserve(launchers.size());
  for (const test_support::Spawned& launcher : launchers) {
    results.push_back(test_support::WaitProgram(launcher));
  }
  // Every loser names the winner: the pid in the file, whose lock it lost.
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  started_.push_back(pid);
  int winners = 0;
  for (const RunResult& result : results) {
    if (result.exit_code == 0) {
      ++winners;
    } else {
      EXPECT_EQ(result.exit_code, 1);
      EXPECT_THAT(result.stderr_text, ::testing::HasSubstr(absl::StrCat(
                                          "already running, pid ", pid)));
    }
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(LiveTickers(), 1);
  EXPECT_TRUE(IsAlive(pid));
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_EQ(LiveTickers(), 0);
}

}  // namespace
}  // namespace daemonkit
