// Copyright 2026 The daemonkit Authors.
//
// Whom the control actions trust, against real processes of another user
// (nobody) and a real dropped daemon's path keeper: a pid file another user
// planted in a sticky directory is no daemon's, whatever lock it carries,
// and never blocks a start; a stopped path keeper is not a running daemon
// and does not outlive a stop (issue 18.12). Another user needs real root
// (setuid), so these run outside the user-namespace sandbox (tag no-sandbox)
// and end what they started themselves.

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::PausedChild;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The uid of "nobody", standing in for another local user; 0 if none.
uid_t Nobody() {
  struct passwd* pw = getpwnam("nobody");
  return pw == nullptr ? 0 : pw->pw_uid;
}

// A process of user `uid` holding `path` with an OFD lock of `type`
// (F_RDLCK or F_WRLCK); a write-locker also writes its own pid, as a
// planted "daemon" would. The file is opened as root first: TEST_TMPDIR's
// parents may be closed to other users, and a lock asks for nothing beyond
// the open.
bool HoldAs(const std::string& path, uid_t uid, int type) {
  const int fd = open(path.c_str(), type == F_RDLCK ? O_RDONLY : O_RDWR);
  if (fd < 0) return false;
  if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
      setresuid(uid, uid, uid) != 0) {
    return false;
  }
  struct flock lock = {};
  lock.l_type = static_cast<decltype(lock.l_type)>(type);
  lock.l_whence = SEEK_SET;
  if (fcntl(fd, F_OFD_SETLK, &lock) != 0) return false;
  if (type == F_WRLCK) {
    char text[32];
    const int n = snprintf(text, sizeof(text), "%d\n", getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, n, 0) != n) return false;
  }
  return true;
}

// The names in `dir` that begin with `prefix`.
std::vector<std::string> NamesStartingWith(const std::string& dir,
                                           const std::string& prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* entry = readdir(d)) {
    if (absl::StartsWith(entry->d_name, prefix)) names.push_back(entry->d_name);
  }
  closedir(d);
  return names;
}

class PidFileTrustTest : public test_support::TickerFixture {
 protected:
  void SetUp() override {
    TickerFixture::SetUp();
    nobody_ = Nobody();
    // A sticky directory anyone may write, as /tmp.
    ASSERT_EQ(chmod(dir_.c_str(), 01777), 0);
  }
  RunResult Control(const std::string& action) {
    return Ticker({"--daemon_control=" + action, "--daemon_stop_timeout=20s"});
  }
  // Creates `path` as user nobody would have: owned by nobody, `mode`.
  void Plant(const std::string& path, mode_t mode) {
    ASSERT_TRUE(test_support::WriteFile(path, ""));
    ASSERT_EQ(chown(path.c_str(), nobody_, static_cast<gid_t>(-1)), 0);
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
  }

  uid_t nobody_ = 0;
};

// Issue 23.1: another user plants the pid file in a sticky directory (as
// nobody: `echo 1 > /tmp/p.pid`) and holds a write lock on it. No action
// credits or signals that user's process; root's start replaces the file.
TEST_F(PidFileTrustTest, PlantedPidFileInAStickyDirectoryIsNeverTrusted) {
  if (geteuid() != 0 || nobody_ == 0) GTEST_SKIP() << "needs root and nobody";
  Plant(pidfile_, 0644);
  PausedChild planter([&] { return HoldAs(pidfile_, nobody_, F_WRLCK); });
  ASSERT_EQ(ReadPid(pidfile_), planter.pid());

  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 4) << status.stdout_text;
  EXPECT_THAT(status.stdout_text, Not(HasSubstr("running")));
  EXPECT_THAT(status.stderr_text, HasSubstr(pidfile_));
  EXPECT_THAT(status.stderr_text, HasSubstr("not ours"));
  for (const char* action : {"reload", "stop", "upgrade", "restart"}) {
    SCOPED_TRACE(action);
    RunResult result = Control(action);
    EXPECT_EQ(result.exit_code, 1) << result.stderr_text;
    EXPECT_THAT(result.stderr_text, HasSubstr(pidfile_));
    EXPECT_TRUE(IsAlive(planter.pid())) << action << " signalled the planter";
  }
  RunResult inspect = RunProgram(
      {test_support::RunfilePath("tools/inspect"), "--pidfile=" + pidfile_});
  EXPECT_NE(inspect.exit_code, 0);
  EXPECT_THAT(inspect.stdout_text, Not(HasSubstr(absl::StrCat(planter.pid()))));

  // Root may replace it in the sticky directory: the start succeeds.
  const pid_t pid = StartTicker({"--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_NE(pid, planter.pid());
  struct stat st;
  ASSERT_EQ(stat(pidfile_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_THAT(NamesStartingWith(dir_, ".ticker.pid"), IsEmpty());
  status = Control("status");
  EXPECT_EQ(status.exit_code, 0) << status.stderr_text;
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_TRUE(IsAlive(planter.pid()));
}

// Issue 23 (attack): a starter replacing a file that only readers lock once
// serialized on a claim file of a predictable name (".NAME.claim"); in a
// sticky directory any user could create it first and read-lock it,
// blocking every start. No file of a predictable name is used now.
TEST_F(PidFileTrustTest, PlantedClaimFileBlocksNoStart) {
  if (geteuid() != 0 || nobody_ == 0) GTEST_SKIP() << "needs root and nobody";
  // A stale root-owned pid file, read-locked by nobody: a start replaces it.
  ASSERT_TRUE(test_support::WriteFile(pidfile_, "4194304\n"));
  ASSERT_EQ(chmod(pidfile_.c_str(), 0644), 0);
  PausedChild reader([&] { return HoldAs(pidfile_, nobody_, F_RDLCK); });
  const std::string claim = dir_ + "/.ticker.pid.claim";
  Plant(claim, 0600);
  PausedChild claimer([&] { return HoldAs(claim, nobody_, F_RDLCK); });

  RunResult start = Ticker({"--interval=1h", "--daemon_ready_timeout=5s"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  started_.push_back(pid);
  EXPECT_THAT(NamesStartingWith(dir_, ".ticker.pid"),
              ElementsAre(".ticker.pid.claim"));
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_TRUE(IsAlive(reader.pid()));
  EXPECT_TRUE(IsAlive(claimer.pid()));
}

// Found by an attack: another user's link, dangling link, directory or
// FIFO at the pid file's path in a sticky directory failed root's start
// for good ("is a symbolic link; refusing to follow it", "is a
// directory"); a planted regular file was already replaced. Each is
// replaced the same way now, and what it pointed at is left alone.
TEST_F(PidFileTrustTest, APlantedLinkDirectoryOrFifoBlocksNoStart) {
  if (geteuid() != 0 || nobody_ == 0) GTEST_SKIP() << "needs root and nobody";
  const std::string target = dir_ + "/target";
  ASSERT_TRUE(test_support::WriteFile(target, "root's\n"));
  using Planter = std::function<int(const std::string&)>;
  const std::vector<std::pair<std::string, Planter>> plants = {
      {"link",
       [&](const std::string& p) {
         return symlink(target.c_str(), p.c_str());
       }},
      {"dangling link",
       [&](const std::string& p) {
         return symlink("/nonexistent", p.c_str());
       }},
      {"directory",
       [](const std::string& p) { return mkdir(p.c_str(), 0755); }},
      {"fifo", [](const std::string& p) { return mkfifo(p.c_str(), 0644); }},
  };
  for (const auto& [kind, plant] : plants) {
    SCOPED_TRACE(kind);
    ASSERT_EQ(plant(pidfile_), 0) << std::strerror(errno);
    ASSERT_EQ(lchown(pidfile_.c_str(), nobody_, static_cast<gid_t>(-1)), 0);
    RunResult start = Ticker({"--interval=1h", "--daemon_ready_timeout=5s"});
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    const pid_t pid = ReadPid(pidfile_);
    ASSERT_GT(pid, 0);
    started_.push_back(pid);
    EXPECT_EQ(Control("status").exit_code, 0);
    RunResult stop = Control("stop");
    EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
    EXPECT_TRUE(test_support::WaitUntilGone(pid));
    EXPECT_FALSE(test_support::FileExists(pidfile_));
    EXPECT_EQ(test_support::ReadFileOrEmpty(target), "root's\n");
  }
}

// The path keeper of the dropped daemon `daemon` (its comm is
// daemonkit-keep), found among the processes the daemon holds a pidfd of,
// never by name machine-wide; 0 if none.
pid_t KeeperOf(pid_t daemon) {
  for (pid_t pid : test_support::PidfdTargetsOf(daemon)) {
    std::string comm =
        test_support::ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm"));
    if (comm == "daemonkit-keep\n") return pid;
  }
  return 0;
}

// A pidfd of `pid`, which ends it (SIGKILL, then reaped by whoever its
// parent is) at the end of the scope: nothing outlives the test.
class PinnedProcess {
 public:
  explicit PinnedProcess(pid_t pid)
      : pidfd_(static_cast<int>(syscall(SYS_pidfd_open, pid, 0))) {}
  ~PinnedProcess() {
    if (pidfd_ < 0) return;
    syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
    close(pidfd_);
  }
  PinnedProcess(const PinnedProcess&) = delete;
  PinnedProcess& operator=(const PinnedProcess&) = delete;
  int pidfd() const { return pidfd_; }

 private:
  int pidfd_;
};

// A daemon dropped to nobody whose path keeper is stopped (SIGSTOP) and
// pinned, so that the keeper ends with the test whatever it asserts.
class StoppedKeeperTest : public PidFileTrustTest {
 protected:
  void SetUp() override {
    PidFileTrustTest::SetUp();
    if (geteuid() != 0 || nobody_ == 0) GTEST_SKIP() << "needs root and nobody";
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    daemon_ = StartTicker({"--daemon_user=nobody", "--interval=1h"});
    ASSERT_GT(daemon_, 0);
    keeper_ = KeeperOf(daemon_);
    ASSERT_GT(keeper_, 0);
    pinned_ = std::make_unique<PinnedProcess>(keeper_);
    ASSERT_GE(pinned_->pidfd(), 0);
    ASSERT_EQ(SignalKeeper(SIGSTOP), 0);
  }

  int SignalKeeper(int signo) {
    return static_cast<int>(
        syscall(SYS_pidfd_send_signal, pinned_->pidfd(), signo, nullptr, 0));
  }

  pid_t daemon_ = 0;
  pid_t keeper_ = 0;
  std::unique_ptr<PinnedProcess> pinned_;
};

// Issue 18.12: SIGSTOP the keeper of a dropped daemon. `stop` must not
// report success while the lock stays held, nor `status` say running when
// no daemon exists: stop resumes the keeper (killing it after a grace), and
// a start afterwards succeeds.
TEST_F(StoppedKeeperTest, StopEndsAStoppedPathKeeper) {
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(stop.stderr_text, HasSubstr("path keeper"));
  EXPECT_TRUE(test_support::WaitUntilGone(daemon_));
  EXPECT_TRUE(test_support::WaitUntilGone(keeper_));
  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 3) << status.stdout_text << status.stderr_text;
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("not running (pid file ", pidfile_, ")\n"));
  const pid_t again = StartTicker({"--daemon_user=nobody", "--interval=1h"});
  EXPECT_GT(again, 0);
  EXPECT_EQ(Control("stop").exit_code, 0);
}

// The daemon dies (SIGKILL) while its keeper is stopped: status says dead,
// not running; stop ends the keeper and clears the file.
TEST_F(StoppedKeeperTest, AStoppedKeeperOfADeadDaemonReadsAsDead) {
  test_support::KillAndWait(daemon_);

  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 1) << status.stdout_text << status.stderr_text;
  EXPECT_THAT(status.stdout_text, HasSubstr("dead"));
  EXPECT_THAT(status.stdout_text,
              HasSubstr(absl::StrCat("path keeper, pid ", keeper_)));
  EXPECT_EQ(Control("reload").exit_code, 7);
  // A start is refused while the keeper holds the lock, at once and saying
  // why (not after the ready timeout, "holder has not written its pid").
  RunResult start = Ticker(
      {"--daemon_user=nobody", "--interval=1h", "--daemon_ready_timeout=20s"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr(absl::StrCat("path keeper (pid ", keeper_, ")")));
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(keeper_));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  status = Control("status");
  EXPECT_EQ(status.exit_code, 3) << status.stdout_text;
}

// A keeper stopped while its daemon made its clean exit wakes with the
// daemon gone and the "remove the pid file at exit" request queued. It
// recreated the file first (issue 18.18's restore, taken before the
// events), over what had taken the path meanwhile, then removed it: a FIFO
// put there was gone, and a checker saw a regular file where the FIFO was
// (the privileged paths test in CI's first stage). Now what is at the path
// stays as it is.
TEST_F(StoppedKeeperTest, AKeeperResumedAfterItsDaemonsExitRecreatesNothing) {
  const std::string moved = pidfile_ + ".moved";
  ASSERT_EQ(rename(pidfile_.c_str(), moved.c_str()), 0);
  ASSERT_EQ(mkfifo(pidfile_.c_str(), 0644), 0);
  // The clean exit asks the stopped keeper, waits out its reply, and goes.
  ASSERT_EQ(kill(daemon_, SIGTERM), 0);
  ASSERT_TRUE(test_support::WaitUntilGone(daemon_));
  ASSERT_EQ(SignalKeeper(SIGCONT), 0);
  ASSERT_TRUE(test_support::WaitUntilGone(keeper_));
  struct stat st;
  ASSERT_EQ(lstat(pidfile_.c_str(), &st), 0) << "the FIFO was removed";
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the keeper recreated the pid file";
  EXPECT_TRUE(test_support::FileExists(moved));
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
}

}  // namespace
}  // namespace daemonkit
