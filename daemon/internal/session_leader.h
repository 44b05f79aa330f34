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

// Returns only in the daemon (the child of the second fork). The first
// child exits: kExitSuccess after the fork, kExitFailure after reporting
// an error on `reporter`. `keep` lists the descriptors that survive the
// close (the ready pipe's write end among them).
void RunSessionLeader(const std::vector<int>& keep, ReadyReporter& reporter);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SESSION_LEADER_H_
