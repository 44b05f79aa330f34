// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile_replace.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::IsWriteLocked;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::testing::ElementsAre;
using ::testing::MatchesRegex;

class PidFileReplaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("pidfile_replace");
    path_ = dir_ + "/x.pid";
  }

  // Creates `path` with `content`, 0644, and opens it read-write.
  static UniqueFd MakeFile(const std::string& path,
                           const std::string& content) {
    UniqueFd fd(
        open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    EXPECT_TRUE(fd.valid()) << path;
    EXPECT_EQ(write(fd.get(), content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    return fd;
  }

  static bool Lock(int fd, int type) {
    struct flock lock = WholeFileLock(type);
    return fcntl(fd, F_OFD_SETLK, &lock) == 0;
  }

  // The names in the test directory: a replacement leaves no temporary
  // file behind.
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    DIR* dir = opendir(dir_.c_str());
    if (dir == nullptr) return names;
    while (const struct dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
    return names;
  }

  static FileIdentity IdentityOfPath(const std::string& path) {
    struct stat st = {};
    EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
    return FileIdentity::Of(st);
  }

  static FileIdentity IdentityOfFd(int fd) {
    struct stat st = {};
    EXPECT_EQ(fstat(fd, &st), 0);
    return FileIdentity::Of(st);
  }

  std::string dir_, path_;
};

TEST_F(PidFileReplaceTest, OnlyAWriteLockCountsAsHeld) {
  UniqueFd file = MakeFile(path_, "42\n");
  EXPECT_FALSE(HeldByWriter(file.get()));

  UniqueFd reader(open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(Lock(reader.get(), F_RDLCK));
  EXPECT_FALSE(HeldByWriter(file.get()));
  reader.reset();

  UniqueFd writer(open(path_.c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(Lock(writer.get(), F_WRLCK));
  EXPECT_TRUE(HeldByWriter(file.get()));
}

TEST_F(PidFileReplaceTest, AWriteLockHeldByAnotherProcessCounts) {
  UniqueFd file = MakeFile(path_, "42\n");
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A descriptor of its own: an OFD lock through the inherited one would
    // be the parent's too.
    const int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC);
    struct flock lock = WholeFileLock(F_WRLCK);
    if (fd < 0 || fcntl(fd, F_OFD_SETLK, &lock) != 0) _exit(1);
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  EXPECT_TRUE(HeldByWriter(file.get()));
  // A start's replacement leaves the running daemon's file alone.
  absl::StatusOr<UniqueFd> replaced = ReplacePidFile(path_);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_FALSE(replaced->valid());
  EXPECT_EQ(IdentityOfPath(path_), IdentityOfFd(file.get()));
  EXPECT_EQ(ReadFileOrEmpty(path_), "42\n");
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));

  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_FALSE(HeldByWriter(file.get()));
}

TEST_F(PidFileReplaceTest, CreatesALockedFileUnderARandomName) {
  UniqueFd dir(open(dir_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string temp;
  absl::StatusOr<UniqueFd> fd =
      CreateLockedPidFile(dir.get(), path_, 0644, &temp);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_THAT(temp, MatchesRegex("\\.x\\.pid\\.[0-9a-f]{16}"));
  const std::string at = dir_ + "/" + temp;
  EXPECT_EQ(IdentityOfPath(at), IdentityOfFd(fd->get()));
  EXPECT_TRUE(IsWriteLocked(at));
  struct stat st;
  ASSERT_EQ(fstat(fd->get(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  std::string second;
  absl::StatusOr<UniqueFd> other =
      CreateLockedPidFile(dir.get(), path_, 0600, &second);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(second, temp);
}

TEST_F(PidFileReplaceTest, AFileOnlyReadersLockIsReplacedByALockedOne) {
  UniqueFd old = MakeFile(path_, "");
  ASSERT_TRUE(Lock(old.get(), F_RDLCK));  // anyone may do this to block starts
  absl::StatusOr<UniqueFd> replaced = ReplacePidFile(path_);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  ASSERT_TRUE(replaced->valid());
  EXPECT_EQ(IdentityOfPath(path_), IdentityOfFd(replaced->get()));
  EXPECT_NE(IdentityOfPath(path_), IdentityOfFd(old.get()));
  EXPECT_TRUE(IsWriteLocked(path_));
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, kPidFileMode);
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));  // the old one is unlinked
}

TEST_F(PidFileReplaceTest, AMissingFileIsCreatedLocked) {
  absl::StatusOr<UniqueFd> replaced = ReplacePidFile(path_);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  ASSERT_TRUE(replaced->valid());
  EXPECT_EQ(IdentityOfPath(path_), IdentityOfFd(replaced->get()));
  EXPECT_TRUE(IsWriteLocked(path_));
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));
}

TEST_F(PidFileReplaceTest, AnotherUsersFileIsReplacedWhateverItsLock) {
  UniqueFd planted = MakeFile(path_, "1\n");
  if (fchown(planted.get(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a file to another user here";
  }
  ASSERT_TRUE(Lock(planted.get(), F_WRLCK));
  absl::StatusOr<UniqueFd> replaced = ReplacePidFile(path_);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  ASSERT_TRUE(replaced->valid());
  EXPECT_EQ(IdentityOfPath(path_), IdentityOfFd(replaced->get()));
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));
}

TEST_F(PidFileReplaceTest, RestoreDoesNothingWhileThePathNamesTheFile) {
  UniqueFd file = MakeFile(path_, "42\n");
  ASSERT_TRUE(Lock(file.get(), F_WRLCK));
  const FileIdentity id = IdentityOfFd(file.get());
  int fd = file.get();
  dev_t dev = id.dev;
  ino_t ino = id.ino;
  absl::StatusOr<PidFileRestore> restored =
      RestorePidFile(path_, &fd, &dev, &ino);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, PidFileRestore::kInPlace);
  EXPECT_EQ(fd, file.get());

  int none = -1;
  restored = RestorePidFile(path_, &none, &dev, &ino);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, PidFileRestore::kInPlace);
}

TEST_F(PidFileReplaceTest, ARemovedFileIsRecreatedLockedWithItsContent) {
  UniqueFd file = MakeFile(path_, "42\n");
  ASSERT_TRUE(Lock(file.get(), F_WRLCK));
  const FileIdentity old_id = IdentityOfFd(file.get());
  ASSERT_EQ(unlink(path_.c_str()), 0);  // a tmpfiles cleaner
  int fd = file.release();
  dev_t dev = old_id.dev;
  ino_t ino = old_id.ino;
  absl::StatusOr<PidFileRestore> restored =
      RestorePidFile(path_, &fd, &dev, &ino);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const UniqueFd now(fd);
  EXPECT_EQ(*restored, PidFileRestore::kRecreated);
  EXPECT_EQ(IdentityOfPath(path_), (FileIdentity{dev, ino}));
  EXPECT_EQ(IdentityOfFd(now.get()), (FileIdentity{dev, ino}));
  EXPECT_NE(ino, old_id.ino);
  EXPECT_EQ(ReadFileOrEmpty(path_), "42\n");
  EXPECT_TRUE(IsWriteLocked(path_));
  struct stat st;
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));
}

TEST_F(PidFileReplaceTest, AStaleCopyRenamedOverItIsReplaced) {
  UniqueFd file = MakeFile(path_, "42\n");
  ASSERT_TRUE(Lock(file.get(), F_WRLCK));
  const FileIdentity old_id = IdentityOfFd(file.get());
  const std::string stale = dir_ + "/stale";
  MakeFile(stale, "7\n");
  ASSERT_EQ(rename(stale.c_str(), path_.c_str()), 0);  // a restore from backup
  int fd = file.release();
  dev_t dev = old_id.dev;
  ino_t ino = old_id.ino;
  absl::StatusOr<PidFileRestore> restored =
      RestorePidFile(path_, &fd, &dev, &ino);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const UniqueFd now(fd);
  EXPECT_EQ(*restored, PidFileRestore::kReplaced);
  EXPECT_EQ(IdentityOfPath(path_), (FileIdentity{dev, ino}));
  EXPECT_EQ(ReadFileOrEmpty(path_), "42\n");
  EXPECT_TRUE(IsWriteLocked(path_));
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));  // the stale copy is gone
}

TEST_F(PidFileReplaceTest, ALaterStartsHeldFileIsLeftAlone) {
  UniqueFd file = MakeFile(path_, "42\n");
  ASSERT_TRUE(Lock(file.get(), F_WRLCK));
  const FileIdentity old_id = IdentityOfFd(file.get());
  ASSERT_EQ(unlink(path_.c_str()), 0);
  UniqueFd later = MakeFile(path_, "43\n");
  ASSERT_TRUE(Lock(later.get(), F_WRLCK));
  const int held = file.get();
  int fd = held;
  dev_t dev = old_id.dev;
  ino_t ino = old_id.ino;
  absl::StatusOr<PidFileRestore> restored =
      RestorePidFile(path_, &fd, &dev, &ino);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, PidFileRestore::kTaken);
  EXPECT_EQ(fd, held);
  EXPECT_EQ(ino, old_id.ino);
  EXPECT_EQ(IdentityOfPath(path_), IdentityOfFd(later.get()));
  EXPECT_EQ(ReadFileOrEmpty(path_), "43\n");
  EXPECT_THAT(Entries(), ElementsAre("x.pid"));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
