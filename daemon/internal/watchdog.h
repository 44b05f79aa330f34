// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/watchdog.h
// -----------------------------------------------------------------------------
//
// The supervisor's own watchdog (`--daemon_watchdog`, issue 15): a worker
// that reports no progress for the watchdog period is sent SIGABRT, and
// SIGKILL after a grace; the supervisor then restarts it.
//
// Progress is what feeds systemd's watchdog: WATCHDOG=1 from
// `Daemon::WaitUntil()` while healthy. The worker sends it on its connected
// sd_notify line to the supervisor (supervisor.h), which exists whenever
// $NOTIFY_SOCKET is set or this watchdog is on, at `KeepAliveInterval()`:
// one non-blocking send(2) from the main loop, never from a signal handler.
// The supervisor times the worker in its own poll loop: `NextWake()` bounds
// its poll timeout, `Check()` says what is due.
//
// The period counts from the worker's readiness (a slow first start is the
// ready timeout's business); a restarted worker, which no launcher waits
// for, gets the ready timeout to become ready before the watchdog takes it.
//
// Pure: no system calls, the clock is passed in, so watchdog_test pins it.
// The supervisor passes the monotonic clock (deadline.h MonotonicNow()), and
// the worker's keep-alives are due on it too: a step of the wall clock
// neither blinds the watchdog nor makes it take a healthy worker for hung
// (issue 23.5).

#ifndef DAEMONKIT_DAEMON_INTERNAL_WATCHDOG_H_
#define DAEMONKIT_DAEMON_INTERNAL_WATCHDOG_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace daemonkit {
namespace internal {

// The shortest `--daemon_watchdog`: twice the shortest keep-alive interval
// (notify.h kMinWatchdogInterval), below which a healthy worker could not
// keep up.
inline constexpr absl::Duration kMinOwnWatchdog = absl::Milliseconds(20);

// How often a worker sends WATCHDOG=1: systemd's interval (`systemd`, half
// of $WATCHDOG_USEC, when set) or a quarter of `own` (when > 0), whichever
// is shorter, never below 10ms; nullopt when neither watchdog is on. A
// quarter, not systemd's half, so that a loaded machine's scheduling delay
// of up to three quarters of the period does not cost a restart.
std::optional<absl::Duration> KeepAliveInterval(
    std::optional<absl::Duration> systemd, absl::Duration own);

// Whether an sd_notify `message` holds the keep-alive line "WATCHDOG=1".
bool ReportsProgress(absl::string_view message);

// ProgressWatchdog
//
// The timer for one worker at a time.
class ProgressWatchdog {
 public:
  enum class Action { kNone, kAbort, kKill };

  // `period` 0: off (every call does nothing, NextWake() is never).
  // `grace`: how long after SIGABRT the worker gets before SIGKILL.
  ProgressWatchdog(absl::Duration period, absl::Duration grace)
      : period_(period), grace_(grace) {}

  bool enabled() const { return period_ > absl::ZeroDuration(); }

  // A new worker started: `start_timeout` to become ready (a restarted
  // worker), or InfiniteDuration (the first, which the launcher times).
  void WorkerStarted(absl::Time now, absl::Duration start_timeout);
  // The worker is ready: the period starts.
  void WorkerReady(absl::Time now);
  // The worker reported progress (WATCHDOG=1); ignored before it is ready.
  void Progress(absl::Time now);
  // The worker is gone: disarms. Returns whether the watchdog had fired
  // for it (the end was the watchdog's, a failure whatever its status).
  bool WorkerEnded();

  // What is due at `now`: kAbort once when the period passed without
  // progress, kKill once when the grace after it passed too.
  Action Check(absl::Time now);

  // When Check() next has something to do; InfiniteFuture when nothing.
  absl::Time NextWake() const;

 private:
  absl::Duration period_;
  absl::Duration grace_;
  bool ready_ = false;
  bool fired_ = false;
  absl::Time deadline_ = absl::InfiniteFuture();  // abort at
  absl::Time kill_at_ = absl::InfiniteFuture();
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_WATCHDOG_H_
