// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/wait_status.h
// -----------------------------------------------------------------------------
//
// The one rule that turns how a child ended (waitpid(2)'s status) into an
// exit code, for every process that exits with its child's outcome: the
// container init (pid 1 exits with the application's), the supervisor (it
// exits with its last worker's when it does not restart it) and the
// daemonkit command in the foreground (with its program's). The same rule
// as a shell's `$?`, tini's and a container runtime's, so that
// `docker run`, systemd's ExecMainStatus= and a script read the same number.
//
// Example:
//
//   int status;
//   if (ReapChild(child, &status)) _exit(ExitCodeOf(status));  // 0-255

#ifndef DAEMONKIT_DAEMON_INTERNAL_WAIT_STATUS_H_
#define DAEMONKIT_DAEMON_INTERNAL_WAIT_STATUS_H_

#include <sys/types.h>

#include <string>

namespace daemonkit {
namespace internal {

// The child's own exit status when it exited; 128 + the signal's number
// when a signal killed it (143 for SIGTERM, 137 for SIGKILL); 1 for a
// status that tells no end (a stopped or continued child).
int ExitCodeOf(int wait_status);

// Waits until the child `pid` has ended and reaps it, going on when a
// signal interrupts the wait; stores its wait status in `*wait_status`
// when given. False (errno set) when there is no such child to wait for
// (ECHILD). Async-signal-safe: a forked child may call it.
bool ReapChild(pid_t pid, int* wait_status = nullptr);

// How a child ended, as a phrase after its name: "exited with status 3",
// "was killed by signal 9 (Killed)", "ended" (the daemonkit command's
// program and its upgrades).
std::string DescribeWaitStatus(int wait_status);

// How a child ended, as a noun: "exit code 3", "signal Killed", "unknown
// status" (the supervisor's worker, in its restart and give-up lines).
std::string WaitStatusSummary(int wait_status);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_WAIT_STATUS_H_
