// Copyright 2026 The daemonkit Authors.
//
// The kind of lock that counts. Any user may open the 0644 pid file and take
// a read lock on it; only the daemon's write lock says a daemon runs, and a
// starter must win against readers, alone, even when several start at once.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::ReadFileOrEmpty;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// A child that opens `path` and takes a whole-file OFD lock of `type`
// (F_RDLCK, F_WRLCK, or F_UNLCK for none), until killed.
test_support::PausedChild Locker(const std::string& path, int type) {
  return test_support::PausedChild([path, type] {
    const int fd = open(path.c_str(), type == F_RDLCK ? O_RDONLY : O_RDWR);
    struct flock lock = {};
    lock.l_type = static_cast<decltype(lock.l_type)>(type);
    return fd >= 0 && (type == F_UNLCK || fcntl(fd, F_OFD_SETLK, &lock) == 0);
  });
}

class PidFileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test_support::MakeTempDir("lock") + "/x.pid";
  }
  ino_t Inode() const {
    struct stat st;
    return stat(path_.c_str(), &st) == 0 ? st.st_ino : 0;
  }
  std::string path_;
};

TEST_F(PidFileLockTest, ReadLockIsNotARunningDaemon) {
  WriteFile(path_, "4194304\n");
  test_support::PausedChild reader = Locker(path_, F_RDLCK);
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kUnlocked);
  EXPECT_FALSE(probe->pid_verified);
}

TEST_F(PidFileLockTest, StarterReplacesAFileThatOnlyReadersLock) {
  WriteFile(path_, "4194304\n");
  const ino_t old_inode = Inode();
  test_support::PausedChild reader = Locker(path_, F_RDLCK);
  test_support::PausedChild another_reader = Locker(path_, F_RDLCK);

  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(path_, absl::ZeroDuration());
  ASSERT_TRUE(pidfile.ok()) << pidfile.status();
  EXPECT_NE(Inode(), old_inode);
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(ReadFileOrEmpty(path_), "");
  EXPECT_FALSE(test_support::FileExists(path_.substr(0, path_.rfind('/')) +
                                        "/.x.pid.claim"));
  // The new file is write-locked: no reader can lock it, and it probes as
  // held.
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock lock = {};
  lock.l_type = F_RDLCK;
  EXPECT_NE(fcntl(fd, F_OFD_SETLK, &lock), 0);
  close(fd);
  pidfile->Remove();
  EXPECT_FALSE(test_support::FileExists(path_));
}

// One election: `count` processes call PidFile::Acquire at once on `path`.
// Their verdicts, one letter each: 'W' won (and wrote its pid), 'L' lost
// (already running), 'E' any other error (printed on stderr).
std::string Election(const std::string& path, int count) {
  int go[2], results[2];
  EXPECT_EQ(pipe2(go, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(results, O_CLOEXEC), 0);
  std::vector<pid_t> starters;
  for (int i = 0; i < count; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      close(go[1]);
      char byte;
      if (read(go[0], &byte, 1) != 0) _exit(1);  // end-of-file: go
      absl::StatusOr<PidFile> pidfile =
          PidFile::Acquire(path, absl::Seconds(10));
      char verdict = 'E';
      if (pidfile.ok()) {
        verdict = pidfile->WritePid(getpid()).ok() ? 'W' : 'E';
      } else if (absl::IsAlreadyExists(pidfile.status())) {
        verdict = 'L';
      } else {
        fprintf(stderr, "starter: %s\n", pidfile.status().ToString().c_str());
      }
      if (write(results[1], &verdict, 1) != 1) _exit(1);
      // A winner keeps its lock until the round ends.
      for (;;) pause();
    }
    starters.push_back(pid);
  }
  close(go[0]);
  close(results[1]);
  close(go[1]);
  std::string verdicts;
  char verdict;
  while (static_cast<int>(verdicts.size()) < count &&
         read(results[0], &verdict, 1) == 1) {
    verdicts.push_back(verdict);
  }
  close(results[0]);
  for (pid_t pid : starters) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  return verdicts;
}

TEST_F(PidFileLockTest, ConcurrentStartersAgainstAReaderElectExactlyOne) {
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    WriteFile(path_, "4194304\n");
    test_support::PausedChild reader = Locker(path_, F_RDLCK);
    constexpr int kStarters = 6;
    const std::string verdicts = Election(path_, kStarters);
    EXPECT_EQ(std::count(verdicts.begin(), verdicts.end(), 'W'), 1) << verdicts;
    EXPECT_EQ(std::count(verdicts.begin(), verdicts.end(), 'L'), kStarters - 1)
        << verdicts;
  }
}

// A starter that opened the file just before another replaced it (renamed
// a new file over the reader-locked one) holds a file with no link left. It
// once refused that as "0 hard links ... another file's alias", an error
// instead of "already running"; it must open the new file instead.
TEST_F(PidFileLockTest, StarterWhoseFileWasJustReplacedDoesNotFail) {
  for (int round = 0; round < 150; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    WriteFile(path_, "4194304\n");
    test_support::PausedChild reader = Locker(path_, F_RDLCK);
    const std::string verdicts = Election(path_, 8);
    ASSERT_EQ(verdicts.find('E'), std::string::npos) << verdicts;
    ASSERT_EQ(std::count(verdicts.begin(), verdicts.end(), 'W'), 1) << verdicts;
  }
}

TEST_F(PidFileLockTest, OnlyAWriteLockHolderIsTheHolder) {
  WriteFile(path_, "");
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  test_support::PausedChild opener = Locker(path_, F_UNLCK);
  test_support::PausedChild reader = Locker(path_, F_RDLCK);
  EXPECT_FALSE(*ProcessHoldsWriteLock(opener.pid(), st.st_dev, st.st_ino));
  EXPECT_FALSE(*ProcessHoldsWriteLock(reader.pid(), st.st_dev, st.st_ino));
  EXPECT_TRUE(absl::IsNotFound(
      ProcessHoldsWriteLock(4194305, st.st_dev, st.st_ino).status()));

  const std::string other = path_ + ".other";
  WriteFile(other, "");
  test_support::PausedChild elsewhere = Locker(other, F_WRLCK);
  EXPECT_FALSE(*ProcessHoldsWriteLock(elsewhere.pid(), st.st_dev, st.st_ino));
}

TEST_F(PidFileLockTest, TheHolderIsThePidWrittenNotAChildSharingTheLock) {
  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(path_, absl::ZeroDuration());
  ASSERT_TRUE(pidfile.ok()) << pidfile.status();
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t daemon = fork();
  if (daemon == 0) {
    // The daemon writes its pid, then forks a worker that inherits the
    // descriptor, and with it the lock.
    if (!pidfile->WritePid(getpid()).ok()) _exit(1);
    const pid_t child = fork();
    if (child == 0) {
      for (;;) pause();
    }
    if (write(ready[1], &child, sizeof(child)) != sizeof(child)) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  pid_t child = 0;
  ASSERT_EQ(read(ready[0], &child, sizeof(child)),
            static_cast<ssize_t>(sizeof(child)));
  close(ready[0]);
  pidfile->Close();

  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(*ProcessHoldsWriteLock(child, st.st_dev, st.st_ino));
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  EXPECT_EQ(probe->pid, daemon);
  EXPECT_TRUE(probe->pid_verified);

  kill(daemon, SIGKILL);
  waitpid(daemon, nullptr, 0);
  // The orphaned worker still holds the lock, but it is not the pid written.
  probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  EXPECT_FALSE(probe->pid_verified);
  kill(child, SIGKILL);
  EXPECT_TRUE(test_support::WaitUntilGone(child));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
