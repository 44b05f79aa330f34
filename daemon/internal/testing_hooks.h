// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/testing_hooks.h
// -----------------------------------------------------------------------------
//
// Fault injection points for tests that must act at an exact moment of the
// start-up, such as killing the process between the two forks. In
// production no hook is set and each point costs one branch.

#ifndef DAEMONKIT_DAEMON_INTERNAL_TESTING_HOOKS_H_
#define DAEMONKIT_DAEMON_INTERNAL_TESTING_HOOKS_H_

namespace daemonkit {
namespace internal {

// Runs in the first child, after setsid() and before the second fork.
void SetBetweenForksHookForTesting(void (*hook)());
void RunBetweenForksHookForTesting();

// Runs in the path keeper's intermediate process (path_keeper.h), before
// it forks the keeper: a hook that sleeps widens the moment in which the
// daemon waits for its keeper, for tests of what control actions see then.
void SetKeeperStartHookForTesting(void (*hook)());
void RunKeeperStartHookForTesting();

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_TESTING_HOOKS_H_
