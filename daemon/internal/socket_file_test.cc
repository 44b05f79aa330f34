// Copyright 2026 The daemonkit Authors.
//
// Real socket files in a short directory under /tmp: dead ones, live ones,
// other files, and a directory swapped behind a path.

#include "daemon/internal/socket_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/unique_fd.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// A socket path holds at most 107 bytes, and $TEST_TMPDIR under Bazel is
// longer than that: a short directory under /tmp, removed by the test.
class SocketFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/dk-sockfile.XXXXXX";
    ASSERT_NE(mkdtemp(name), nullptr);
    dir_ = name;
    absl::StatusOr<int> fd = OpenContainingDirectory(Path("x"), "test", &x_);
    ASSERT_TRUE(fd.ok()) << fd.status();
    walked_.reset(*fd);
  }
  void TearDown() override {
    walked_.reset();
    const std::string command = "rm -rf '" + dir_ + "'";
    (void)!system(command.c_str());
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  // A socket bound at `name`, listening when `listening`; the socket file
  // stays when the returned descriptor is closed.
  UniqueFd Bound(const std::string& name, bool listening) {
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    absl::StatusOr<SocketAddress> address = SocketAddress::UnixPath(Path(name));
    EXPECT_TRUE(address.ok()) << address.status();
    EXPECT_EQ(bind(fd.get(), address->get(), address->length()), 0);
    if (listening) {
      EXPECT_EQ(listen(fd.get(), 1), 0);
    }
    return fd;
  }

  bool Dead(const std::string& name, struct stat* st) {
    absl::StatusOr<SocketAddress> address = SocketAddress::UnixPath(Path(name));
    EXPECT_TRUE(address.ok()) << address.status();
    return IsDeadSocketFile(*address, walked_.get(), name, st);
  }

  std::string dir_;
  std::string x_;  // the last component OpenContainingDirectory gave
  UniqueFd walked_;
};

TEST_F(SocketFileTest, AFileNobodyListensOnIsDeadAndIdentified) {
  Bound("dead", /*listening=*/true).reset();  // closed, the file left
  struct stat st;
  ASSERT_TRUE(Dead("dead", &st));
  struct stat by_path;
  ASSERT_EQ(lstat(Path("dead").c_str(), &by_path), 0);
  EXPECT_EQ(st.st_ino, by_path.st_ino);
  EXPECT_EQ(st.st_dev, by_path.st_dev);
}

TEST_F(SocketFileTest, AListeningSocketIsAlive) {
  const UniqueFd live = Bound("live", /*listening=*/true);
  struct stat st;
  EXPECT_FALSE(Dead("live", &st));
}

TEST_F(SocketFileTest, AMissingFileARegularFileAndALinkAreNotDead) {
  struct stat st;
  EXPECT_FALSE(Dead("missing", &st));
  FILE* file = std::fopen(Path("regular").c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fclose(file);
  EXPECT_FALSE(Dead("regular", &st));
  // A link to a dead socket is not followed: it is no socket file itself.
  Bound("target", /*listening=*/false).reset();
  ASSERT_EQ(symlink(Path("target").c_str(), Path("link").c_str()), 0);
  EXPECT_FALSE(Dead("link", &st));
}

TEST_F(SocketFileTest, ThePathStillReachesTheWalkedDirectory) {
  EXPECT_EQ(x_, "x");
  EXPECT_TRUE(PathStillReaches(Path("x"), walked_.get()));
}

TEST_F(SocketFileTest, ADirectorySwappedBehindThePathIsFound) {
  const std::string inner = Path("inner");
  ASSERT_EQ(mkdir(inner.c_str(), 0700), 0);
  std::string name;
  absl::StatusOr<int> fd =
      OpenContainingDirectory(absl::StrCat(inner, "/s"), "test", &name);
  ASSERT_TRUE(fd.ok()) << fd.status();
  const UniqueFd inner_fd(*fd);
  ASSERT_TRUE(PathStillReaches(absl::StrCat(inner, "/s"), inner_fd.get()));
  ASSERT_EQ(rename(inner.c_str(), Path("moved").c_str()), 0);
  ASSERT_EQ(mkdir(inner.c_str(), 0700), 0);
  EXPECT_FALSE(PathStillReaches(absl::StrCat(inner, "/s"), inner_fd.get()));
  // Gone altogether: the walk fails, which is not "still reaches" either.
  ASSERT_EQ(rmdir(inner.c_str()), 0);
  EXPECT_FALSE(PathStillReaches(absl::StrCat(inner, "/s"), inner_fd.get()));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
