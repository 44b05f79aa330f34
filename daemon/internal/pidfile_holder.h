// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/pidfile_holder.h
// -----------------------------------------------------------------------------
//
// Who holds a pid file, found without taking or disturbing its lock. Only
// a write lock counts (anyone may read-lock the 0644 file), and the number
// in the file is believed only once /proc shows its process holding that
// lock: a stale number may name a pid the kernel has since given to
// someone else, and a number written in another pid namespace (a
// container's "1") or rewritten names no one here. When the number fails,
// /proc is searched for the holder; a path keeper (path_keeper.h) that
// holds the lock for its daemon is resolved to that daemon, or reported as
// left behind when every process it kept has exited.
//
// Run by control actions (status, stop, reload, upgrade: control.cc), by the
// launcher (a start that finds the lock held: PidFile::Acquire) and by
// whoever removes a file its daemon left (RemoveStalePidFile).
//
// Example (status):
//
//   absl::StatusOr<PidFileProbe> probe =
//       ProbePidFile("/run/x.pid", HolderSearch::kScanProc);
//   if (probe.ok() && probe->state == PidFileProbe::State::kLocked &&
//       probe->holder) {
//     std::cout << "running, pid " << *probe->holder << "\n";
//   }

#ifndef DAEMONKIT_DAEMON_INTERNAL_PIDFILE_HOLDER_H_
#define DAEMONKIT_DAEMON_INTERNAL_PIDFILE_HOLDER_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/safe_open.h"

namespace daemonkit {
namespace internal {

// Parses pid-file content: decimal digits and at most one trailing newline
// (what WritePid writes), naming a pid in [1, 4194304] (the kernel's
// PID_MAX_LIMIT). kInvalidArgument for anything else (empty, garbage, zero,
// negative, huge, spaces: " 1" is not pid 1).
absl::StatusOr<pid_t> ParsePid(absl::string_view content);

// What the pid file says, read without taking or disturbing the lock.
struct PidFileProbe {
  enum class State {
    kMissing,   // no file, or an empty one nobody holds (a clean exit)
    kUnlocked,  // a file with content nobody holds: the daemon crashed
    kLocked,    // a daemon (or its launcher) holds the write lock
  };
  State state = State::kMissing;
  // The pid written in the file, when it parses.
  std::optional<pid_t> pid;
  // Set when `pid` is known to be the lock holder: /proc shows that process
  // holding a write lock on the file (or, when another user's process cannot
  // be looked at, the file is write-locked and names it).
  bool pid_verified = false;
  // The process holding the write lock, when known: `pid` once verified;
  // otherwise, with HolderSearch::kScanProc, the one thread group /proc
  // shows holding it (someone rewrote the number: a compromised daemon that
  // kept a writable descriptor may write "1"). Empty when none or several
  // hold it, or when that one is the caller.
  std::optional<pid_t> holder;
  // Set when /proc was scanned for the holder (HolderSearch::kScanProc was
  // needed): a second look must scan too to find the same holder.
  bool scanned = false;
  // With HolderSearch::kScanProc: a path keeper (path_keeper.h) that holds
  // the lock although every process it kept has exited (it was stopped, or
  // is about to exit): no daemon runs. `holder` is then empty.
  std::optional<pid_t> left_keeper;
};

// How ProbePidFile looks for the holder of a locked file.
enum class HolderSearch {
  // Only the number in the file is checked: cheap, for polling.
  kNumberOnly,
  // When the number is not the holder, every process in /proc is looked at
  // (FindWriteLockHolders, proc.h): O(processes x descriptors).
  kScanProc,
};

// Reads `path` without following a symbolic link. Only a write lock counts
// as held: any user may take a read lock on the 0644 file, and a daemon
// holds a write lock. Errors: the file cannot be opened or read, or is not a
// regular file; kFailedPrecondition when it is owned by anyone but root or
// the caller (a file a start would refuse: another user may have planted it
// in a sticky directory, and its lock holder is no daemon to credit or
// signal).
absl::StatusOr<PidFileProbe> ProbePidFile(
    const std::string& path, HolderSearch search = HolderSearch::kNumberOnly);

// Removes `path` when no process holds its lock. Returns true if removed,
// false if missing or still locked.
absl::StatusOr<bool> RemoveStalePidFile(const std::string& path);

// -----------------------------------------------------------------------------
// Shared with PidFile::Acquire (pidfile.cc)
// -----------------------------------------------------------------------------

// Opens the pid file `path` through SafeOpen with `flags` (O_RDONLY, O_RDWR,
// O_RDWR | O_CREAT): never through a symbolic link, only a regular file, and
// the open never blocks (a FIFO planted at the path). A file opened for
// writing must have one link and belong to root or to the caller; a
// read-only look (status) accepts any owner. A file it creates is 0644.
absl::StatusOr<OpenedFile> OpenPidFileChecked(const std::string& path,
                                              int flags);

// The pid the file `fd` (at `path`, for errors) names, unless it is the
// caller's own: our own pid in a file someone else has locked is a stale
// number that the kernel happened to give us (and we of course have the
// file open).
std::optional<pid_t> NamedPid(int fd, const std::string& path);

// The pid the file names when that process holds a write lock on it, or its
// path keeper holds it for it (so not a stale number left from an earlier
// run, nor a process that merely has the file open).
std::optional<pid_t> VerifiedHolder(int fd, const std::string& path);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PIDFILE_HOLDER_H_
