// Copyright 2026 The daemonkit Authors.
//
// Issue 21.5: the C example (//examples/c:ticker, C linking //daemon:c)
// started as a daemon, checked in its pid file and /proc, reloaded and
// stopped through its own control actions; nothing is left.

#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/demo_checks.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using test_support::ExpectDaemonInProc;
using test_support::ExpectDemoOutput;
using test_support::FileExists;
using test_support::IsWriteLocked;
using test_support::LiveProcessesSpawnedByThisTest;
using test_support::MakeTempDir;
using test_support::ReadFileOrEmpty;
using test_support::ReadPid;
using test_support::RunfilePath;
using test_support::RunProgram;
using test_support::RunResult;
using test_support::WaitFor;
using test_support::WaitUntilGone;
using ::testing::IsEmpty;

TEST(CTickerTest, StartsReloadsAndStops) {
  const std::string dir = MakeTempDir("c_ticker");
  const std::string ticker = RunfilePath("examples/c/ticker");
  const std::string pidfile = "--daemon_pidfile=" + dir + "/ticker.pid";
  const std::string log = dir + "/ticker.log";

  RunResult start = RunProgram({ticker, pidfile, "--daemon_stdout=" + log});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(dir + "/ticker.pid");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(IsWriteLocked(dir + "/ticker.pid"));
  ExpectDaemonInProc(pid);
  ExpectDemoOutput(log, pid, 2);

  // A second start is refused: exit 1, the running one named.
  RunResult again = RunProgram({ticker, pidfile, "--daemon_stdout=" + log});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(again.stderr_text, "already running"))
      << again.stderr_text;

  // reload reopens the output: the moved log stays as it is, a new one
  // starts with the daemon's "reloaded".
  ASSERT_EQ(rename(log.c_str(), (log + ".1").c_str()), 0);
  RunResult reload = RunProgram({ticker, pidfile, "--daemon_control=reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.stderr_text;
  EXPECT_TRUE(WaitFor([&] {
    return absl::StartsWith(ReadFileOrEmpty(log), "reloaded\n");
  })) << ReadFileOrEmpty(log);

  RunResult stop = RunProgram({ticker, pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(WaitUntilGone(pid));
  EXPECT_TRUE(absl::EndsWith(ReadFileOrEmpty(log), "stopped\n"))
      << ReadFileOrEmpty(log);
  EXPECT_FALSE(FileExists(dir + "/ticker.pid"));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

TEST(CTickerTest, ABadFlagIsAUsageErrorAndAnUnknownWordIsTheProgramsOwn) {
  const std::string dir = MakeTempDir("c_ticker_usage");
  const std::string ticker = RunfilePath("examples/c/ticker");
  RunResult bad = RunProgram({ticker, "--daemon_pidfile=" + dir + "/t.pid",
                              "--daemon_ready_timeout=soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad.stderr_text, "--daemon_ready_timeout"))
      << bad.stderr_text;
  EXPECT_FALSE(FileExists(dir + "/t.pid"));
}

// --help is the program's own: it prints the usage and the library's flags
// and starts nothing (the attack of 2026-12-06 started a daemon with it).
TEST(CTickerTest, HelpPrintsTheFlagsAndStartsNothing) {
  const std::string dir = MakeTempDir("c_ticker_help");
  const std::string ticker = RunfilePath("examples/c/ticker");
  RunResult help =
      RunProgram({ticker, "--daemon_pidfile=" + dir + "/t.pid", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.stderr_text;
  EXPECT_TRUE(absl::StartsWith(help.stdout_text, "usage: "))
      << help.stdout_text;
  EXPECT_TRUE(absl::StrContains(help.stdout_text, "  --daemon_pidfile ("))
      << help.stdout_text;
  EXPECT_FALSE(FileExists(dir + "/t.pid"));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

}  // namespace
}  // namespace daemonkit
