// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/safe_open.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::testing::HasSubstr;

class SafeOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("safe_open");
    path_ = dir_ + "/out.log";
    victim_ = dir_ + "/victim";
    int fd = open(victim_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, "secret\n", 7), 7);
    close(fd);
    policy_.what = "output";
    policy_.access = O_WRONLY | O_APPEND;
    policy_.create = true;
    policy_.create_mode = 0640;
    policy_.owners = {0, geteuid()};
    policy_.allow_dev_null = true;
  }

  // Opens path_ and expects a refusal that names it; the victim is intact.
  void ExpectRefused(absl::string_view why) {
    absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
    ASSERT_FALSE(opened.ok());
    EXPECT_THAT(std::string(opened.status().message()),
                HasSubstr("output " + path_));
    EXPECT_THAT(std::string(opened.status().message()),
                HasSubstr(std::string(why)));
    EXPECT_EQ(ReadFileOrEmpty(victim_), "secret\n");
  }

  std::string dir_, path_, victim_;
  OpenPolicy policy_;
};

// Found by the second independent attack: a link through /proc names what
// the process following it has (its working directory, its descriptors),
// so the same path reached the launcher's directory at start and the
// daemon's (or the keeper's "/") at a reopen.
TEST_F(SafeOpenTest, NeverFollowsProcsLinks) {
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  path_ = "/proc/self/cwd/out.log";
  ExpectRefused("is a symbolic link in a directory others may write");
  EXPECT_FALSE(FileExists(dir_ + "/out.log"));
}

// A sticky directory's owner may rename or replace any entry in it: a link
// there is only as trusted as that owner. Others may write the directory
// made here (mode 1777): a link root put in it is followed only while the
// directory is root's own.
TEST_F(SafeOpenTest, ALinkInAStickyDirectoryIsTrustedOnlyIfTheDirectoryIs) {
  const std::string sticky = dir_ + "/sticky";
  ASSERT_EQ(mkdir(sticky.c_str(), 0755), 0);
  ASSERT_EQ(chmod(sticky.c_str(), 01777), 0);
  ASSERT_EQ(mkdir((dir_ + "/real").c_str(), 0755), 0);
  ASSERT_EQ(symlink((dir_ + "/real").c_str(), (sticky + "/link").c_str()), 0);
  path_ = sticky + "/link/out.log";
  absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  close(opened->fd);
  EXPECT_TRUE(FileExists(dir_ + "/real/out.log"));

  // The same directory, owned by another user (whom the test cannot be in
  // a user namespace that maps only root: then there is nothing to show).
  if (chown(sticky.c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a directory to uid 65534 here";
  }
  ExpectRefused("is a symbolic link in a directory others may write");
}

TEST_F(SafeOpenTest, CreatesWithTheExactModeWhateverTheUmask) {
  const mode_t old = umask(0077);
  absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
  umask(old);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->created);
  struct stat st;
  ASSERT_EQ(fstat(opened->fd, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(fcntl(opened->fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(fcntl(opened->fd, F_GETFD) & FD_CLOEXEC, 0);
  close(opened->fd);
  // Opened again: the same file, not created this time.
  opened = SafeOpen(path_, policy_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_FALSE(opened->created);
  EXPECT_EQ(opened->ino, st.st_ino);
  close(opened->fd);
}

TEST_F(SafeOpenTest, RefusesASymbolicLink) {
  ASSERT_EQ(symlink(victim_.c_str(), path_.c_str()), 0);
  ExpectRefused("symbolic link");
}

TEST_F(SafeOpenTest, RefusesADanglingSymbolicLinkAndCreatesNothing) {
  const std::string target = dir_ + "/created-through-link";
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  ExpectRefused("symbolic link");
  EXPECT_FALSE(FileExists(target));
}

TEST_F(SafeOpenTest, RefusesAFifoWithoutBlocking) {
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  ExpectRefused("is a FIFO");
  policy_.access = O_RDWR;  // a FIFO opened read-write does not block either
  ExpectRefused("is a FIFO");
}

TEST_F(SafeOpenTest, RefusesADirectory) {
  ASSERT_EQ(mkdir(path_.c_str(), 0755), 0);
  ExpectRefused("is a directory");
}

TEST_F(SafeOpenTest, RefusesAHardLink) {
  ASSERT_EQ(link(victim_.c_str(), path_.c_str()), 0);
  ExpectRefused("2 hard links");
}

TEST_F(SafeOpenTest, RefusesAFileOfAnotherOwner) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  policy_.owners = {4242};  // neither root nor us
  ExpectRefused("owned by uid");
  policy_.owners = {};  // anyone
  absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  close(opened->fd);
}

TEST_F(SafeOpenTest, TheRefusalNamesEachAllowedOwnerOnce) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  // Root and the caller, when the caller is root: one uid.
  policy_.owners = {4242, 4242};
  ExpectRefused(absl::StrCat("is owned by uid ", geteuid(),
                             ", not by uid 4242; refusing"));
  policy_.owners = {4242, 4243, 4242};
  ExpectRefused(absl::StrCat("is owned by uid ", geteuid(),
                             ", not by uid 4242 or uid 4243; refusing"));
}

TEST_F(SafeOpenTest, DevNullIsTheOneDevice) {
  path_ = "/dev/null";
  absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_FALSE(opened->created);
  close(opened->fd);
  path_ = "/dev/zero";
  ExpectRefused("character device");
  path_ = "/dev/null";
  policy_.allow_dev_null = false;
  ExpectRefused("character device");
}

TEST_F(SafeOpenTest, MissingWithoutCreateIsNotFound) {
  policy_.create = false;
  absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
  EXPECT_TRUE(absl::IsNotFound(opened.status())) << opened.status();
}

TEST_F(SafeOpenTest, UnlinkIfSameLeavesAReplacementAlone) {
  // The file stays open throughout, as the pid file does: its inode number
  // cannot be reused by the replacement.
  absl::StatusOr<OpenedFile> opened = SafeOpen(path_, policy_);
  ASSERT_TRUE(opened.ok());
  ASSERT_EQ(rename(path_.c_str(), (path_ + ".moved").c_str()), 0);
  ASSERT_EQ(symlink(victim_.c_str(), path_.c_str()), 0);
  absl::StatusOr<bool> removed = UnlinkIfSame(path_, opened->dev, opened->ino);
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(*removed);
  struct stat st;
  EXPECT_EQ(lstat(path_.c_str(), &st), 0);
  ASSERT_EQ(unlink(path_.c_str()), 0);
  ASSERT_EQ(rename((path_ + ".moved").c_str(), path_.c_str()), 0);
  removed = UnlinkIfSame(path_, opened->dev, opened->ino);
  close(opened->fd);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(FileExists(path_));
}

// Found by the attack of 2026-12-06: a path keeper resumed after its daemon
// exited removed the socket file another daemon had since bound with the
// same inode number. A late removal now keeps a file that has a listener.
TEST_F(SafeOpenTest, SocketFileHasListenerTellsALiveSocketFromADeadOne) {
  const int dir = open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  // Bound through the directory's descriptor: $TEST_TMPDIR is longer than
  // a sockaddr_un holds.
  const std::string through = absl::StrCat("/proc/self/fd/", dir, "/app.sock");
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  ASSERT_LT(through.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, through.data(), through.size());
  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(bind(listener, reinterpret_cast<struct sockaddr*>(&address),
                 sizeof(address)),
            0)
      << strerror(errno);
  ASSERT_EQ(listen(listener, 4), 0);
  EXPECT_TRUE(SocketFileHasListener(dir, "app.sock", dir_ + "/app.sock"));
  close(listener);  // the file stays, dead, as a SIGKILLed daemon leaves it
  EXPECT_FALSE(SocketFileHasListener(dir, "app.sock", dir_ + "/app.sock"));
  EXPECT_FALSE(SocketFileHasListener(dir, "out.log", path_));
  EXPECT_FALSE(SocketFileHasListener(dir, "victim", victim_));
  EXPECT_FALSE(SocketFileHasListener(dir, "none", dir_ + "/none"));
  close(dir);
}

TEST_F(SafeOpenTest, DirectoryNoFollow) {
  absl::StatusOr<int> fd = OpenDirectoryNoFollow(dir_, "workdir");
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
  ASSERT_EQ(symlink(dir_.c_str(), path_.c_str()), 0);
  fd = OpenDirectoryNoFollow(path_, "workdir");
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(std::string(fd.status().message()),
              HasSubstr("workdir " + path_ + " is a symbolic link"));
  fd = OpenDirectoryNoFollow(victim_, "chroot");
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(std::string(fd.status().message()), HasSubstr("not a directory"));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
