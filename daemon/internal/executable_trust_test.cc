// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/executable_trust.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

// A uid that is neither root nor the test's.
constexpr uid_t kOtherUid = 65534;

class ExecutableTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("executable_trust");
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    binary_ = dir_ + "/daemon";
    MakeBinary(binary_, 0755);
    // The directories above the test's own (the test runner's) must pass
    // for anything here to; they are not what this test is about.
    const absl::Status base = CheckRunnableByRootAlone(binary_, "binary");
    if (!base.ok()) {
      GTEST_SKIP() << "the test directory itself is not trusted: "
                   << base.message();
    }
  }

  static void MakeBinary(const std::string& path, mode_t mode) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0700);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(write(fd, "#!/bin/sh\n", 10), 10);
    ASSERT_EQ(fchmod(fd, mode), 0);
    close(fd);
  }

  // Gives `path` (a link itself, not followed) to kOtherUid; false where
  // this test may not (a user namespace that maps only uid 0).
  static bool GiveAway(const std::string& path) {
    return lchown(path.c_str(), kOtherUid, kOtherUid) == 0;
  }

  static void ExpectRefused(const absl::Status& status,
                            const std::string& why) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(why));
  }

  std::string dir_, binary_;
};

TEST_F(ExecutableTrustTest, AcceptsABinaryOnlyRootCouldHaveChosen) {
  EXPECT_TRUE(CheckRunnableByRootAlone(binary_, "binary").ok());
}

TEST_F(ExecutableTrustTest, RefusesADirectoryOthersMayWrite) {
  ASSERT_EQ(chmod(dir_.c_str(), 0775), 0);
  const absl::Status status = CheckRunnableByRootAlone(binary_, "binary");
  ExpectRefused(status, absl::StrCat("binary ", binary_, ": directory ", dir_,
                                     " is writable by its group or others "
                                     "(mode 0775), who could choose what runs "
                                     "as uid ",
                                     geteuid()));
}

TEST_F(ExecutableTrustTest, RefusesABinaryOthersMayWrite) {
  ASSERT_EQ(chmod(binary_.c_str(), 0757), 0);
  ExpectRefused(CheckRunnableByRootAlone(binary_, "binary"),
                absl::StrCat("binary ", binary_, ": ", binary_,
                             " is writable by its group or others (mode "
                             "0757)"));
}

TEST_F(ExecutableTrustTest, RefusesWhatIsNoRegularFile) {
  const std::string sub = dir_ + "/sub";
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  ExpectRefused(CheckRunnableByRootAlone(sub, "program"),
                absl::StrCat("program ", sub, ": ", sub,
                             " is a directory, not a regular file"));
}

TEST_F(ExecutableTrustTest, FollowsAReleaseLinkAndJudgesItsTarget) {
  const std::string releases = dir_ + "/releases";
  ASSERT_EQ(mkdir(releases.c_str(), 0755), 0);
  MakeBinary(releases + "/daemon-2", 0755);
  const std::string current = dir_ + "/current";
  ASSERT_EQ(symlink("releases/daemon-2", current.c_str()), 0);
  EXPECT_TRUE(CheckRunnableByRootAlone(current, "binary").ok());

  // The target's directory opened to others: refused, though the link and
  // its own directory are root's alone.
  ASSERT_EQ(chmod(releases.c_str(), 0777), 0);
  ExpectRefused(CheckRunnableByRootAlone(current, "binary"),
                absl::StrCat("directory ", releases,
                             " is writable by its group or others (mode "
                             "0777)"));
}

TEST_F(ExecutableTrustTest, FollowsADirectoryLinkOnTheWay) {
  const std::string v1 = dir_ + "/v1";
  ASSERT_EQ(mkdir(v1.c_str(), 0755), 0);
  MakeBinary(v1 + "/daemon", 0755);
  ASSERT_EQ(symlink("v1", (dir_ + "/live").c_str()), 0);
  EXPECT_TRUE(CheckRunnableByRootAlone(dir_ + "/live/daemon", "binary").ok());
}

TEST_F(ExecutableTrustTest, RefusesALinkOfAnotherUserOnTheWay) {
  const std::string v1 = dir_ + "/v1";
  ASSERT_EQ(mkdir(v1.c_str(), 0755), 0);
  MakeBinary(v1 + "/daemon", 0755);
  const std::string live = dir_ + "/live";
  ASSERT_EQ(symlink("v1", live.c_str()), 0);
  if (!GiveAway(live)) GTEST_SKIP() << "cannot give a link to another user";
  ExpectRefused(
      CheckRunnableByRootAlone(live + "/daemon", "binary"),
      absl::StrCat(dir_, "/live is a symbolic link of uid ", kOtherUid));
}

TEST_F(ExecutableTrustTest, RefusesABinaryOfAnotherUser) {
  if (!GiveAway(binary_)) GTEST_SKIP() << "cannot give a file to another user";
  ExpectRefused(CheckRunnableByRootAlone(binary_, "binary"),
                absl::StrCat("binary ", binary_, ": ", binary_,
                             " is owned by uid ", kOtherUid));
}

TEST_F(ExecutableTrustTest, InAStickyDirectoryOnlyRootsEntryPasses) {
  const std::string sticky = dir_ + "/tmp";
  ASSERT_EQ(mkdir(sticky.c_str(), 0755), 0);
  ASSERT_EQ(chmod(sticky.c_str(), 01777), 0);
  const std::string mine = sticky + "/mine";
  ASSERT_EQ(mkdir(mine.c_str(), 0755), 0);
  MakeBinary(mine + "/daemon", 0755);
  EXPECT_TRUE(CheckRunnableByRootAlone(mine + "/daemon", "binary").ok());

  if (!GiveAway(mine)) GTEST_SKIP() << "cannot give a directory away";
  ExpectRefused(CheckRunnableByRootAlone(mine + "/daemon", "binary"),
                absl::StrCat("directory ", sticky,
                             " is writable by its group or others (mode "
                             "1777) and its entry mine is owned by uid ",
                             kOtherUid));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
