// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/dropped_user.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

// A user and group no account has: only the numbers matter here.
constexpr uid_t kUser = 4242;
constexpr gid_t kGroup = 4343;
constexpr gid_t kOtherGroup = 4444;

Credentials DroppedUser() {
  Credentials credentials;
  credentials.uid = kUser;
  credentials.gid = kGroup;
  credentials.groups = {kGroup, kOtherGroup};
  credentials.description = "user u (4242), group g (4343)";
  return credentials;
}

class DroppedUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    ASSERT_NE(tmp, nullptr);
    // A fresh directory per test (the runner reuses TEST_TMPDIR).
    root_ = absl::StrCat(tmp, "/dropped_user.", getpid(), ".", ++serial_);
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0) << root_ << ": errno " << errno;
    // Every test below plants one directory the user may write; nothing
    // above it may be one already.
    std::string why;
    ASSERT_EQ(DirectoryTheUserMayWrite(root_ + "/x", DroppedUser(), &why), "")
        << "the test's own directories must be root's alone: " << why;
  }

  // Makes root_/NAME with `mode` (mkdir's umask undone), owned by
  // `uid`:`gid`, and returns its path.
  std::string MakeDirectory(const std::string& name, mode_t mode, uid_t uid = 0,
                            gid_t gid = 0) {
    return MakeDirectoryIn(root_, name, mode, uid, gid);
  }
  static std::string MakeDirectoryIn(const std::string& parent,
                                     const std::string& name, mode_t mode,
                                     uid_t uid = 0, gid_t gid = 0) {
    std::string path = absl::StrCat(parent, "/", name);
    EXPECT_EQ(mkdir(path.c_str(), 0700), 0) << path << ": errno " << errno;
    EXPECT_EQ(chown(path.c_str(), uid, gid), 0)
        << "chown " << path << " (the test runs as root): errno " << errno;
    EXPECT_EQ(chmod(path.c_str(), mode), 0) << path << ": errno " << errno;
    return path;
  }

  static int serial_;
  std::string root_;
};

int DroppedUserTest::serial_ = 0;

TEST_F(DroppedUserTest, ADirectoryOfTheUsersOwnIsFoundWhateverItsMode) {
  const std::string dir = MakeDirectory("own", 0500, kUser, 0);
  std::string why;
  EXPECT_EQ(DirectoryTheUserMayWrite(dir + "/p.pid", DroppedUser(), &why), dir);
  EXPECT_THAT(why, HasSubstr("is owned by user u (4242)"));
}

TEST_F(DroppedUserTest, ADirectoryAnyoneMayWriteIsFound) {
  const std::string dir = MakeDirectory("open", 0777);
  const std::string below = dir + "/deeper";
  ASSERT_EQ(mkdir(below.c_str(), 0755), 0);
  std::string why;
  // The first one on the path, even when the file is further down.
  EXPECT_EQ(DirectoryTheUserMayWrite(below + "/p.pid", DroppedUser(), &why),
            dir);
  EXPECT_THAT(why, HasSubstr("is writable by user u (4242)"));
}

TEST_F(DroppedUserTest, AStickyDirectoryNotTheUsersIsNot) {
  // /tmp's shape: anyone may create, only root may rename root's files.
  const std::string dir = MakeDirectory("sticky", 01777);
  std::string why;
  EXPECT_EQ(DirectoryTheUserMayWrite(dir + "/p.pid", DroppedUser(), &why), "")
      << why;
}

TEST_F(DroppedUserTest, GroupWriteCountsForTheUsersGroupsOnly) {
  const std::string supplementary =
      MakeDirectory("group", 0775, 0, kOtherGroup);
  std::string why;
  EXPECT_EQ(
      DirectoryTheUserMayWrite(supplementary + "/p.pid", DroppedUser(), &why),
      supplementary);
  const std::string primary = MakeDirectory("primary", 0770, 0, kGroup);
  EXPECT_EQ(DirectoryTheUserMayWrite(primary + "/p", DroppedUser(), &why),
            primary);
  const std::string others = MakeDirectory("others", 0775, 0, 4545);
  EXPECT_EQ(DirectoryTheUserMayWrite(others + "/p.pid", DroppedUser(), &why),
            "")
      << why;
}

TEST_F(DroppedUserTest, APidFileInTheUsersReachIsRefusedNamingBoth) {
  const std::string dir = MakeDirectory("run", 0777);
  Options options;
  options.pidfile = dir + "/d.pid";
  const absl::Status refused =
      CheckWhatTheDroppedUserMustNotChange(options, DroppedUser());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr(absl::StrCat("pid file ", options.pidfile,
                                     ": directory ", dir, " is writable")));
  // The worker's pid file is judged the same way.
  options.pidfile = MakeDirectory("safe", 0755) + "/d.pid";
  options.child_pidfile = dir + "/worker.pid";
  EXPECT_THAT(
      CheckWhatTheDroppedUserMustNotChange(options, DroppedUser()).message(),
      HasSubstr(options.child_pidfile));
}

TEST_F(DroppedUserTest, NoDropOrADropToRootJudgesNoDirectory) {
  Options options;
  options.pidfile = MakeDirectory("run", 0777) + "/d.pid";
  EXPECT_TRUE(CheckWhatTheDroppedUserMustNotChange(options, std::nullopt).ok());
  Credentials root = DroppedUser();
  root.uid = 0;
  EXPECT_TRUE(CheckWhatTheDroppedUserMustNotChange(options, root).ok());
}

TEST_F(DroppedUserTest, ADropToRootUnderAnotherNameKeepsNoCapability) {
  Credentials root = DroppedUser();
  root.uid = 0;
  root.description = "user toor (0)";
  Options options;
  options.capabilities = {"cap_net_bind_service"};
  const absl::Status refused =
      CheckWhatTheDroppedUserMustNotChange(options, root);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("user toor (0) is root"));
  options.capabilities.clear();
  options.chroot = "/srv/jail";
  EXPECT_THAT(CheckWhatTheDroppedUserMustNotChange(options, root).message(),
              HasSubstr("--daemon_chroot=/srv/jail"));
}

TEST_F(DroppedUserTest, AChrootTheUserMayReplaceIsRefused) {
  Options options;
  options.chroot = MakeDirectory("jail", 0755, kUser, 0);
  const absl::Status refused =
      CheckWhatTheDroppedUserMustNotChange(options, DroppedUser());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr(absl::StrCat("--daemon_chroot=", options.chroot,
                                     ": directory ", options.chroot)));
}

TEST_F(DroppedUserTest, AUnixSocketInTheUsersReachIsRefused) {
  // A socket path longer than 107 bytes is no entry to judge.
  test_support::ShortTempDir tmp;
  const std::string dir = MakeDirectoryIn(tmp.path(), "sockets", 0777);
  Options options;
  options.listen = {absl::StrCat("web=unix:", dir, "/web.sock"),
                    "admin=unix:@abstract-is-no-file"};
  const absl::Status refused =
      CheckWhatTheDroppedUserMustNotChange(options, DroppedUser());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr(absl::StrCat("--daemon_listen=web=unix:", dir,
                                     "/web.sock: directory ", dir)));
  // An abstract name and a TCP port have no directory to judge.
  options.listen = {"admin=unix:@abstract-is-no-file", "web=tcp:127.0.0.1:0"};
  EXPECT_TRUE(
      CheckWhatTheDroppedUserMustNotChange(options, DroppedUser()).ok());
}

TEST_F(DroppedUserTest, ASocketPathThroughAUsersLinkIsRefused) {
  test_support::ShortTempDir tmp;
  const std::string target = MakeDirectoryIn(tmp.path(), "target", 0755);
  const std::string link = tmp.path() + "/link";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(lchown(link.c_str(), kUser, kGroup), 0);
  Options options;
  options.listen = {absl::StrCat("web=unix:", link, "/web.sock")};
  const absl::Status refused =
      CheckWhatTheDroppedUserMustNotChange(options, DroppedUser());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(),
              HasSubstr(absl::StrCat(link, " is a symbolic link of uid 4242")));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
