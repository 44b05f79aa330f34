// Copyright 2026 The daemonkit Authors.
//
// The ticker talking sd_notify to a receiver of ours, as systemd would be:
// STATUS=, READY=1 (with MAINPID= when detached), RELOADING=1/READY=1 around
// SIGHUP, STOPPING=1, and WATCHDOG=1 keep-alives.

#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::NotifyReceiver;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::MatchesRegex;

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("notify");
    pidfile_ = dir_ + "/ticker.pid";
  }
  std::vector<std::string> Ticker(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        test_support::RunfilePath("examples/ticker"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_stdout=" + dir_ + "/ticker.log"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::string dir_, pidfile_;
  NotifyReceiver receiver_;
};

TEST_F(NotifyTest, DetachedDaemonNamesItsMainPidAndReportsItsLife) {
  RunResult start = RunProgram(Ticker({"--interval=1h"}),
                               {{"NOTIFY_SOCKET", receiver_.address()}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(receiver_.Receive(), "STATUS=ticking every 1h");
  EXPECT_EQ(receiver_.Receive(), absl::StrCat("READY=1\nMAINPID=", pid));

  ASSERT_EQ(RunProgram(Ticker({"--daemon_control=reload"})).exit_code, 0);
  EXPECT_THAT(receiver_.Receive(),
              MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  EXPECT_EQ(receiver_.Receive(), "READY=1");

  ASSERT_EQ(RunProgram(Ticker({"--daemon_control=stop"})).exit_code, 0);
  EXPECT_EQ(receiver_.Receive(), "STOPPING=1");
  test_support::KillAndWait(pid);
}

TEST_F(NotifyTest, ForegroundDaemonSendsReadyWatchdogAndStopping) {
  test_support::Spawned ticker = test_support::SpawnProgram(
      Ticker({"--daemon=false", "--interval=1h"}),
      {{"NOTIFY_SOCKET", receiver_.address()}, {"WATCHDOG_USEC", "20000"}});
  EXPECT_EQ(receiver_.Receive(), "STATUS=ticking every 1h");
  EXPECT_EQ(receiver_.Receive(), "READY=1");
  // Keep-alives every 10 ms while the ticker waits out its hour.
  EXPECT_EQ(receiver_.Receive(), "WATCHDOG=1");
  EXPECT_EQ(receiver_.Receive(), "WATCHDOG=1");
  kill(ticker.pid, SIGTERM);
  std::string message;
  do {
    message = receiver_.Receive();
  } while (message == "WATCHDOG=1");
  EXPECT_EQ(message, "STOPPING=1");
  RunResult result = test_support::WaitProgram(ticker);
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
}

TEST_F(NotifyTest, MalformedNotifySocketFailsTheStart) {
  RunResult start =
      RunProgram(Ticker({}), {{"NOTIFY_SOCKET", "relative/socket"}});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, ::testing::HasSubstr("NOTIFY_SOCKET"));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
}

}  // namespace
}  // namespace daemonkit
