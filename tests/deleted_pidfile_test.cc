// Copyright 2026 The daemonkit Authors.
//
// Issue 18.18: a pid file removed behind a running daemon's back (a
// tmpfiles cleaner in /tmp, an operator's rm) made `stop` exit 0 with the
// daemon running on, and let `start` run a second daemon beside it. The
// daemon recreates the file, locked, within kPidFileCheckPeriod, and never
// replaces a file another start put there meanwhile. A file renamed over
// the pid file (a stale copy naming another pid) hid the daemon for good
// (attack finding 2): it is noticed by its device and inode and replaced.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
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
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::WaitFor;
using ::testing::HasSubstr;

class DeletedPidFileTest : public test_support::TickerFixture {
 protected:
  // The live processes started with this test's pid file whose parent was
  // not, path keepers aside: one per daemon, whatever it forked (a worker).
  std::vector<pid_t> Daemons() const {
    const std::string flag = "--daemon_pidfile=" + pidfile_;
    auto ours = [&](pid_t pid) {
      if (!IsAlive(pid)) return false;
      const std::vector<std::string> argv = absl::StrSplit(
          ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/cmdline")), '\0');
      for (const std::string& arg : argv) {
        if (arg == flag) return true;
      }
      return false;
    };
    std::vector<pid_t> roots;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return roots;
    while (struct dirent* entry = readdir(proc)) {
      int pid = 0;
      if (!absl::SimpleAtoi(entry->d_name, &pid) || !ours(pid)) continue;
      if (ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm")) ==
          "daemonkit-keep\n") {
        continue;  // a daemon's path keeper, not a daemon
      }
      int parent = 0;
      if (test_support::StatOf(pid).ParseField(ProcStat::kPpid, &parent) &&
          ours(parent)) {
        continue;
      }
      roots.push_back(pid);
    }
    closedir(proc);
    return roots;
  }

  // Attack finding 2: a file renamed over the pid file, naming another pid
  // and locked by nobody, made status say "dead", stop do nothing and a
  // second start run beside the daemon. Within kPidFileCheckPeriod the
  // holder of the lock (`extra` says which: the daemon, its path keeper,
  // its supervisor) puts its own file back.
  void RenameOverThePidFile(std::vector<std::string> extra,
                            bool keeper = false) {
    extra.push_back("--interval=1h");  // only the daemon's timer can notice
    const pid_t pid = StartTicker(extra);
    ASSERT_GT(pid, 0);
    const std::string stale = dir_ + "/stale.pid";
    ASSERT_TRUE(test_support::WriteFile(stale, "99999\n"));
    ASSERT_EQ(rename(stale.c_str(), pidfile_.c_str()), 0);
    const std::string running =
        absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n");
    ASSERT_TRUE(WaitFor([&] {
      RunResult status = Ticker({"--daemon_control=status"});
      return status.exit_code == 0 && status.stdout_text == running;
    })) << "status never found the daemon again; log: "
        << ReadFileOrEmpty(err_);
    EXPECT_TRUE(test_support::IsWriteLocked(pidfile_));
    EXPECT_FALSE(FileExists(stale));
    if (!keeper) {  // the keeper cannot reach the log, and stays silent
      EXPECT_TRUE(WaitFor([&] {
        return ReadFileOrEmpty(err_).find("put its own back") !=
               std::string::npos;
      })) << ReadFileOrEmpty(err_);
    }

    RunResult second = Ticker(extra);
    EXPECT_EQ(second.exit_code, 1) << second.stderr_text;
    EXPECT_THAT(second.stderr_text,
                HasSubstr(absl::StrCat("already running, pid ", pid)));
    EXPECT_THAT(Daemons(), ::testing::ElementsAre(pid));

    RunResult stop = Ticker({"--daemon_control=stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
    EXPECT_TRUE(test_support::WaitUntilGone(pid));
    EXPECT_TRUE(WaitFor([&] { return Daemons().empty(); }));
    EXPECT_TRUE(WaitFor([&] { return !FileExists(pidfile_); }))
        << "left: " << ReadFileOrEmpty(pidfile_);
  }
};

TEST_F(DeletedPidFileTest, AFileRenamedOverThePidFileIsReplaced) {
  RenameOverThePidFile({});
}

// A dropped daemon holds no descriptor of its pid file; its root path
// keeper does, and puts the file back.
TEST_F(DeletedPidFileTest, AFileRenamedOverThePidFileIsReplacedByTheKeeper) {
  RenameOverThePidFile({"--daemon_user=nobody"}, /*keeper=*/true);
}

TEST_F(DeletedPidFileTest, AFileRenamedOverThePidFileIsReplacedBySupervisor) {
  RenameOverThePidFile({"--daemon_restart=always"});
}

// A file another start holds (locked for writing) that was renamed there is
// that start's: never replaced.
TEST_F(DeletedPidFileTest, ALockedFileRenamedThereIsLeftAlone) {
  const pid_t pid = StartTicker({"--interval=1h"});
  ASSERT_GT(pid, 0);
  const std::string other = dir_ + "/other.pid";
  const int fd = open(other.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &lock), 0);
  ASSERT_EQ(write(fd, "99999\n", 6), 6);
  struct stat held;
  ASSERT_EQ(fstat(fd, &held), 0);
  ASSERT_EQ(rename(other.c_str(), pidfile_.c_str()), 0);
  EXPECT_TRUE(WaitFor([&] {
    return ReadFileOrEmpty(err_).find("another process holds the file") !=
           std::string::npos;
  })) << ReadFileOrEmpty(err_);
  struct stat named;
  ASSERT_EQ(lstat(pidfile_.c_str(), &named), 0);
  EXPECT_EQ(named.st_ino, held.st_ino);
  close(fd);
  // Released, it is a stale file like any other: replaced.
  EXPECT_TRUE(WaitFor([&] { return ReadPid(pidfile_) == pid; }));
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
}

TEST_F(DeletedPidFileTest, ARemovedPidFileComesBackAndTheDaemonIsFound) {
  // An hour-long interval: only the daemon's own timer can notice.
  const pid_t pid = StartTicker({"--interval=1h"});
  ASSERT_GT(pid, 0);
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] {
    return ReadPid(pidfile_) == pid && test_support::IsWriteLocked(pidfile_);
  })) << "the pid file did not come back";
  EXPECT_TRUE(WaitFor([&] {
    return ReadFileOrEmpty(err_).find("recreated it") != std::string::npos;
  })) << ReadFileOrEmpty(err_);

  RunResult second = Ticker({"--interval=1h"});
  EXPECT_EQ(second.exit_code, 1) << second.stderr_text;
  EXPECT_THAT(second.stderr_text,
              HasSubstr(absl::StrCat("already running, pid ", pid)));

  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));

  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(DeletedPidFileTest, AFileAnotherStartPutThereIsNeverReplaced) {
  const pid_t first = StartTicker({"--interval=1h"});
  ASSERT_GT(first, 0);
  // Frozen, the first daemon cannot recreate its file before the second
  // start makes its own.
  ASSERT_EQ(kill(first, SIGSTOP), 0);
  // Stopped in fact: until then, a signal sent meanwhile may be taken first.
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::StatOf(first).state() == 'T'; }));
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  const pid_t second = StartTicker({"--interval=1h"});
  ASSERT_GT(second, 0);
  ASSERT_EQ(kill(first, SIGCONT), 0);
  ASSERT_TRUE(WaitFor([&] {
    return ReadFileOrEmpty(err_).find("another process holds the file there") !=
           std::string::npos;
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(ReadPid(pidfile_), second);
  EXPECT_TRUE(test_support::IsWriteLocked(pidfile_));
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", second,
                                             " (pid file ", pidfile_, ")\n"));
}

// The same under supervision: the supervisor holds the file.
TEST_F(DeletedPidFileTest, ASupervisorRecreatesItsRemovedPidFile) {
  const pid_t pid = StartTicker({"--daemon_restart=always", "--interval=1h"});
  ASSERT_GT(pid, 0);
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] {
    return ReadPid(pidfile_) == pid && test_support::IsWriteLocked(pidfile_);
  })) << "the pid file did not come back";
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

}  // namespace
}  // namespace daemonkit
