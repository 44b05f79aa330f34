// Copyright 2026 The daemonkit Authors.
//
// The keeper process (path_keeper.h): what PathKeeperClient::Start's
// intermediate process and the keeper it forks run, and ServePathKeeper, the
// keeper's loop. The daemon's side, which asks, is path_keeper_client.cc.

#include "daemon/internal/path_keeper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/keeper_protocol.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/testing_hooks.h"
#include "daemon/internal/wait_status.h"
#include "daemon/options.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace internal {
namespace {
void Reply(int reply_fd, const absl::Status& status, bool removed, int fd) {
  (void)SendKeeperMessage(reply_fd, EncodeKeeperReply(status, removed), fd,
                          MSG_DONTWAIT);
}

// The pid file a RemovePidFile request names, if the keeper was given it.
const std::optional<KeeperPidFile>& TargetPidFile(const KeeperTargets& targets,
                                                  KeeperPidFileId id) {
  return id == KeeperPidFileId::kWorker ? targets.worker_pidfile
                                        : targets.pidfile;
}

bool IsSocket(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// The keeper's state and loop (ServePathKeeper).
class Keeper {
 public:
  Keeper(int fd, int daemon_pidfd, const KeeperTargets& targets)
      : fd_(fd),
        daemon_pidfd_(daemon_pidfd),
        daemon_pid_(daemon_pidfd >= 0 ? PidOfPidfd(daemon_pidfd) : 0),
        targets_(targets),
        holds_pidfile_lock_(daemon_pidfd >= 0 && targets.pidfile &&
                            targets.pidfile->fd >= 0) {
    if (holds_pidfile_lock_) pidfile_ = *targets.pidfile;
  }
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;
  ~Keeper() { ReleaseWorker(); }

  int Run() {
    for (;;) {
      // The daemon, the current worker, the socket; those in use.
      struct pollfd fds[3];
      int count = 0;
      const int daemon_at = daemon_pidfd_ >= 0 ? count++ : -1;
      if (daemon_at >= 0) fds[daemon_at] = {daemon_pidfd_, POLLIN, 0};
      const int worker_at = worker_pidfd_ >= 0 ? count++ : -1;
      if (worker_at >= 0) fds[worker_at] = {worker_pidfd_, POLLIN, 0};
      const int socket_at = serving_ ? count++ : -1;
      if (socket_at >= 0) fds[socket_at] = {fd_, POLLIN, 0};
      // Issue 18.18: while it holds the daemon's lock, the keeper looks
      // at least every kPidFileCheckPeriod whether the file was removed.
      const int timeout_ms =
          holds_pidfile_lock_ ? PollTimeoutMs(kPidFileCheckPeriod) : -1;
      const int ready = poll(fds, count, timeout_ms);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return 1;
      }
      // The daemon is gone: whatever still holds its end (a child it
      // forked) has no business with its files. What the daemon itself
      // asked before it exited is still done: a keeper stopped with
      // SIGSTOP (issue 18.12) finds the clean stop's requests (remove the
      // socket files) queued behind the daemon's exit when it is resumed.
      if (daemon_at >= 0 && (fds[daemon_at].revents & POLLIN)) {
        daemon_gone_ = true;
        ServeQueued();
        break;
      }
      if (worker_at >= 0 && (fds[worker_at].revents & POLLIN)) {
        ReleaseWorker();
      }
      if (socket_at >= 0 &&
          (fds[socket_at].revents & (POLLIN | POLLHUP | POLLERR))) {
        if (!ServeOne()) {
          // No more requests. A keeper that holds the pid file's lock holds
          // it on until the daemon exits, whatever the daemon sent.
          if (!holds_pidfile_lock_) return exit_code_;
          serving_ = false;
        }
      }
      // After the events, never before: a keeper that woke (or was resumed
      // from SIGSTOP) with its daemon gone and the clean stop's request
      // queued recreated the file first, over what had taken the path
      // meanwhile, and then removed it (a FIFO planted at the path was
      // gone; the privileged paths test saw a regular file where its FIFO
      // was, in CI's first stage).
      if (holds_pidfile_lock_) RestorePidFileIfRemoved();
    }
    if (remove_pidfile_at_exit_) {
      (void)UnlinkIfSame(pidfile_.path, pidfile_.dev, pidfile_.ino);
    }
    return exit_code_;
  }

 private:
  // Answers the requests already queued on the socket, without waiting for
  // more.
  void ServeQueued() {
    while (serving_) {
      struct pollfd pfd = {fd_, POLLIN, 0};
      if (poll(&pfd, 1, 0) <= 0 || (pfd.revents & POLLIN) == 0) return;
      if (!ServeOne()) return;
    }
  }

  // Reads and answers one request; false at end-of-file or on a malformed
  // request (which also sets the exit code 1).
  bool ServeOne() {
    char buffer[sizeof(KeeperRequest)];
    int reply_fd;
    bool extra;
    pid_t sender;
    absl::StatusOr<size_t> n = ReceiveKeeperMessage(fd_, buffer, sizeof(buffer),
                                                    &reply_fd, &extra, &sender);
    const bool end_of_file = n.ok() && *n == 0 && reply_fd < 0 && !extra;
    const std::optional<KeeperRequest> request =
        n.ok() ? DecodeKeeperRequest(absl::string_view(buffer, *n))
               : std::nullopt;
    // The reply socket is looked at (fstat) only for a record of the right
    // size that came alone, whatever its magic.
    const bool well_formed = n.ok() && *n == sizeof(KeeperRequest) && !extra &&
                             reply_fd >= 0 && IsSocket(reply_fd) &&
                             request.has_value() && Known(*request);
    if (!well_formed) {
      if (reply_fd >= 0) close(reply_fd);
      if (!end_of_file) exit_code_ = 1;
      return false;
    }
    Answer(*request, sender, reply_fd);
    close(reply_fd);
    return true;
  }

  // Whether the request names an operation and a file this keeper has.
  bool Known(const KeeperRequest& request) const {
    switch (request.op) {
      case kKeeperOpenOutput:
        return request.index < targets_.outputs.size();
      case kKeeperRemovePidFile:
        return request.index <= 1 &&
               TargetPidFile(targets_,
                             static_cast<KeeperPidFileId>(request.index))
                   .has_value();
      case kKeeperRemoveSocket:
        return request.index < targets_.sockets.size();
      case kKeeperNameWorker:
        return targets_.worker_pidfile && targets_.worker_pidfile->fd >= 0 &&
               daemon_pid_ > 0 && request.pid > 0;
      default:
        return false;
    }
  }

  void Answer(const KeeperRequest& request, pid_t sender, int reply_fd) {
    if (request.op == kKeeperOpenOutput) {
      const KeeperOutput& output = targets_.outputs[request.index];
      absl::StatusOr<OpenedFile> opened = SafeOpen(output.path, output.policy);
      if (!opened.ok()) {
        Reply(reply_fd, opened.status(), false, -1);
        return;
      }
      Reply(reply_fd, absl::OkStatus(), false, opened->fd);
      close(opened->fd);
      return;
    }
    if (request.op == kKeeperNameWorker) {
      Reply(reply_fd, NameWorker(request.pid, sender), false, -1);
      return;
    }
    if (request.op == kKeeperRemoveSocket) {
      // The supervisor's or the daemon's to ask, at a clean stop.
      if (daemon_pid_ > 0 && sender != daemon_pid_) {
        Reply(reply_fd,
              absl::PermissionDeniedError(
                  "only the daemon may remove its socket files"),
              false, -1);
        return;
      }
      // Issue 18.5: in the directory it was bound in, whatever its path
      // names now.
      const KeeperSocketFile& socket = targets_.sockets[request.index];
      // Answered late (this keeper was stopped while its daemon exited):
      // the inode may since have been reused by another daemon's socket of
      // the same name, which listens; a dead one is the daemon's.
      const bool taken_over =
          daemon_gone_ && socket.dir >= 0 &&
          SocketFileHasListener(socket.dir, socket.name, socket.path);
      absl::StatusOr<bool> removed =
          socket.dir < 0 || taken_over
              ? absl::StatusOr<bool>(false)
              : UnlinkAtIfSame(socket.dir, socket.name, socket.dev, socket.ino,
                               socket.path);
      Reply(reply_fd, removed.status(), removed.ok() && *removed, -1);
      return;
    }
    const auto id = static_cast<KeeperPidFileId>(request.index);
    if (id == KeeperPidFileId::kDaemon && holds_pidfile_lock_) {
      remove_pidfile_at_exit_ = true;
      Reply(reply_fd, absl::OkStatus(), true, -1);
      return;
    }
    // The worker's file says which worker runs: only the supervisor (the
    // daemon) may have it removed, not a worker.
    if (id == KeeperPidFileId::kWorker && daemon_pid_ > 0 &&
        sender != daemon_pid_) {
      Reply(reply_fd,
            absl::PermissionDeniedError(
                "only the supervisor may remove the worker's pid file"),
            false, -1);
      return;
    }
    const KeeperPidFile& pidfile = *TargetPidFile(targets_, id);
    absl::StatusOr<bool> removed =
        UnlinkIfSame(pidfile.path, pidfile.dev, pidfile.ino);
    Reply(reply_fd, removed.status(), removed.ok() && *removed, -1);
  }

  // Issue 18.18: recreates the daemon's pid file, locked and naming the
  // same process, when someone removed it or renamed another file over it
  // (RestorePidFile). The keeper has
  // nobody to tell but the daemon's log, which it cannot reach; it stays
  // silent (stderr is /dev/null) and simply tries again next time.
  void RestorePidFileIfRemoved() {
    if (remove_pidfile_at_exit_) return;  // the daemon is stopping
    // Nor for a daemon that exited since the poll: its file is not to come
    // back naming nobody.
    if (AwaitExit(daemon_pidfd_, absl::ZeroDuration())) return;
    (void)RestorePidFile(pidfile_.path, &pidfile_.fd, &pidfile_.dev,
                         &pidfile_.ino);
  }

  // Locks the worker's pid file for `worker`, on a description of its own,
  // and writes its pid: the record of which process is the worker, kept
  // where the worker (the application) cannot rewrite it. Only the
  // supervisor may name its worker, and only a child of its own: the
  // kernel vouches for the sender (SCM_CREDENTIALS), /proc for the parent.
  absl::Status NameWorker(pid_t worker, pid_t sender) {
    const KeeperPidFile& file = *targets_.worker_pidfile;
    if (sender != daemon_pid_) {
      return absl::PermissionDeniedError(
          "only the supervisor may name its worker");
    }
    if (worker_pidfd_ >= 0) {
      if (!AwaitExit(worker_pidfd_, absl::ZeroDuration())) {
        return absl::FailedPreconditionError(
            absl::StrCat("the previous worker still holds ", file.path));
      }
      ReleaseWorker();
    }
    const int pidfd = PidfdOpen(worker);
    if (pidfd < 0) {
      return ErrnoError(errno, absl::StrCat("pidfd_open ", worker));
    }
    absl::StatusOr<ProcStat> stat = ReadProcStat(worker);
    pid_t parent = 0;
    if (!stat.ok() || !stat->running() ||
        !stat->ParseField(ProcStat::kPpid, &parent) || parent != daemon_pid_) {
      close(pidfd);
      return absl::PermissionDeniedError(absl::StrCat(
          "pid ", worker, " is not a running child of the supervisor"));
    }
    // A new description of the same file, whatever its path names now.
    const int fd = open(absl::StrCat("/proc/self/fd/", file.fd).c_str(),
                        O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      const int saved = errno;
      close(pidfd);
      return ErrnoError(saved, absl::StrCat("reopen ", file.path));
    }
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const std::string content = absl::StrCat(worker, "\n");
    if (fcntl(fd, F_OFD_SETLK, &lock) != 0 || ftruncate(fd, 0) != 0 ||
        pwrite(fd, content.data(), content.size(), 0) !=
            static_cast<ssize_t>(content.size())) {
      const int saved = errno;
      close(fd);
      close(pidfd);
      return ErrnoError(saved, absl::StrCat("lock and write ", file.path));
    }
    worker_pidfd_ = pidfd;
    worker_fd_ = fd;
    return absl::OkStatus();
  }

  // The worker has exited: its file is emptied ("not running") and its
  // lock let go.
  void ReleaseWorker() {
    if (worker_fd_ >= 0) {
      (void)!ftruncate(worker_fd_, 0);
      close(worker_fd_);
    }
    if (worker_pidfd_ >= 0) close(worker_pidfd_);
    worker_fd_ = worker_pidfd_ = -1;
  }

  const int fd_;
  const int daemon_pidfd_;
  const pid_t daemon_pid_;
  const KeeperTargets& targets_;
  // The daemon's pid file, when the keeper holds its lock, is removed only
  // once the daemon has exited: until then the file must say it runs, and a
  // compromised daemon must not be able to make it say otherwise.
  const bool holds_pidfile_lock_;
  bool remove_pidfile_at_exit_ = false;
  // The daemon has exited: what is served now was asked before its exit.
  bool daemon_gone_ = false;
  // The daemon's pid file, while the keeper holds its lock: its descriptor,
  // device and inode change when the keeper recreates a removed file.
  KeeperPidFile pidfile_;
  bool serving_ = true;
  int exit_code_ = 0;
  int worker_pidfd_ = -1;
  int worker_fd_ = -1;
};

// In the intermediate process, before it forks the keeper: the keeper's
// name and signal dispositions, which the fork hands down, so that the
// keeper has them from its first instant (a reader of the pid file, or a
// signal sent to the whole service, never meets a keeper not yet itself).
void PrepareKeeperIdentity() {
  (void)ResetSignals();
  // Its life is the daemon's: what is sent to "every process of the
  // service" (systemd's KillMode=control-group, kill -HUP $(pidof app),
  // a shutdown's SIGTERM) must not end it before the daemon, or the pid
  // file's lock would go with it while the daemon runs. Only SIGKILL and
  // the faults of its own code end it.
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP || signo == SIGSEGV ||
        signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
        signo == SIGABRT || signo == SIGTRAP || signo == SIGSYS) {
      continue;
    }
    (void)signal(signo, SIG_IGN);  // EINVAL for the few reserved: fine
  }
  (void)prctl(PR_SET_NAME, kKeeperProcessName);
  // Nothing here may keep a filesystem busy, nor a directory reachable.
  (void)!chdir("/");
}

// The keeper process, after the double fork: sheds everything the daemon
// had but the socket and the daemon's pidfd, then serves. Never returns.
[[noreturn]] void RunKeeper(int fd, int daemon_pidfd,
                            const KeeperTargets& targets) {
  // Terminal signals (Ctrl-C on a foreground daemon) go to the foreground
  // process group: the keeper must outlive them to remove the pid file.
  (void)setpgid(0, 0);
  if (chdir("/") != 0) _exit(kExitFailure);  // done before the fork too
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) _exit(kExitFailure);
  for (int target = 0; target <= 2; ++target) {
    if (!Redirect(null_fd, target).ok()) _exit(kExitFailure);
  }
  std::vector<int> keep = {
      fd, daemon_pidfd, targets.pidfile ? targets.pidfile->fd : -1,
      targets.worker_pidfile ? targets.worker_pidfile->fd : -1};
  for (const KeeperSocketFile& socket : targets.sockets) {
    keep.push_back(socket.dir);
  }
  if (!CloseInheritedDescriptors(keep).ok()) _exit(kExitFailure);
  // Until now the keeper held every descriptor of the daemon's, pidfds
  // among them: a reader of the pid file could not yet tell from the
  // keeper's pidfds which process it keeps. The daemon writes its pid only
  // after this note (daemon_startup.cc).
  if (!SendKeeperMessage(fd, absl::string_view(&kKeeperServingNote, 1), -1,
                         MSG_DONTWAIT)
           .ok()) {
    _exit(kExitFailure);
  }
  _exit(ServePathKeeper(fd, daemon_pidfd, targets));
}

}  // namespace

int ServePathKeeper(int fd, int daemon_pidfd, const KeeperTargets& targets) {
  return Keeper(fd, daemon_pidfd, targets).Run();
}

void RunKeeperIntermediateProcess(int socket, int daemon_pidfd,
                                  const KeeperTargets& targets) {
  PrepareKeeperIdentity();
  RunKeeperStartHookForTesting();
  const pid_t keeper = fork();
  if (keeper == 0) RunKeeper(socket, daemon_pidfd, targets);
  if (keeper < 0) _exit(1);
  // The keeper's pidfd, for the daemon: opened here, where the keeper is
  // a child that nobody else can reap, so the pid names it.
  const int keeper_pidfd = PidfdOpen(keeper);
  if (keeper_pidfd < 0 ||
      !SendKeeperMessage(socket, absl::string_view(&kKeeperPidfdNote, 1),
                         keeper_pidfd)
           .ok()) {
    KillNow(keeper);
    _exit(1);
  }
  _exit(0);
}

}  // namespace internal
}  // namespace daemonkit
