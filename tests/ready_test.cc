// Copyright 2026 The daemonkit Authors.
//
// The launcher's side of the ready handshake, on real processes: it exits 0
// only once the daemon is ready, prints the daemon's own error, and never
// leaves a daemon or a pid file behind when the start fails.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;

class ReadyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("ready");
    pidfile_ = dir_ + "/fake.pid";
    report_ = dir_ + "/reported";
  }
  void TearDown() override {
    test_support::KillAndWait(test_support::FirstReportedPid(report_));
  }

  RunResult Launch(const std::string& behavior,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        test_support::RunfilePath("tests/fake_daemon"),
        "--behavior=" + behavior, "--daemon_pidfile=" + pidfile_,
        "--report=" + report_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }

  std::string dir_, pidfile_, report_;
};

TEST_F(ReadyTest, ExitsZeroOnlyOnceTheDaemonIsReady) {
  // The daemon takes its time before declaring itself ready; the launcher
  // must still be waiting, so the pid file is complete when it returns.
  RunResult result = Launch("ready", {"--delay=200ms"});
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  const pid_t pid = test_support::FirstReportedPid(report_);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(ReadPid(pidfile_), pid);
  EXPECT_TRUE(IsAlive(pid));
}

TEST_F(ReadyTest, PrintsTheDaemonsOwnErrorAndCleansUp) {
  RunResult result = Launch("fail");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text,
              HasSubstr("cannot bind 127.0.0.1:80: in use"));
  EXPECT_TRUE(
      test_support::WaitUntilGone(test_support::FirstReportedPid(report_)));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(ReadyTest, ReportsADaemonThatDiedBeforeReady) {
  RunResult result = Launch("die");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("exited before it was ready"));
  EXPECT_FALSE(IsAlive(test_support::FirstReportedPid(report_)));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(ReadyTest, TimeoutKillsTheDaemonAndRemovesThePidFile) {
  RunResult result = Launch("hang", {"--daemon_ready_timeout=300ms"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("not ready within"));
  const pid_t pid = test_support::FirstReportedPid(report_);
  ASSERT_GT(pid, 0);
  // The launcher waited for the kill to land before it exited.
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(ReadyTest, TheApplicationReapsItsOwnChildren) {
  RunResult result = Launch("child");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_THAT(test_support::ReadFileOrEmpty(report_),
              HasSubstr("child exited 7"));
}

TEST_F(ReadyTest, StopEscalatesToSigkillAndStillCleansUp) {
  RunResult start = Launch("ignore_term");
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  // Any daemonkit program can stop any daemonkit daemon by its pid file.
  RunResult stop =
      RunProgram({test_support::RunfilePath("examples/ticker"),
                  "--daemon_pidfile=" + pidfile_, "--daemon_control=stop",
                  "--daemon_stop_timeout=100ms"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(stop.stderr_text, HasSubstr("sending SIGKILL"));
  EXPECT_FALSE(IsAlive(pid)) << "stop returned before the process was gone";
  EXPECT_FALSE(FileExists(pidfile_))
      << "stop removes what a killed daemon left";
}

TEST_F(ReadyTest, RefusesToForkAMultithreadedProcess) {
  RunResult result = Launch("threads");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("threads"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(report_));
}

}  // namespace
}  // namespace daemonkit
