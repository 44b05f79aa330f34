// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/signals.h
// -----------------------------------------------------------------------------
//
// Signal plumbing. Handlers do one async-signal-safe thing: write the signal
// number as a byte to a non-blocking self-pipe (saving errno). The daemon's
// main loop reads the pipe and acts, so stop, reload and reopen run in
// ordinary code where locks, malloc and glog are allowed.
//
// None of this reaches the application's children. SIGPIPE is caught by a
// handler that does nothing rather than ignored, so a write to a closed pipe
// is an EPIPE error for the daemon while exec(2) gives every program it runs
// the default action (an ignored signal would stay ignored across exec, and
// `yes | head -1` would then fail with "Broken pipe"). A process forked from
// the daemon gets the defaults back and loses the pipe through
// `ResetSignalsInForkedChild()`, and a handler that finds itself running in
// such a child before that (a signal sent right after fork) acts as the
// default action would instead of writing into the daemon's pipe.

#ifndef DAEMONKIT_DAEMON_INTERNAL_SIGNALS_H_
#define DAEMONKIT_DAEMON_INTERNAL_SIGNALS_H_

#include <signal.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace daemonkit {
namespace internal {

// Puts every catchable signal back to SIG_DFL and unblocks all signals, so
// the daemon does not inherit a launcher's SIG_IGN for SIGTERM or a blocked
// SIGCHLD (daemon(7), steps 2 and 3).
absl::Status ResetSignals();

// Puts every catchable signal back to SIG_DFL, leaving the mask alone.
absl::Status ResetSignalDispositions();

// Makes SIGTERM, SIGINT and SIGHUP the only blocked signals, so that between
// the reset of their handlers and the installation of the self-pipe a signal
// stays pending instead of killing the starting daemon with its default
// action.
absl::Status HoldStopAndReloadSignals();

// Blocks every signal and stores the previous mask in `saved`, for a fork
// that must not run the caller's handlers in the child.
absl::Status BlockAllSignals(sigset_t* saved);

// Sets the signal mask back to `saved`.
absl::Status RestoreSignalMask(const sigset_t& saved);

// Clears the signal mask: pending signals are delivered now.
absl::Status UnblockAllSignals();

// The process-wide self-pipe. Signals are process-global, so there is one.
class SignalPipe {
 public:
  // Creates the pipe (once; later calls return the same descriptor), routes
  // SIGTERM, SIGINT and SIGHUP into it and catches SIGPIPE with a handler
  // that does nothing, so a write to a closed socket is an EPIPE error
  // instead of a silent death (and exec gives the default action back).
  // SIGCHLD is left alone: the application's children are its own business.
  // Returns the read end: readable when a signal has arrived.
  static absl::StatusOr<int> Install();

  // Also routes `signo` into the pipe (the supervisor's SIGCHLD).
  static absl::Status Watch(int signo);

  // Like Watch(), and keeps the value of the last `signo` sent with
  // sigqueue(3) (si_code SI_QUEUE; plain kill(2) leaves it alone), which
  // TakeQueuedValue() returns. An upgrade request carries its channel's
  // token this way (upgrade.h).
  static absl::Status WatchQueued(int signo);

  // The value kept by WatchQueued(), reset to 0; 0 when none came.
  static uint64_t TakeQueuedValue();

  // From now on `signo` no longer goes into the pipe: the handler itself
  // sends it on to the process behind `pidfd` (pidfd_send_signal(2)),
  // whether or not anybody reads the pipe. An old daemon that handed over
  // to its upgrade's successor passes a reload on this way while its
  // application drains outside its main loop (issue 18.7: a control action
  // may have read the old pid just before the handover). `pidfd` must stay
  // open for the process's life.
  static void ForwardTo(int signo, int pidfd);

  // In a process forked from one that installed the pipe (a supervised
  // worker): closes the inherited pipe, which the parent keeps reading, and
  // installs a fresh one. Signals watched with Watch() go back to SIG_DFL.
  static absl::StatusOr<int> Reinstall();

  // Drains the pipe without blocking and returns the signals read, oldest
  // first. Empty when none is pending.
  static std::vector<int> Drain();
};

// For a pthread_atfork child handler: in a process just forked from one that
// installed the pipe, puts every signal the pipe routed (and SIGPIPE) back
// to SIG_DFL, unless the application has set its own disposition since,
// closes both ends of the inherited pipe and empties the signal mask.
// Async-signal-safe; does nothing where no pipe was installed.
void ResetSignalsInForkedChild();

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SIGNALS_H_
