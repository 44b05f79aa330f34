// Copyright 2026 The daemonkit Authors.
//
// Real clients that nobody here wrote, driving the ticker as they would in
// production: dpkg's start-stop-daemon (classic start, --notify-await, and
// --stop --retry) and logrotate (rename, then --daemon_control=reload).

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;

constexpr char kStartStopDaemon[] = "/sbin/start-stop-daemon";

class ClientsTest : public ::daemonkit::test_support::TickerFixture {
 protected:
  void SetUp() override {
    TickerFixture::SetUp();
    ticker_ = test_support::RunfilePath("examples/ticker");
  }

  // start-stop-daemon --stop as an init script would run it.
  void StopWithRetry() {
    const pid_t pid = ReadPid(pidfile_);
    RunResult stop = RunProgram({kStartStopDaemon, "--stop", "--pidfile",
                                 pidfile_, "--retry", "TERM/5/KILL/5"});
    EXPECT_EQ(stop.exit_code, 0) << stop.stdout_text << stop.stderr_text;
    EXPECT_FALSE(IsAlive(pid));
    EXPECT_FALSE(FileExists(pidfile_)) << "the ticker removes it on SIGTERM";
  }

  std::string ticker_;
};

TEST_F(ClientsTest, StartStopDaemonClassicStartWaitsForOurLauncher) {
  RunResult start =
      RunProgram({kStartStopDaemon, "--start", "--pidfile", pidfile_, "--exec",
                  ticker_, "--", "--daemon_pidfile=" + pidfile_,
                  "--daemon_stdout=" + log_, "--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stdout_text << start.stderr_text;
  // Our launcher returned only once the daemon was ready: the pid is there.
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(IsAlive(pid));
  RunResult status =
      RunProgram({kStartStopDaemon, "--status", "--pidfile", pidfile_});
  EXPECT_EQ(status.exit_code, 0);
  // A second start finds it running and does nothing (exit 1 with --oknodo
  // absent).
  RunResult again =
      RunProgram({kStartStopDaemon, "--start", "--pidfile", pidfile_, "--exec",
                  ticker_, "--", "--daemon_pidfile=" + pidfile_});
  EXPECT_EQ(again.exit_code, 1);
  StopWithRetry();
}

TEST_F(ClientsTest,
       StartStopDaemonNotifyAwaitGetsReadyFromTheForegroundTicker) {
  // start-stop-daemon, as root, makes its notify socket under /run: the
  // test sandbox has a private one (see .bazelrc).
  RunResult start = RunProgram(
      {kStartStopDaemon, "--start", "--background", "--notify-await",
       "--notify-timeout", "30", "--pidfile", pidfile_, "--exec", ticker_, "--",
       "--daemon=false", "--daemon_pidfile=" + pidfile_, "--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stdout_text << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0) << "READY=1 came after the pid file was written";
  EXPECT_TRUE(IsAlive(pid));
  StopWithRetry();
}

TEST_F(ClientsTest, StartStopDaemonNotifyAwaitSeesAFailedStart) {
  // --pidfile as well as --exec: with --exec alone start-stop-daemon looks
  // for the ticker machine-wide, and without a pid namespace (a chroot, the
  // processwrapper sandbox) finds any other ticker running ("already
  // running", exit 1, nothing on stderr).
  RunResult start = RunProgram(
      {kStartStopDaemon, "--start", "--background", "--notify-await",
       "--notify-timeout", "30", "--pidfile", pidfile_, "--exec", ticker_, "--",
       "--daemon=false", "--daemon_pidfile=" + pidfile_,
       "--daemon_workdir=" + dir_ + "/missing"});
  EXPECT_NE(start.exit_code, 0) << start.stdout_text << start.stderr_text;
  // The ticker's ERRNO= ended the wait (not the 30 s timeout).
  EXPECT_THAT(start.stderr_text, ::testing::HasSubstr("failed to initialize"));
  EXPECT_FALSE(FileExists(pidfile_));
}

// The timestamps of the ticker's output files, in order.
std::vector<std::string> Timestamps(const std::vector<std::string>& paths) {
  std::vector<std::string> stamps;
  for (const std::string& path : paths) {
    for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(path), '\n')) {
      if (line.size() > 4 && line[4] == '-') stamps.emplace_back(line);
    }
  }
  return stamps;
}

TEST_F(ClientsTest, LogrotateLosesAndDuplicatesNoLine) {
  constexpr int kTicks = 300;
  RunResult start =
      RunProgram({ticker_, "--daemon_pidfile=" + pidfile_,
                  "--daemon_stdout=" + log_, "--daemon_stderr=" + dir_ + "/err",
                  "--interval=10ms", absl::StrCat("--count=", kTicks)});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = test_support::TickerPidFromLog(log_);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return Timestamps({log_}).size() >= 20; }));

  // The shipped configuration, pointed at this test's files.
  std::string config = ReadFileOrEmpty(
      test_support::RunfilePath("examples/logrotate/ticker.conf"));
  ASSERT_FALSE(config.empty());
  config = absl::StrReplaceAll(config, {{"/var/log/ticker.log", log_},
                                        {"/usr/local/bin/ticker", ticker_},
                                        {"/run/ticker.pid", pidfile_}});
  const std::string config_path = dir_ + "/logrotate.conf";
  std::ofstream(config_path) << config;
  RunResult rotate = RunProgram({"/usr/sbin/logrotate", "--force", "--state",
                                 dir_ + "/logrotate.state", config_path});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.stderr_text;

  ASSERT_TRUE(test_support::WaitUntilGone(pid));
  std::vector<std::string> before = Timestamps({log_ + ".1"});
  std::vector<std::string> after = Timestamps({log_});
  EXPECT_FALSE(before.empty());
  EXPECT_FALSE(after.empty()) << "the daemon kept writing to the renamed file";
  std::vector<std::string> all = Timestamps({log_ + ".1", log_});
  EXPECT_EQ(all.size(), static_cast<size_t>(kTicks));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "a duplicated line";
  EXPECT_THAT(ReadFileOrEmpty(dir_ + "/err"),
              ::testing::HasSubstr("reloading on SIGHUP"));
}

}  // namespace
}  // namespace daemonkit
