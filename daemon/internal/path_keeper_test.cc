// Copyright 2026 The daemonkit Authors.
//
// The keeper's protocol, served by a real forked process; and Start(), whose
// keeper must go when the daemon that started it goes.

#include "daemon/internal/path_keeper.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/proc.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::testing::HasSubstr;

OpenPolicy OutputPolicy() {
  OpenPolicy policy;
  policy.what = "output";
  policy.access = O_WRONLY | O_APPEND;
  policy.create = true;
  policy.create_mode = 0640;
  policy.owners = {0, geteuid()};
  return policy;
}

class PathKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("keeper");
    log_ = dir_ + "/out.log";
    pidfile_ = dir_ + "/x.pid";
    int fd = open(pidfile_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0644);
    ASSERT_GE(fd, 0);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    close(fd);
    targets_.outputs.push_back({log_, OutputPolicy()});
    targets_.pidfile = KeeperPidFile{pidfile_, st.st_dev, st.st_ino};
  }

  void TearDown() override {
    client_.reset();
    if (daemon_ > 0) EndDaemon();
    if (keeper_ > 0) {
      kill(keeper_, SIGKILL);
      waitpid(keeper_, nullptr, 0);
    }
  }

  // Serves `targets_` in a forked child, as the keeper would, for the
  // process behind `daemon_pidfd` (-1: none). The child keeps the pid file's
  // locked descriptor, if `targets_` has one; this process closes its copy.
  void Serve(int daemon_pidfd = -1) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    const int on = 1;  // as Start() does: each request names its sender
    ASSERT_EQ(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
    keeper_ = fork();
    ASSERT_GE(keeper_, 0);
    if (keeper_ == 0) {
      close(sv[0]);
      _exit(ServePathKeeper(sv[1], daemon_pidfd, targets_));
    }
    close(sv[1]);
    if (daemon_pidfd >= 0) close(daemon_pidfd);
    if (targets_.pidfile->fd >= 0) {
      close(targets_.pidfile->fd);
      targets_.pidfile->fd = -1;
    }
    client_ = std::make_unique<PathKeeperClient>(sv[0]);
  }

  // The keeper's exit code once it has ended.
  int KeeperExit() {
    int status;
    EXPECT_EQ(waitpid(keeper_, &status, 0), keeper_);
    keeper_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // A stand-in daemon that lives until killed; its pidfd. The pid file is
  // opened and write-locked as the daemon's, for the keeper to hold.
  int StartDaemonHoldingItsPidFile() {
    daemon_ = fork();
    if (daemon_ == 0) {
      for (;;) pause();
    }
    EXPECT_GT(daemon_, 0);
    const int fd = open(pidfile_.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    EXPECT_EQ(fcntl(fd, F_OFD_SETLK, &lock), 0);
    const std::string pid = absl::StrCat(daemon_, "\n");
    EXPECT_EQ(pwrite(fd, pid.data(), pid.size(), 0),
              static_cast<ssize_t>(pid.size()));
    targets_.pidfile->fd = fd;
    return PidfdOpen(daemon_);
  }
  void EndDaemon() {
    kill(daemon_, SIGKILL);
    waitpid(daemon_, nullptr, 0);
    daemon_ = 0;
  }
  // Whether someone holds a write lock on the pid file.
  bool PidFileLocked() {
    const int fd = open(pidfile_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock lock = {};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;
    const bool locked =
        fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
    close(fd);
    return locked;
  }

  std::string dir_, log_, pidfile_;
  pid_t daemon_ = 0;
  KeeperTargets targets_;
  pid_t keeper_ = 0;
  std::unique_ptr<PathKeeperClient> client_;
};

TEST_F(PathKeeperTest, OpensTheConfiguredOutputAndPassesItBack) {
  Serve();
  absl::StatusOr<int> fd = client_->OpenOutput(0);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_EQ(write(*fd, "line\n", 5), 5);
  close(*fd);
  EXPECT_EQ(ReadFileOrEmpty(log_), "line\n");
  struct stat st;
  ASSERT_EQ(stat(log_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // End-of-file ends the keeper cleanly.
  client_.reset();
  EXPECT_EQ(KeeperExit(), 0);
}

TEST_F(PathKeeperTest, RefusesAPlantedLinkAndSaysWhy) {
  const std::string victim = dir_ + "/victim";
  ASSERT_EQ(symlink(victim.c_str(), log_.c_str()), 0);
  Serve();
  absl::StatusOr<int> fd = client_->OpenOutput(0);
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(std::string(fd.status().message()),
              HasSubstr("output " + log_ + " is a symbolic link"));
  EXPECT_FALSE(FileExists(victim));
  // A refusal is an answer, not the end: the keeper goes on serving.
  ASSERT_EQ(unlink(log_.c_str()), 0);
  fd = client_->OpenOutput(0);
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
}

TEST_F(PathKeeperTest, RemovesThePidFileOnlyWhileItIsTheSameFile) {
  Serve();
  // Replaced by another file: left alone.
  ASSERT_EQ(rename(pidfile_.c_str(), (pidfile_ + ".old").c_str()), 0);
  int fd = open(pidfile_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  absl::StatusOr<bool> removed = client_->RemovePidFile();
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_FALSE(*removed);
  EXPECT_TRUE(FileExists(pidfile_));
  // The original back in place: removed.
  ASSERT_EQ(rename((pidfile_ + ".old").c_str(), pidfile_.c_str()), 0);
  removed = client_->RemovePidFile();
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PathKeeperTest, RemovesTheWorkerPidFileAsPidFileOne) {
  const std::string worker = dir_ + "/worker.pid";
  int fd = open(worker.c_str(), O_RDWR | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  close(fd);
  targets_.worker_pidfile = KeeperPidFile{worker, st.st_dev, st.st_ino};
  Serve();
  absl::StatusOr<bool> removed =
      client_->RemovePidFile(KeeperPidFileId::kWorker);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(FileExists(worker));
  EXPECT_TRUE(FileExists(pidfile_)) << "#1 removed #0";
  removed = client_->RemovePidFile(KeeperPidFileId::kDaemon);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PathKeeperTest, AWorkerPidFileItWasNotGivenEndsTheKeeper) {
  Serve();
  EXPECT_FALSE(client_->RemovePidFile(KeeperPidFileId::kWorker).ok());
  EXPECT_EQ(KeeperExit(), 1);
  EXPECT_TRUE(FileExists(pidfile_));
}

TEST_F(PathKeeperTest, AnIndexBeyondTheConfiguredOutputsEndsTheKeeper) {
  Serve();
  absl::StatusOr<int> fd = client_->OpenOutput(1);
  EXPECT_FALSE(fd.ok());
  EXPECT_EQ(KeeperExit(), 1);
}

// A requester (a compromised daemon) that hands over a reply socket nobody
// reads, its queue already full: the keeper's answer must not block it, or
// it would serve no one again and never let the pid file's lock go.
TEST_F(PathKeeperTest, AReplySocketNobodyReadsDoesNotStallTheKeeper) {
  Serve();
  int stuck[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, stuck), 0);
  ASSERT_EQ(fcntl(stuck[1], F_SETFL, O_NONBLOCK), 0);
  const std::string filler(4096, 'x');
  while (send(stuck[1], filler.data(), filler.size(), MSG_NOSIGNAL) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  // Blocking again: the keeper receives this very description.
  ASSERT_EQ(fcntl(stuck[1], F_SETFL, 0), 0);
  // A well-formed OpenOutput request with `stuck[1]` as its reply socket.
  const uint32_t request[3] = {0x6b656570, 1, 0};  // magic, op 1, index 0
  ASSERT_TRUE(SendWithDescriptor(
                  client_->fd(),
                  absl::string_view(reinterpret_cast<const char*>(request),
                                    sizeof(request)),
                  stuck[1], "the keeper")
                  .ok());
  // The next request is answered (a stalled keeper would let it time out).
  absl::StatusOr<int> fd = client_->OpenOutput(0);
  ASSERT_TRUE(fd.ok()) << fd.status();
  close(*fd);
  close(stuck[0]);
  close(stuck[1]);
}

TEST_F(PathKeeperTest, GarbageEndsTheKeeper) {
  Serve();
  ASSERT_EQ(send(client_->fd(), "open /etc/shadow", 16, MSG_NOSIGNAL), 16);
  EXPECT_EQ(KeeperExit(), 1);
}

TEST_F(PathKeeperTest, ARequestWithoutReplySocketEndsTheKeeper) {
  Serve();
  const uint32_t request[2] = {0x6b656570, 1};  // well-sized, no descriptor
  ASSERT_EQ(send(client_->fd(), request, sizeof(request), MSG_NOSIGNAL),
            static_cast<ssize_t>(sizeof(request)));
  EXPECT_EQ(KeeperExit(), 1);
}

// The keeper that holds the daemon's pid-file lock removes the file only
// once the daemon has exited: a request while it runs (all a compromised
// daemon could send) makes no running daemon look stopped.
TEST_F(PathKeeperTest,
       HoldingTheLockItRemovesThePidFileOnlyOnceTheDaemonExits) {
  Serve(StartDaemonHoldingItsPidFile());
  absl::StatusOr<bool> removed = client_->RemovePidFile();
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_TRUE(FileExists(pidfile_));
  EXPECT_TRUE(PidFileLocked());
  EndDaemon();
  EXPECT_EQ(KeeperExit(), 0);
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(PathKeeperTest, HoldingTheLockItLeavesACrashedDaemonsPidFile) {
  Serve(StartDaemonHoldingItsPidFile());
  const std::string content = ReadFileOrEmpty(pidfile_);
  EndDaemon();  // no removal asked for: the daemon crashed
  EXPECT_EQ(KeeperExit(), 0);
  EXPECT_EQ(ReadFileOrEmpty(pidfile_), content);
  EXPECT_FALSE(PidFileLocked());
}

TEST_F(PathKeeperTest, HoldingTheLockItHoldsItThroughGarbageAndEndOfFile) {
  Serve(StartDaemonHoldingItsPidFile());
  ASSERT_EQ(send(client_->fd(), "open /etc/shadow", 16, MSG_NOSIGNAL), 16);
  client_.reset();  // and end-of-file
  // Had it ended, it would be reaped here at once.
  for (int i = 0; i < 20; ++i) {
    int status;
    ASSERT_EQ(waitpid(keeper_, &status, WNOHANG), 0) << "the keeper ended";
    ASSERT_TRUE(PidFileLocked());
    usleep(10000);
  }
  EndDaemon();
  EXPECT_EQ(KeeperExit(), 1);
  EXPECT_TRUE(FileExists(pidfile_));
  EXPECT_FALSE(PidFileLocked());
}

// The worker's pid file under a dropped supervisor: the supervisor (here,
// this process, the keeper's "daemon") names each worker it forked; the
// keeper locks the file for it and writes its pid, and empties the file and
// lets the lock go when it exits.
class NameWorkerTest : public PathKeeperTest {
 protected:
  void SetUp() override {
    PathKeeperTest::SetUp();
    worker_path_ = dir_ + "/worker.pid";
    const int fd =
        open(worker_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    targets_.worker_pidfile =
        KeeperPidFile{worker_path_, st.st_dev, st.st_ino, fd};
    Serve(PidfdOpen(getpid()));
    close(fd);
  }
  bool WorkerFileLocked() {
    const std::string saved = pidfile_;
    pidfile_ = worker_path_;
    const bool locked = PidFileLocked();
    pidfile_ = saved;
    return locked;
  }
  std::string worker_path_;
};

TEST_F(NameWorkerTest, LocksAndWritesTheFileForTheWorkersLifeOnly) {
  test_support::PausedChild worker;
  ASSERT_TRUE(client_->NameWorker(worker.pid()).ok());
  EXPECT_EQ(ReadFileOrEmpty(worker_path_), absl::StrCat(worker.pid(), "\n"));
  EXPECT_TRUE(WorkerFileLocked());
  worker.Reap();
  EXPECT_TRUE(test_support::WaitFor([&] { return !WorkerFileLocked(); }));
  EXPECT_EQ(ReadFileOrEmpty(worker_path_), "");
  // The next worker gets the file.
  test_support::PausedChild next;
  ASSERT_TRUE(client_->NameWorker(next.pid()).ok());
  EXPECT_EQ(ReadFileOrEmpty(worker_path_), absl::StrCat(next.pid(), "\n"));
  EXPECT_TRUE(WorkerFileLocked());
}

TEST_F(NameWorkerTest, OnlyTheSupervisorNamesOnlyItsOwnChild) {
  test_support::PausedChild worker;
  // Not a child of the supervisor: a grandchild (what a worker forks), or
  // pid 1.
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  const pid_t middle = fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      for (;;) pause();
    }
    if (write(report[1], &grandchild, sizeof(grandchild)) < 0) _exit(1);
    for (;;) pause();
  }
  pid_t grandchild = 0;
  ASSERT_EQ(read(report[0], &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));
  close(report[0]);
  close(report[1]);
  EXPECT_EQ(client_->NameWorker(grandchild).code(),
            absl::StatusCode::kPermissionDenied);
  kill(grandchild, SIGKILL);
  kill(middle, SIGKILL);
  waitpid(middle, nullptr, 0);
  EXPECT_EQ(client_->NameWorker(1).code(), absl::StatusCode::kPermissionDenied);
  // A worker (any process but the supervisor) asking, for itself or for
  // another: refused, and the file stays empty.
  const pid_t asker = fork();
  ASSERT_GE(asker, 0);
  if (asker == 0) {
    PathKeeperClient as_worker(dup(client_->fd()));
    const bool refused =
        absl::IsPermissionDenied(as_worker.NameWorker(getpid())) &&
        absl::IsPermissionDenied(
            as_worker.RemovePidFile(KeeperPidFileId::kWorker).status());
    _exit(refused ? 0 : 1);
  }
  int status;
  ASSERT_EQ(waitpid(asker, &status, 0), asker);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(ReadFileOrEmpty(worker_path_), "");
  EXPECT_FALSE(WorkerFileLocked());
  // The supervisor, for its child: done.
  EXPECT_TRUE(client_->NameWorker(worker.pid()).ok());
  EXPECT_TRUE(WorkerFileLocked());
}

TEST_F(PathKeeperTest, StartedKeeperHoldsNoDirectoryAndEndsWithItsDaemon) {
  // A stand-in daemon in a session of its own starts a keeper, reports the
  // keeper's descriptors through a file, and exits when told.
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t daemon = fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    close(go[1]);
    if (setsid() < 0) _exit(2);
    absl::StatusOr<std::shared_ptr<PathKeeperClient>> keeper =
        PathKeeperClient::Start(targets_);
    if (!keeper.ok()) _exit(3);
    absl::StatusOr<int> fd = (*keeper)->OpenOutput(0);
    if (!fd.ok() || write(*fd, "via keeper\n", 11) != 11) _exit(4);
    char byte;
    (void)!read(go[0], &byte, 1);
    _exit(0);
  }
  close(go[0]);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return ReadFileOrEmpty(log_) == "via keeper\n"; }));
  std::vector<pid_t> members = test_support::LiveSessionMembers(daemon);
  members.erase(std::remove(members.begin(), members.end(), daemon),
                members.end());
  ASSERT_EQ(members.size(), 1u);
  const pid_t keeper = members[0];
  // Not the daemon's child: the application's wait() never sees it.
  EXPECT_NE(test_support::StatOf(keeper).field(ProcStat::kPpid),
            absl::StrCat(daemon));
  for (const auto& [fd, target] : test_support::OpenDescriptors(keeper)) {
    struct stat st;
    const std::string link = absl::StrCat("/proc/", keeper, "/fd/", fd);
    ASSERT_EQ(stat(link.c_str(), &st), 0) << target;
    EXPECT_FALSE(S_ISDIR(st.st_mode)) << fd << " -> " << target;
  }
  char cwd[4096];
  ssize_t n = readlink(absl::StrCat("/proc/", keeper, "/cwd").c_str(), cwd,
                       sizeof(cwd));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(cwd, n), "/");
  // The daemon goes; so does the keeper.
  close(go[1]);
  int status;
  ASSERT_EQ(waitpid(daemon, &status, 0), daemon);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(test_support::WaitUntilGone(keeper));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
