// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/listen_sockets.h
// -----------------------------------------------------------------------------
//
// The daemon's listening sockets (`Options::listen`, `--daemon_listen`, and
// systemd's socket activation): taken or bound by the caller of
// `Daemonize()` before the first fork, while it still has its privileges,
// kept through the close of inherited descriptors, inherited by every worker
// under supervision, and handed to the application by name
// (`Daemon::ListenSocket()`).
//
// Who owns what. The sockets are the application's: a process it forks keeps
// them (a pre-forking server needs exactly that); they are close-on-exec.
// The Unix socket *files* this start bound belong to the process that holds
// the pid file: the daemon (or the supervisor, not its workers) removes them
// at a clean exit, through the path keeper after a chroot or privilege drop,
// and only while the name still names the socket bound (device and inode);
// a failed start's launcher removes them too. Activated sockets are
// systemd's: never removed.
//
// Issue 18.5: each Unix socket file is dealt with relative to a descriptor
// of its directory, reached by the same walk as the output files' (no
// symbolic link followed that root alone could not have put there): the
// dead-socket check and its replacement, the mode and owner, and every
// removal (the daemon's, the keeper's, a failed start's) use that
// descriptor and the last component, never the path again. A directory
// renamed, or another put at the path, after the start does not make the
// stop remove a file of the new one. bind(2) itself takes the path (a
// socket's address is what getsockname(2), ss(8) and the fd store show, so
// it stays the configured path), and the start checks right after it that
// the socket file is in the walked directory and that the path still
// reaches that directory; a path swapped between the walk and bind(2)
// fails the start. Holding the directory keeps nothing busy that the bound
// socket does not already: a socket file's bind holds its mount too.

#ifndef DAEMONKIT_DAEMON_INTERNAL_LISTEN_SOCKETS_H_
#define DAEMONKIT_DAEMON_INTERNAL_LISTEN_SOCKETS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/listen_address.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/path_keeper.h"

namespace daemonkit {
namespace internal {

// One listening socket.
struct ListenSocket {
  std::string name;
  int fd = -1;
  bool activated = false;  // from $LISTEN_FDS, not bound here
  // A Unix socket file bound here: its path (for messages), its directory
  // (an O_PATH descriptor from the walk, -1 once closed or handed to the
  // keeper), its name there and its identity (fstatat right after bind),
  // for the removal. Empty path: nothing to remove.
  std::string file;
  int dir = -1;
  std::string file_name;
  dev_t dev = 0;
  ino_t ino = 0;
  // Sent to the service manager's fd store, which may hand it back to the
  // next start: its file then stays at a clean stop.
  bool stored = false;
};

// The socket of one parsed `--daemon_listen` entry, bound and listening.
// A Unix socket file gets mode 0660 and, with `owner`, that owner; a socket
// file there that nobody listens on (ECONNREFUSED) is replaced, anything
// else at the path is "in use". Errors name `flag_entry` and the errno text.
absl::StatusOr<ListenSocket> BindListenSocket(
    const ListenEntry& entry,
    const std::optional<std::pair<uid_t, gid_t>>& owner);

// ListenSockets
//
// The set, in order: the activated ones first, then the bound ones.
// Move-only: it owns the descriptors and the files.
class ListenSockets {
 public:
  ListenSockets() = default;
  ListenSockets(ListenSockets&& other) noexcept { *this = std::move(other); }
  ListenSockets& operator=(ListenSockets&& other) noexcept;
  ListenSockets(const ListenSockets&) = delete;
  ListenSockets& operator=(const ListenSockets&) = delete;
  // Closes nothing and removes nothing: the process exit closes the
  // sockets, and a file is removed only when asked (RemoveFiles).
  ~ListenSockets() = default;

  // Takes the activated sockets, then binds each entry of `listen`
  // (`Options::listen`, already validated) whose name was not activated.
  // On error closes what it had and removes the files it bound. With
  // `adopt_files` (a daemon started by an upgrade, whose "activated"
  // sockets are its predecessor's), an activated Unix socket bound to the
  // path of its `listen` entry becomes this process's file to remove.
  static absl::StatusOr<ListenSockets> Open(
      const std::vector<std::string>& listen,
      const std::optional<std::pair<uid_t, gid_t>>& owner,
      bool adopt_files = false);

  // Wraps sockets the caller made (tests).
  explicit ListenSockets(std::vector<ListenSocket> sockets)
      : sockets_(std::move(sockets)) {}

  const std::vector<ListenSocket>& sockets() const { return sockets_; }

  // Puts the sockets this start bound into systemd's fd store (FDSTORE=1,
  // FDNAME= the name; one message each), so that a restart of the service
  // (which ends this process) keeps them: systemd hands them back as socket
  // activation, and the next start takes them instead of binding again,
  // with no moment in which a connection is refused. Activated sockets are
  // systemd's already. Sent by the main process (the supervisor, or the
  // daemon itself), and only when $FDSTORE is a positive number (systemd
  // 254+, FileDescriptorStoreMax= in the unit): without it nothing is sent
  // and a clean stop removes the socket files as without systemd. Failures are
  // logged: the service runs on without the store. A Unix socket file sent
  // stays at a clean stop (RemoveFiles), since the stored socket may serve
  // the next start; should systemd have dropped it, the next start replaces
  // the dead file.
  void StoreWithServiceManager(const Notifier& notifier);
  std::vector<int> fds() const;
  // The first socket named `name`; -1 if none.
  int Find(absl::string_view name) const;
  std::vector<std::string> names() const;

  // The socket files, for the path keeper (KeeperTargets::sockets), and
  // from now on removed through it. UseKeeper closes this process's
  // descriptors of their directories (the keeper holds its own): a daemon
  // about to chroot must hold no directory outside its new root.
  std::vector<KeeperSocketFile> KeeperFiles() const;
  void UseKeeper(std::shared_ptr<PathKeeperClient> keeper);

  // The descriptors of the socket files' directories, which the first
  // child's close of inherited descriptors must keep.
  std::vector<int> directory_fds() const;

  // This process will not remove the files (a worker: they are its
  // supervisor's); the sockets stay, their directories' descriptors are
  // closed.
  void DisownFiles();

  // Removes the socket files bound here while their names in their
  // directories still name them; once. Errors are logged. Closes the
  // directories' descriptors.
  void RemoveFiles();

  // Closes every socket (the launcher, once the daemon has them); the
  // directories' descriptors stay, for RemoveFiles.
  void Close();

  // An upgraded old daemon's (issue 18.8): gives up the listening sockets,
  // which its successor holds, and their files. Each descriptor number is
  // replaced by a socket that listens nowhere (the application may still
  // hold the number, so it is not closed and freed for reuse): new clients
  // reach the successor alone, and a stopped successor leaves no listener
  // behind.
  void Relinquish();

  // Drops the descriptors without closing them (a child forked by the
  // application, which keeps them) and never removes a file.
  void Forget();

 private:
  // See Open's `adopt_files`.
  void AdoptFile(const ListenEntry& entry);
  // Closes the directories' descriptors.
  void CloseDirectories();

  std::vector<ListenSocket> sockets_;
  bool owns_files_ = true;
  std::shared_ptr<PathKeeperClient> keeper_;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_LISTEN_SOCKETS_H_
