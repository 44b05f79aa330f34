// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/path_keeper.h
// -----------------------------------------------------------------------------
//
// The path keeper: what a chrooted daemon still needs done outside its root,
// done by a tiny process that stayed outside (OpenSSH's privilege
// separation, where the monitor hands descriptors to the jailed child).
//
// With --daemon_chroot the daemon must still reopen its output files on
// SIGHUP and remove its pid file at a clean exit, and both live outside the
// new root. Holding a descriptor of their directories would work, and would
// be a way out of the jail: fchdir(fd) then chdir("..") escapes it. With
// --daemon_user alone, the daemon can still use the paths, but often may not:
// the pid file's directory (/run) is root's, a log directory may be, and the
// path may cross a directory only root can enter. So, just before chroot(2)
// and the privilege drop, such a daemon forks the keeper, which:
//
//   - does not chroot, keeps its privileges (it runs as the user who started
//     the daemon), and holds no descriptor but its end of a SOCK_SEQPACKET
//     socketpair, a pidfd of the daemon, the directories of the Unix
//     socket files the start bound (O_PATH, issue 18.5: outside the
//     chroot, so no way out of it), the daemon's pid file (open and
//     write-locked: the daemon itself closes its copy, so that once
//     unprivileged it cannot rewrite the root-owned file that tools such
//     as start-stop-daemon trust), and /dev/null on 0-2; its working
//     directory is "/"; it is its own process group in the daemon's session,
//     with default signal dispositions and an empty mask. The daemon holds
//     a pidfd of it, which is how readers of the pid file find the lock
//     held for the daemon (proc.h WriteLockHeldFor);
//   - is a grandchild, not a child, of the daemon (a double fork): it never
//     shows up in the application's wait(), and never stays a zombie of it;
//   - answers three requests, which carry no path, so that a compromised
//     daemon can only ask for what it was configured with (the kernel
//     attaches each sender's pid, SO_PASSCRED):
//       OpenOutput(i): opens output file i by its absolute path through
//         SafeOpen (same policy as at start) and passes the descriptor back
//         with SCM_RIGHTS;
//       RemovePidFile(i): unlinks pid file i (#0 the daemon's, #1 the
//         worker's under supervision, which a worker dropped to
//         --daemon_user could not unlink either) if lstat(path) still has
//         the device and inode of the file the daemon opened; #0, whose
//         lock the keeper holds, only once the daemon has exited, so that
//         no request makes a running daemon look stopped; #1 only for the
//         supervisor;
//       NameWorker(pid): from the supervisor, for a running child of it:
//         locks pid file #1 on a description of its own and writes the
//         worker's pid, until that worker exits (then empties the file),
//         so that the worker, which runs the application, holds no
//         descriptor of it;
//   - exits when the daemon exits (its pidfd), releasing the lock, and
//     leaves the pid file of a daemon that exited without asking for its
//     removal (a crash reads as one). On end-of-file or a malformed
//     request it stops serving; holding the lock, it waits for the
//     daemon's exit all the same, so a daemon cannot make itself look
//     stopped; without it, it exits at once.
//
// Each request carries its own reply socket, so that a supervisor and its
// worker (both hold the daemon's end) never read each other's replies.

#ifndef DAEMONKIT_DAEMON_INTERNAL_PATH_KEEPER_H_
#define DAEMONKIT_DAEMON_INTERNAL_PATH_KEEPER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/internal/safe_open.h"

namespace daemonkit {
namespace internal {

// An output file the keeper may open: its absolute path and policy.
struct KeeperOutput {
  std::string path;
  OpenPolicy policy;
};

// The keeper's process name (comm, prctl PR_SET_NAME): what `ps` shows,
// and how a reader of a pid file tells a keeper holding a lock for its
// daemon from a daemon holding its own (pidfile.h ProbePidFile).
inline constexpr char kKeeperProcessName[] = "daemonkit-keep";

// Which pid file a RemovePidFile request means.
enum class KeeperPidFileId : uint8_t {
  kDaemon = 0,  // --daemon_pidfile
  kWorker = 1,  // --daemon_child_pidfile
};

// A pid file the keeper may remove.
struct KeeperPidFile {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  // The file's descriptor, kept by the keeper so that the daemon need hold
  // no way to write the root-owned file (-1: the keeper has none). The
  // daemon's pid file: its locked descriptor, held for the daemon's whole
  // life (the daemon closes its own). The worker's: the file opened before
  // the drop, from which the keeper opens and locks a description of its
  // own for each worker the supervisor names (NameWorker).
  int fd = -1;
};

// A Unix socket file the keeper may remove (issue 18.5): named by `name`
// in the directory `dir` (an O_PATH descriptor from the walk that bound it,
// which the keeper holds from its start), removed only while that name
// still has `dev` and `ino`. `path` is for messages only: a directory
// renamed, or another put at the path, after the start changes nothing.
struct KeeperSocketFile {
  std::string path;
  int dir = -1;
  std::string name;
  dev_t dev = 0;
  ino_t ino = 0;
};

// Everything the keeper may touch, fixed when it starts.
struct KeeperTargets {
  std::vector<KeeperOutput> outputs;
  std::optional<KeeperPidFile> pidfile;         // KeeperPidFileId::kDaemon
  std::optional<KeeperPidFile> worker_pidfile;  // KeeperPidFileId::kWorker
  // Listening sockets (issue 14): the Unix socket files the start bound,
  // removed relative to their directories' descriptors (RemoveSocketFile),
  // by index. The keeper, which never enters the chroot, holds those
  // descriptors; the daemon closes its own before chroot(2).
  std::vector<KeeperSocketFile> sockets;
};

// The daemon's end. Move-only through shared_ptr: the output files and the
// pid file share one keeper.
// Why a daemon (or its supervisor) stops when PathKeeperClient::Exited().
inline constexpr char kKeeperExitedMessage[] =
    "the path keeper is gone, and the pid file's lock with it: stopping, as "
    "a daemon nobody can see must not run beside the next one";

class PathKeeperClient {
 public:
  // Forks the keeper (twice: it is a grandchild) with `targets`; returns
  // once the intermediate process is reaped. Call before chroot(2), while
  // single-threaded.
  static absl::StatusOr<std::shared_ptr<PathKeeperClient>> Start(
      const KeeperTargets& targets);

  // Wraps an existing end of the socket (tests).
  explicit PathKeeperClient(int fd) : fd_(fd) {}
  PathKeeperClient(const PathKeeperClient&) = delete;
  PathKeeperClient& operator=(const PathKeeperClient&) = delete;
  // Closes the socket: the keeper sees end-of-file once no process holds it.
  ~PathKeeperClient();

  // A fresh descriptor of output file `index`, opened by the keeper.
  absl::StatusOr<int> OpenOutput(size_t index);

  // For the supervisor, right after it forked `worker`: the keeper locks the
  // worker's pid file for that worker (held until the worker exits, then
  // the file is emptied) and writes its pid. The worker then needs no
  // descriptor of the file. Refused unless the sender is the daemon (the
  // supervisor) and `worker` its running child.
  absl::Status NameWorker(pid_t worker);

  // Asks the keeper to unlink pid file `id`; true if it did (for the
  // daemon's pid file, whose lock the keeper holds: will, once the daemon
  // has exited), false if the path no longer names that file. Asking for
  // one the keeper was not given is a malformed request: it ends the
  // keeper's serving. Only the supervisor may have the worker's removed.
  absl::StatusOr<bool> RemovePidFile(
      KeeperPidFileId id = KeeperPidFileId::kDaemon);

  // Asks the keeper to unlink socket file `index` of `KeeperTargets::
  // sockets`, on the same terms as a pid file (listen_sockets.h).
  absl::StatusOr<bool> RemoveSocketFile(size_t index);

  int fd() const { return fd_; }
  // A pidfd of the keeper, held so that the pid file's lock, which the
  // keeper holds, is found from the daemon (proc.h WriteLockHeldFor); -1
  // for a wrapped socket.
  int keeper_pidfd() const { return keeper_pidfd_; }

  // Whether the keeper has exited, and the pid file's lock with it (SIGKILL
  // is the one signal it cannot ignore). A daemon then stops, logging
  // kKeeperExitedMessage: nobody could see it, and a second one could start
  // beside it. False without a pidfd.
  bool Exited() const;

  // Drops the descriptor numbers without closing them: in a child forked by
  // the daemon, whose copies a fork handler already closed.
  void Forget() { fd_ = keeper_pidfd_ = -1; }

 private:
  // One request and its reply; `fd` receives a descriptor if one came.
  absl::Status Ask(uint8_t op, uint8_t index, int* fd, pid_t pid = 0);

  int fd_ = -1;
  int keeper_pidfd_ = -1;
};

// The keeper's loop, in the calling process: serves requests on `fd` until
// end-of-file, a malformed request, or (when `daemon_pidfd` >= 0) the exit
// of the daemon, which alone ends it while it holds the daemon's pid-file
// lock (`targets.pidfile->fd`). Returns the exit code the keeper
// should end with: 1 after a malformed request, else 0. Exposed for tests;
// the keeper process calls it after dropping everything else.
int ServePathKeeper(int fd, int daemon_pidfd, const KeeperTargets& targets);

// The intermediate process of PathKeeperClient::Start, right after the
// daemon's fork, which already closed the daemon's end: takes the keeper's
// name and signal dispositions (handed down to the keeper), forks the
// keeper, which serves on `socket`, sends the keeper's pidfd to the daemon
// (kKeeperPidfdNote) and exits: 0 once sent, 1 otherwise.
[[noreturn]] void RunKeeperIntermediateProcess(int socket, int daemon_pidfd,
                                               const KeeperTargets& targets);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PATH_KEEPER_H_
