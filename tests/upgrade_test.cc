// Copyright 2026 The daemonkit Authors.
//
// `--daemon_control=upgrade` (issue 14) on a real //examples:echo: the
// running daemon starts the binary now at its path with its sockets and its
// command line, hands it the pid file once it is ready, and drains. Under
// load, 20 upgrades back to back refuse, reset or lose no connection.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::Exchange;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Copies `from` to `to` the way a package manager replaces a binary: a new
// file renamed over the old path (the running process keeps its old inode).
bool InstallBinary(const std::string& from, const std::string& to) {
  const std::string temporary = to + ".new";
  const std::string command =
      absl::StrCat("cp '", from, "' '", temporary, "' && chmod 0755 '",
                   temporary, "' && mv -f '", temporary, "' '", to, "'");
  return system(command.c_str()) == 0;
}

class UpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    binary_ = dir_ + "/echo";
    pidfile_ = dir_ + "/echo.pid";
    socket_ = dir_ + "/echo.sock";
    ASSERT_TRUE(
        InstallBinary(test_support::RunfilePath("examples/echo"), binary_));
  }
  void TearDown() override {
    test_support::KillAndWait(ReadPid(pidfile_));
    for (pid_t pid : started_) test_support::KillAndWait(pid);
  }
  // Runs the daemon's binary (`binary_`) for a start; the control actions
  // run the built echo, whatever `binary_` was replaced with.
  RunResult Run(std::vector<std::string> extra) const {
    const bool start =
        std::none_of(extra.begin(), extra.end(), [](const std::string& arg) {
          return absl::StartsWith(arg, "--daemon_control=");
        });
    std::vector<std::string> argv = {
        start ? binary_ : test_support::RunfilePath("examples/echo"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_stderr=" + dir_ + "/echo.log"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }
  RunResult Start(std::vector<std::string> extra = {}) {
    extra.push_back("--daemon_listen=echo=unix:" + socket_);
    RunResult result = Run(extra);
    if (ReadPid(pidfile_) > 0) started_.push_back(ReadPid(pidfile_));
    return result;
  }
  RunResult Upgrade() {
    RunResult result = Run({"--daemon_control=upgrade"});
    if (ReadPid(pidfile_) > 0) started_.push_back(ReadPid(pidfile_));
    return result;
  }

  test_support::ShortTempDir tmp_;
  std::string dir_, binary_, pidfile_, socket_;
  std::vector<pid_t> started_;
};

TEST_F(UpgradeTest, TheNewBinaryTakesOverThePidFileAndTheSockets) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  ASSERT_GT(old_pid, 0);
  EXPECT_EQ(Exchange(socket_, "before\n"), absl::StrCat(old_pid, " before\n"));
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary_));
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t new_pid = ReadPid(pidfile_);
  EXPECT_NE(new_pid, old_pid);
  EXPECT_THAT(
      upgrade.stdout_text,
      MatchesRegex(absl::StrCat("upgraded, pid ", new_pid, " \\(was ", old_pid,
                                "\\): ready after .*, old gone "
                                "after .*\n")));
  EXPECT_FALSE(test_support::IsAlive(old_pid));
  // The new process runs the new file, serves the same socket, holds the
  // pid file's lock.
  EXPECT_EQ(ReadFileOrEmpty(absl::StrCat("/proc/", new_pid, "/cmdline"))
                .substr(0, binary_.size()),
            binary_);
  EXPECT_EQ(Exchange(socket_, "after\n"), absl::StrCat(new_pid, " after\n"));
  RunResult status = Run({"--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", new_pid, "\n"));
  // A second upgrade, from the upgraded one.
  RunResult again = Upgrade();
  ASSERT_EQ(again.exit_code, 0) << again.stderr_text;
  const pid_t third = ReadPid(pidfile_);
  EXPECT_EQ(Exchange(socket_, "x\n"), absl::StrCat(third, " x\n"));
  // The stop of the last one removes the pid file and the socket file.
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  EXPECT_FALSE(test_support::FileExists(socket_));
}

// The successor runs the old command line, `--daemon_ready_fd=N` included;
// that number is one of the handed-over descriptors by then (a listening
// socket), which the successor must not write to and close.
TEST_F(UpgradeTest, AReadyFdOnTheCommandLineIsTheManagersOnlyOnce) {
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const int manager_end = fcntl(ready[1], F_DUPFD, 3);  // inherited, low
  ASSERT_GE(manager_end, 3);
  close(ready[1]);
  RunResult start = Start({absl::StrCat("--daemon_ready_fd=", manager_end)});
  close(manager_end);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  char byte;
  EXPECT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t new_pid = ReadPid(pidfile_);
  EXPECT_EQ(Exchange(socket_, "still\n"), absl::StrCat(new_pid, " still\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

TEST_F(UpgradeTest, AFailingNewBinaryLeavesTheOldOneServing) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  // A daemonkit program that fails its start: it finds no socket "web".
  ASSERT_TRUE(InstallBinary(
      test_support::RunfilePath("tests/listen_api_example"), binary_));
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("no listening socket named 'web'"));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Exchange(socket_, "still\n"), absl::StrCat(old_pid, " still\n"));
  // Nothing of the failed one is left.
  EXPECT_EQ(test_support::LiveProcessesSpawnedByThisTest(),
            std::vector<pid_t>{old_pid});
  // A binary that is no daemon at all.
  const std::string script = dir_ + "/script";
  FILE* file = std::fopen(script.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("#!/bin/sh\nexit 3\n", file);
  std::fclose(file);
  ASSERT_TRUE(InstallBinary(script, binary_));
  upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("the new daemon exited before it was ready"));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Exchange(socket_, "yes\n"), absl::StrCat(old_pid, " yes\n"));
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary_));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(test_support::FileExists(socket_));
}

TEST_F(UpgradeTest, AForegroundDaemonIsReplacedToo) {
  // As under systemd Type=notify: the process in the foreground hands over
  // and exits 0; its successor serves in its place.
  test_support::Spawned foreground = test_support::SpawnProgram(
      {binary_, "--daemon=false", "--daemon_pidfile=" + pidfile_,
       "--daemon_listen=echo=unix:" + socket_});
  started_.push_back(foreground.pid);
  ASSERT_TRUE(test_support::WaitFor([&] { return ReadPid(pidfile_) > 0; }));
  ASSERT_TRUE(
      test_support::WaitFor([&] { return !Exchange(socket_, "a\n").empty(); }));
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  RunResult old = test_support::WaitProgram(foreground);
  EXPECT_EQ(old.exit_code, 0) << old.stderr_text;
  const pid_t successor = ReadPid(pidfile_);
  EXPECT_NE(successor, foreground.pid);
  EXPECT_EQ(Exchange(socket_, "b\n"), absl::StrCat(successor, " b\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(test_support::FileExists(socket_));
}

TEST_F(UpgradeTest, UnderSystemdTheOldDaemonNamesTheNewMainPid) {
  test_support::NotifyReceiver systemd;
  test_support::Spawned foreground = test_support::SpawnProgram(
      {binary_, "--daemon=false", "--daemon_pidfile=" + pidfile_,
       "--daemon_listen=echo=unix:" + socket_},
      {{"NOTIFY_SOCKET", systemd.address()}});
  started_.push_back(foreground.pid);
  EXPECT_EQ(systemd.Receive(), "READY=1");
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t successor = ReadPid(pidfile_);
  // The new one says READY=1 (systemd takes it once it is the main pid);
  // the old one, still the main pid, names its successor and does not say
  // STOPPING=1: the service goes on.
  std::vector<std::string> messages;
  for (std::string message;
       !(message = systemd.Receive(absl::Seconds(5))).empty();) {
    messages.push_back(message);
    if (message == absl::StrCat("MAINPID=", successor)) break;
  }
  EXPECT_THAT(messages,
              ::testing::Contains(absl::StrCat("MAINPID=", successor)));
  EXPECT_THAT(messages, ::testing::Not(::testing::Contains("STOPPING=1")));
  RunResult old = test_support::WaitProgram(foreground);
  EXPECT_EQ(old.exit_code, 0) << old.stderr_text;
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

TEST_F(UpgradeTest, NotRunningExits7) {
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 7);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("not running"));
}

TEST_F(UpgradeTest, ASupervisedDaemonRefusesAndKeepsRunning) {
  ASSERT_EQ(Start({"--daemon_restart=always"}).exit_code, 0);
  const pid_t supervisor = ReadPid(pidfile_);
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("upgrade is not supported under supervision"));
  EXPECT_TRUE(test_support::IsAlive(supervisor));
  EXPECT_EQ(ReadPid(pidfile_), supervisor);
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// What the load client counted.
struct LoadCounts {
  int64_t ok = 0, refused = 0, reset = 0, lost = 0, other = 0;
  int64_t pids = 0;  // distinct serving pids seen
};

// The load client, in a forked child (the test process stays
// single-threaded): opens connections to 127.0.0.1:`port` one after the
// other as fast as it can, sends a numbered line on each and checks the
// answer, until `stop_fd` is readable; then writes its counts to `out_fd`.
[[noreturn]] void RunLoadClient(int port, int stop_fd, int out_fd) {
  LoadCounts counts;
  std::set<std::string> pids;
  for (int64_t n = 0;; ++n) {
    struct pollfd stop = {stop_fd, POLLIN, 0};
    if (poll(&stop, 1, 0) > 0) break;
    std::string error;
    const std::string line = absl::StrCat("request ", n, "\n");
    const std::string reply =
        Exchange(absl::StrCat("127.0.0.1:", port), line, &error);
    std::vector<std::string> words = absl::StrSplit(reply, ' ');
    if (!reply.empty() && absl::EndsWith(reply, absl::StrCat(" ", line))) {
      ++counts.ok;
      pids.insert(words[0]);
    } else if (error == std::strerror(ECONNREFUSED)) {
      ++counts.refused;
    } else if (error == std::strerror(ECONNRESET)) {
      ++counts.reset;
    } else if (reply.empty()) {
      ++counts.lost;
    } else {
      ++counts.other;
    }
  }
  counts.pids = static_cast<int64_t>(pids.size());
  (void)!write(out_fd, &counts, sizeof(counts));
  _exit(0);
}

TEST_F(UpgradeTest, TwentyUpgradesUnderLoadRefuseResetAndLoseNothing) {
  int port = 0;
  RunResult start = test_support::RunOnFreeLoopbackPort(
      {binary_, "--daemon_pidfile=" + pidfile_,
       "--daemon_stderr=" + dir_ + "/echo.log"},
      "echo", "", 20000, 60000, &port);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  started_.push_back(ReadPid(pidfile_));
  int stop_pipe[2], out_pipe[2];
  ASSERT_EQ(pipe2(stop_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out_pipe, O_CLOEXEC), 0);
  const pid_t client = fork();
  ASSERT_GE(client, 0);
  if (client == 0) {
    close(stop_pipe[1]);
    close(out_pipe[0]);
    RunLoadClient(port, stop_pipe[0], out_pipe[1]);
  }
  close(out_pipe[1]);
  close(stop_pipe[0]);
  // Let the client get going, then upgrade 20 times back to back.
  absl::SleepFor(absl::Milliseconds(200));
  std::vector<absl::Duration> durations;
  int upgraded = 0;
  for (int i = 0; i < 20; ++i) {
    const absl::Time begin = absl::Now();
    RunResult upgrade = Upgrade();
    durations.push_back(absl::Now() - begin);
    EXPECT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
    if (upgrade.exit_code == 0) ++upgraded;
    std::printf(
        "upgrade %2d: %s; command to old process gone: %s\n", i + 1,
        std::string(absl::StripTrailingAsciiWhitespace(upgrade.stdout_text))
            .c_str(),
        absl::FormatDuration(durations.back()).c_str());
  }
  absl::SleepFor(absl::Milliseconds(200));
  close(stop_pipe[1]);
  LoadCounts counts;
  ASSERT_EQ(read(out_pipe[0], &counts, sizeof(counts)),
            static_cast<ssize_t>(sizeof(counts)));
  close(out_pipe[0]);
  const int status = test_support::ReapChild(client);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::sort(durations.begin(), durations.end());
  std::printf("%s\n", absl::StrCat(
                          "load: ", counts.ok, " replies, ", counts.refused,
                          " refused, ", counts.reset, " reset, ", counts.lost,
                          " lost, ", counts.other, " other; ", counts.pids,
                          " serving pids; ", upgraded,
                          " upgrades, command to old process gone: min ",
                          absl::FormatDuration(durations.front()), ", median ",
                          absl::FormatDuration(durations[durations.size() / 2]),
                          ", max ", absl::FormatDuration(durations.back()))
                          .c_str());
  EXPECT_EQ(upgraded, 20);
  EXPECT_EQ(counts.refused, 0);
  EXPECT_EQ(counts.reset, 0);
  EXPECT_EQ(counts.lost, 0);
  EXPECT_EQ(counts.other, 0);
  EXPECT_GT(counts.ok, 0);
  // Served by more than one generation.
  EXPECT_GT(counts.pids, 1);
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

}  // namespace
}  // namespace daemonkit
