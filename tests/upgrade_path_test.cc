// Copyright 2026 The daemonkit Authors.
//
// Issue 18.19: an upgrade runs the binary at the daemon's path as the
// daemon's user (root here). A path that someone else could change (a
// directory on it, the binary, a link) lets them choose what root runs at
// the next upgrade: the upgrade is refused, naming the path and why, and the
// old daemon keeps serving. A path that only root could have chosen upgrades
// as before. The daemon runs as real root and parts of its path belong to
// nobody: outside the test sandbox (whose user namespace maps uid 0 only).

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::Exchange;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Copies `from` to `to` (mode 0755, root's: this test's user).
bool InstallBinary(const std::string& from, const std::string& to) {
  const std::string command =
      absl::StrCat("cp '", from, "' '", to, "' && chmod 0755 '", to, "'");
  return system(command.c_str()) == 0;
}

class UpgradePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "needs root";
    const struct passwd* nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    nobody_ = nobody->pw_uid;
    dir_ = test_support::MakeTempDir("upgrade_path");
    pidfile_ = dir_ + "/echo.pid";
    // Abstract: TEST_TMPDIR's path may be too long for a socket file.
    socket_ =
        absl::StrCat("@daemonkit-upgrade-path-", getpid(), "-", ++counter_);
  }
  void TearDown() override { test_support::KillPidFileHolder(pidfile_); }

  RunResult Run(const std::string& binary, std::vector<std::string> extra) {
    std::vector<std::string> argv = {binary, "--daemon_pidfile=" + pidfile_,
                                     "--daemon_stderr=" + dir_ + "/echo.log"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }
  // Starts `binary` as root; the control actions run the built echo.
  void Start(const std::string& binary) {
    RunResult start = Run(binary, {"--daemon_listen=echo=unix:" + socket_});
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    ASSERT_GT(ReadPid(pidfile_), 0);
  }
  RunResult Control(const std::string& action) {
    return Run(test_support::RunfilePath("examples/echo"),
               {"--daemon_control=" + action});
  }
  // The upgrade is refused with one line naming `binary` and `why`, and
  // the old daemon serves on.
  void ExpectRefused(const std::string& binary, const std::string& why) {
    const pid_t old_pid = ReadPid(pidfile_);
    RunResult upgrade = Control("upgrade");
    EXPECT_EQ(upgrade.exit_code, 1) << upgrade.stderr_text;
    EXPECT_THAT(
        upgrade.stderr_text,
        AllOf(HasSubstr(absl::StrCat("refusing to run binary ", binary, ": ")),
              HasSubstr(why), HasSubstr("uid 0")));
    EXPECT_EQ(ReadPid(pidfile_), old_pid);
    EXPECT_EQ(Exchange(socket_, "u\n"), absl::StrCat(old_pid, " u\n"));
    EXPECT_EQ(Control("stop").exit_code, 0);
  }

  static int counter_;
  uid_t nobody_ = 0;
  std::string dir_, pidfile_, socket_;
};

int UpgradePathTest::counter_ = 0;

// The attack: a deploy user who owns the binary's directory puts whatever
// they like at the path, and root runs it at the next upgrade.
TEST_F(UpgradePathTest, ADirectoryOfAnotherUserOnThePathRefusesTheUpgrade) {
  const std::string deploy = dir_ + "/deploy";
  ASSERT_EQ(mkdir(deploy.c_str(), 0755), 0);
  const std::string binary = deploy + "/echo";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary));
  ASSERT_EQ(chown(deploy.c_str(), nobody_, nobody_), 0);
  Start(binary);
  ExpectRefused(
      binary, absl::StrCat("directory ", deploy, " is owned by uid ", nobody_));
}

TEST_F(UpgradePathTest, ABinaryOfAnotherUserRefusesTheUpgrade) {
  const std::string binary = dir_ + "/echo";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary));
  ASSERT_EQ(chown(binary.c_str(), nobody_, nobody_), 0);
  Start(binary);
  ExpectRefused(binary, absl::StrCat("is owned by uid ", nobody_));
}

TEST_F(UpgradePathTest, ABinaryOthersMayWriteRefusesTheUpgrade) {
  const std::string binary = dir_ + "/echo";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary));
  ASSERT_EQ(chmod(binary.c_str(), 0757), 0);
  Start(binary);
  ExpectRefused(binary, "is writable by its group or others (mode 0757)");
}

TEST_F(UpgradePathTest, AGroupWritableDirectoryRefusesTheUpgrade) {
  const std::string deploy = dir_ + "/deploy";
  ASSERT_EQ(mkdir(deploy.c_str(), 0755), 0);
  const std::string binary = deploy + "/echo";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary));
  ASSERT_EQ(chmod(deploy.c_str(), 0775), 0);
  Start(binary);
  ExpectRefused(binary, absl::StrCat("directory ", deploy,
                                     " is writable by its group or others "
                                     "(mode 0775)"));
}

// A release link (the last component) that another user owns: they
// cannot retarget it in root's directory, but it was not root's choice.
TEST_F(UpgradePathTest, AReleaseLinkOfAnotherUserRefusesTheUpgrade) {
  const std::string release = dir_ + "/release1";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), release));
  const std::string binary = dir_ + "/echo";
  ASSERT_EQ(symlink(release.c_str(), binary.c_str()), 0);
  ASSERT_EQ(lchown(binary.c_str(), nobody_, nobody_), 0);
  Start(binary);
  ExpectRefused(binary, absl::StrCat("is owned by uid ", nobody_));
}

// Where a release link points is checked too: a link of root's to a
// directory of nobody's.
TEST_F(UpgradePathTest, AReleaseLinkIntoAnotherUsersDirectoryRefuses) {
  const std::string releases = dir_ + "/releases";
  ASSERT_EQ(mkdir(releases.c_str(), 0755), 0);
  const std::string release = releases + "/echo";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), release));
  ASSERT_EQ(chown(releases.c_str(), nobody_, nobody_), 0);
  const std::string binary = dir_ + "/echo";
  ASSERT_EQ(symlink("releases/echo", binary.c_str()), 0);
  Start(binary);
  ExpectRefused(binary, absl::StrCat("directory ", dir_,
                                     "/releases is owned "
                                     "by uid ",
                                     nobody_));
}

// Root's path, mode 0755, through a root release link: upgrades as before.
TEST_F(UpgradePathTest, ARootOnlyPathUpgrades) {
  const std::string release = dir_ + "/release1";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), release));
  const std::string binary = dir_ + "/echo";
  ASSERT_EQ(symlink("release1", binary.c_str()), 0);
  Start(binary);
  const pid_t old_pid = ReadPid(pidfile_);
  RunResult upgrade = Control("upgrade");
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t new_pid = ReadPid(pidfile_);
  EXPECT_NE(new_pid, old_pid);
  EXPECT_EQ(Exchange(socket_, "u\n"), absl::StrCat(new_pid, " u\n"));
  EXPECT_EQ(Control("stop").exit_code, 0);
}

// A sticky directory that others may write (as /tmp): root's entry in it
// only root may rename or remove, so root's binary there upgrades; another
// user's entry there is refused.
TEST_F(UpgradePathTest, AStickyDirectoryTrustsOnlyRootsEntries) {
  const std::string shared = dir_ + "/shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0755), 0);
  ASSERT_EQ(chmod(shared.c_str(), 01777), 0);
  const std::string binary = shared + "/echo";
  ASSERT_TRUE(
      InstallBinary(test_support::RunfilePath("examples/echo"), binary));
  Start(binary);
  const pid_t old_pid = ReadPid(pidfile_);
  RunResult upgrade = Control("upgrade");
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  EXPECT_NE(ReadPid(pidfile_), old_pid);
  ASSERT_EQ(lchown(binary.c_str(), nobody_, nobody_), 0);
  ExpectRefused(binary, absl::StrCat("directory ", shared,
                                     " is writable by its group or others "
                                     "(mode 1777) and its entry echo is owned "
                                     "by uid ",
                                     nobody_));
}

}  // namespace
}  // namespace daemonkit
