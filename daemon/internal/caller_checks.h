// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/caller_checks.h
// -----------------------------------------------------------------------------
//
// The checks `Daemonize()` makes in the caller, before the first fork and
// while still attached to the terminal, beyond what `ValidateOptions()`
// judges from the options alone: these look at the system (the current
// directory, the files and directories named, the thread count, the
// descriptors). A failure is returned to the caller of `Daemonize()` while
// nothing has forked yet, so the user sees it on the terminal with the exit
// code it calls for.
//
// The order matters and is `Prepare()`'s (daemon/daemonize.cc):
// ResolveOptions first (every path absolute, before any check), then the
// file and directory checks, then, once the pid files and the sockets are
// open, CheckReadyFdIsNoneOfOurs.
//
// Example:
//
//   DAEMONKIT_ASSIGN_OR_RETURN(request.options, ResolveOptions(requested));
//   DAEMONKIT_RETURN_IF_ERROR(CheckFilesAreDistinct(request.options));
//   if (request.options.detach) {
//     DAEMONKIT_RETURN_IF_ERROR(CheckSingleThreaded());
//   }
//   DAEMONKIT_RETURN_IF_ERROR(CheckDirectories(request.options));

#ifndef DAEMONKIT_DAEMON_INTERNAL_CALLER_CHECKS_H_
#define DAEMONKIT_DAEMON_INTERNAL_CALLER_CHECKS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/internal/daemon_startup.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// Fills in daemon(7)'s defaults for a detached daemon (workdir "/", umask
// 0, both outputs /dev/null, no core dumps) and makes every path absolute
// against the current directory: the daemon changes directory before it
// opens anything again. With a chroot the working directory is a place
// inside the new root ("/" added in front when missing). "/dev/./null" and
// "/dev//null" become "/dev/null". A Unix `--daemon_listen` path is made
// absolute too. Fails only when the current directory cannot be read
// (getcwd) and a path is relative.
absl::StatusOr<Options> ResolveOptions(Options options);

// The directories the daemon will enter (the chroot, then the working
// directory inside it) must be directories, and not reached through a
// symbolic link as their last component: the same check as the daemon's
// own open before it enters (the daemon's user may own the parent and plant
// a link). The error names the directory as "chroot" or "workdir".
absl::Status CheckDirectories(const Options& options);

// The pid files and the output files must be different files: two paths
// that reach one file, existing or to be created (a hard link, a directory
// link an administrator made, `x` and `$PWD/x`), are found by device and
// inode (of the file, or of its directory and its name when it does not
// exist yet), a usage error naming the second field, like the same path
// given twice (ValidateOptions). stdout and stderr may share a file, and
// /dev/null is everybody's.
absl::Status CheckFilesAreDistinct(const Options& options);

// kFailedPrecondition when this process runs more than one thread: fork
// would copy only the calling one. Without /proc the count is unknown, and
// the fork is the caller's risk (OK).
absl::Status CheckSingleThreaded();

// Upgrades (issue 14): an old daemon upgrades only without supervision,
// privilege drop or chroot, and hands its successor the pid file's open
// descriptor. A command line that asks for one of those now (a flag file
// edited since the start) would give a dropped or jailed process a
// root-owned file to rewrite: kFailedPrecondition, "restart instead".
absl::Status CheckSuccessorOptions(const Options& options);

// Service-manager controls (issue 15): `request.options.ready_fd` (if any)
// must be the manager's descriptor, not one the daemon itself lives on: the
// newline and the close would go into the pid file, or close a listening
// socket. kFailedPrecondition naming what it is; an error naming fstat when
// the descriptor is not open. Called once the pid files and sockets are.
absl::Status CheckReadyFdIsNoneOfOurs(const StartRequest& request);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_CALLER_CHECKS_H_
