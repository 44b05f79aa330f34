// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::ReadFileOrEmpty;
using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

class PidFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test_support::MakeTempDir("pidfile") + "/x.pid";
  }
  std::string path_;
};

// ParsePidTest moved to pidfile_holder_test.cc, beside ParsePid.

TEST_F(PidFileTest, CreatesTheFile0644WhateverTheUmask) {
  const mode_t old_umask = umask(0077);
  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(path_, absl::ZeroDuration());
  umask(old_umask);
  ASSERT_TRUE(pidfile.ok()) << pidfile.status();
  ASSERT_TRUE(pidfile->WritePid(1234).ok());
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(ReadFileOrEmpty(path_), "1234\n");
  pidfile->Remove();
  EXPECT_FALSE(test_support::FileExists(path_));
}

TEST_F(PidFileTest, LockIsHeldAcrossForkAndReportsTheHolder) {
  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(path_, absl::ZeroDuration());
  ASSERT_TRUE(pidfile.ok()) << pidfile.status();
  // A child holds the pid file (acquired here, then inherited) until the
  // test kills it, standing in for a forked daemon; the parent's copy goes.
  test_support::PausedChild holder(
      [&pidfile] { return pidfile->WritePid(getpid()).ok(); });
  pidfile->Close();

  absl::StatusOr<PidFile> second = PidFile::Acquire(path_, absl::Seconds(5));
  ASSERT_TRUE(absl::IsAlreadyExists(second.status())) << second.status();
  EXPECT_EQ(second.status().message(),
            absl::StrCat("already running, pid ", holder.pid()));
  // The loser never truncated: the holder's pid is intact.
  EXPECT_EQ(ReadFileOrEmpty(path_), absl::StrCat(holder.pid(), "\n"));

  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  EXPECT_EQ(probe->pid, holder.pid());
  EXPECT_TRUE(probe->pid_verified);

  // The lock dies with its holder; the stale file blocks nothing.
  holder.Reap();
  probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->state, PidFileProbe::State::kUnlocked);
  absl::StatusOr<PidFile> third = PidFile::Acquire(path_, absl::ZeroDuration());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(ReadFileOrEmpty(path_), "") << "emptied once the lock is won";
}

TEST_F(PidFileTest, LockedFileWithAStalePidIsNotBelieved) {
  // The holder has not written its pid yet; the file still names a process
  // (this test) that does not hold it.
  WriteFile(path_, absl::StrCat(getpid(), "\n"));
  test_support::PausedChild child([this] {
    const int fd = open(path_.c_str(), O_RDWR);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    return fd >= 0 && fcntl(fd, F_OFD_SETLK, &lock) == 0;
  });
  absl::StatusOr<PidFile> loser =
      PidFile::Acquire(path_, absl::Milliseconds(50));
  child.Reap();
  ASSERT_TRUE(absl::IsAlreadyExists(loser.status()));
  EXPECT_THAT(loser.status().message(), HasSubstr("has not written its pid"));
  EXPECT_EQ(ReadFileOrEmpty(path_), absl::StrCat(getpid(), "\n"));
}

TEST_F(PidFileTest, RefusesSymlinksAndNonRegularFiles) {
  const std::string target = path_ + ".target";
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(path_, absl::ZeroDuration());
  EXPECT_TRUE(absl::IsFailedPrecondition(pidfile.status())) << pidfile.status();
  EXPECT_THAT(pidfile.status().message(), HasSubstr("symbolic link"));
  EXPECT_FALSE(test_support::FileExists(target));
  ASSERT_EQ(unlink(path_.c_str()), 0);

  ASSERT_EQ(mkfifo(path_.c_str(), 0644), 0);
  pidfile = PidFile::Acquire(path_, absl::ZeroDuration());
  EXPECT_THAT(pidfile.status().message(), HasSubstr("not a regular file"));
  ASSERT_EQ(unlink(path_.c_str()), 0);

  ASSERT_EQ(mkdir(path_.c_str(), 0755), 0);
  pidfile = PidFile::Acquire(path_, absl::ZeroDuration());
  EXPECT_FALSE(pidfile.ok());
  EXPECT_THAT(pidfile.status().message(), HasSubstr(path_));
}

TEST_F(PidFileTest, GarbageInAnUnlockedFileIsStale) {
  for (const char* content :
       {"garbage\n", "-1\n", "0\n", "99999999999999\n", ""}) {
    SCOPED_TRACE(content);
    WriteFile(path_, content);
    absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
    ASSERT_TRUE(probe.ok());
    // Empty is what a daemon that could not unlink leaves on a clean exit.
    EXPECT_EQ(probe->state, *content == '\0' ? PidFileProbe::State::kMissing
                                             : PidFileProbe::State::kUnlocked);
    EXPECT_FALSE(probe->pid.has_value());
    absl::StatusOr<PidFile> pidfile =
        PidFile::Acquire(path_, absl::ZeroDuration());
    ASSERT_TRUE(pidfile.ok()) << pidfile.status();
  }
}

TEST_F(PidFileTest, RemoveStaleLeavesALockedFile) {
  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(path_, absl::ZeroDuration());
  ASSERT_TRUE(pidfile.ok());
  // A child holds the pid file (acquired here, then inherited) until the
  // test kills it, standing in for a forked daemon; the parent's copy goes.
  test_support::PausedChild holder(
      [&pidfile] { return pidfile->WritePid(getpid()).ok(); });
  pidfile->Close();
  EXPECT_FALSE(*RemoveStalePidFile(path_));
  EXPECT_TRUE(test_support::FileExists(path_));
  holder.Reap();
  EXPECT_TRUE(*RemoveStalePidFile(path_));
  EXPECT_FALSE(test_support::FileExists(path_));
  EXPECT_FALSE(*RemoveStalePidFile(path_));
}

TEST_F(PidFileTest, MissingFileProbesAsMissing) {
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path_);
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->state, PidFileProbe::State::kMissing);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
