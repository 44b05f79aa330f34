// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/signals.h
// -----------------------------------------------------------------------------
//
// Signal plumbing. Handlers do one async-signal-safe thing: write the signal
// number as a byte to a non-blocking self-pipe (saving errno). The daemon's
// main loop reads the pipe and acts, so stop, reload and reopen run in
// ordinary code where locks, malloc and glog are allowed.

#ifndef DAEMONKIT_DAEMON_INTERNAL_SIGNALS_H_
#define DAEMONKIT_DAEMON_INTERNAL_SIGNALS_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace daemonkit {
namespace internal {

// Puts every catchable signal back to SIG_DFL and unblocks all signals, so
// the daemon does not inherit a launcher's SIG_IGN for SIGTERM or a blocked
// SIGCHLD (daemon(7), steps 2 and 3).
absl::Status ResetSignals();

// Blocks SIGTERM, SIGINT and SIGHUP, so that between the reset of their
// handlers and the installation of the self-pipe a signal stays pending
// instead of killing the starting daemon with its default action.
absl::Status HoldStopAndReloadSignals();

// Clears the signal mask: pending signals are delivered now.
absl::Status UnblockAllSignals();

// The process-wide self-pipe. Signals are process-global, so there is one.
class SignalPipe {
 public:
  // Creates the pipe (once; later calls return the same descriptor), routes
  // SIGTERM, SIGINT and SIGHUP into it and ignores SIGPIPE, so a write to a
  // closed socket is an EPIPE error instead of a silent death. SIGCHLD is
  // left alone: the application's children are its own business.
  // Returns the read end: readable when a signal has arrived.
  static absl::StatusOr<int> Install();

  // Also routes `signo` into the pipe (the supervisor's SIGCHLD).
  static absl::Status Watch(int signo);

  // In a process forked from one that installed the pipe (a supervised
  // worker): closes the inherited pipe, which the parent keeps reading, and
  // installs a fresh one. Signals watched with Watch() go back to SIG_DFL.
  static absl::StatusOr<int> Reinstall();

  // Drains the pipe without blocking and returns the signals read, oldest
  // first. Empty when none is pending.
  static std::vector<int> Drain();
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SIGNALS_H_
