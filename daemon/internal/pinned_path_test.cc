// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pinned_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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
using ::testing::HasSubstr;

TEST(PinnedPathTest, RefusesWhatIsNotAnAbsoluteFilePath) {
  for (const char* path : {"", "relative.pid", "./x.pid", "/run/", "/"}) {
    absl::StatusOr<PinnedPath> pinned = PinnedPath::Pin(path, "pid file");
    ASSERT_FALSE(pinned.ok()) << "'" << path << "'";
    EXPECT_THAT(pinned.status().message(), HasSubstr("pid file"));
    EXPECT_THAT(pinned.status().message(), HasSubstr(path));
  }
  EXPECT_TRUE(PinnedPath::Pin("/run/x.pid", "pid file").ok());
}

// The last component is never followed: lstat sees the link, unlink removes
// the link and leaves what it points to.
TEST(PinnedPathTest, LstatAndUnlinkDoNotFollowALink) {
  const std::string dir = MakeTempDir("pinned");
  const std::string target = dir + "/target";
  const std::string link = dir + "/x.pid";
  const int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);

  absl::StatusOr<PinnedPath> pinned = PinnedPath::Pin(link, "pid file");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(pinned->path(), link);
  struct stat st;
  ASSERT_EQ(pinned->Lstat(&st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(pinned->Unlink(), 0);
  EXPECT_FALSE(FileExists(link));
  EXPECT_TRUE(FileExists(target));
}

TEST(PinnedPathTest, ReportsErrnoForAMissingFile) {
  const std::string dir = MakeTempDir("pinned");
  absl::StatusOr<PinnedPath> pinned =
      PinnedPath::Pin(dir + "/missing.pid", "pid file");
  ASSERT_TRUE(pinned.ok());
  struct stat st;
  errno = 0;
  EXPECT_EQ(pinned->Lstat(&st), -1);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(pinned->Unlink(), -1);
  EXPECT_EQ(errno, ENOENT);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
