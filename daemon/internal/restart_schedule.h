// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/restart_schedule.h
// -----------------------------------------------------------------------------
//
// When a supervised worker starts again (`--daemon_restart` and the
// restart flags below it, options.h): which ends restart it (ShouldRestart),
// how long to wait first (a backoff that doubles after each run that died
// young and resets after one that ran long, the rule of s6-supervise, runsv
// and supervise), and when to give up (more than `restart_limit` restarts
// within `restart_reset_after`, a sliding window as systemd's
// StartLimitIntervalSec= and StartLimitBurst=).
//
// The supervisor process runs it (supervisor_worker.cc), once per worker
// that ended or could not be forked. Every time it keeps is on the monotonic
// clock: a step of the wall clock neither forgives a crash loop nor invents
// one.
//
// Example:
//
//   RestartBackoff backoff(options);
//   ...  // the worker ended with `wait_status` after `uptime`
//   if (!ShouldRestart(options.restart, wait_status)) Exit(...);
//   const RestartBackoff::Restart next = backoff.Next(uptime, MonotonicNow());
//   if (next.limit_reached) GiveUp(backoff.LimitMessage(summary));
//   restart_at = MonotonicNow() + next.wait;
//   LOG(WARNING) << RestartStatus(next.wait, wait_status, backoff.restarts());
//
// The `daemonkit` command's monitor applies the same rules to a program with
// a copy of its own (program.h RestartSchedule), which is why this class is
// not named that yet.

#ifndef DAEMONKIT_DAEMON_INTERNAL_RESTART_SCHEDULE_H_
#define DAEMONKIT_DAEMON_INTERNAL_RESTART_SCHEDULE_H_

#include <deque>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// Whether `mode` restarts a worker that ended with `wait_status`.
bool ShouldRestart(RestartPolicy mode, int wait_status);

// "restarting in 4s after exit code 3, restart 2" (or "restarting at once
// after ..." for a zero delay): the STATUS= line.
std::string RestartStatus(absl::Duration delay, int wait_status, int restart);

// RestartBackoff
//
// The backoff and the restart limit of one supervisor, from Options'
// restart_delay, restart_max_delay, restart_reset_after and restart_limit.
class RestartBackoff {
 public:
  explicit RestartBackoff(const Options& options);

  // What follows a worker's end that is to be restarted.
  struct Restart {
    // How long to wait before the next start: none after a run that lasted
    // `restart_reset_after` (which also resets the backoff), else the
    // current delay.
    absl::Duration wait;
    // More than `restart_limit` restarts (this one included) fall within
    // the last `restart_reset_after`: the supervisor gives up.
    bool limit_reached = false;
  };

  // Counts a restart of a worker that ran `uptime`, at `now` (monotonic),
  // and says when it comes. After a short run, the delay for the next one
  // doubles, up to `restart_max_delay`.
  Restart Next(absl::Duration uptime, absl::Time now);

  // A worker could not be forked at all: no run to judge, so no restart is
  // counted. Returns the current delay, to wait before the next try, and
  // doubles it for the one after.
  absl::Duration NextAfterFailedSpawn();

  // Restarts counted so far.
  int restarts() const { return restarts_; }

  // "giving up after 5 restarts within 1m; last <last>": why the limit
  // ended the service; `last` describes the last worker's end.
  std::string LimitMessage(absl::string_view last) const;

 private:
  // Whether the window holds `restart_limit` restarts already, before
  // recording the one at `now`.
  bool RecordAndCheckLimit(absl::Time now);

  const absl::Duration initial_delay_;
  const absl::Duration max_delay_;
  const absl::Duration reset_after_;
  const int limit_;
  absl::Duration delay_;
  int restarts_ = 0;
  // The monotonic times of the last `limit_` restarts, oldest first.
  std::deque<absl::Time> recent_;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_RESTART_SCHEDULE_H_
