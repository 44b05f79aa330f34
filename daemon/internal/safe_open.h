// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/safe_open.h
// -----------------------------------------------------------------------------
//
// The one way daemonkit opens a file while it may be privileged: the pid
// file and the output files, at start, on every SIGHUP reopen, in the daemon
// and in the path keeper. A root daemon whose log lives in a directory its
// unprivileged user owns (the usual /var/log/app) must not be tricked by
// that user into writing elsewhere, so the open refuses, with an error that
// names the path:
//
//   - a symbolic link as the last component (O_NOFOLLOW, and a dangling
//     link is never created through);
//   - anything but a regular file: a FIFO, a device, a socket, a directory
//     (the open itself never blocks: O_NONBLOCK, cleared once checked; a
//     device or FIFO is recognised by lstat before it is ever opened, and
//     fstat of the opened file decides, so a swap in between is caught);
//     `/dev/null`, when allowed, is the one exception and must really be the
//     null character device (1, 3);
//   - an existing file with more than one hard link (a link planted in the
//     log directory can name any file on the same filesystem, /etc/shadow
//     included);
//   - an existing file owned by someone not in `owners` (daemonkit passes
//     root and the user the daemon runs as: the file it created earlier, or
//     one an administrator prepared; a file of any other user was not meant
//     for this daemon).
//   - a symbolic link or a swapped directory anywhere along the path: the
//     directories are walked from "/" one at a time with O_NOFOLLOW, and a
//     link is followed only where root (or the caller's own user) alone
//     could have put it: in a directory that is theirs and nobody else may
//     write, or, in a sticky directory of theirs such as /tmp, a link they
//     own. /proc's links (/proc/self/cwd) are never followed: they name
//     what the process following them has, not what was configured. /var/run ->
//     /run is followed; a link the daemon's user planted in its own log
//     directory (or above it) is not, at start or at any later reopen.
// A file the call creates gets exactly `create_mode` whatever the umask, and
// `create_owner` when set.
//
// OpenedFile records the device and inode, so that a later unlink can check
// that the path still names that file (UnlinkIfSame).

#ifndef DAEMONKIT_DAEMON_INTERNAL_SAFE_OPEN_H_
#define DAEMONKIT_DAEMON_INTERNAL_SAFE_OPEN_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

struct OpenPolicy {
  // Names the file in errors: "output", "pid file".
  std::string what;
  // O_RDONLY, O_RDWR or O_WRONLY | O_APPEND (O_CLOEXEC, O_NOCTTY,
  // O_NOFOLLOW and O_NONBLOCK are always added).
  int access = 0;
  // Create the file when missing, with this mode and (when set) owner.
  bool create = false;
  mode_t create_mode = 0;
  std::optional<std::pair<uid_t, gid_t>> create_owner;
  // Who may own an existing file; empty: anyone (a read-only look).
  std::vector<uid_t> owners;
  // Refuse an existing file with several hard links.
  bool single_link = true;
  // Accept "/dev/null" (the null device) as well as regular files.
  bool allow_dev_null = false;
};

struct OpenedFile {
  int fd = -1;
  bool created = false;  // this call created the file
  dev_t dev = 0;
  ino_t ino = 0;
};

// Opens `path` (absolute) under `policy`. Errors: kFailedPrecondition for a
// refused file (symbolic link, not a regular file, hard links, owner),
// otherwise the errno's code ("output /x/y.log: Permission denied").
absl::StatusOr<OpenedFile> SafeOpen(const std::string& path,
                                    const OpenPolicy& policy);

// Unlinks `path` only while it still names the file (dev, ino), checked with
// lstat just before: a file planted after the start is left alone. Returns
// false, without error, when the path names something else or nothing.
absl::StatusOr<bool> UnlinkIfSame(const std::string& path, dev_t dev,
                                  ino_t ino);

// Issue 18.5: a descriptor (O_PATH | O_DIRECTORY, close-on-exec) of the
// directory that holds `path`'s last component, walked from "/" as SafeOpen
// walks (no symbolic link followed unless root or this user alone could have
// put it there); `name` receives the last component. For a file that is
// created, replaced and removed relative to its directory (a Unix socket
// file), so that whatever later becomes of the path, the file dealt with is
// the one in the directory that was walked.
absl::StatusOr<int> OpenContainingDirectory(const std::string& path,
                                            absl::string_view what,
                                            std::string* name);

// UnlinkIfSame relative to a directory descriptor: unlinkat(dir, name) only
// while fstatat(dir, name) (not following a link) still has `dev` and `ino`.
// False, without error, when the name names something else or nothing.
// `shown` names the file in errors.
absl::StatusOr<bool> UnlinkAtIfSame(int dir, const std::string& name, dev_t dev,
                                    ino_t ino, absl::string_view shown);

// Whether the socket file `name` in the directory `dir` has a listener: a
// connection to it, made through the directory's descriptor (or to `path`
// when "/proc/self/fd/DIR/NAME" would not fit a sockaddr_un), is not
// refused. False when it is no socket or the connection is refused. For
// removing a socket file late (a stopped path keeper resumed after its
// daemon exited): by then the inode may have been reused by another
// daemon's live socket of the same name.
bool SocketFileHasListener(int dir, const std::string& name,
                           const std::string& path);

// Opens the directory `path` without following a symbolic link as its last
// component (O_PATH, so opening has no side effect): for chroot and the
// working directory. `what` names it in errors ("chroot", "workdir").
absl::StatusOr<int> OpenDirectoryNoFollow(const std::string& path,
                                          absl::string_view what);

// -----------------------------------------------------------------------------
// Building blocks shared with executable_trust.cc and the pid-file code
// (pidfile.cc, pidfile_holder.cc, pidfile_replace.cc): one definition each.
// -----------------------------------------------------------------------------

// Whether a file or directory owned by `uid` may be trusted: root's or this
// process's (effective) user's, the owners a start accepts. In a sticky
// directory such as /tmp any user may create a file first; one another user
// owns is theirs, whatever its content says.
bool IsTrustedOwner(uid_t uid);

// The last component of the absolute path `path` ("/run/x.pid": "x.pid").
std::string BaseName(const std::string& path);

// The directory that holds `path`'s last component ("/run/x.pid": "/run",
// "/x.pid": "/").
std::string DirectoryOf(const std::string& path);

// What `mode`'s file type is, in words ("a FIFO", "a directory").
absl::string_view KindOf(mode_t mode);

// The refusals of a strict walk (CheckRunnableByRootAlone,
// executable_trust.h), asked by OpenParentDirectory before each step. A
// plain walk (SafeOpen) has none.
class WalkGuard {
 public:
  virtual ~WalkGuard() = default;
  // Before the walk steps through `component`, an entry of the directory
  // `dir` (`shown`: that directory as walked, empty for "/").
  virtual absl::Status CheckStep(int dir, const std::string& shown,
                                 const std::string& component) const = 0;
  // Before it follows `component`, a symbolic link of that directory whose
  // lstat is `link` (and before the walk's own trust check of links).
  virtual absl::Status CheckLink(const std::string& shown,
                                 const std::string& component,
                                 const struct stat& link) const = 0;
};

// A descriptor (O_PATH) of the directory that holds `path`'s last
// component, reached from "/" one component at a time with O_NOFOLLOW: a
// symbolic link on the way is followed only where root (or this user) alone
// could have put it. So a user who may write some directory along the path
// (the daemon's own log directory, after a privilege drop) cannot redirect
// the open with a link or a swapped directory component, at start or at any
// later reopen. `name` receives the last component. `guard`, when set, may
// refuse any step (issue 18.19).
absl::StatusOr<UniqueFd> OpenParentDirectory(const std::string& path,
                                             absl::string_view what,
                                             std::string* name,
                                             const WalkGuard* guard = nullptr);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SAFE_OPEN_H_
