// Copyright 2026 The daemonkit Authors.
//
// What the daemon ends up allowed to do: the user and groups it drops to,
// its chroot, core dumps. These need real root (setuid to another user), so
// they run outside the user-namespace sandbox (tag no-sandbox) and clean up
// their daemons themselves.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

class PrivilegesTest : public ::daemonkit::test_support::TickerFixture {};

std::string CoreLimitLine(pid_t pid) {
  for (absl::string_view line : absl::StrSplit(
           ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/limits")), '\n')) {
    if (absl::StartsWith(line, "Max core file size")) return std::string(line);
  }
  return "";
}

TEST_F(PrivilegesTest, DropsToAnotherUserWithExactlyItsGroups) {
  const pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_GT(pid, 0);
  const std::string status = Status(pid);
  EXPECT_THAT(status, ContainsRegex("Uid:\t65534\t65534\t65534\t65534\n"));
  EXPECT_THAT(status, ContainsRegex("Gid:\t65534\t65534\t65534\t65534\n"));
  EXPECT_THAT(status, ContainsRegex("Groups:\t65534 ?\n"));
  // The log was created for the daemon, which can reopen it on SIGHUP.
  struct stat st;
  ASSERT_EQ(stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(err_), "reloading"); }));
  EXPECT_THAT(ReadFileOrEmpty(err_), Not(HasSubstr("reopen output files")));
  // stop works after the drop, and the pid file (in root's directory, which
  // the daemon can no longer write) does not outlive it.
  EXPECT_EQ(Ticker({"--daemon_control=status"}).exit_code, 0);
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PrivilegesTest, CleanExitAsAnotherUserLeavesNoPidFile) {
  // The daemon ends by itself as nobody, who may not unlink in root's
  // directory: its keeper removes the file once it has exited. It may be
  // gone before we could read the pid file, so take its pid from the
  // "Process id:" line it logs before it declares itself ready.
  ASSERT_GT(RunBriefDaemon({"--daemon_user=nobody"}), 0);
  EXPECT_TRUE(test_support::WaitFor([&] { return !FileExists(pidfile_); }));
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 3) << status.stdout_text;
}

// A daemon that may write its root-owned pid file can point every tool that
// trusts the number (start-stop-daemon, systemd's PIDFile=) at another
// process. After the drop, only its root keeper holds the file.
TEST_F(PrivilegesTest, ADroppedDaemonHoldsNoDescriptorOfItsPidFile) {
  const pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_GT(pid, 0);
  struct stat pidfile_stat;
  ASSERT_EQ(stat(pidfile_.c_str(), &pidfile_stat), 0);
  for (const auto& [fd, target] : test_support::OpenDescriptors(pid)) {
    struct stat st;
    if (stat(absl::StrCat("/proc/", pid, "/fd/", fd).c_str(), &st) != 0) {
      continue;
    }
    EXPECT_FALSE(st.st_dev == pidfile_stat.st_dev &&
                 st.st_ino == pidfile_stat.st_ino)
        << "descriptor " << fd << " is the pid file";
  }
  // Every action still finds the daemon through the file.
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0) << status.stdout_text;
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", pid, "\n"));
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  // Restart: the keeper lets the lock go before the new start takes it.
  RunResult restart = Ticker(
      {"--daemon_control=restart", "--daemon_user=nobody", "--interval=1h"});
  ASSERT_EQ(restart.exit_code, 0) << restart.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  const pid_t again = test_support::ReadPid(pidfile_);
  ASSERT_GT(again, 0);
  EXPECT_NE(again, pid);
  EXPECT_TRUE(IsAlive(again));
  // A crash leaves the file, and the keeper lets the lock go with it.
  ASSERT_EQ(kill(again, SIGKILL), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(again));
  EXPECT_TRUE(test_support::WaitFor(
      [&] { return Ticker({"--daemon_control=status"}).exit_code == 1; }));
  EXPECT_EQ(test_support::ReadPid(pidfile_), again);
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PrivilegesTest, NumericIdsNeedNoNames) {
  const pid_t pid = StartTicker(
      {"--daemon_user=12345", "--daemon_group=23456", "--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_THAT(Status(pid), ContainsRegex("Uid:\t12345\t12345\t12345\t12345\n"));
  EXPECT_THAT(Status(pid), ContainsRegex("Gid:\t23456\t23456\t23456\t23456\n"));
}

TEST_F(PrivilegesTest, WithoutRootAnotherUserIsAClearError) {
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
  std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534",
                                   "--regid=65534", "--clear-groups", "--"};
  for (const std::string& arg : TickerArgs({"--daemon_user=root"})) {
    argv.push_back(arg);
  }
  RunResult result = RunProgram(argv);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("needs root"));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PrivilegesTest, ChrootConfinesTheDaemonAndKeepsItsFilesWorking) {
  const std::string root = dir_ + "/jail";
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root + "/work").c_str(), 0755), 0);
  // Logs live outside the jail, in a directory the daemon's user owns (as
  // /var/log/<daemon> would), so it can create a fresh file after rotation.
  const std::string logs = dir_ + "/logs";
  ASSERT_EQ(mkdir(logs.c_str(), 0755), 0);
  ASSERT_EQ(chown(logs.c_str(), 65534, 65534), 0);
  log_ = logs + "/ticker.log";
  const pid_t pid =
      StartTicker({"--daemon_chroot=" + root, "--daemon_workdir=/work",
                   "--daemon_user=nobody", "--interval=10ms"});
  ASSERT_GT(pid, 0);
  char link[4096];
  ssize_t n = readlink(absl::StrCat("/proc/", pid, "/root").c_str(), link,
                       sizeof(link));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(link, n), root);
  n = readlink(absl::StrCat("/proc/", pid, "/cwd").c_str(), link, sizeof(link));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(link, n), root + "/work");
  // SIGHUP reopens the log outside the jail, through its held directory.
  ASSERT_EQ(rename(log_.c_str(), (log_ + ".1").c_str()), 0);
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  EXPECT_TRUE(test_support::WaitFor(
      [&] { return FileExists(log_) && !ReadFileOrEmpty(log_).empty(); }));
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PrivilegesTest, CoreDumpsAreOffUnlessAskedFor) {
  pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_THAT(CoreLimitLine(pid), ContainsRegex("Max core file size +0 "));
  // Not dumpable after setuid: the kernel gives its /proc entries to root.
  struct stat st;
  ASSERT_EQ(stat(absl::StrCat("/proc/", pid, "/status").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);

  pid = StartTicker(
      {"--daemon_user=nobody", "--daemon_core_dumps", "--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_THAT(CoreLimitLine(pid), Not(ContainsRegex("Max core file size +0 ")));
  ASSERT_EQ(stat(absl::StrCat("/proc/", pid, "/status").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u) << "dumpable again";
}

}  // namespace
}  // namespace daemonkit
