// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/container_init.h
// -----------------------------------------------------------------------------
//
// pid 1 in a container (issue 15). A program run as the first process of a
// pid namespace (`docker run`, `unshare --pid --fork`) inherits init's two
// duties: every orphan of the namespace is reparented to it and stays a
// zombie until it reaps it, and a signal with no handler never reaches it
// (the kernel drops SIGTERM to a namespace's init that did not catch it).
//
// The answer is tini's: a separate parent. In the foreground, as pid 1,
// `Daemonize()` forks first; the parent stays pid 1 and does nothing but
// init's work (RunContainerInit), and the application runs on in the child,
// as pid 2, with nothing of it changed but inherited ignored signals, which
// get their default action back (as dumb-init does). So:
//
//   - orphans that land on pid 1 are reaped there, with waitpid(-1), which
//     cannot steal the status of a child the application waits for: that
//     child's parent is the application, not pid 1. (A SIGCHLD handler that
//     reaps with waitpid(-1) in the application's own process would: its
//     `waitpid(child)`, `system()` or `pclose()` would then fail with
//     ECHILD or get nothing.)
//   - SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent to
//     pid 1 are forwarded to the application (not to its process group: its
//     children are its business). After the first SIGTERM or SIGINT, an
//     application still running after the stop timeout gets SIGKILL.
//   - when the application ends, pid 1 exits with its status: its exit code,
//     or 128 + the signal that killed it (as shells and tini report it; pid
//     1 cannot die of a signal it sends itself). The kernel then kills what
//     is left in the namespace.
//
// pid 1 holds no descriptor but the standard streams, handles no signal in
// a handler (it waits for them with sigtimedwait, all signals blocked), and
// allocates nothing after the fork.

#ifndef DAEMONKIT_DAEMON_INTERNAL_CONTAINER_INIT_H_
#define DAEMONKIT_DAEMON_INTERNAL_CONTAINER_INIT_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace daemonkit {
namespace internal {

// Whether a foreground process must split off a container init: it is
// pid 1 (of its pid namespace).
bool IsContainerInit();

// Forks. In the child (the application, now pid 2) returns OK with the
// signal mask and the handlers it had. The parent becomes the container's
// init and never returns (see the top of this file). An error (fork failed)
// returns in the calling process, which is still pid 1, with nothing
// changed. The one change in the child (issue 22.17, as dumb-init): a
// signal ignored (SIG_IGN) gets its default action back, since an ignore
// inherited from whatever started pid 1 would make forwarding it futile.
absl::Status SplitOffContainerInit(absl::Duration stop_timeout);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_CONTAINER_INIT_H_
