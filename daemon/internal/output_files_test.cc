// Copyright 2026 The daemonkit Authors.
//
// OutputFiles as a black box, through its public functions: what it
// creates, what it refuses, and that Install and Reopen move descriptors 1
// and 2 (in a forked child, so the test's own stdout is left alone).

#include "daemon/internal/output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::MakeTempDir;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::testing::HasSubstr;
using ::testing::SizeIs;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(OutputFilesTest, CreatesBothFilesWithMode0640WhateverTheUmask) {
  const std::string dir = MakeTempDir("outputs");
  const mode_t old_umask = umask(0);
  absl::StatusOr<OutputFiles> files =
      OutputFiles::Open(dir + "/out.log", dir + "/err.log");
  umask(old_umask);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(files->fds(), SizeIs(2));
  for (int fd : files->fds()) {
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << fd;
    EXPECT_NE(fcntl(fd, F_GETFL) & O_APPEND, 0) << fd;
  }
  EXPECT_EQ(ModeOf(dir + "/out.log"), 0640u);
  EXPECT_EQ(ModeOf(dir + "/err.log"), 0640u);
}

TEST(OutputFilesTest, InheritAndUnsetOpenNothing) {
  absl::StatusOr<OutputFiles> files =
      OutputFiles::Open(std::string("inherit"), std::nullopt);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_TRUE(files->fds().empty());
}

TEST(OutputFilesTest, RefusesARelativePathALinkAndADirectory) {
  const std::string dir = MakeTempDir("outputs");
  ASSERT_EQ(symlink((dir + "/elsewhere").c_str(), (dir + "/link").c_str()), 0);
  ASSERT_EQ(mkdir((dir + "/directory").c_str(), 0755), 0);
  for (const std::string& path :
       {std::string("relative.log"), dir + "/link", dir + "/directory"}) {
    absl::StatusOr<OutputFiles> files = OutputFiles::Open(path, std::nullopt);
    ASSERT_FALSE(files.ok()) << path;
    EXPECT_THAT(files.status().message(), HasSubstr(path));
  }
  EXPECT_FALSE(FileExists(dir + "/elsewhere")) << "followed the link";
}

// A failed start leaves nothing behind: the file opened first is removed
// when the second cannot be opened.
TEST(OutputFilesTest, SecondFailureRemovesTheFirstFileItCreated) {
  const std::string dir = MakeTempDir("outputs");
  absl::StatusOr<OutputFiles> files =
      OutputFiles::Open(dir + "/out.log", dir + "/missing/err.log");
  ASSERT_FALSE(files.ok());
  EXPECT_THAT(files.status().message(), HasSubstr("missing/err.log"));
  EXPECT_FALSE(FileExists(dir + "/out.log"));
}

TEST(OutputFilesTest, RemoveCreatedKeepsFilesThatExistedOrHoldData) {
  const std::string dir = MakeTempDir("outputs");
  const std::string existing = dir + "/existing.log";
  const int fd = open(existing.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0);
  close(fd);
  absl::StatusOr<OutputFiles> files =
      OutputFiles::Open(existing, dir + "/new.log");
  ASSERT_TRUE(files.ok()) << files.status();
  files->RemoveCreated();
  EXPECT_TRUE(FileExists(existing)) << "not ours to remove";
  EXPECT_FALSE(FileExists(dir + "/new.log"));

  absl::StatusOr<OutputFiles> again =
      OutputFiles::Open(std::nullopt, dir + "/written.log");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(write(again->fds()[0], "x\n", 2), 2);
  again->RemoveCreated();
  EXPECT_TRUE(FileExists(dir + "/written.log")) << "it holds a line";
}

// logrotate's rename-then-HUP, in a forked child (Install moves its
// descriptor 1): log_ opened and installed as stdout, a line written,
// log_ renamed to rotated_, then `after_rename`. The child's exit code: 0 when
// all went as `after_rename` expected.
class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("outputs");
    log_ = dir_ + "/out.log";
    rotated_ = dir_ + "/out.log.1";
  }

  int RotateInChild(const std::function<int(OutputFiles&)>& after_rename) {
    return test_support::ExitCodeInChild([&] {
      absl::StatusOr<OutputFiles> files = OutputFiles::Open(log_, std::nullopt);
      if (!files.ok() || !files->Install().ok()) return 101;
      if (!files->fds().empty()) return 102;  // installed: none left open
      std::printf("before\n");
      std::fflush(stdout);
      if (rename(log_.c_str(), rotated_.c_str()) != 0) return 103;
      return after_rename(*files);
    });
  }

  std::string dir_, log_, rotated_;
};

// The lines after the reopen go to a new file at the old path; the renamed
// file keeps the earlier ones, also those still buffered at the reopen.
TEST_F(RotationTest, ReopenFollowsARotation) {
  ASSERT_EQ(RotateInChild([](OutputFiles& files) {
              std::printf("buffered\n");
              if (!files.Reopen().ok()) return 1;
              std::printf("after\n");
              std::fflush(stdout);
              return 0;
            }),
            0);
  EXPECT_EQ(ReadFileOrEmpty(rotated_), "before\nbuffered\n");
  EXPECT_EQ(ReadFileOrEmpty(log_), "after\n");
  EXPECT_EQ(ModeOf(log_), 0640u);
}

// A reopen that cannot open the new path keeps writing to the old file and
// says why.
TEST_F(RotationTest, FailedReopenKeepsTheOldFile) {
  const std::string planted = dir_ + "/planted";
  ASSERT_EQ(RotateInChild([&](OutputFiles& files) {
              // A link planted at the path: refused.
              if (symlink(planted.c_str(), log_.c_str()) != 0) return 1;
              absl::Status reopened = files.Reopen();
              if (reopened.ok()) return 2;
              if (reopened.message().find(log_) == absl::string_view::npos) {
                return 3;
              }
              std::printf("still here\n");
              std::fflush(stdout);
              return 0;
            }),
            0);
  EXPECT_EQ(ReadFileOrEmpty(rotated_), "before\nstill here\n");
  EXPECT_FALSE(FileExists(planted));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
