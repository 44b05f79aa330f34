// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/session.h
// -----------------------------------------------------------------------------
//
// Ending a failed start: everything of it, not just one pid. The first child
// calls setsid(), so the daemon and every process it starts during start-up
// live in the session (and process group) whose id is the first child's pid.
// A failed start is over when no process of that session runs any more.
//
// The session id is safe to use after the first child is reaped: the kernel
// does not hand out a pid that is still some process's session or group id,
// so while any member lives the number names this session and no other.

#ifndef DAEMONKIT_DAEMON_INTERNAL_SESSION_H_
#define DAEMONKIT_DAEMON_INTERNAL_SESSION_H_

#include <sys/types.h>

#include <vector>

#include "absl/time/time.h"
#include "daemon/internal/deadline.h"

namespace daemonkit {
namespace internal {

// Waits until `deadline` for `child` (a child of the caller) to exit, and
// reaps it. Returns false, with the child still running, on timeout.
bool ReapChildBefore(pid_t child, const Deadline& deadline);

// The live (not zombie) processes of session `sid`, from /proc.
std::vector<pid_t> LiveSessionMembers(pid_t sid);

// SIGKILLs the process behind `daemon_pidfd` (may be -1) and every process
// of session `sid`, again and again (a process may fork while the kill is
// on its way), until none runs or `timeout` passes. Returns whether all are
// gone. Processes that left the session (setsid) escape, except the daemon
// itself.
bool KillSession(pid_t sid, int daemon_pidfd, absl::Duration timeout);

// SIGKILLs every other process of the caller's process group (what a daemon
// started, unless it moved to a group of its own), until none runs or
// `timeout` passes; returns whether all are gone. For a daemon whose start
// failed after the launcher that would have done it was killed.
bool KillRestOfOwnGroup(absl::Duration timeout);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SESSION_H_
