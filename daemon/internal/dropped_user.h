// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/dropped_user.h
// -----------------------------------------------------------------------------
//
// What the user a daemon drops to (--daemon_user) must not be able to
// change, judged before anything starts: root keeps using these paths after
// the drop (it writes and removes the pid file, binds and removes the
// sockets, enters the chroot again on every restart), so a directory on
// their way that the user may write would let it steer root. One judge for
// the library's daemons and the daemonkit command's programs alike.
//
// Example:
//
//   if (absl::Status refused =
//           CheckWhatTheDroppedUserMustNotChange(options, credentials);
//       !refused.ok()) {
//     return refused;  // "pid file /tmp/x/p.pid: directory /tmp/x is ..."
//   }

#ifndef DAEMONKIT_DAEMON_INTERNAL_DROPPED_USER_H_
#define DAEMONKIT_DAEMON_INTERNAL_DROPPED_USER_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "daemon/internal/privileges.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// The first directory on the absolute `path` (its own directory and each
// above it) that the user of `credentials` may write, unless sticky and not
// that user's; empty when there is none. Sets `why` to what makes it so.
std::string DirectoryTheUserMayWrite(const std::string& path,
                                     const Credentials& credentials,
                                     std::string* why);

// OK without a drop, or for a drop to root (refused elsewhere, see below).
// Otherwise, in this order: kept capabilities or a chroot with a "user"
// that is root under another name (a usage error: root leaves a chroot and
// keeps every capability); a chroot whose root, or a directory above it,
// the user may write; a pid file, or a Unix `--daemon_listen` socket, in a
// directory the user may write (or through a link a non-root user owns).
// The refusals are kFailedPrecondition naming the path and the directory.
absl::Status CheckWhatTheDroppedUserMustNotChange(
    const Options& options, const std::optional<Credentials>& credentials);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_DROPPED_USER_H_
