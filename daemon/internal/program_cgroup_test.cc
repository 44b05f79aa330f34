// Copyright 2026 The daemonkit Authors.
//
// The parsing behind the program's cgroup (issue 21.3): where the cgroup2
// hierarchy is mounted, this process's place in it, and the name a stop
// finds from the pid file alone. The cgroups themselves are made by real
// daemons in //tests:daemonkit_cgroup_test.

#include "daemon/internal/program_cgroup.h"

#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(ParseCgroupMountTest, FindsTheCgroup2LineOfAHybridLayout) {
  const char kMountinfo[] =
      "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
      "35 25 0:31 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro\n"
      "40 35 0:37 / /sys/fs/cgroup/unified rw,relatime shared:10 - cgroup2 "
      "cgroup2 rw,nsdelegate\n"
      "41 35 0:38 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
  absl::StatusOr<CgroupMount> mount = ParseCgroupMount(kMountinfo);
  ASSERT_TRUE(mount.ok()) << mount.status();
  EXPECT_EQ(mount->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(mount->root, "/");
  EXPECT_FALSE(mount->read_only);
}

TEST(ParseCgroupMountTest, ReadOnlyEscapedAndMissing) {
  absl::StatusOr<CgroupMount> mount = ParseCgroupMount(
      "40 35 0:37 /a\\040b /x\\040y ro,relatime - cgroup2 cgroup2 rw\n");
  ASSERT_TRUE(mount.ok()) << mount.status();
  EXPECT_EQ(mount->mount_point, "/x y");
  EXPECT_EQ(mount->root, "/a b");
  EXPECT_TRUE(mount->read_only);
  EXPECT_TRUE(absl::IsNotFound(
      ParseCgroupMount("41 35 0:38 / /sys/fs/cgroup/pids rw - cgroup cgroup "
                       "rw,pids\n")
          .status()));
}

TEST(ParseUnifiedCgroupTest, TakesTheZeroLine) {
  absl::StatusOr<std::string> path =
      ParseUnifiedCgroup("9:name=systemd:/\n8:pids:/x\n0::/user.slice/a\n");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, "/user.slice/a");
  EXPECT_TRUE(absl::IsNotFound(ParseUnifiedCgroup("8:pids:/\n").status()));
}

TEST(CgroupDirectoryTest, UnderTheMountAndItsRoot) {
  CgroupMount mount{"/sys/fs/cgroup", "/", false};
  EXPECT_EQ(*CgroupDirectory(mount, "/"), "/sys/fs/cgroup");
  EXPECT_EQ(*CgroupDirectory(mount, "/a/b"), "/sys/fs/cgroup/a/b");
  EXPECT_FALSE(CgroupDirectory(mount, "/a/b (deleted)").ok());
  // A bind-mounted sub-tree: paths outside it are not visible.
  CgroupMount sub{"/cg", "/machine/c1", false};
  EXPECT_EQ(*CgroupDirectory(sub, "/machine/c1/x"), "/cg/x");
  EXPECT_EQ(*CgroupDirectory(sub, "/machine/c1"), "/cg");
  EXPECT_FALSE(CgroupDirectory(sub, "/machine/c10").ok());
  EXPECT_FALSE(CgroupDirectory(sub, "/other").ok());
}

TEST(ProgramCgroupNameTest, TheSameFileGivesTheSameName) {
  const std::string dir = ::testing::TempDir();
  const std::string name = ProgramCgroupName(dir + "/app.pid");
  EXPECT_TRUE(absl::StartsWith(name, "daemonkit.")) << name;
  EXPECT_EQ(name.size(), std::string("daemonkit.").size() + 16) << name;
  // Another spelling of the same path.
  EXPECT_EQ(ProgramCgroupName(dir + "/./app.pid"), name);
  EXPECT_NE(ProgramCgroupName(dir + "/other.pid"), name);
  // A relative path resolves from the working directory.
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(ProgramCgroupName("app.pid"),
            ProgramCgroupName(std::string(cwd) + "/app.pid"));
  EXPECT_EQ(ProgramCgroupName(dir + "/no/such/dir/app.pid"), "");
  EXPECT_EQ(ProgramCgroupName(""), "");
  EXPECT_EQ(ProgramCgroupNameForSession(42), "daemonkit.s42");
  EXPECT_EQ(ProgramCgroupNameForMonitor(42), "daemonkit.m42");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
