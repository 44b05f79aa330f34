// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/pidfile.h
// -----------------------------------------------------------------------------
//
// The pid file and its lock. The lock, not the number in the file, says
// whether a daemon runs: an open-file-description lock (F_OFD_SETLK) that is
// inherited by both forks, held for the daemon's whole life, released by the
// kernel however the daemon ends. A stale file never blocks a start, and
// anyone may test the lock (F_OFD_GETLK) without disturbing it.
//
// Example (the launcher, before forking):
//
//   absl::StatusOr<PidFile> pidfile = PidFile::Acquire("/run/x.pid",
//                                                      absl::Seconds(5));
//   if (!pidfile.ok()) return pidfile.status();  // "already running, pid 42"
//   ... fork twice; in the daemon:
//   pidfile->WritePid(getpid());
//   ... at clean exit:
//   pidfile->Remove();
//
// Runs in the launcher (Acquire, before the first fork), the daemon (WritePid,
// Remove, RestoreIfRemoved) and control actions (the look, pidfile_holder.h,
// which this header includes for the callers that have always found
// ProbePidFile and ParsePid here).

#ifndef DAEMONKIT_DAEMON_INTERNAL_PIDFILE_H_
#define DAEMONKIT_DAEMON_INTERNAL_PIDFILE_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/pidfile_holder.h"  // IWYU pragma: export
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/pinned_path.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

// PidFile
//
// An open, locked pid file. Move-only: the descriptor carries the lock, so a
// copy would have two owners releasing it.
class PidFile {
 public:
  // Opens `path` (absolute), creating it with mode 0644 if it is missing,
  // and locks it, through SafeOpen (safe_open.h): refuses a symbolic link,
  // anything but a regular file, a file with several hard links, and one
  // owned by anyone but root or the caller (kFailedPrecondition). Never
  // truncates before the lock is won; once won, empties the file so that
  // readers wait for the new pid.
  //
  // A file that only readers lock (anyone may read-lock a 0644 file; a
  // daemon holds a write lock) is no daemon's: it is replaced, atomically, by
  // a new file that is write-locked before it appears at `path`. So is, in
  // a sticky directory (/tmp) and where this user may rename it (root), a
  // file another user owns: planted, whatever its lock says (issue 23.1).
  //
  // When another process holds the lock, returns kAlreadyExists with the
  // message "already running, pid N". If that holder has not written its pid
  // yet (a concurrent start: the file is empty), waits up to `wait_for_pid`
  // for it, and takes the lock itself if the holder gives up meanwhile. A
  // number that names no holder (written in another pid namespace, or
  // rewritten) is not waited on: the holder is looked up in /proc at once.
  static absl::StatusOr<PidFile> Acquire(const std::string& path,
                                         absl::Duration wait_for_pid);

  // Upgrades (issue 14): takes over `fd`, the locked pid file a running
  // daemon handed to its successor, after checking that `path` (absolute)
  // still names that file. kFailedPrecondition otherwise.
  static absl::StatusOr<PidFile> Adopt(const std::string& path, int fd);

  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&& other) noexcept;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  // Closes the descriptor (the lock goes once no process holds it open).
  ~PidFile();

  // Replaces the file's content with "<pid>\n".
  absl::Status WritePid(pid_t pid);

  // Unlinks the file, if the path still names this file (lstat has the
  // locked file's device and inode), then closes it. After a chroot the path
  // keeper does it (UseKeeper). Where the daemon may no longer unlink (it
  // dropped privileges), empties the file instead: an empty, unlocked pid
  // file reads as "not running", one with a pid in it as a crashed daemon.
  void Remove();

  // Issue 18.18: recreates the file when its path names nothing, or a file
  // other than the locked one that no process holds (RestorePidFile,
  // pidfile_replace.h), so that `stop` and `status` find the daemon
  // again and a start beside it is refused. The descriptor (and dev(), ino())
  // may change: the caller updates whoever holds its number. Does nothing when
  // a keeper holds the file (the keeper restores it).
  absl::StatusOr<PidFileRestore> RestoreIfRemoved();

  // Closes this process's descriptor without removing the file: the forked
  // daemon keeps the lock.
  void Close();

  // From now on, Remove() asks `keeper` to remove pid file `id` (the daemon
  // is about to chroot or drop privileges).
  void UseKeeper(std::shared_ptr<PathKeeperClient> keeper,
                 KeeperPidFileId id = KeeperPidFileId::kDaemon) {
    keeper_ = std::move(keeper);
    keeper_id_ = id;
  }

  // Once `keeper` holds this file's descriptor (KeeperPidFile::fd): closes
  // this process's descriptor, so that a daemon (or a supervisor) about to
  // drop privileges keeps no way to write the root-owned file, and Remove()
  // asks the keeper, which removes the daemon's file once the daemon has
  // exited.
  void HandToKeeper(std::shared_ptr<PathKeeperClient> keeper,
                    KeeperPidFileId id = KeeperPidFileId::kDaemon) {
    UseKeeper(std::move(keeper), id);
    Close();
  }

  // Drops the descriptor number without closing it (in a child forked by
  // the daemon, whose copy a fork handler has already closed; in a worker,
  // which keeps the descriptor), and this file's share of the keeper. The
  // keeper's socket is not forgotten here: OutputFiles shares it, and a
  // worker still reopens its outputs through it.
  void Forget();

  int fd() const { return fd_.get(); }
  const std::string& path() const { return pinned_.path(); }
  // The file's device and inode, as opened (kept after HandToKeeper).
  dev_t dev() const { return dev_; }
  ino_t ino() const { return ino_; }
  // The device and inode of the pid file as it is now: with a path keeper,
  // which recreates a removed or replaced file (a new inode) that this
  // process holds no descriptor of, the regular file at the path when it
  // can be seen from here (not after a chroot); otherwise dev() and ino().
  // A control process names its upgrade answer channel after the file at
  // the path, so the answer must too.
  std::pair<dev_t, ino_t> CurrentIdentity() const;
  // The keeper set by UseKeeper or HandToKeeper, or null.
  PathKeeperClient* keeper() const { return keeper_.get(); }

 private:
  friend absl::StatusOr<bool> RemoveStalePidFile(const std::string& path);

  PidFile(PinnedPath pinned, int fd);
  // Acquire's end: the lock on `fd` is won and `pinned` names the file.
  static absl::StatusOr<PidFile> Won(PinnedPath pinned, int fd);

  PinnedPath pinned_;
  UniqueFd fd_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::shared_ptr<PathKeeperClient> keeper_;
  KeeperPidFileId keeper_id_ = KeeperPidFileId::kDaemon;
};

// Waits up to `grace` until no process holds the lock of `path` (a worker
// dies a moment after its supervisor; a path keeper releases the daemon's
// file a moment after the daemon exits, removing it if the exit was clean),
// then removes what is left. Logs what it could not remove.
void RemovePidFileOnceReleased(const std::string& path, absl::Duration grace);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PIDFILE_H_
