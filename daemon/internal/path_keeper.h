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
//     socketpair, a pidfd of the daemon, and /dev/null on 0-2; its working
//     directory is "/"; it is its own process group in the daemon's session,
//     with default signal dispositions and an empty mask;
//   - is a grandchild, not a child, of the daemon (a double fork): it never
//     shows up in the application's wait(), and never stays a zombie of it;
//   - answers two requests, which carry no path, so that a compromised
//     daemon can only ask for what it was configured with:
//       OpenOutput(i): opens output file i by its absolute path through
//         SafeOpen (same policy as at start) and passes the descriptor back
//         with SCM_RIGHTS;
//       RemovePidFile(i): unlinks pid file i (#0 the daemon's, #1 the
//         worker's under supervision, which a worker dropped to
//         --daemon_user could not unlink either) if lstat(path) still has
//         the device and inode of the file the daemon opened;
//   - exits on end-of-file (every holder of the daemon's end is gone), when
//     the daemon exits (its pidfd), and on any malformed request.
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
};

// Everything the keeper may touch, fixed when it starts.
struct KeeperTargets {
  std::vector<KeeperOutput> outputs;
  std::optional<KeeperPidFile> pidfile;         // KeeperPidFileId::kDaemon
  std::optional<KeeperPidFile> worker_pidfile;  // KeeperPidFileId::kWorker
  // Listening sockets (issue 14): the Unix socket files the start bound,
  // removed like the pid files (RemoveSocketFile), by index.
  std::vector<KeeperPidFile> sockets;
};

// The daemon's end. Move-only through shared_ptr: the output files and the
// pid file share one keeper.
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

  // Asks the keeper to unlink pid file `id`; true if it did, false if the
  // path no longer names that file. Asking for one the keeper was not given
  // is a malformed request: it ends the keeper.
  absl::StatusOr<bool> RemovePidFile(
      KeeperPidFileId id = KeeperPidFileId::kDaemon);

  // Asks the keeper to unlink socket file `index` of `KeeperTargets::
  // sockets`, on the same terms as a pid file (listen_sockets.h).
  absl::StatusOr<bool> RemoveSocketFile(size_t index);

  int fd() const { return fd_; }

  // Drops the descriptor number without closing it: in a child forked by
  // the daemon, whose copy a fork handler already closed.
  void Forget() { fd_ = -1; }

 private:
  // One request and its reply; `fd` receives a descriptor if one came.
  absl::Status Ask(uint8_t op, uint8_t index, int* fd);

  int fd_ = -1;
};

// The keeper's loop, in the calling process: serves requests on `fd` until
// end-of-file, a malformed request, or (when `daemon_pidfd` >= 0) the exit
// of the daemon. Returns the exit code the keeper should end with: 0 after
// end-of-file or the daemon's exit, 1 after a malformed request. Exposed for
// tests; the keeper process calls it after dropping everything else.
int ServePathKeeper(int fd, int daemon_pidfd, const KeeperTargets& targets);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PATH_KEEPER_H_
