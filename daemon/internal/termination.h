// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/termination.h
// -----------------------------------------------------------------------------
//
// The one escalation daemonkit uses to end a process: SIGTERM, a wait of
// the stop timeout, then SIGKILL and a short wait for the kernel to finish
// it. `--daemon_control=stop` (control.cc) and the supervisor stopping its
// worker (supervisor.cc) both call it. The launcher, whose failed daemon
// already said it is exiting, waits the stop timeout and then SIGKILLs the
// whole session (session.h) with the same kKillGrace.

#ifndef DAEMONKIT_DAEMON_INTERNAL_TERMINATION_H_
#define DAEMONKIT_DAEMON_INTERNAL_TERMINATION_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace daemonkit {
namespace internal {

// After SIGKILL the kernel needs only a moment; this bounds a process stuck
// in uninterruptible sleep (or an unkillable zombie's parent).
inline constexpr absl::Duration kKillGrace = absl::Seconds(5);

// Sends SIGTERM to the process behind `pidfd`, waits up to `stop_timeout` for
// it to exit, then sends SIGKILL and waits up to kKillGrace. OK once it is gone
// (or was already); kDeadlineExceeded when it survived SIGKILL; an errno error
// naming the signal when one could not be sent. Logs the escalation to
// SIGKILL as a warning naming `what` ("daemon", "worker 42").
absl::Status TerminateProcess(int pidfd, absl::Duration stop_timeout,
                              const char* what);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_TERMINATION_H_
