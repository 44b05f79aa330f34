// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/executable_trust.h
// -----------------------------------------------------------------------------
//
// Whether a binary that root is about to run could have been chosen by
// anyone but root (issue 18.19). An upgrade runs the binary at the daemon's
// path as the daemon's user, root most often: a user who may write any
// directory on the way to it, or the file itself, or who owns a link on the
// way, could pick what root runs at the next upgrade. The check walks the
// path from "/" as SafeOpen (safe_open.h) walks it, with stricter refusals.
//
// Run by the running daemon answering `upgrade` (daemon.cc, upgrade.cc) and
// by the daemonkit command's program monitor before it starts a program's
// new binary (tools/program_monitor.cc), each just before the exec.
//
// Example:
//
//   if (absl::Status runnable =
//           CheckRunnableByRootAlone("/usr/sbin/mydaemon", "binary");
//       !runnable.ok()) {
//     return runnable;  // "binary /usr/sbin/mydaemon: directory /usr/sbin
//                       //  is writable by its group or others (mode 0775),
//                       //  who could choose what runs as uid 0; ..."
//   }
//   execv("/usr/sbin/mydaemon", argv);

#ifndef DAEMONKIT_DAEMON_INTERNAL_EXECUTABLE_TRUST_H_
#define DAEMONKIT_DAEMON_INTERNAL_EXECUTABLE_TRUST_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// OK when only root (or this process's user) could have chosen the file
// `path` names, which this process is about to execute. The file, every
// directory from "/" to it and every symbolic link on the way (the last
// component's too, a release link) must be root's (or this user's); no such
// directory may be writable by its group or others, except a sticky one
// (/tmp) whose entry on the way is root's (or this user's); the file must be
// writable by nobody else either. Since none of it can change but by root
// (or this user), the path may be executed after the check. Errors
// (refusals: kFailedPrecondition) start with `what` and `path` and say why.
absl::Status CheckRunnableByRootAlone(const std::string& path,
                                      absl::string_view what);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_EXECUTABLE_TRUST_H_
