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
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

std::string ReadLink(const std::string& path) {
  char target[4096];
  const ssize_t n = readlink(path.c_str(), target, sizeof(target));
  return n < 0 ? "" : std::string(target, static_cast<size_t>(n));
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
    test_support::KillPidFileHolder(pidfile_);
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
  // Replaces `binary_` with a shell script of these lines: a successor that
  // is no daemon at all.
  bool InstallScript(const std::string& lines) const {
    const std::string script = dir_ + "/script";
    return test_support::WriteFile(script,
                                   absl::StrCat("#!/bin/sh\n", lines)) &&
           InstallBinary(script, binary_);
  }
  // Starts `upgrade` without waiting for it.
  test_support::Spawned UpgradeInBackground() const {
    return test_support::SpawnProgram(
        {test_support::RunfilePath("examples/echo"),
         "--daemon_pidfile=" + pidfile_, "--daemon_control=upgrade"});
  }
  // The one child of the old daemon (its successor being started), also
  // kept for the tear-down; 0 when none appeared.
  pid_t SuccessorOf(pid_t old_pid) {
    pid_t successor = 0;
    test_support::WaitFor([&] {
      const std::vector<pid_t> children = test_support::DescendantsOf(old_pid);
      successor = children.empty() ? 0 : children.front();
      return successor > 0;
    });
    if (successor > 0) started_.push_back(successor);
    return successor;
  }
  // Upgrades the daemon `old_pid`, checks that a new process serves the
  // socket, and stops it.
  void ExpectAnUpgradeThatServes(pid_t old_pid) {
    RunResult upgrade = Upgrade();
    ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
    const pid_t new_pid = ReadPid(pidfile_);
    EXPECT_NE(new_pid, old_pid);
    EXPECT_EQ(Exchange(socket_, "u\n"), absl::StrCat(new_pid, " u\n"));
    EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
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
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", new_pid,
                                             " (pid file ", pidfile_, ")\n"));
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
  ASSERT_TRUE(InstallScript("exit 3\n"));
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

// Issue 18.13: a successor that failed in the steps after its checks (here:
// entering its working directory, which it may not search without the
// capabilities the old daemon had) wrote its reason only to its own stderr;
// the control action said "the new daemon exited before it was ready".
TEST_F(UpgradeTest, TheSuccessorsStartErrorReachesTheControlAction) {
  const std::string workdir = dir_ + "/work";
  ASSERT_EQ(mkdir(workdir.c_str(), 0600), 0);
  ASSERT_EQ(Start({"--daemon_workdir=" + workdir}).exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  // The new release runs without the capabilities that let root enter a
  // directory it may not search.
  const std::string release = dir_ + "/echo-release";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), release));
  ASSERT_TRUE(InstallScript(absl::StrCat(
      "exec setpriv --bounding-set=-dac_override,-dac_read_search -- '",
      release, "' \"$@\"\n")));
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("chdir workdir " + workdir));
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("Permission denied"));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Exchange(socket_, "on\n"), absl::StrCat(old_pid, " on\n"));
  EXPECT_EQ(test_support::LiveProcessesSpawnedByThisTest(),
            std::vector<pid_t>{old_pid});
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Issue 18.13: a daemon with --daemon_capabilities could never be upgraded
// (its successor cannot drop the bounding set again), and every attempt
// ended "exited before it was ready". The upgrade is refused at once and
// says why; the daemon serves on.
TEST_F(UpgradeTest, ADaemonWithCapabilitiesRefusesTheUpgradeAndSaysWhy) {
  RunResult start = Start({"--daemon_capabilities=cap_net_bind_service"});
  if (start.exit_code == 2) {
    // Where capabilities need --daemon_user (a user drop, itself refused
    // for upgrades), no such daemon starts at all.
    EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_user"));
    return;
  }
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t old_pid = ReadPid(pidfile_);
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("upgrade is not supported with --daemon_capabilities"));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Exchange(socket_, "on\n"), absl::StrCat(old_pid, " on\n"));
  EXPECT_EQ(test_support::LiveProcessesSpawnedByThisTest(),
            std::vector<pid_t>{old_pid});
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Issue 18.15: with a small RLIMIT_NOFILE every upgrade failed ("Too many
// open files", from the pipes, the moved descriptors or the successor), and
// nothing said what it needs. A start whose limit leaves too little room
// refuses upgrades, saying the limit and how to raise it; a limit with room
// upgrades.
TEST_F(UpgradeTest, ATightDescriptorLimitRefusesUpgradesAndSaysTheNeed) {
  ASSERT_EQ(Start({"--daemon_rlimits=nofile=16"}).exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("RLIMIT_NOFILE"));
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("is 16"));
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("--daemon_rlimits=nofile="));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Exchange(socket_, "on\n"), absl::StrCat(old_pid, " on\n"));
  EXPECT_EQ(test_support::LiveProcessesSpawnedByThisTest(),
            std::vector<pid_t>{old_pid});
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);

  ASSERT_EQ(Start({"--daemon_rlimits=nofile=64"}).exit_code, 0);
  ExpectAnUpgradeThatServes(ReadPid(pidfile_));
}

// Issue 18.7: logrotate renames the log and sends `reload` while an upgrade's
// successor starts: the SIGHUP reached the old daemon, which then stopped
// without reopening, and the successor, which had opened the log before the
// rename, wrote into the rotated file for good. The reload reaches the
// successor once it takes over.
TEST_F(UpgradeTest, AReloadDuringTheUpgradeReachesTheSuccessor) {
  const std::string fake = dir_ + "/fake";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("tests/fake_daemon"), fake));
  const std::string go = dir_ + "/go";
  const std::string report = dir_ + "/report";
  const std::string log = dir_ + "/fake.log";
  ASSERT_TRUE(test_support::WriteFile(go, ""));
  RunResult start = RunProgram({fake, "--daemon_pidfile=" + pidfile_,
                                "--daemon_stderr=" + log, "--report=" + report,
                                "--wait_for=" + go});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t old_pid = ReadPid(pidfile_);
  started_.push_back(old_pid);
  ASSERT_EQ(unlink(go.c_str()), 0);
  test_support::Spawned upgrade = UpgradeInBackground();
  const pid_t successor = SuccessorOf(old_pid);
  ASSERT_GT(successor, 0);
  // The successor has opened its log and waits to be let go.
  ASSERT_TRUE(test_support::WaitFor([&] {
    return test_support::ReportedStarts(report).size() == 2 &&
           absl::StrContains(ReadFileOrEmpty(report),
                             absl::StrCat("waiting for ", go, "\n")) &&
           ReadLink(absl::StrCat("/proc/", successor, "/fd/2")) == log;
  }));
  ASSERT_EQ(rename(log.c_str(), (log + ".1").c_str()), 0);
  RunResult reload = Run({"--daemon_control=reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.stderr_text;
  ASSERT_TRUE(test_support::WriteFile(go, ""));
  RunResult upgraded = test_support::WaitProgram(upgrade);
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.stderr_text;
  EXPECT_EQ(ReadPid(pidfile_), successor);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return ReadLink(absl::StrCat("/proc/", successor, "/fd/2")) == log;
  })) << ReadLink(absl::StrCat("/proc/", successor, "/fd/2"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// The socket inodes ("socket:[N]") among `pid`'s descriptors.
std::set<std::string> SocketsOf(pid_t pid) {
  std::set<std::string> sockets;
  for (const auto& [fd, target] : test_support::OpenDescriptors(pid)) {
    if (absl::StartsWith(target, "socket:")) sockets.insert(target);
  }
  return sockets;
}

// Issue 18.8: an upgraded old daemon that drains a client that never goes
// kept its listening sockets and the pid file's descriptor: after `stop` of
// the successor it still listened (new clients were never answered, a new
// start found the address in use), and no control action could reach it.
// It gives both up at the handover, ends within --daemon_stop_timeout, and
// a stop of the successor ends it too. `stop_timeout`: the daemon's.
class UpgradeDrainTest : public UpgradeTest {
 protected:
  // Starts the fake daemon, upgrades it; the old one's pid (draining).
  pid_t StartAndUpgrade(const std::string& stop_timeout) {
    const std::string fake = dir_ + "/fake";
    EXPECT_TRUE(
        InstallBinary(test_support::RunfilePath("tests/fake_daemon"), fake));
    report_ = dir_ + "/report";
    RunResult start = RunProgram(
        {fake, "--behavior=drain_forever", "--daemon_pidfile=" + pidfile_,
         "--daemon_stderr=" + dir_ + "/fake.log", "--report=" + report_,
         "--daemon_listen=x=unix:" + socket_,
         "--daemon_stop_timeout=" + stop_timeout});
    EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
    const pid_t old_pid = ReadPid(pidfile_);
    started_.push_back(old_pid);
    RunResult upgrade = Upgrade();
    EXPECT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
    EXPECT_NE(ReadPid(pidfile_), old_pid);
    EXPECT_TRUE(test_support::WaitFor([&] {
      return absl::StrContains(ReadFileOrEmpty(report_),
                               absl::StrCat("draining ", old_pid));
    }));
    return old_pid;
  }
  std::string report_;
};

TEST_F(UpgradeDrainTest, TheOldDaemonGivesUpListenerAndPidFileAndEndsInTime) {
  const pid_t old_pid = StartAndUpgrade("2s");
  const pid_t new_pid = ReadPid(pidfile_);
  // The successor's listening socket is no longer among the old one's
  // descriptors, nor is the pid file.
  const std::set<std::string> listening = SocketsOf(new_pid);
  ASSERT_FALSE(listening.empty());
  for (const auto& [fd, target] : test_support::OpenDescriptors(old_pid)) {
    EXPECT_EQ(listening.count(target), 0u) << "fd " << fd << " " << target;
    EXPECT_NE(target, pidfile_) << "fd " << fd;
  }
  // Its drain is bounded by --daemon_stop_timeout.
  EXPECT_TRUE(test_support::WaitUntilGone(old_pid));
  // The successor drains forever too: the stop ends it with SIGKILL.
  EXPECT_EQ(
      Run({"--daemon_control=stop", "--daemon_stop_timeout=1s"}).exit_code, 0);
}

// Issue 18.7, the rest: a reload sent to the old daemon's pid after the
// handover (a control action read the pid file just before it) reached an
// old daemon whose application had left its main loop to drain, and was
// lost; the model test saw it under load. The old daemon's handler passes
// it on to the successor, which reopens its log.
TEST_F(UpgradeDrainTest, AReloadThatReachesTheDrainingOldDaemonGoesOn) {
  const pid_t old_pid = StartAndUpgrade("1h");
  const pid_t new_pid = ReadPid(pidfile_);
  const std::string log = dir_ + "/fake.log";
  ASSERT_EQ(ReadLink(absl::StrCat("/proc/", new_pid, "/fd/2")), log);
  ASSERT_EQ(rename(log.c_str(), (log + ".1").c_str()), 0);
  ASSERT_EQ(kill(old_pid, SIGHUP), 0);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return ReadLink(absl::StrCat("/proc/", new_pid, "/fd/2")) == log;
  })) << ReadLink(absl::StrCat("/proc/", new_pid, "/fd/2"));
  EXPECT_TRUE(test_support::FileExists(log));
  EXPECT_TRUE(test_support::IsAlive(old_pid));  // still draining
  RunResult stop = Run({"--daemon_control=stop", "--daemon_stop_timeout=1s"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
}

TEST_F(UpgradeDrainTest, StoppingTheSuccessorEndsTheDrainingOldDaemon) {
  const pid_t old_pid = StartAndUpgrade("1h");
  // The successor drains forever too: the stop ends it with SIGKILL.
  RunResult stop = Run({"--daemon_control=stop", "--daemon_stop_timeout=1s"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(old_pid));
  EXPECT_TRUE(test_support::WaitFor(
      [] { return test_support::LiveProcessesSpawnedByThisTest().empty(); }));
}

// Found by an attack: in the foreground with nobody to follow MAINPID= (a
// shell, s6, a container), the old process's exit ended the service, and
// the new one ran on unwatched. Such a process refuses and keeps serving.
TEST_F(UpgradeTest, AForegroundProcessWithoutAServiceManagerRefuses) {
  test_support::Spawned foreground = test_support::SpawnProgram(
      {binary_, "--daemon=false", "--daemon_pidfile=" + pidfile_,
       "--daemon_listen=echo=unix:" + socket_});
  started_.push_back(foreground.pid);
  ASSERT_TRUE(test_support::WaitFor([&] { return ReadPid(pidfile_) > 0; }));
  ASSERT_TRUE(
      test_support::WaitFor([&] { return !Exchange(socket_, "a\n").empty(); }));
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("upgrade in the foreground needs a service manager"));
  EXPECT_EQ(ReadPid(pidfile_), foreground.pid);
  EXPECT_EQ(Exchange(socket_, "b\n"), absl::StrCat(foreground.pid, " b\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_EQ(test_support::WaitProgram(foreground).exit_code, 0);
}

// Found by an attack: a successor that failed left what it had started
// running. Its whole process group goes with it.
TEST_F(UpgradeTest, AFailedSuccessorTakesWhatItStartedWithIt) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  const std::string child_file = dir_ + "/child";
  ASSERT_TRUE(InstallScript(
      absl::StrCat("sleep 1000 &\necho $! > ", child_file, "\nexit 3\n")));
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  const pid_t child = ReadPid(child_file);
  ASSERT_GT(child, 0) << upgrade.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(child));
  EXPECT_EQ(test_support::LiveProcessesSpawnedByThisTest(),
            std::vector<pid_t>{old_pid});
  EXPECT_EQ(Exchange(socket_, "on\n"), absl::StrCat(old_pid, " on\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: a stop while the successor started stopped the old
// daemon and left the successor, never ready and named by no pid file.
TEST_F(UpgradeTest, AStopDuringTheUpgradeEndsTheSuccessorToo) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  ASSERT_TRUE(InstallScript("sleep 1000 &\nexec sleep 1000\n"));
  test_support::Spawned upgrade = UpgradeInBackground();
  const pid_t successor = SuccessorOf(old_pid);
  ASSERT_GT(successor, 0);
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  RunResult upgraded = test_support::WaitProgram(upgrade);
  EXPECT_EQ(upgraded.exit_code, 1);
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("told to stop"));
  EXPECT_TRUE(test_support::WaitUntilGone(successor));
  EXPECT_TRUE(test_support::WaitFor(
      [] { return test_support::LiveProcessesSpawnedByThisTest().empty(); }))
      << ::testing::PrintToString(
             test_support::LiveProcessesSpawnedByThisTest());
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  EXPECT_FALSE(test_support::FileExists(socket_));
}

// Issue 18.17: a second upgrade while one runs was left unanswered until
// its deadline, then blamed the daemon's main loop ("is its main loop
// calling WaitUntil?"). It is told at once.
TEST_F(UpgradeTest, ASecondConcurrentUpgradeIsToldOneIsInProgress) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  ASSERT_TRUE(InstallScript("exec sleep 1000\n"));
  test_support::Spawned first = UpgradeInBackground();
  const pid_t successor = SuccessorOf(old_pid);
  ASSERT_GT(successor, 0);
  // Its own deadline short, so that without an answer it fails quickly.
  RunResult second =
      Run({"--daemon_control=upgrade", "--daemon_ready_timeout=2s"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.stderr_text,
              HasSubstr("an upgrade is already in progress"));
  EXPECT_THAT(second.stderr_text, ::testing::Not(HasSubstr("WaitUntil")));
  // The first goes on until the stop ends it and its successor.
  EXPECT_TRUE(test_support::IsAlive(successor));
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  RunResult upgraded = test_support::WaitProgram(first);
  EXPECT_EQ(upgraded.exit_code, 1);
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("told to stop"));
  EXPECT_TRUE(test_support::WaitUntilGone(successor));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
}

// An old daemon SIGKILLed while its successor starts takes the successor
// with it (it would run unready, named by no pid file).
TEST_F(UpgradeTest, AKilledOldDaemonTakesItsUnreadySuccessorWithIt) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  ASSERT_TRUE(InstallScript("exec sleep 1000\n"));
  test_support::Spawned upgrade = UpgradeInBackground();
  const pid_t successor = SuccessorOf(old_pid);
  ASSERT_GT(successor, 0);
  ASSERT_EQ(kill(old_pid, SIGKILL), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(successor));
  EXPECT_NE(test_support::WaitProgram(upgrade).exit_code, 0);
}

// Found by an attack: the successor repeats the old command line, and a
// daemon started with `--daemon_control=restart` (as init scripts do) had
// its successor stop it, and with it the successor.
TEST_F(UpgradeTest, ADaemonStartedByRestartIsUpgradedToo) {
  ASSERT_EQ(Start({"--daemon_control=restart"}).exit_code, 0);
  ExpectAnUpgradeThatServes(ReadPid(pidfile_));
}

// Found by an attack: a flag file edited since the start to say any
// other action (`stop`) made the successor act on the old daemon.
TEST_F(UpgradeTest, AnEditedFlagFileSayingStopStillStartsTheSuccessor) {
  const std::string flagfile = dir_ + "/echo.flags";
  const std::string listen =
      absl::StrCat("--daemon_listen=echo=unix:", socket_);
  ASSERT_TRUE(test_support::WriteFile(flagfile, listen + "\n"));
  ASSERT_EQ(Run({"--flagfile=" + flagfile}).exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  started_.push_back(old_pid);
  ASSERT_TRUE(test_support::WriteFile(
      flagfile, absl::StrCat(listen, "\n--daemon_control=stop\n")));
  ExpectAnUpgradeThatServes(old_pid);
}

// Found by an attack: a forged handover (the variable, a descriptor of the
// pid file opened anew) beside a running daemon was taken, and its clean
// exit removed the running daemon's pid file. The descriptor must hold the
// running daemon's lock. (The "ready pipe" is a pipe to a file.)
TEST_F(UpgradeTest, AForgedHandoverBesideARunningDaemonIsRefused) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t daemon = ReadPid(pidfile_);
  const std::string answer = dir_ + "/answer";
  RunResult forged = RunProgram(
      {"/bin/bash", "-c",
       absl::StrCat("exec 4<>", pidfile_, " 5> >(cat > ", answer, ")",
                    "; exec env DAEMONKIT_UPGRADE=$$:4:5 LISTEN_FDS=0 ",
                    binary_, " --daemon_pidfile=", pidfile_,
                    " --daemon_listen=echo=unix:", dir_, "/forged.sock")});
  EXPECT_NE(forged.exit_code, 0);
  // `cat` behind the pipe may write the answer after the shell is gone.
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(answer),
                             "not the running daemon's descriptor");
  })) << ReadFileOrEmpty(answer);
  EXPECT_EQ(ReadPid(pidfile_), daemon);
  RunResult status = Run({"--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", daemon,
                                             " (pid file ", pidfile_, ")\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: with no daemon running, a forged handover whose
// "ready pipe" was a regular file got "R" written over the file's first
// bytes. Descriptors that are not a file and a pipe make no handover.
TEST_F(UpgradeTest, AForgedHandoverWritesNothingIntoAFileAsItsReadyPipe) {
  const std::string precious = dir_ + "/precious";
  ASSERT_TRUE(test_support::WriteFile(precious, "precious data\n"));
  RunResult forged = RunProgram(
      {"/bin/sh", "-c",
       absl::StrCat("exec 4<>", pidfile_, " 5<>", precious,
                    "; exec env DAEMONKIT_UPGRADE=$$:4:5 LISTEN_FDS=0 ",
                    binary_, " --daemon_pidfile=", pidfile_,
                    " --daemon_listen=echo=unix:", socket_)});
  EXPECT_EQ(forged.exit_code, 0) << forged.stderr_text;  // a plain start
  started_.push_back(ReadPid(pidfile_));
  EXPECT_EQ(ReadFileOrEmpty(precious), "precious data\n");
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: a flag file edited to add --daemon_user gave the
// dropped successor the root-owned pid file's descriptor. The successor
// refuses; the old daemon serves on.
TEST_F(UpgradeTest, ASuccessorCannotAddAPrivilegeDrop) {
  const std::string flagfile = dir_ + "/echo.flags";
  ASSERT_TRUE(test_support::WriteFile(
      flagfile, absl::StrCat("--daemon_listen=echo=unix:", socket_, "\n")));
  ASSERT_EQ(Run({"--flagfile=" + flagfile}).exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  started_.push_back(old_pid);
  ASSERT_TRUE(test_support::WriteFile(
      flagfile, absl::StrCat("--daemon_listen=echo=unix:", socket_,
                             "\n--daemon_user=nobody\n")));
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("an upgrade cannot add"));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Exchange(socket_, "s\n"), absl::StrCat(old_pid, " s\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: an old daemon SIGKILLed after its successor was ready
// but before it wrote the successor's pid left a serving daemon named by no
// pid file. The successor writes its own pid before it says it is ready.
// (The successor takes half a second to start, during which the old
// daemon is stopped, so that it cannot finish the handover itself.)
TEST_F(UpgradeTest, AnOldDaemonKilledDuringTheHandoverLeavesTheSuccessorNamed) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  const std::string real = dir_ + "/echo.real";
  ASSERT_TRUE(InstallBinary(test_support::RunfilePath("examples/echo"), real));
  ASSERT_TRUE(
      InstallScript(absl::StrCat("sleep 0.5\nexec ", real, " \"$@\"\n")));
  test_support::Spawned upgrade = UpgradeInBackground();
  const pid_t successor = SuccessorOf(old_pid);
  ASSERT_GT(successor, 0);
  ASSERT_EQ(kill(old_pid, SIGSTOP), 0);
  // Stopped in fact: until then, a signal sent meanwhile may be taken first.
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::StatOf(old_pid).state() == 'T'; }));
  EXPECT_TRUE(
      test_support::WaitFor([&] { return ReadPid(pidfile_) == successor; }));
  ASSERT_EQ(kill(old_pid, SIGKILL), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(old_pid));
  (void)test_support::WaitProgram(upgrade);
  EXPECT_EQ(ReadPid(pidfile_), successor);
  EXPECT_EQ(Exchange(socket_, "k\n"), absl::StrCat(successor, " k\n"));
  RunResult status = Run({"--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", successor,
                                             " (pid file ", pidfile_, ")\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_TRUE(test_support::WaitUntilGone(successor));
}

// Found by an attack: the channel's name, token and all, is visible in
// /proc/net/unix once bound, and the control action gave up at the first
// connection that was not the daemon's. Others' connections are skipped.
TEST_F(UpgradeTest, ConnectionsOfOthersToTheChannelAreSkipped) {
  ASSERT_EQ(Start().exit_code, 0);
  int stop[2];
  ASSERT_EQ(pipe2(stop, O_CLOEXEC), 0);
  const pid_t intruder = fork();
  if (intruder == 0) {
    close(stop[1]);
    // Connects to every upgrade channel it sees, until told to stop.
    for (;;) {
      struct pollfd told = {stop[0], POLLIN, 0};
      if (poll(&told, 1, 0) > 0) _exit(0);
      for (absl::string_view line : absl::StrSplit(
               ReadFileOrEmpty("/proc/net/unix"), '\n', absl::SkipEmpty())) {
        const size_t at = line.find("@daemonkit-upgrade-");
        if (at == absl::string_view::npos) continue;
        const int fd = test_support::ConnectTo(std::string(line.substr(at)));
        if (fd >= 0) close(fd);
      }
    }
  }
  close(stop[0]);
  int upgraded = 0;
  for (int i = 0; i < 5; ++i) {
    RunResult upgrade = Upgrade();
    EXPECT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
    if (upgrade.exit_code == 0) ++upgraded;
  }
  close(stop[1]);
  test_support::ReapChild(intruder);
  EXPECT_EQ(upgraded, 5);
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: the successor was exec'd with descriptor 0 closed
// (a fork handler closed it in every child the daemon forked), so the
// first file it opened became its stdin.
TEST_F(UpgradeTest, ASuccessorStartsWithItsStandardStreamsOpen) {
  ASSERT_EQ(Start().exit_code, 0);
  const std::string real = dir_ + "/echo.real";
  const std::string streams = dir_ + "/streams";
  ASSERT_TRUE(InstallBinary(test_support::RunfilePath("examples/echo"), real));
  ASSERT_TRUE(InstallScript(absl::StrCat(
      "for fd in 0 1 2; do [ -e /proc/$$/fd/$fd ] && printf $fd >> ", streams,
      "; done\nexec ", real, " \"$@\"\n")));
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(streams), "012");
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// A binary the daemon cannot run: the reason, errno's text included.
TEST_F(UpgradeTest, ANewBinaryThatCannotRunSaysWhy) {
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  ASSERT_EQ(chmod(binary_.c_str(), 0644), 0);
  RunResult upgrade = Upgrade();
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(
      upgrade.stderr_text,
      HasSubstr(absl::StrCat("cannot run ", binary_, ": Permission denied")));
  EXPECT_EQ(ReadPid(pidfile_), old_pid);
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: the binary's path was fixed at start by
// /proc/self/exe, which resolves symlinks, so a deployment that points a
// symlink at a new release upgraded to the old release again.
TEST_F(UpgradeTest, ASymlinkDeploymentUpgradesToTheReleaseItNamesNow) {
  const std::string release1 = dir_ + "/release1";
  const std::string release2 = dir_ + "/release2";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), release1));
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), release2));
  ASSERT_EQ(unlink(binary_.c_str()), 0);
  ASSERT_EQ(symlink(release1.c_str(), binary_.c_str()), 0);
  ASSERT_EQ(Start().exit_code, 0);
  const pid_t old_pid = ReadPid(pidfile_);
  EXPECT_EQ(ReadLink(absl::StrCat("/proc/", old_pid, "/exe")), release1);
  // Swapped as deployment tools do: a new link renamed over the old one.
  const std::string link = binary_ + ".link";
  ASSERT_EQ(symlink(release2.c_str(), link.c_str()), 0);
  ASSERT_EQ(rename(link.c_str(), binary_.c_str()), 0);
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t new_pid = ReadPid(pidfile_);
  EXPECT_EQ(ReadLink(absl::StrCat("/proc/", new_pid, "/exe")), release2);
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Found by an attack: the request's channel had a name anybody could
// compute and bind first (another user), and then no upgrade was ever
// answered. Its name now carries a random token. (Held here by the test's
// own user: under the test sandbox there is no other user to be.)
TEST_F(UpgradeTest, APredictableChannelNameHeldBySomebodyElseBlocksNothing) {
  ASSERT_EQ(Start().exit_code, 0);
  struct stat st;
  ASSERT_EQ(stat(pidfile_.c_str(), &st), 0);
  // The name the old code used, and the name of a token 0.
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t squatter = fork();
  if (squatter == 0) {
    for (const std::string& name :
         {absl::StrCat("daemonkit-upgrade-", st.st_dev, "-", st.st_ino),
          absl::StrCat("daemonkit-upgrade-", st.st_dev, "-", st.st_ino,
                       "-0000000000000000")}) {
      if (test_support::ListenUnix("@" + name) < 0) _exit(2);
    }
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  RunResult upgrade = Upgrade();
  kill(squatter, SIGKILL);
  waitpid(squatter, nullptr, 0);
  EXPECT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
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

// The value of `name` in the environment `pid` started with; "" if unset.
std::string EnvironmentOf(pid_t pid, const std::string& name) {
  const std::string environ =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/environ"));
  for (absl::string_view entry : absl::StrSplit(environ, '\0')) {
    if (absl::ConsumePrefix(&entry, name + "=")) return std::string(entry);
  }
  return "";
}

// Issue 18.9: under WatchdogSec= systemd sets WATCHDOG_PID to the main pid.
// A successor that inherited the old pid took the watchdog for another
// process's and never sent WATCHDOG=1 once it was MAINPID: systemd killed
// the upgraded service. It gets its own pid, as LISTEN_PID.
TEST_F(UpgradeTest, TheSuccessorFeedsSystemdsWatchdogAsTheNewMainPid) {
  // The ticker: its main loop waits in WaitFor, which sends the keep-alives.
  const std::string ticker = dir_ + "/ticker";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/ticker"), ticker));
  test_support::NotifyReceiver systemd;
  // systemd sets WATCHDOG_PID to the pid it started: the shell's, which
  // execs the daemon.
  test_support::Spawned foreground = test_support::SpawnProgram(
      {"/bin/sh", "-c", "WATCHDOG_PID=$$ exec \"$@\"", "sh", ticker,
       "--daemon=false", "--daemon_pidfile=" + pidfile_, "--interval=100ms"},
      {{"NOTIFY_SOCKET", systemd.address()}, {"WATCHDOG_USEC", "1000000"}});
  started_.push_back(foreground.pid);
  std::string message;
  do {
    message = systemd.Receive();
  } while (!message.empty() && message != "READY=1");
  ASSERT_EQ(message, "READY=1");
  ASSERT_EQ(EnvironmentOf(foreground.pid, "WATCHDOG_PID"),
            absl::StrCat(foreground.pid));
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t successor = ReadPid(pidfile_);
  ASSERT_NE(successor, foreground.pid);
  EXPECT_EQ(EnvironmentOf(successor, "WATCHDOG_PID"), absl::StrCat(successor));
  EXPECT_EQ(EnvironmentOf(successor, "WATCHDOG_USEC"), "1000000");
  RunResult old = test_support::WaitProgram(foreground);
  EXPECT_EQ(old.exit_code, 0) << old.stderr_text;
  // Datagrams are queued as they are sent: with the old daemon gone, all it
  // sent is waiting, and a keep-alive after those is the successor's (every
  // half second).
  while (!systemd.Receive(absl::ZeroDuration()).empty()) {
  }
  std::vector<std::string> messages;
  while (!(message = systemd.Receive(absl::Seconds(10))).empty()) {
    messages.push_back(message);
    if (message == "WATCHDOG=1") break;
  }
  EXPECT_THAT(messages, ::testing::Contains("WATCHDOG=1"))
      << absl::StrJoin(messages, " | ");
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

// The state letter of /proc/PID/stat ('T' stopped, 'Z' zombie); 0 if none.
char StateOf(pid_t pid) {
  const std::string stat =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size()
             ? 0
             : stat[paren + 2];
}

// The attack of 2026-12-06 (findings 1, 3, 4, 7): the old daemon frozen
// between its successor's "ready" and the handover. The successor is the
// real echo behind a gate (a file to wait for), so the test decides when
// it becomes ready.
class FrozenHandoverTest : public UpgradeTest {
 protected:
  void SetUp() override {
    UpgradeTest::SetUp();
    gate_ = dir_ + "/go";
    ASSERT_EQ(Start({"--daemon_ready_timeout=120s"}).exit_code, 0);
    old_pid_ = ReadPid(pidfile_);
    ASSERT_GT(old_pid_, 0);
    ASSERT_TRUE(InstallScript(absl::StrCat(
        "while [ ! -e '", gate_, "' ]; do sleep 0.02; done\nexec '",
        test_support::RunfilePath("examples/echo"), "' \"$@\"\n")));
  }
  // Starts `upgrade` (with `extra` flags), waits for the successor, then
  // freezes the old daemon.
  test_support::Spawned UpgradeAndFreeze(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {test_support::RunfilePath("examples/echo"),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--daemon_control=upgrade"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    test_support::Spawned upgrade = test_support::SpawnProgram(argv);
    successor_ = SuccessorOf(old_pid_);
    EXPECT_GT(successor_, 0);
    EXPECT_EQ(kill(old_pid_, SIGSTOP), 0);
    EXPECT_TRUE(
        test_support::WaitFor([&] { return StateOf(old_pid_) == 'T'; }));
    return upgrade;
  }
  // Lets the successor start; true once it said ready (it wrote its pid).
  bool OpenGateAndWaitReady() {
    return test_support::WriteFile(gate_, "") && test_support::WaitFor([&] {
             return ReadPid(pidfile_) == successor_;
           });
  }

  std::string gate_;
  pid_t old_pid_ = 0;
  pid_t successor_ = 0;
};

// Finding 1: with the old daemon frozen after its successor said ready, the
// pid file names the successor; a second upgrade was taken by it (a third
// process), and `stop` exited 0 while the frozen old daemon kept the
// listener. The successor refuses upgrades until the old one confirms the
// handover, and a stop ends both.
TEST_F(FrozenHandoverTest, UnconfirmedSuccessorRefusesUpgradesAndStopEndsBoth) {
  test_support::Spawned first = UpgradeAndFreeze();
  ASSERT_TRUE(OpenGateAndWaitReady());
  RunResult second =
      Run({"--daemon_control=upgrade", "--daemon_ready_timeout=2s"});
  EXPECT_EQ(second.exit_code, 1) << second.stderr_text;
  EXPECT_THAT(second.stderr_text,
              HasSubstr("an upgrade is already in progress"));
  EXPECT_EQ(test_support::DescendantsOf(successor_).size(), 0u);
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(old_pid_));
  EXPECT_TRUE(test_support::WaitUntilGone(successor_));
  // The control process was not answered: it says it does not know.
  RunResult upgraded = test_support::WaitProgram(first);
  EXPECT_EQ(upgraded.exit_code, 1) << upgraded.stderr_text;
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("check status"));
  EXPECT_THAT(upgraded.stderr_text,
              ::testing::Not(HasSubstr("the daemon ended the upgrade")));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  EXPECT_TRUE(test_support::WaitFor(
      [] { return test_support::LiveProcessesSpawnedByThisTest().empty(); }))
      << ::testing::PrintToString(
             test_support::LiveProcessesSpawnedByThisTest());
}

// Finding 4: the successor killed after it said ready, while the old daemon
// was frozen; thawed, the old daemon handed over to the dead process and
// exited, and nothing served. It checks the successor at the handover,
// serves on with its own pid in the file, and `upgrade` fails saying why.
TEST_F(FrozenHandoverTest, ADeadSuccessorIsNotHandedTheService) {
  test_support::Spawned first = UpgradeAndFreeze();
  ASSERT_TRUE(OpenGateAndWaitReady());
  ASSERT_EQ(kill(successor_, SIGKILL), 0);
  // The frozen old daemon's child: a zombie until it is reaped.
  ASSERT_TRUE(
      test_support::WaitFor([&] { return StateOf(successor_) == 'Z'; }));
  ASSERT_EQ(kill(old_pid_, SIGCONT), 0);
  RunResult upgraded = test_support::WaitProgram(first);
  EXPECT_EQ(upgraded.exit_code, 1) << upgraded.stderr_text;
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("died"));
  EXPECT_EQ(ReadPid(pidfile_), old_pid_);
  EXPECT_EQ(Exchange(socket_, "u\n"), absl::StrCat(old_pid_, " u\n"));
  RunResult status = Run({"--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", old_pid_,
                                             " (pid file ", pidfile_, ")\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Finding 3: the control process that gave up on a frozen old daemon said
// "the daemon ended the upgrade without an answer" and exited 1, and the
// upgrade then completed. It says it does not know (exit 4), and the
// upgrade indeed goes on once the old daemon runs again.
TEST_F(FrozenHandoverTest, GivingUpOnAFrozenOldDaemonSaysTheOutcomeIsUnknown) {
  test_support::Spawned first = UpgradeAndFreeze({"--daemon_ready_timeout=1s"});
  RunResult upgraded = test_support::WaitProgram(first);
  EXPECT_EQ(upgraded.exit_code, 1) << upgraded.stderr_text;
  EXPECT_THAT(upgraded.stderr_text,
              HasSubstr(absl::StrCat("no answer from the old daemon (pid ",
                                     old_pid_, ")")));
  EXPECT_THAT(upgraded.stderr_text,
              HasSubstr("the upgrade may still complete: check status"));
  ASSERT_TRUE(OpenGateAndWaitReady());
  ASSERT_EQ(kill(old_pid_, SIGCONT), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(old_pid_));
  EXPECT_EQ(ReadPid(pidfile_), successor_);
  EXPECT_EQ(Exchange(socket_, "u\n"), absl::StrCat(successor_, " u\n"));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// The attack's suspicion: Ctrl-C on `upgrade` exited 130 silently while
// the upgrade went on. It says that the upgrade goes on.
TEST_F(FrozenHandoverTest, AnInterruptedUpgradeSaysTheUpgradeGoesOn) {
  test_support::Spawned first = test_support::SpawnProgram(
      {test_support::RunfilePath("examples/echo"),
       "--daemon_pidfile=" + pidfile_, "--daemon_control=upgrade"});
  successor_ = SuccessorOf(old_pid_);
  ASSERT_GT(successor_, 0);
  ASSERT_EQ(kill(first.pid, SIGINT), 0);
  RunResult upgraded = test_support::WaitProgram(first);
  EXPECT_EQ(upgraded.exit_code, 130);
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("goes on"));
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("check status"));
  ASSERT_TRUE(OpenGateAndWaitReady());
  EXPECT_TRUE(test_support::WaitUntilGone(old_pid_));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// Finding 7: under NOTIFY_SOCKET the successor's STATUS= (the ticker's,
// sent before it is ready) and READY=1 went out before the old process's
// MAINPID= for it, and systemd, with NotifyAccess=main, dropped them. The
// successor holds its messages until the old one confirms the handover,
// which comes after MAINPID=.
TEST_F(UpgradeTest, UnderSystemdTheSuccessorSpeaksOnlyAfterMainPid) {
  const std::string ticker = dir_ + "/ticker";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/ticker"), ticker));
  test_support::NotifyReceiver systemd;
  systemd.PassCredentials();
  test_support::Spawned foreground = test_support::SpawnProgram(
      {ticker, "--daemon=false", "--daemon_pidfile=" + pidfile_,
       "--interval=1h"},
      {{"NOTIFY_SOCKET", systemd.address()}});
  started_.push_back(foreground.pid);
  std::string first;
  do {
    first = systemd.Receive();
  } while (!first.empty() && first != "READY=1");
  ASSERT_EQ(first, "READY=1");
  RunResult upgrade = Upgrade();
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t successor = ReadPid(pidfile_);
  ASSERT_NE(successor, foreground.pid);
  std::vector<std::string> messages;  // "PID: MESSAGE"
  bool main_pid_seen = false;
  bool successor_spoke_first = false;
  bool successor_ready = false;
  for (;;) {
    pid_t sender = 0;
    const std::string message = systemd.ReceiveFrom(&sender, absl::Seconds(10));
    if (message.empty()) break;
    messages.push_back(absl::StrCat(sender, ": ", message));
    if (sender == foreground.pid &&
        message == absl::StrCat("MAINPID=", successor)) {
      main_pid_seen = true;
    }
    if (sender == successor) {
      if (!main_pid_seen) successor_spoke_first = true;
      if (absl::StrContains(message, "READY=1")) break;
    }
  }
  for (const std::string& message : messages) {
    if (absl::StartsWith(message, absl::StrCat(successor, ": ")) &&
        absl::StrContains(message, "READY=1")) {
      successor_ready = true;
    }
  }
  EXPECT_TRUE(main_pid_seen) << absl::StrJoin(messages, " | ");
  EXPECT_FALSE(successor_spoke_first) << absl::StrJoin(messages, " | ");
  EXPECT_TRUE(successor_ready) << absl::StrJoin(messages, " | ");
  RunResult old = test_support::WaitProgram(foreground);
  EXPECT_EQ(old.exit_code, 0) << old.stderr_text;
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}
}  // namespace
}  // namespace daemonkit
