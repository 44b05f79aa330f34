// Copyright 2026 The daemonkit Authors.
//
// What the daemon ends up allowed to do: the user and groups it drops to,
// its chroot, core dumps. These need real root (setuid to another user), so
// they run outside the user-namespace sandbox (tag no-sandbox) and clean up
// their daemons themselves.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
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
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
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

// The keeper (what the daemon keeps with a pidfd) of a dropped daemon.
pid_t KeeperOf(pid_t daemon) {
  for (pid_t pid : test_support::PidfdTargetsOf(daemon)) {
    if (ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm")) ==
        "daemonkit-keep\n") {
      return pid;
    }
  }
  return 0;
}

// systemd's KillMode=control-group, a shutdown, `kill -TERM $(pidof x)`:
// the keeper gets the daemon's signal too, and must outlive it to remove
// the pid file of its clean exit.
TEST_F(PrivilegesTest, SigtermToTheWholeServiceLeavesNoPidFile) {
  const pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_GT(pid, 0);
  const pid_t keeper = KeeperOf(pid);
  ASSERT_GT(keeper, 0);
  ASSERT_EQ(kill(keeper, SIGHUP), 0);
  ASSERT_EQ(kill(keeper, SIGTERM), 0);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_TRUE(test_support::WaitFor([&] { return !FileExists(pidfile_); }))
      << "left: " << ReadFileOrEmpty(pidfile_);
  EXPECT_TRUE(test_support::WaitUntilGone(keeper));
}

// Issue 18.18: a dropped daemon holds no descriptor of its pid file; its
// root path keeper does, and recreates the file (root's, locked, naming the
// daemon) when someone removes it.
TEST_F(PrivilegesTest, ARemovedPidFileComesBackThroughTheKeeper) {
  const pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_GT(pid, 0);
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return test_support::ReadPid(pidfile_) == pid &&
           test_support::IsWriteLocked(pidfile_);
  })) << "the pid file did not come back";
  struct stat st;
  ASSERT_EQ(stat(pidfile_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
  RunResult second = Ticker({"--daemon_user=nobody", "--interval=1h"});
  EXPECT_EQ(second.exit_code, 1) << second.stderr_text;
  EXPECT_THAT(second.stderr_text,
              HasSubstr(absl::StrCat("already running, pid ", pid)));
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_TRUE(test_support::WaitFor([&] { return !FileExists(pidfile_); }));
}

// Found by an attack: SIGKILL, the one signal the keeper cannot ignore,
// took the pid file's lock with it while the daemon ran on: status said
// "dead" and a second start succeeded beside it. The daemon now stops.
TEST_F(PrivilegesTest, ADaemonWhoseKeeperIsKilledStops) {
  const pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_GT(pid, 0);
  const pid_t keeper = KeeperOf(pid);
  ASSERT_GT(keeper, 0);
  ASSERT_EQ(kill(keeper, SIGKILL), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_THAT(ReadFileOrEmpty(err_), HasSubstr("the path keeper is gone"));
}

// The same under supervision: the supervisor holds the lock's keeper, and
// stops with its worker rather than restart it.
TEST_F(PrivilegesTest, ASupervisorWhoseKeeperIsKilledStopsWithItsWorker) {
  const pid_t supervisor = StartTicker(
      {"--daemon_user=nobody", "--daemon_restart=always", "--interval=1h"});
  ASSERT_GT(supervisor, 0);
  const pid_t keeper = KeeperOf(supervisor);
  ASSERT_GT(keeper, 0);
  std::vector<pid_t> workers;
  ASSERT_TRUE(test_support::WaitFor([&] {
    workers = test_support::DescendantsOf(supervisor);
    return !workers.empty();
  }));
  ASSERT_EQ(kill(keeper, SIGKILL), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(supervisor));
  for (pid_t worker : workers) EXPECT_TRUE(test_support::WaitUntilGone(worker));
  EXPECT_THAT(ReadFileOrEmpty(err_), HasSubstr("the path keeper is gone"));
}

// A daemon that exec'd another program has dropped the library's
// descriptors (its pidfd of the keeper among them); its keeper still holds
// the lock for it, and stop finds and ends it.
TEST_F(PrivilegesTest, ADaemonThatExecdIsStillFoundAndStopped) {
  const std::string fake = test_support::RunfilePath("tests/fake_daemon");
  const std::vector<std::string> common = {fake, "--daemon_pidfile=" + pidfile_,
                                           "--daemon_user=nobody"};
  std::vector<std::string> start = common;
  start.push_back("--behavior=exec");
  RunResult started = RunProgram(start);
  ASSERT_EQ(started.exit_code, 0) << started.stderr_text;
  const pid_t pid = test_support::ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm")) == "sleep\n";
  }));
  std::vector<std::string> status = common;
  status.push_back("--daemon_control=status");
  RunResult running = RunProgram(status);
  EXPECT_EQ(running.exit_code, 0) << running.stdout_text;
  EXPECT_EQ(running.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
  std::vector<std::string> stop = common;
  stop.push_back("--daemon_control=stop");
  RunResult stopped = RunProgram(stop);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  // Killed by SIGTERM (sleep's default), so the keeper left the file, and
  // stop removed it once the keeper let its lock go.
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_EQ(RunProgram(status).exit_code, 3);
}

// The processes of a dropped daemon in a container, as this test sees
// them: the application (pid 2 in the namespace) and its path keeper.
struct ContainerDaemon {
  pid_t application = 0;
  pid_t keeper = 0;
};

// The application and keeper among the descendants of the namespace's pid
// 1 `init` (a keeper is named kKeeperProcessName, and so is the process
// that forks it, until it exits); zeros for what is not there.
ContainerDaemon ProcessesUnder(pid_t init, const std::string& application) {
  ContainerDaemon found;
  for (pid_t pid : test_support::DescendantsOf(init)) {
    const std::string comm =
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm"));
    if (comm == "daemonkit-keep\n") {
      found.keeper = found.keeper == 0 ? pid : -1;  // -1: more than one
    } else if (comm == application + "\n") {
      found.application = found.application == 0 ? pid : -1;
    }
  }
  return found;
}

// The container tests, which need a pid namespace with its own /proc.
class PrivilegesInContainerTest : public PrivilegesTest {
 protected:
  void SetUp() override {
    PrivilegesTest::SetUp();
    const std::string why_not = test_support::WhyNoContainerHere();
    // See WhyNoContainerHere: a chroot cannot mount a container's /proc.
    if (absl::StrContains(why_not,
                          "cannot change root filesystem propagation")) {
      GTEST_SKIP() << "in a chroot: containers are NOT tested here: "
                   << why_not;
    }
    ASSERT_EQ(why_not, "") << "cannot create a pid namespace here";
  }
  // The container first, by the processes this test holds: the pid file
  // names a process of another namespace, which TickerFixture leaves.
  void TearDown() override {
    container_.Kill();
    PrivilegesTest::TearDown();
  }

  // Runs a dropped ticker in the foreground as pid 1 of a new pid
  // namespace, as a container runs it, and returns once its pid is written.
  // The pid is written only once the keeper serves (issue 25), so from
  // then on exactly one keeper holds a pidfd of exactly the application.
  ContainerDaemon StartTickerInContainer() {
    container_.Start({test_support::RunfilePath("examples/ticker"),
                      "--daemon=false", "--daemon_pidfile=" + pidfile_,
                      "--daemon_user=nobody", "--interval=1h"});
    EXPECT_TRUE(test_support::WaitFor([&] {
      return test_support::ReadPid(pidfile_) > 0 ||
             !IsAlive(container_.unshare_pid());
    })) << "no pid written";
    const ContainerDaemon daemon = ProcessesUnder(container_.Init(), "ticker");
    EXPECT_GT(daemon.keeper, 0) << "not exactly one keeper";
    EXPECT_GT(daemon.application, 0) << "not exactly one application";
    if (daemon.keeper > 0) {
      EXPECT_EQ(test_support::PidfdTargetsOf(daemon.keeper),
                std::vector<pid_t>{daemon.application});
    }
    return daemon;
  }

  test_support::PidNamespace container_;
};

// Written in another pid namespace, the number in the file ("2") names no
// process here; the keeper's pidfd still leads to the daemon, and nothing
// is ever sent to the keeper.
TEST_F(PrivilegesInContainerTest,
       ADaemonInAnotherPidNamespaceIsReachedThroughItsKeeper) {
  const ContainerDaemon daemon = StartTickerInContainer();
  ASSERT_GT(daemon.keeper, 0);
  ASSERT_GT(daemon.application, 0);
  EXPECT_NE(test_support::ReadPid(pidfile_), daemon.application);
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0) << status.stdout_text;
  EXPECT_THAT(status.stdout_text,
              HasSubstr(absl::StrCat("running, pid ", daemon.application)));
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  // The daemon stopped cleanly: it was the one signalled, not its keeper
  // (which ignores SIGTERM: the stop would have timed out on it).
  EXPECT_EQ(container_.Wait().exit_code, 0);
  EXPECT_FALSE(FileExists(pidfile_)) << ReadFileOrEmpty(pidfile_);
}

// Issue 23 (attack finding): a daemon run as a container's entrypoint
// (pid 1 of a pid namespace, in the foreground) writes a number that names
// no process here. A second start beside it used to wait the whole ready
// timeout for a pid to be written, then say "holder has not written its
// pid"; every status and stop waited a 2 s starting grace first. The
// holder is looked up in /proc at once.
TEST_F(PrivilegesInContainerTest,
       ASecondStartBesideAContainersDaemonSaysAlreadyRunningAtOnce) {
  container_.Start({test_support::RunfilePath("examples/ticker"),
                    "--daemon=false", "--daemon_pidfile=" + pidfile_,
                    "--interval=1h"});
  ASSERT_TRUE(test_support::WaitFor([&] {
    return test_support::ReadPid(pidfile_) > 0 ||
           !IsAlive(container_.unshare_pid());
  })) << "no pid written";
  RunResult start = Ticker({"--interval=1h", "--daemon_ready_timeout=20s"});
  EXPECT_EQ(start.exit_code, 1) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, HasSubstr("already running, pid "));
  EXPECT_THAT(start.stderr_text, Not(HasSubstr("has not written")));
  // The fastest of three looks, so that a moment of load on a shared
  // machine fails nothing; the grace alone was 2 s.
  absl::Duration fastest = absl::InfiniteDuration();
  for (int i = 0; i < 3; ++i) {
    const absl::Time begin = absl::Now();
    RunResult status = Ticker({"--daemon_control=status"});
    fastest = std::min(fastest, absl::Now() - begin);
    EXPECT_EQ(status.exit_code, 0) << status.stdout_text;
    EXPECT_THAT(status.stdout_text, HasSubstr("running, pid "));
    EXPECT_THAT(status.stdout_text, Not(HasSubstr("unknown")));
  }
  EXPECT_LT(fastest, absl::Milliseconds(1500));
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_EQ(container_.Wait().exit_code, 0);
  EXPECT_FALSE(FileExists(pidfile_)) << ReadFileOrEmpty(pidfile_);
}

// Issue 23 (attack finding): supervised (--daemon_restart) and dropped in
// a container, the daemon's keeper holds pidfds of the supervisor and of
// its worker; readers found no one to act on ("pid unknown", stop and
// reload failed). The daemon is the supervisor, the worker's parent.
TEST_F(PrivilegesInContainerTest,
       ASupervisedDroppedDaemonInAContainerIsReachedThroughItsKeeper) {
  const std::string worker_pidfile = dir_ + "/worker.pid";
  container_.Start({test_support::RunfilePath("examples/ticker"),
                    "--daemon=false", "--daemon_pidfile=" + pidfile_,
                    "--daemon_user=nobody", "--daemon_restart=always",
                    "--daemon_child_pidfile=" + worker_pidfile,
                    "--interval=1h"});
  ASSERT_TRUE(test_support::WaitFor([&] {
    return (test_support::ReadPid(pidfile_) > 0 &&
            test_support::ReadPid(worker_pidfile) > 0) ||
           !IsAlive(container_.unshare_pid());
  })) << "no pids written";
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0) << status.stdout_text;
  EXPECT_THAT(status.stdout_text, HasSubstr("running, pid "));
  EXPECT_THAT(status.stdout_text, Not(HasSubstr("unknown")));
  RunResult reload = Ticker({"--daemon_control=reload"});
  EXPECT_EQ(reload.exit_code, 0) << reload.stderr_text;
  RunResult stop = Ticker(
      {"--daemon_control=stop", "--daemon_child_pidfile=" + worker_pidfile});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_EQ(container_.Wait().exit_code, 0);
  EXPECT_FALSE(FileExists(pidfile_)) << ReadFileOrEmpty(pidfile_);
}

// The application stops by itself (`docker stop` forwards SIGTERM to it);
// pid 1 then exits, and the kernel ends every process of the namespace. It
// waits for the keeper, which removes the pid file once the application has
// exited, to end first.
TEST_F(PrivilegesInContainerTest, AContainersInitLeavesNoPidFileWhenItStops) {
  const ContainerDaemon daemon = StartTickerInContainer();
  ASSERT_GT(daemon.application, 0);
  ASSERT_EQ(kill(daemon.application, SIGTERM), 0);
  EXPECT_EQ(container_.Wait().exit_code, 0);
  EXPECT_FALSE(FileExists(pidfile_)) << ReadFileOrEmpty(pidfile_);
}

// Issue 25: while a dropped daemon in a container waits for its keeper (a
// test hook holds the keeper's start for 8 s, longer than a control action
// waits for a pid to be written), the lock is held by the daemon and the
// process forking its keeper. The daemon used to write its pid ("2", naming no
// process here) before that: status said "pid unknown" and stop refused to
// signal anyone. Now nothing is written until the keeper serves, and both
// find the daemon among the lock's holders, the one that is no keeper.
TEST_F(PrivilegesInContainerTest,
       ControlActionsWhileTheKeeperStartsFindTheDaemon) {
  const std::string report = dir_ + "/report";
  container_.Start({test_support::RunfilePath("tests/fake_daemon"),
                    "--daemon=false", "--daemon_pidfile=" + pidfile_,
                    "--daemon_user=nobody", "--behavior=slow_keeper",
                    "--delay=8s", "--report=" + report});
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(report), "keeper starting") ||
           !IsAlive(container_.unshare_pid());
  }));
  ASSERT_THAT(ReadFileOrEmpty(report), HasSubstr("keeper starting"))
      << ReadFileOrEmpty(container_.stderr_path());
  const pid_t application =
      ProcessesUnder(container_.Init(), "fake_daemon").application;
  ASSERT_GT(application, 0);
  EXPECT_EQ(ReadFileOrEmpty(pidfile_), "");
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0) << status.stderr_text;
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", application, " (the pid file ",
                         pidfile_, " holds no pid)\n"));
  // Still starting (status took 2 s of the 8): stop ends it all the same.
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(application));
  container_.Wait();
  EXPECT_EQ(test_support::ReadPid(pidfile_), 0) << ReadFileOrEmpty(pidfile_);
}

// Found by an attack: with the pid file in a directory nobody owns, nobody
// renamed the file away and wrote "1" in its place: status said dead, stop
// stopped nothing, and start-stop-daemon --pidfile would signal pid 1.
TEST_F(PrivilegesTest, APidFileTheDroppedUserCouldReplaceIsRefused) {
  const std::string theirs = dir_ + "/theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(chown(theirs.c_str(), 65534, 65534), 0);
  pidfile_ = theirs + "/t.pid";
  RunResult start = Ticker({"--daemon_user=nobody", "--interval=1h"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("directory " + theirs + " is owned by user nobody"));
  EXPECT_FALSE(FileExists(pidfile_));
  // Found by the next attack: nobody's directory made read-only (0555)
  // passed, and its owner made it writable again after the start.
  ASSERT_EQ(chmod(theirs.c_str(), 0555), 0);
  start = Ticker({"--daemon_user=nobody", "--interval=1h"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("directory " + theirs + " is owned by user nobody"));
  EXPECT_FALSE(FileExists(pidfile_));
  // A sticky directory of root's (as /tmp) lets nobody replace none of
  // root's files: accepted.
  const std::string sticky = dir_ + "/sticky";
  ASSERT_EQ(mkdir(sticky.c_str(), 0755), 0);
  ASSERT_EQ(chmod(sticky.c_str(), 01777), 0);
  pidfile_ = sticky + "/t.pid";
  const pid_t pid = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  EXPECT_GT(pid, 0);
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  // And root's directory with an ACL entry for nobody (the mode shows
  // nothing of it).
  const std::string acl = dir_ + "/acl";
  ASSERT_EQ(mkdir(acl.c_str(), 0775), 0);
  // system.posix_acl_access: version 2, then (tag, perm, id) entries:
  // user::rwx, user:65534:rwx, group::r-x, mask::rwx, other::r-x.
  const uint32_t entries[] = {2,          0x00070001, 0xffffffff, 0x00070002,
                              65534,      0x00050004, 0xffffffff, 0x00070010,
                              0xffffffff, 0x00050020, 0xffffffff};
  if (setxattr(acl.c_str(), "system.posix_acl_access", entries, sizeof(entries),
               0) != 0) {
    GTEST_SKIP() << "no POSIX ACLs here: " << std::strerror(errno);
  }
  pidfile_ = acl + "/t.pid";
  start = Ticker({"--daemon_user=nobody", "--interval=1h"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("directory " + acl + " has an access ACL"));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PrivilegesTest, NumericIdsNeedNoNames) {
  const pid_t pid = StartTicker(
      {"--daemon_user=12345", "--daemon_group=23456", "--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_THAT(Status(pid), ContainsRegex("Uid:\t12345\t12345\t12345\t12345\n"));
  EXPECT_THAT(Status(pid), ContainsRegex("Gid:\t23456\t23456\t23456\t23456\n"));
}

// Issue 22.9: as a user who is not root, what only root can do is refused
// before anything else (exit 2, the usage code of a bad combination), naming
// the flag and saying "needs root", with capability names, never numbers;
// nothing is created. Naming oneself is no drop, and is accepted even with
// the pid file in one's own directory (no "use /run" advice).
TEST_F(PrivilegesTest, WithoutRootRootOnlyOptionsSayNeedsRoot) {
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
  auto as_nobody = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534",
                                     "--regid=65534", "--clear-groups", "--"};
    for (const std::string& arg : TickerArgs(extra)) argv.push_back(arg);
    return RunProgram(argv);
  };
  struct Case {
    std::vector<std::string> flags;
    std::string names;
  };
  const std::vector<Case> cases = {
      {{"--daemon_user=root"}, "--daemon_user=root: needs root"},
      {{"--daemon_group=root"}, "--daemon_group=root: needs root"},
      {{"--daemon_chroot=" + dir_}, "--daemon_chroot=" + dir_ + ": needs root"},
      {{"--daemon_chroot=" + dir_, "--daemon_user=nobody"},
       "--daemon_chroot=" + dir_ + ": needs root"},
      {{"--daemon_capabilities=cap_net_bind_service"},
       "--daemon_capabilities=cap_net_bind_service: needs root"},
      {{"--daemon_capabilities=cap_net_bind_service", "--daemon_user=nobody"},
       "--daemon_capabilities=cap_net_bind_service: needs root"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.flags, " "));
    RunResult result = as_nobody(c.flags);
    EXPECT_EQ(result.exit_code, 2) << result.stderr_text;
    EXPECT_THAT(result.stderr_text, HasSubstr(c.names));
    EXPECT_THAT(result.stderr_text, HasSubstr("running as uid 65534"));
    EXPECT_THAT(result.stderr_text, Not(ContainsRegex("capability [0-9]")));
    EXPECT_EQ(
        std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'),
        1)
        << result.stderr_text;
    EXPECT_FALSE(FileExists(pidfile_));
    EXPECT_FALSE(FileExists(log_));
  }

  // Oneself: no drop. The pid file in nobody's own directory is fine.
  // Under /tmp: nobody cannot reach $TEST_TMPDIR (in root's home).
  test_support::ShortTempDir reachable;
  ASSERT_EQ(chmod(reachable.path().c_str(), 0755), 0);
  const std::string own = reachable.path() + "/own";
  ASSERT_EQ(mkdir(own.c_str(), 0755), 0);
  ASSERT_EQ(chown(own.c_str(), 65534, 65534), 0);
  pidfile_ = own + "/t.pid";
  log_ = own + "/t.log";
  err_ = own + "/t.err";
  RunResult start = as_nobody({"--daemon_user=nobody", "--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = test_support::ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  started_.push_back(pid);
  EXPECT_THAT(Status(pid), ContainsRegex("Uid:\t65534\t65534\t65534\t65534\n"));
  RunResult stop = as_nobody({"--daemon_user=nobody", "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  // The fixture's own files again, for its TearDown.
  pidfile_ = dir_ + "/ticker.pid";
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
