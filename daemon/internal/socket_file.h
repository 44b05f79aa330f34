// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/socket_file.h
// -----------------------------------------------------------------------------
//
// Two questions about a Unix socket *file* that `--daemon_listen` binds,
// asked through a descriptor of its directory rather than by path (issue
// 18.5): is the file there a socket nobody listens on (what a daemon that
// was SIGKILLed, or a machine that lost power, leaves behind, and which a
// start may replace), and does the path, walked again, still reach that
// directory (bind(2) takes the path, so the start checks it was not
// swapped). Runs in the caller of `Daemonize()`, before the first fork,
// while `ListenSockets::Open()` binds.
//
// Example:
//
//   struct stat dead;
//   if (bind_failed_with_eaddrinuse &&
//       IsDeadSocketFile(address, dir, name, &dead)) {
//     UnlinkAtIfSame(dir, name, dead.st_dev, dead.st_ino, path);  // rebind
//   }
//   if (!PathStillReaches(path, dir)) return /* the directory was replaced */;

#ifndef DAEMONKIT_DAEMON_INTERNAL_SOCKET_FILE_H_
#define DAEMONKIT_DAEMON_INTERNAL_SOCKET_FILE_H_

#include <sys/stat.h>

#include <string>

#include "daemon/internal/socket_address.h"

namespace daemonkit {
namespace internal {

// True when `name` in the directory `dir` is a socket file (not followed if
// a link) that refuses a connection (ECONNREFUSED): nobody listens on it.
// `*st` is then its identity, for removing that very file. The probe
// connects through the directory's descriptor when the name fits
// (/proc/self/fd/DIR/NAME), else through `address` (the path). Anything
// else (missing, no socket, a listener, another error) is false.
bool IsDeadSocketFile(const SocketAddress& address, int dir,
                      const std::string& name, struct stat* st);

// Whether `path`, walked again as the bind walked it (its directory opened
// without following a planted link), still reaches the directory `dir`
// (device and inode). False when the walk fails.
bool PathStillReaches(const std::string& path, int dir);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SOCKET_FILE_H_
