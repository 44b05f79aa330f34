// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/ready_fd.h
// -----------------------------------------------------------------------------
//
// Service-manager controls (issue 15): readiness on a descriptor
// (`Options::ready_fd`), the protocol of s6's `notification-fd` and dinit's
// `ready-notification = pipefd:N`: the service writes one line (a lone
// newline) to a descriptor it inherited and closes it; the manager reads up
// to the newline, and end-of-file without one means "never ready".
//
// The descriptor is checked in the caller of `Daemonize()` (a start error
// when it is not open), kept through the close of inherited descriptors,
// and written by the one process that declares readiness: the
// application's (`Daemon::NotifyReady()`), or under supervision the
// supervisor, once, when the first worker is ready (a worker forked while
// the supervisor holds it closes its copy at the fork, so a restart says
// nothing more; one forked later never touches the number, which may be its
// own descriptor by then).

#ifndef DAEMONKIT_DAEMON_INTERNAL_READY_FD_H_
#define DAEMONKIT_DAEMON_INTERNAL_READY_FD_H_

#include "absl/status/status.h"

namespace daemonkit {
namespace internal {

// For `fd` >= 0: checks that it is open for writing (kFailedPrecondition
// naming `--daemon_ready_fd` otherwise) and makes it close-on-exec, so that no
// program the daemon executes holds the manager's pipe open. -1: OK.
absl::Status PrepareReadyFd(int fd);

// For `fd` >= 0: writes "\n" to it and closes it. A reader that has gone
// (EPIPE) does not undo readiness: the failure is logged. -1: nothing.
void SignalReadyFd(int fd);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_READY_FD_H_
