// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/owned_descriptors.h
// -----------------------------------------------------------------------------
//
// The descriptors a process forked by the daemon (or the worker) must not
// keep: the pid-file lock (or it would outlive the daemon), the path
// keeper's socket and pidfd, the ready pipe to the launcher and a worker's
// sd_notify line to its supervisor. A pthread_atfork child handler closes them
// in every child forked after `InstallForkHandler()`, and resets the signals
// the library handles (signals.h `ResetSignalsInForkedChild()`).
//
// One owner: the running daemon's handle (Daemon::Impl, daemon.cc)
// records each descriptor when it takes it over and releases it when it
// closes it; nothing else writes here. Process-wide, because a fork handler
// takes no argument.

#ifndef DAEMONKIT_DAEMON_INTERNAL_OWNED_DESCRIPTORS_H_
#define DAEMONKIT_DAEMON_INTERNAL_OWNED_DESCRIPTORS_H_

namespace daemonkit {
namespace internal {

class OwnedDescriptors {
 public:
  enum Slot {
    kPidFile,
    kKeeper,
    kKeeperPidfd,
    kReadyPipe,
    kSupervisorLine,
    kEventSet,          // Daemon::signal_fd() when it watches more than signals
    kWatchdogTimer,     // the timerfd that says a keep-alive is due
    kPidFileTimer,      // the timerfd that says the pid file is due a look
    kSuccessorPidfd,    // an upgrade's successor, for a late reload (18.7)
    kPredecessorPidfd,  // an upgrade's draining old daemon (18.8)
    kHandoverConfirm,   // a successor's wait for the old daemon's handover
    kSlotCount,
  };

  OwnedDescriptors() = delete;

  // Records `fd` (-1: none) as the descriptor in `slot`.
  static void Own(Slot slot, int fd);
  // The descriptor in `slot` is closed, or no longer the library's: a child
  // must not close its number (it may be reused by then).
  static void Release(Slot slot);
  static void ReleaseAll();

  // Registers the fork handler, once per process. Returns false if
  // pthread_atfork failed (children then keep the descriptors until exec:
  // they are all close-on-exec).
  static bool InstallForkHandler();

  // The fork handler itself, exposed for the unit test: in a child, closes
  // every recorded descriptor and forgets it. Async-signal-safe.
  static void CloseInChild();
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_OWNED_DESCRIPTORS_H_
