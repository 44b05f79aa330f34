// Copyright 2026 The daemonkit Authors.
//
// The library's readers of /proc, on real processes: a forked child, its
// zombie, a descriptor and an OFD lock it holds.

#include "daemon/internal/proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::MakeTempDir;

using ::daemonkit::test_support::PausedChild;

// A child that opens `path` and, when `lock`, takes an OFD write lock on it.
PausedChild ChildWithFile(const std::string& path, bool lock) {
  return PausedChild([path, lock] {
    const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fd >= 0 && (!lock || fcntl(fd, F_OFD_SETLK, &fl) == 0);
  });
}

std::string MakeFile(const std::string& name, struct stat* st) {
  std::string path = MakeTempDir("proc") + "/" + name;
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(fstat(fd, st), 0);
  close(fd);
  return path;
}

TEST(ProcessStateTest, RunningZombieAndGone) {
  PausedChild child;
  EXPECT_TRUE(IsRunning(child.pid()));
  absl::StatusOr<char> state = ProcessState(child.pid());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_NE(*state, 'Z');

  child.KillButDoNotReap();
  state = ProcessState(child.pid());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, 'Z');
  EXPECT_FALSE(IsRunning(child.pid())) << "a zombie answers kill(pid, 0)";

  const pid_t pid = child.Reap();
  EXPECT_EQ(ProcessState(pid).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(IsRunning(pid));
}

TEST(CountThreadsTest, CountsAThreadWhileItRuns) {
  absl::StatusOr<int> before = CountThreads();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GE(*before, 1);
  absl::Notification started, done;
  std::thread thread([&] {
    started.Notify();
    done.WaitForNotification();
  });
  started.WaitForNotification();
  absl::StatusOr<int> during = CountThreads();
  done.Notify();
  thread.join();
  absl::StatusOr<int> after = CountThreads();
  ASSERT_TRUE(during.ok()) << during.status();
  ASSERT_TRUE(after.ok()) << after.status();
  // Relative counts: a sanitizer may start a helper thread of its own with
  // the first thread the process creates (ThreadSanitizer does), and keep it.
  EXPECT_GT(*during, *before);
  EXPECT_EQ(*during, *after + 1);
}

TEST(ProcessHasFileOpenTest, SeesTheChildsDescriptorOnly) {
  struct stat st, other;
  const std::string path = MakeFile("open", &st);
  MakeFile("other", &other);
  PausedChild child = ChildWithFile(path, /*lock=*/false);
  absl::StatusOr<bool> open_there =
      ProcessHasFileOpen(child.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(open_there.ok()) << open_there.status();
  EXPECT_TRUE(*open_there);
  absl::StatusOr<bool> other_there =
      ProcessHasFileOpen(child.pid(), other.st_dev, other.st_ino);
  ASSERT_TRUE(other_there.ok());
  EXPECT_FALSE(*other_there);
}

// Open is not locked: only the child that took the OFD write lock holds it.
TEST(ProcessHoldsWriteLockTest, TellsALockFromAnOpenDescriptor) {
  struct stat st;
  const std::string path = MakeFile("x.pid", &st);
  PausedChild opener = ChildWithFile(path, /*lock=*/false);
  PausedChild locker = ChildWithFile(path, /*lock=*/true);
  absl::StatusOr<bool> opener_holds =
      ProcessHoldsWriteLock(opener.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(opener_holds.ok()) << opener_holds.status();
  EXPECT_FALSE(*opener_holds);
  absl::StatusOr<bool> locker_holds =
      ProcessHoldsWriteLock(locker.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(locker_holds.ok()) << locker_holds.status();
  EXPECT_TRUE(*locker_holds);

  const pid_t gone = locker.Reap();
  EXPECT_EQ(ProcessHoldsWriteLock(gone, st.st_dev, st.st_ino).status().code(),
            absl::StatusCode::kNotFound);
}

// The path keeper's arrangement: the keeper (here, this process) holds the
// pid file's write lock and a pidfd of the daemon; the daemon holds no
// descriptor of the file, only a pidfd of the keeper.
TEST(WriteLockHeldForTest, TheKeepersLockCountsOnlyWithBothPidfds) {
  struct stat st;
  const std::string path = MakeFile("x.pid", &st);
  const pid_t keeper = getpid();
  PausedChild daemon([keeper] { return PidfdOpen(keeper) >= 0; });
  PausedChild stranger([keeper] { return PidfdOpen(keeper) >= 0; });
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &fl), 0);

  absl::StatusOr<std::vector<pid_t>> targets = PidfdTargets(daemon.pid());
  ASSERT_TRUE(targets.ok()) << targets.status();
  EXPECT_EQ(*targets, std::vector<pid_t>{keeper});
  // Without the keeper's pidfd of it, the daemon's pidfd proves nothing.
  absl::StatusOr<bool> held =
      WriteLockHeldFor(daemon.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_FALSE(*held);

  const int daemon_pidfd = PidfdOpen(daemon.pid());
  ASSERT_GE(daemon_pidfd, 0);
  held = WriteLockHeldFor(daemon.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_TRUE(*held);
  // Another process with a pidfd of the keeper is not the one it keeps.
  held = WriteLockHeldFor(stranger.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_FALSE(*held);
  // Nor is the daemon once the keeper lets the lock go.
  close(fd);
  held = WriteLockHeldFor(daemon.pid(), st.st_dev, st.st_ino);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_FALSE(*held);
  close(daemon_pidfd);
}

TEST(IsFcntlWriteLockLineTest, OnlyFcntlWriteLocks) {
  EXPECT_TRUE(
      IsFcntlWriteLockLine("lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:1234 0 "
                           "EOF"));
  EXPECT_TRUE(IsFcntlWriteLockLine(
      "lock:\t1: POSIX  ADVISORY  WRITE 42 fe:00:1 0 EOF"));
  EXPECT_FALSE(
      IsFcntlWriteLockLine("lock:\t1: OFDLCK ADVISORY  READ -1 fe:00:1 0 EOF"));
  EXPECT_FALSE(
      IsFcntlWriteLockLine("lock:\t1: FLOCK  ADVISORY  WRITE 42 fe:00:1 0 EOF"))
      << "flock(2) does not conflict with fcntl locks";
  EXPECT_FALSE(IsFcntlWriteLockLine("flags:\t02100002"));
  EXPECT_FALSE(IsFcntlWriteLockLine("lock:"));
}

TEST(PidfdTest, AwaitExitSeesTheExitAndSignalsReachTheProcess) {
  PausedChild child;
  const int pidfd = PidfdOpen(child.pid());
  ASSERT_GE(pidfd, 0);
  EXPECT_NE(fcntl(pidfd, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_FALSE(AwaitExit(pidfd, absl::ZeroDuration()));
  ASSERT_EQ(PidfdSendSignal(pidfd, SIGKILL), 0);
  EXPECT_TRUE(AwaitExit(pidfd, absl::Seconds(30)));
  close(pidfd);
  EXPECT_FALSE(AwaitExit(-1, absl::ZeroDuration()));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
