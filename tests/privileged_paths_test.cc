// Copyright 2026 The daemonkit Authors.
//
// Every path the library opens or enters while privileged (pid file, stdout
// file, stderr file, chroot, workdir) against what an unprivileged user who
// owns the directory can plant there: a symbolic link to a root-only file, a
// dangling link, a FIFO, a directory, a hard link. Before the start (a clear
// start error, nothing left) and between the start and a SIGHUP reopen or
// the clean exit (the daemon keeps its old file, never writes through the
// planted thing, never removes it). Also: no descriptor of a directory in
// the daemon in any mode, the chroot's path keeper, syslog connected before
// the chroot, and no empty log left by a failed start.
//
// Real root is needed (the daemon drops to nobody, chroots, mounts in a
// private namespace), so these run outside the sandbox (tag no-sandbox).

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/proc.h"
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
using ::testing::HasSubstr;

constexpr char kSecret[] = "root's secret\n";

enum class Plant { kSymlink, kDanglingSymlink, kFifo, kDirectory, kHardLink };
enum class Target { kPidFile, kStdout, kStderr, kChroot, kWorkdir };
// Who reopens: the root daemon itself, the keeper of a daemon that dropped
// to nobody, the keeper of a chrooted daemon.
enum class Mode { kRoot, kNobody, kChrootNobody };

std::string Name(Plant plant) {
  switch (plant) {
    case Plant::kSymlink:
      return "Symlink";
    case Plant::kDanglingSymlink:
      return "DanglingSymlink";
    case Plant::kFifo:
      return "Fifo";
    case Plant::kDirectory:
      return "Directory";
    case Plant::kHardLink:
      return "HardLink";
  }
  return "";
}

std::string Name(Target target) {
  switch (target) {
    case Target::kPidFile:
      return "PidFile";
    case Target::kStdout:
      return "Stdout";
    case Target::kStderr:
      return "Stderr";
    case Target::kChroot:
      return "Chroot";
    case Target::kWorkdir:
      return "Workdir";
  }
  return "";
}

std::string Name(Mode mode) {
  switch (mode) {
    case Mode::kRoot:
      return "Root";
    case Mode::kNobody:
      return "Nobody";
    case Mode::kChrootNobody:
      return "ChrootNobody";
  }
  return "";
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The other processes of the daemon's session: its path keeper, if any.
std::vector<pid_t> Companions(pid_t daemon) {
  pid_t sid = 0;
  if (!test_support::StatOf(daemon).ParseField(ProcStat::kSession, &sid)) {
    return {};
  }
  std::vector<pid_t> others;
  for (pid_t pid : test_support::LiveSessionMembers(sid)) {
    if (pid != daemon) others.push_back(pid);
  }
  return others;
}

// Descriptors of `pid` that are directories, as "fd -> target".
std::vector<std::string> DirectoryDescriptors(pid_t pid) {
  std::vector<std::string> found;
  for (const auto& [fd, target] : test_support::OpenDescriptors(pid)) {
    if (IsDirectory(absl::StrCat("/proc/", pid, "/fd/", fd))) {
      found.push_back(absl::StrCat(fd, " -> ", target));
    }
  }
  return found;
}

std::string Link(const std::string& path) {
  char buffer[4096];
  ssize_t n = readlink(path.c_str(), buffer, sizeof(buffer));
  return n > 0 ? std::string(buffer, n) : "";
}

class PrivilegedPathsTest : public test_support::TickerFixture {
 protected:
  void SetUp() override {
    TickerFixture::SetUp();
    // nobody may traverse what it is given; the jail and its workdir exist.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    victim_ = dir_ + "/victim";
    int fd = open(victim_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, kSecret, sizeof(kSecret) - 1),
              static_cast<ssize_t>(sizeof(kSecret) - 1));
    close(fd);
    dangling_target_ = dir_ + "/created-through-a-link";
    jail_ = dir_ + "/jail";
    ASSERT_EQ(mkdir(jail_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((jail_ + "/work").c_str(), 0755), 0);
    workdir_ = dir_ + "/work";
    ASSERT_EQ(mkdir(workdir_.c_str(), 0755), 0);
  }

  void TearDown() override {
    for (pid_t pid : started_) test_support::KillAndWait(pid);
    // Whatever is planted at the pid file's path goes before the fixture
    // reads it (a FIFO would block the read).
    struct stat st;
    if (lstat(pidfile_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      S_ISDIR(st.st_mode) ? rmdir(pidfile_.c_str()) : unlink(pidfile_.c_str());
    }
    TickerFixture::TearDown();
  }

  std::vector<std::string> ModeFlags(Mode mode) const {
    switch (mode) {
      case Mode::kRoot:
        return {};
      case Mode::kNobody:
        return {"--daemon_user=nobody"};
      case Mode::kChrootNobody:
        return {"--daemon_user=nobody", "--daemon_chroot=" + jail_,
                "--daemon_workdir=/work"};
    }
    return {};
  }

  // Puts `plant` at `path` (for a directory target, a symbolic link points
  // at a real directory and the hard link is one to a regular file).
  void PlantAt(Plant plant, const std::string& path, bool directory_target) {
    switch (plant) {
      case Plant::kSymlink:
        ASSERT_EQ(symlink((directory_target ? workdir_ : victim_).c_str(),
                          path.c_str()),
                  0);
        break;
      case Plant::kDanglingSymlink:
        ASSERT_EQ(symlink(dangling_target_.c_str(), path.c_str()), 0);
        break;
      case Plant::kFifo:
        ASSERT_EQ(mkfifo(path.c_str(), 0666), 0);
        break;
      case Plant::kDirectory:
        ASSERT_EQ(mkdir(path.c_str(), 0777), 0);
        break;
      case Plant::kHardLink:
        ASSERT_EQ(link(victim_.c_str(), path.c_str()), 0);
        break;
    }
  }

  // What was planted at `path` is still there, as it was, and nothing was
  // written through it.
  void ExpectPlantIntact(Plant plant, const std::string& path) {
    SCOPED_TRACE(path);
    struct stat st;
    ASSERT_EQ(lstat(path.c_str(), &st), 0) << "the planted thing is gone";
    switch (plant) {
      case Plant::kSymlink:
      case Plant::kDanglingSymlink:
        EXPECT_TRUE(S_ISLNK(st.st_mode));
        break;
      case Plant::kFifo:
        EXPECT_TRUE(S_ISFIFO(st.st_mode));
        break;
      case Plant::kDirectory:
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        break;
      case Plant::kHardLink:
        EXPECT_TRUE(S_ISREG(st.st_mode));
        EXPECT_EQ(st.st_nlink, 2u);
        break;
    }
    EXPECT_EQ(ReadFileOrEmpty(victim_), kSecret);
    struct stat victim;
    ASSERT_EQ(stat(victim_.c_str(), &victim), 0);
    EXPECT_EQ(victim.st_uid, 0u);
    EXPECT_EQ(victim.st_mode & 07777, 0600u);
    EXPECT_FALSE(FileExists(dangling_target_));
  }

  pid_t Start(std::vector<std::string> extra) {
    const pid_t pid = StartTicker(std::move(extra));
    if (pid > 0) started_.push_back(pid);
    return pid;
  }

  std::string victim_, dangling_target_, jail_, workdir_;
  std::vector<pid_t> started_;
};

// --- Planted before the start -------------------------------------------

class PlantedBeforeStartTest
    : public PrivilegedPathsTest,
      public ::testing::WithParamInterface<std::tuple<Target, Plant>> {};

TEST_P(PlantedBeforeStartTest, IsAOneLineStartErrorNamingThePath) {
  const auto target = std::get<0>(GetParam());
  const auto plant = std::get<1>(GetParam());
  std::vector<std::string> flags = {"--daemon_user=nobody", "--interval=10ms"};
  std::string path;
  bool directory_target = false;
  switch (target) {
    case Target::kPidFile:
      path = pidfile_;
      break;
    case Target::kStdout:
      path = log_;
      break;
    case Target::kStderr:
      path = err_;
      break;
    case Target::kChroot:
      path = dir_ + "/planted-jail";
      directory_target = true;
      flags.push_back("--daemon_chroot=" + path);
      break;
    case Target::kWorkdir:
      path = dir_ + "/planted-work";
      directory_target = true;
      flags.push_back("--daemon_workdir=" + path);
      break;
  }
  if (directory_target && plant == Plant::kDirectory) {
    GTEST_SKIP() << "a directory is what a chroot or workdir must be";
  }
  PlantAt(plant, path, directory_target);
  if (HasFailure()) return;
  RunResult result = Ticker(flags);
  EXPECT_EQ(result.exit_code, 1) << result.stderr_text;
  EXPECT_THAT(result.stderr_text, HasSubstr(path));
  EXPECT_EQ(
      std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'), 1)
      << result.stderr_text;
  ExpectPlantIntact(plant, path);
  // Nothing left: no pid file, no output file this start created, and no
  // daemon (it would have written its identity to the log).
  if (target != Target::kPidFile) {
    EXPECT_FALSE(FileExists(pidfile_));
  }
  if (target != Target::kStdout) {
    EXPECT_FALSE(FileExists(log_));
  }
  if (target != Target::kStderr) {
    EXPECT_FALSE(FileExists(err_));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Paths, PlantedBeforeStartTest,
    ::testing::Combine(::testing::Values(Target::kPidFile, Target::kStdout,
                                         Target::kStderr, Target::kChroot,
                                         Target::kWorkdir),
                       ::testing::Values(Plant::kSymlink,
                                         Plant::kDanglingSymlink, Plant::kFifo,
                                         Plant::kDirectory, Plant::kHardLink)),
    [](const auto& info) {
      return Name(std::get<0>(info.param)) + Name(std::get<1>(info.param));
    });

// --- Planted between the start and a SIGHUP reopen ----------------------

class PlantedBeforeReopenTest
    : public PrivilegedPathsTest,
      public ::testing::WithParamInterface<std::tuple<Target, Plant, Mode>> {};

TEST_P(PlantedBeforeReopenTest, KeepsTheOldFileAndWritesNothingThrough) {
  const auto target = std::get<0>(GetParam());
  const auto plant = std::get<1>(GetParam());
  const auto mode = std::get<2>(GetParam());
  std::vector<std::string> flags = ModeFlags(mode);
  flags.push_back("--interval=10ms");
  const pid_t pid = Start(flags);
  ASSERT_GT(pid, 0);
  const std::string path = target == Target::kStdout ? log_ : err_;
  const std::string rotated = path + ".1";
  // logrotate's first half, then the attack, then logrotate's SIGHUP.
  ASSERT_EQ(rename(path.c_str(), rotated.c_str()), 0);
  PlantAt(plant, path, false);
  if (HasFailure()) return;
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  // One error, on the stderr the daemon still has, naming the path.
  const std::string errors = target == Target::kStderr ? rotated : err_;
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(errors), "reopen output files");
  })) << ReadFileOrEmpty(errors);
  const std::string log = ReadFileOrEmpty(errors);
  EXPECT_THAT(log, HasSubstr("output " + path));
  // The old descriptor stays: stdout ticks keep landing in the rotated file.
  if (target == Target::kStdout) {
    const size_t size = ReadFileOrEmpty(rotated).size();
    EXPECT_TRUE(test_support::WaitFor(
        [&] { return ReadFileOrEmpty(rotated).size() > size + 100; }));
  }
  EXPECT_TRUE(IsAlive(pid));
  ExpectPlantIntact(plant, path);
  // A second SIGHUP with the path fixed reopens for real.
  if (plant == Plant::kDirectory) {
    ASSERT_EQ(rmdir(path.c_str()), 0);
  } else {
    ASSERT_EQ(unlink(path.c_str()), 0);
  }
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  ASSERT_TRUE(test_support::WaitFor([&] { return FileExists(path); }));
  // Stderr gets the next reload's line; stdout the next tick.
  if (target == Target::kStderr) {
    ASSERT_EQ(kill(pid, SIGHUP), 0);
  }
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(path),
                             target == Target::kStdout ? "T" : "reloading");
  })) << ReadFileOrEmpty(path);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  if (mode != Mode::kRoot) {
    EXPECT_EQ(st.st_uid, 65534u);
  }
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

INSTANTIATE_TEST_SUITE_P(
    Outputs, PlantedBeforeReopenTest,
    ::testing::Combine(
        ::testing::Values(Target::kStdout, Target::kStderr),
        ::testing::Values(Plant::kSymlink, Plant::kDanglingSymlink,
                          Plant::kFifo, Plant::kDirectory, Plant::kHardLink),
        ::testing::Values(Mode::kRoot, Mode::kNobody, Mode::kChrootNobody)),
    [](const auto& info) {
      return Name(std::get<0>(info.param)) + Name(std::get<1>(info.param)) +
             Name(std::get<2>(info.param));
    });

// --- Planted at the pid file's path before the clean exit ----------------

class PlantedBeforeExitTest
    : public PrivilegedPathsTest,
      public ::testing::WithParamInterface<std::tuple<Plant, Mode>> {};

TEST_P(PlantedBeforeExitTest, TheCleanExitLeavesThePlantedThingAlone) {
  const auto plant = std::get<0>(GetParam());
  const auto mode = std::get<1>(GetParam());
  std::vector<std::string> flags = ModeFlags(mode);
  flags.push_back("--interval=10ms");
  const pid_t pid = Start(flags);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(rename(pidfile_.c_str(), (pidfile_ + ".moved").c_str()), 0);
  PlantAt(plant, pidfile_, false);
  if (HasFailure()) return;
  // The path keeper (with --daemon_user) outlives the daemon by a moment
  // and removes the daemon's file: the check comes once both are gone.
  const std::vector<pid_t> keepers = Companions(pid);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  ASSERT_TRUE(test_support::WaitUntilGone(pid));
  for (const pid_t keeper : keepers) {
    ASSERT_TRUE(test_support::WaitUntilGone(keeper)) << "keeper " << keeper;
  }
  // A thing at the pid file's path that is not the daemon's file is either
  // still there, as it was (the exit came first), or was replaced by the
  // daemon's own pid file (within a second, by the daemon or its path
  // keeper: attack finding 2 of 2026-12-06), which the clean exit then
  // removed. Never followed, never written through.
  struct stat st;
  if (lstat(pidfile_.c_str(), &st) != 0 && errno == ENOENT) {
    EXPECT_EQ(ReadFileOrEmpty(victim_), kSecret);
    struct stat victim;
    ASSERT_EQ(stat(victim_.c_str(), &victim), 0);
    EXPECT_EQ(victim.st_nlink, 1u) << "only the planted link went";
    EXPECT_FALSE(FileExists(dangling_target_));
  } else {
    ExpectPlantIntact(plant, pidfile_);
  }
  // The daemon's own file, moved away, was neither removed nor followed.
  EXPECT_TRUE(FileExists(pidfile_ + ".moved"));
}

INSTANTIATE_TEST_SUITE_P(
    PidFile, PlantedBeforeExitTest,
    ::testing::Combine(
        ::testing::Values(Plant::kSymlink, Plant::kDanglingSymlink,
                          Plant::kFifo, Plant::kDirectory, Plant::kHardLink),
        ::testing::Values(Mode::kRoot, Mode::kNobody, Mode::kChrootNobody)),
    [](const auto& info) {
      return Name(std::get<0>(info.param)) + Name(std::get<1>(info.param));
    });

// --- The repro of the issue ------------------------------------------------

TEST_F(PrivilegedPathsTest, RootNeverAppendsThroughALogLinkPlantedByTheUser) {
  // The usual /var/log/app: a directory the daemon's user owns, in which it
  // planted app.log -> a root-only file.
  const std::string logs = dir_ + "/logs";
  ASSERT_EQ(mkdir(logs.c_str(), 0755), 0);
  ASSERT_EQ(chown(logs.c_str(), 65534, 65534), 0);
  log_ = logs + "/app.log";
  ASSERT_EQ(symlink(victim_.c_str(), log_.c_str()), 0);
  RunResult result = Ticker({"--daemon_user=nobody", "--interval=10ms"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text,
              HasSubstr("output " + log_ + " is a symbolic link"));
  EXPECT_EQ(ReadFileOrEmpty(victim_), kSecret);
  EXPECT_FALSE(FileExists(pidfile_));
}

// The attack one level up: the daemon's user may write the directory that
// holds the log's directory, so it swaps that directory for a link to a
// root-only one. Neither at a reopen nor at the next start does root write
// there, or create a file there.
TEST_F(PrivilegedPathsTest, RootFollowsNoDirectoryLinkPlantedByTheUser) {
  const std::string home = dir_ + "/home";  // the daemon's user's
  const std::string rootonly = dir_ + "/rootonly";
  ASSERT_EQ(mkdir(home.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((home + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(chown(home.c_str(), 65534, 65534), 0);
  ASSERT_EQ(chown((home + "/sub").c_str(), 65534, 65534), 0);
  ASSERT_EQ(mkdir(rootonly.c_str(), 0700), 0);
  const std::string secret = rootonly + "/o.log";
  int fd = open(secret.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, kSecret, sizeof(kSecret) - 1),
            static_cast<ssize_t>(sizeof(kSecret) - 1));
  close(fd);
  log_ = home + "/sub/o.log";
  const pid_t pid = Start({"--daemon_user=nobody", "--interval=10ms"});
  ASSERT_GT(pid, 0);
  const std::string stdout_link = absl::StrCat("/proc/", pid, "/fd/1");
  EXPECT_EQ(Link(stdout_link), log_);

  // What the user does (as root here; who renames does not matter to the
  // daemon): sub -> sub.old, and sub becomes a link to the root-only
  // directory. Then logrotate's SIGHUP.
  ASSERT_EQ(rename((home + "/sub").c_str(), (home + "/sub.old").c_str()), 0);
  ASSERT_EQ(symlink(rootonly.c_str(), (home + "/sub").c_str()), 0);
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  // The reopen refused the path (one error on stderr) and kept the old file.
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_),
                             "directory sub is a symbolic link");
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(Link(stdout_link), home + "/sub.old/o.log");
  EXPECT_EQ(ReadFileOrEmpty(secret), kSecret);
  // Not even created: with the file gone, a reopen would otherwise make one
  // in the root-only directory.
  ASSERT_EQ(unlink(secret.c_str()), 0);
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  // The second refusal in the log says this reopen ran too.
  EXPECT_TRUE(test_support::WaitFor([&] {
    const std::string log = ReadFileOrEmpty(err_);
    const size_t first = log.find("directory sub is a symbolic link");
    return first != std::string::npos &&
           log.find("directory sub is a symbolic link", first + 1) !=
               std::string::npos;
  }));
  EXPECT_FALSE(FileExists(secret));
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);

  // And a start through the planted link is refused.
  RunResult start = Ticker({"--daemon_user=nobody", "--interval=10ms"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("directory sub is a symbolic link in a directory "
                        "others may write"));
  EXPECT_FALSE(FileExists(secret));
  EXPECT_FALSE(FileExists(pidfile_));
}

// A link an administrator made (in a directory only root may write, like
// /var/run -> /run) is configuration, and followed.
TEST_F(PrivilegedPathsTest, ALinkOnlyRootCouldPlaceIsFollowed) {
  const std::string real = dir_ + "/real";
  ASSERT_EQ(mkdir(real.c_str(), 0755), 0);
  ASSERT_EQ(symlink(real.c_str(), (dir_ + "/alias").c_str()), 0);
  log_ = dir_ + "/alias/t.log";
  pidfile_ = dir_ + "/alias/t.pid";
  const pid_t pid = Start({"--daemon_user=nobody", "--interval=10ms"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Link(absl::StrCat("/proc/", pid, "/fd/1")), real + "/t.log");
  EXPECT_TRUE(FileExists(real + "/t.pid"));
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(FileExists(real + "/t.pid"));
}

TEST_F(PrivilegedPathsTest, AFileOfAnotherUserIsRefused) {
  int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(chown(log_.c_str(), 4242, 4242), 0);
  RunResult result = Ticker({"--daemon_user=nobody", "--interval=10ms"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text,
              HasSubstr("output " + log_ + " is owned by uid 4242"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_EQ(ReadFileOrEmpty(log_), "");
  // Root's own file and the daemon user's are fine.
  ASSERT_EQ(chown(log_.c_str(), 65534, 65534), 0);
  ASSERT_GT(Start({"--daemon_user=nobody", "--interval=1h"}), 0);
}

// With five descriptors the output cannot even be opened, and the walk from
// "/" that removes the pid file safely has none left either: the locked
// file is removed by name.
TEST_F(PrivilegedPathsTest, AStartOutOfDescriptorsLeavesNoPidFile) {
  RunResult result = TickerInShell("ulimit -n 5;", {"--interval=1h"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("Too many open files"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(log_));
}

TEST_F(PrivilegedPathsTest, AFailedStartRemovesTheEmptyLogsItCreated) {
  // 0-2, the pid file and two outputs fill six of seven descriptors: the
  // ready pipe cannot be made, after the outputs were created.
  RunResult result = TickerInShell("ulimit -n 7;", {"--interval=1h"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("Too many open files"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(log_));
  EXPECT_FALSE(FileExists(err_));
  // A log that was there before is not this start's to remove.
  int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
  ASSERT_GE(fd, 0);
  close(fd);
  result = TickerInShell("ulimit -n 7;", {"--interval=1h"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(FileExists(log_));
  EXPECT_FALSE(FileExists(err_));
}

// --- Directory descriptors and the chroot ---------------------------------

TEST_F(PrivilegedPathsTest, DefaultDaemonHoldsNoDirectory) {
  const pid_t pid = Start({"--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_THAT(DirectoryDescriptors(pid), ::testing::IsEmpty());
  EXPECT_THAT(Companions(pid), ::testing::IsEmpty()) << "no keeper as root";
}

TEST_F(PrivilegedPathsTest, ChrootedDaemonCannotReachOutsideAndItsFilesWork) {
  const pid_t pid = Start({"--daemon_chroot=" + jail_, "--daemon_workdir=/work",
                           "--daemon_user=nobody", "--interval=10ms"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Link(absl::StrCat("/proc/", pid, "/root")), jail_);
  EXPECT_EQ(Link(absl::StrCat("/proc/", pid, "/cwd")), jail_ + "/work");
  // No descriptor to fchdir() out of the jail through.
  EXPECT_THAT(DirectoryDescriptors(pid), ::testing::IsEmpty());
  // The keeper: outside the jail, holding no directory either, not busying
  // any filesystem with its working directory.
  std::vector<pid_t> companions = Companions(pid);
  ASSERT_EQ(companions.size(), 1u);
  const pid_t keeper = companions[0];
  EXPECT_THAT(DirectoryDescriptors(keeper), ::testing::IsEmpty());
  EXPECT_EQ(Link(absl::StrCat("/proc/", keeper, "/root")), "/");
  EXPECT_EQ(Link(absl::StrCat("/proc/", keeper, "/cwd")), "/");
  EXPECT_NE(test_support::StatOf(keeper).field(ProcStat::kPpid),
            absl::StrCat(pid))
      << "not a child";
  // Log rotation: rename, SIGHUP, the new file gets the lines.
  ASSERT_EQ(rename(log_.c_str(), (log_ + ".1").c_str()), 0);
  EXPECT_EQ(Ticker({"--daemon_control=reload"}).exit_code, 0);
  EXPECT_TRUE(test_support::WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(log_), "T"); }));
  struct stat st;
  ASSERT_EQ(stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // stop: the pid file is removed (by the keeper) and nothing is left.
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_TRUE(test_support::WaitUntilGone(keeper));
}

TEST_F(PrivilegedPathsTest, DroppedDaemonRemovesItsPidFileFromRootsDirectory) {
  // dir_ is root's 0755: nobody cannot unlink in it; the keeper can.
  ASSERT_GT(RunBriefDaemon({"--daemon_user=nobody"}), 0);
  EXPECT_TRUE(test_support::WaitFor([&] { return !FileExists(pidfile_); }));
}

// --- syslog under chroot ---------------------------------------------------

// Runs `argv` in a private mount namespace whose /dev is a copy holding
// /dev/null and, as /dev/log, the socket bound at `log_socket`.
RunResult RunWithPrivateDevLog(const std::string& dev,
                               const std::vector<std::string>& argv) {
  const std::string out = dev + "/../run.out";
  const std::string err = dev + "/../run.err";
  const pid_t child = fork();
  if (child == 0) {
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      _exit(120);
    }
    const std::string null = dev + "/null";
    int fd = open(null.c_str(), O_WRONLY | O_CREAT, 0666);
    if (fd < 0) _exit(121);
    close(fd);
    if (mount("/dev/null", null.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        mount(dev.c_str(), "/dev", nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      _exit(122);
    }
    int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out_fd < 0 || err_fd < 0 || dup2(out_fd, 1) < 0 ||
        dup2(err_fd, 2) < 0) {
      _exit(123);
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  RunResult result;
  int status;
  waitpid(child, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.stdout_text = ReadFileOrEmpty(out);
  result.stderr_text = ReadFileOrEmpty(err);
  return result;
}

TEST_F(PrivilegedPathsTest, SyslogReachesTheSyslogDaemonFromInsideTheChroot) {
  const std::string dev = dir_ + "/dev";
  ASSERT_EQ(mkdir(dev.c_str(), 0755), 0);
  const std::string socket_path = dev + "/log";
  int receiver = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(receiver, 0);
  // $TEST_TMPDIR is longer than a socket address: bind relative to it.
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, "log");
  const int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(cwd, 0);
  ASSERT_EQ(chdir(dev.c_str()), 0);
  const int bound = bind(receiver, reinterpret_cast<struct sockaddr*>(&address),
                         sizeof(address));
  ASSERT_EQ(fchdir(cwd), 0);
  close(cwd);
  ASSERT_EQ(bound, 0);
  ASSERT_EQ(chmod(socket_path.c_str(), 0666), 0);
  RunResult start = RunWithPrivateDevLog(
      dev, TickerArgs({"--daemon_log=syslog", "--daemon_chroot=" + jail_,
                       "--daemon_workdir=/work", "--daemon_user=nobody",
                       "--interval=1h"}));
  if (start.exit_code >= 120 && start.exit_code <= 123) {
    close(receiver);
    GTEST_SKIP() << "no private mount namespace here (" << start.exit_code
                 << ")";
  }
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  started_.push_back(pid);
  // After the chroot: a SIGHUP is logged ("reloading on SIGHUP") through
  // the socket connected before it.
  ASSERT_EQ(kill(pid, SIGHUP), 0);
  std::string received;
  ASSERT_TRUE(test_support::WaitFor([&] {
    char buffer[2048];
    ssize_t n = recv(receiver, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n > 0) received.append(buffer, static_cast<size_t>(n)).append("\n");
    return absl::StrContains(received, "reloading on SIGHUP");
  })) << received;
  EXPECT_THAT(received, HasSubstr(absl::StrCat("[", pid, "]")));
  close(receiver);
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
}

}  // namespace
}  // namespace daemonkit
