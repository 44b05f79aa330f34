// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile_holder.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::WriteFile;
using ::testing::HasSubstr;

TEST(ParsePidTest, AcceptsOnlyAPlausiblePid) {
  EXPECT_EQ(*ParsePid("42\n"), 42);
  EXPECT_EQ(*ParsePid("42"), 42);
  EXPECT_EQ(*ParsePid("4194304\n"), 4194304);
  // Strict: digits and one newline. " 1" is not pid 1.
  for (const char* bad :
       {"", "\n", "abc", "-5", "0", "4194305", "99999999999", "12 34", "0x10",
        "+7", " 1", "1 ", "\t1\n", "1\n\n", "  4194304 \n", "\n1", "1\r\n"}) {
    EXPECT_FALSE(ParsePid(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_FALSE(ParsePid(std::string("1\0002", 3)).ok());
  EXPECT_FALSE(ParsePid(std::string(1000, '7')).ok());
}

// A forked process holding the write lock on a file, as a daemon holds its
// pid file, until the test ends.
class LockHolder {
 public:
  explicit LockHolder(const std::string& path) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // A descriptor of its own: an OFD lock through an inherited one would
      // be the parent's too.
      const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
      struct flock lock = WholeFileLock(F_WRLCK);
      if (fd < 0 || fcntl(fd, F_OFD_SETLK, &lock) != 0) _exit(1);
      (void)!write(ready[1], "x", 1);
      pause();
      _exit(0);
    }
    close(ready[1]);
    char byte;
    locked_ = pid_ > 0 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
  }
  ~LockHolder() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

  pid_t pid() const { return pid_; }
  bool locked() const { return locked_; }

 private:
  pid_t pid_ = -1;
  bool locked_ = false;
};

class PidFileHolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test_support::MakeTempDir("pidfile_holder") + "/x.pid";
  }
  std::string path_;
};

TEST_F(PidFileHolderTest, AMissingOrEmptyUnlockedFileIsNoDaemon) {
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kMissing);

  // Emptied by a daemon that could not unlink it: a clean exit.
  ASSERT_TRUE(WriteFile(path_, ""));
  probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kMissing);
  EXPECT_FALSE(probe->pid.has_value());
}

TEST_F(PidFileHolderTest, AnUnlockedNumberIsACrashNotAHolder) {
  ASSERT_TRUE(WriteFile(path_, "4321\n"));
  absl::StatusOr<PidFileProbe> probe =
      ProbePidFile(path_, HolderSearch::kScanProc);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kUnlocked);
  EXPECT_EQ(probe->pid, 4321);
  EXPECT_FALSE(probe->pid_verified);
  EXPECT_FALSE(probe->holder.has_value());
}

TEST_F(PidFileHolderTest, TheNumberIsBelievedOnceItsProcessHoldsTheLock) {
  ASSERT_TRUE(WriteFile(path_, ""));
  LockHolder daemon(path_);
  ASSERT_TRUE(daemon.locked());
  ASSERT_TRUE(WriteFile(path_, absl::StrCat(daemon.pid(), "\n")));
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  EXPECT_EQ(probe->pid, daemon.pid());
  EXPECT_TRUE(probe->pid_verified);
  EXPECT_EQ(probe->holder, daemon.pid());
  EXPECT_FALSE(probe->scanned);

  UniqueFd fd(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  EXPECT_EQ(NamedPid(fd.get(), path_), daemon.pid());
  EXPECT_EQ(VerifiedHolder(fd.get(), path_), daemon.pid());
}

TEST_F(PidFileHolderTest, ARewrittenNumberIsNotBelievedAndProcFindsTheHolder) {
  ASSERT_TRUE(WriteFile(path_, ""));
  LockHolder daemon(path_);
  ASSERT_TRUE(daemon.locked());
  // A compromised daemon that kept a writable descriptor may write "1".
  ASSERT_TRUE(WriteFile(path_, "1\n"));

  absl::StatusOr<PidFileProbe> cheap = ProbePidFile(path_);
  ASSERT_TRUE(cheap.ok()) << cheap.status();
  EXPECT_EQ(cheap->state, PidFileProbe::State::kLocked);
  EXPECT_EQ(cheap->pid, 1);
  EXPECT_FALSE(cheap->pid_verified);
  EXPECT_FALSE(cheap->holder.has_value());
  EXPECT_FALSE(cheap->scanned);

  absl::StatusOr<PidFileProbe> scan =
      ProbePidFile(path_, HolderSearch::kScanProc);
  ASSERT_TRUE(scan.ok()) << scan.status();
  EXPECT_EQ(scan->state, PidFileProbe::State::kLocked);
  EXPECT_FALSE(scan->pid_verified);
  EXPECT_TRUE(scan->scanned);
  EXPECT_EQ(scan->holder, daemon.pid());
  EXPECT_FALSE(scan->left_keeper.has_value());
}

TEST_F(PidFileHolderTest, TheCallersOwnPidIsAStaleNumber) {
  ASSERT_TRUE(WriteFile(path_, absl::StrCat(getpid(), "\n")));
  UniqueFd fd(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  EXPECT_FALSE(NamedPid(fd.get(), path_).has_value());
  EXPECT_FALSE(VerifiedHolder(fd.get(), path_).has_value());
}

TEST_F(PidFileHolderTest, AnotherUsersFileIsNotTrusted) {
  ASSERT_TRUE(WriteFile(path_, "4321\n"));
  if (chown(path_.c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a file to another user here";
  }
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  EXPECT_EQ(probe.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(probe.status().message()),
              HasSubstr(absl::StrCat(
                  "pid file ", path_,
                  " is owned by uid 65534, neither root nor this user")));
}

TEST_F(PidFileHolderTest, RemovesOnlyAFileNobodyHolds) {
  absl::StatusOr<bool> removed = RemoveStalePidFile(path_);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_FALSE(*removed);  // missing

  ASSERT_TRUE(WriteFile(path_, "4321\n"));
  {
    LockHolder daemon(path_);
    ASSERT_TRUE(daemon.locked());
    removed = RemoveStalePidFile(path_);
    ASSERT_TRUE(removed.ok()) << removed.status();
    EXPECT_FALSE(*removed);
    EXPECT_TRUE(FileExists(path_));
  }
  removed = RemoveStalePidFile(path_);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(FileExists(path_));
}

TEST_F(PidFileHolderTest, OpensNeitherALinkNorAFifo) {
  const std::string target = path_ + ".target";
  ASSERT_TRUE(WriteFile(target, "1\n"));
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  absl::StatusOr<OpenedFile> opened = OpenPidFileChecked(path_, O_RDONLY);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(unlink(path_.c_str()), 0);

  ASSERT_EQ(mkfifo(path_.c_str(), 0644), 0);
  opened = OpenPidFileChecked(path_, O_RDWR | O_CREAT);  // never blocks
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
