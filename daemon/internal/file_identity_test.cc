// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/file_identity.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(FileIdentityTest, AFileIsItsInodeNotItsName) {
  const std::string a = TempDir() + "/identity_a";
  const std::string b = TempDir() + "/identity_b";
  const int fd = open(a.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  struct stat held, named, other;
  ASSERT_EQ(fstat(fd, &held), 0);
  ASSERT_EQ(lstat(a.c_str(), &named), 0);
  EXPECT_TRUE(SameFile(held, named));
  EXPECT_EQ(FileIdentity::Of(held), FileIdentity::Of(named));

  // Renamed, it is still the file the descriptor holds; a new file at the
  // old name is another one.
  ASSERT_EQ(rename(a.c_str(), b.c_str()), 0);
  ASSERT_EQ(lstat(b.c_str(), &named), 0);
  EXPECT_TRUE(SameFile(held, named));
  const int again = open(a.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(again, 0);
  ASSERT_EQ(lstat(a.c_str(), &other), 0);
  EXPECT_FALSE(SameFile(held, other));
  EXPECT_NE(FileIdentity::Of(held), FileIdentity::Of(other));
  close(again);
  close(fd);
  unlink(a.c_str());
  unlink(b.c_str());
}

TEST(FileIdentityTest, TheSameInodeOnAnotherDeviceIsAnotherFile) {
  struct stat x = {}, y = {};
  x.st_dev = 1;
  y.st_dev = 2;
  x.st_ino = y.st_ino = 42;
  EXPECT_FALSE(SameFile(x, y));
  EXPECT_EQ((FileIdentity{1, 42}), FileIdentity::Of(x));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
