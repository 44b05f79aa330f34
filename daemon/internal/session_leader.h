// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/session_leader.h
// -----------------------------------------------------------------------------
//
// Runs in the first child, the process between the two forks: daemon(7)'s
// first steps (close inherited descriptors, reset signal handlers), then a
// session of its own without a controlling terminal (setsid), then the
// second fork, so that the daemon, not being a session leader, can never
// acquire a terminal again. The first child then reports the daemon's pid
// on the ready pipe and exits.

#ifndef DAEMONKIT_DAEMON_INTERNAL_SESSION_LEADER_H_
#define DAEMONKIT_DAEMON_INTERNAL_SESSION_LEADER_H_

#include <vector>

#include "daemon/internal/ready_channel.h"

namespace daemonkit {
namespace internal {

// Takes over the ready pipe (`pipe`: this process writes, never reads) and
// returns only in the daemon (the child of the second fork), with the
// pipe's write end. The first child exits: kExitSuccess after the fork,
// kExitFailure after reporting an error on the pipe. `keep` lists the
// descriptors that survive the close (the ready pipe among them).
ReadyReporter RunSessionLeader(ReadyPipe pipe, const std::vector<int>& keep);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SESSION_LEADER_H_
