// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/pidfile_replace.h
// -----------------------------------------------------------------------------
//
// Putting a new pid file at a pid file's path without the path ever naming
// an unlocked or missing file a second start could take. Two callers need
// it:
//
//   - a start (PidFile::Acquire, pidfile.h, in the launcher before it
//     forks) that finds at the path a file no daemon holds: one that only
//     readers lock (anyone may read-lock the 0644 file to block starts), or
//     one another user planted in a sticky directory (ReplacePidFile);
//   - a running daemon, its supervisor or its path keeper, whose file was
//     removed or renamed over behind its back (RestorePidFile, issue 18.18).
//
// Either way the new file is created under a random name (O_EXCL, never
// through a link), write-locked and given its mode and content before it
// appears at the path, by a rename that never replaces a file that
// appeared meanwhile (RENAME_NOREPLACE) or by an exchange (RENAME_EXCHANGE)
// after which what came out is judged and put back when it is another
// daemon's. An flock on the directory orders replacers against each other.
//
// Example (a daemon's pid-file timer, every kPidFileCheckPeriod):
//
//   absl::StatusOr<PidFileRestore> restored =
//       RestorePidFile(path, &fd, &dev, &ino);
//   if (restored.ok() && *restored == PidFileRestore::kRecreated) {
//     LOG(WARNING) << "pid file " << path << " was removed; recreated it";
//   }
//
// The pid file's own small vocabulary (its mode, the whole-file lock, the
// writer test, the bounded read) lives here too, so that pidfile.cc,
// pidfile_holder.cc and the keeper share one definition of each.

#ifndef DAEMONKIT_DAEMON_INTERNAL_PIDFILE_REPLACE_H_
#define DAEMONKIT_DAEMON_INTERNAL_PIDFILE_REPLACE_H_

#include <fcntl.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

// A pid file's mode, exact whatever the umask: anyone may read it to check
// status; only its owner writes it.
inline constexpr mode_t kPidFileMode = 0644;

// How often a daemon (or its path keeper) looks whether its pid file was
// removed or replaced, at most (issue 18.18): the bound on how long `stop`,
// `status` and a second start see no pid file for a running daemon.
inline constexpr absl::Duration kPidFileCheckPeriod = absl::Seconds(1);

// A lock of `type` (F_RDLCK, F_WRLCK) on the whole file, for F_OFD_*.
struct flock WholeFileLock(int type);

// Whether a process holds a write lock on `fd`'s file. A read lock on a pid
// file proves nothing: the file is 0644, so anyone may open it and take
// one, and a daemon holds a write lock; a read-lock probe (F_OFD_GETLK)
// conflicts only with writers. When the kernel cannot say, true: the safe
// answer, which leaves the file where it is.
bool HeldByWriter(int fd);

// Reads at most 64 bytes (a pid file is a number and a newline; anything
// longer is not ours) from the start of `fd`'s file. Errors name `path`.
absl::StatusOr<std::string> ReadPidFileContent(int fd, const std::string& path);

// Creates a pid file in `dir` (which holds `path`) under a random name
// (O_EXCL, never through a link), write-locked (F_OFD_SETLK) and of `mode`
// before anyone can open it. Sets `*temp` to its name. No file of a
// predictable name is involved: a fixed name could be created first, and
// locked, by any user of a sticky directory.
absl::StatusOr<UniqueFd> CreateLockedPidFile(int dir, const std::string& path,
                                             mode_t mode, std::string* temp);

// For a start: replaces the pid file at `path` (absolute) with a new one,
// atomically and already write-locked, when what is there is no daemon's: a
// file that only readers lock, or, in a sticky directory, another user's
// entry of any kind. Returns the new file's descriptor, or an invalid one
// when the caller should look again (a daemon won the old file meanwhile,
// the file changed). What the exchange brought out is discarded when no
// daemon's, else given its path back. A starter that won the old file
// checks, after locking, that the path still names it, so a file exchanged
// out while unlocked never becomes a daemon's.
absl::StatusOr<UniqueFd> ReplacePidFile(const std::string& path);

// What RestorePidFile found and did.
enum class PidFileRestore {
  kInPlace,    // the path names the locked file: nothing to do
  kRecreated,  // the path named nothing: a new locked file is there now
  kReplaced,   // the path named a file nobody held: a new one replaced it
  kTaken,      // the path names another file a process holds: left alone
};

// Issue 18.18: a pid file removed behind a running daemon's back (a tmpfiles
// cleaner, rm), or replaced by rename (a stale copy moved over it), would
// make `stop` exit 0 with the daemon running on and let a second daemon
// start beside it. When `path` (lstat, no link followed) does not name the
// file of `*dev` and `*ino`, creates a new file in its directory under a
// random name (O_EXCL, O_NOFOLLOW), write-locks it, gives it mode 0644 and
// the content of `*fd`'s file, and only then puts it at the path: with
// RENAME_NOREPLACE where the path names nothing, else by RENAME_EXCHANGE,
// after which the file that came out is unlinked unless it is a regular
// file of root or this user that a process holds write-locked (a later
// start's), which is put back (kTaken). Then closes `*fd` and sets `*fd`,
// `*dev` and `*ino` to the new file's. The directory's replacer flock
// (the one starters take) orders it against a start replacing the file.
// `*fd` < 0: kInPlace.
absl::StatusOr<PidFileRestore> RestorePidFile(const std::string& path, int* fd,
                                              dev_t* dev, ino_t* ino);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PIDFILE_REPLACE_H_
