// Copyright 2026 The daemonkit Authors.
//
// Run by the supervisor process (restart_schedule.h).

#include "daemon/internal/restart_schedule.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/internal/wait_status.h"

namespace daemonkit {
namespace internal {

bool ShouldRestart(RestartPolicy mode, int wait_status) {
  switch (mode) {
    case RestartPolicy::kNo:
      return false;
    case RestartPolicy::kAlways:
      return true;
    case RestartPolicy::kOnFailure:
      if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status) != 0;
      // Killed: a failure, unless by the signals that ask a daemon to stop.
      return !WIFSIGNALED(wait_status) || (WTERMSIG(wait_status) != SIGTERM &&
                                           WTERMSIG(wait_status) != SIGINT);
  }
  return false;
}

std::string RestartStatus(absl::Duration delay, int wait_status, int restart) {
  return absl::StrCat(
      delay > absl::ZeroDuration()
          ? absl::StrCat("restarting in ", absl::FormatDuration(delay))
          : "restarting at once",
      " after ", WaitStatusSummary(wait_status), ", restart ", restart);
}

RestartBackoff::RestartBackoff(const Options& options)
    : initial_delay_(options.restart_delay),
      max_delay_(options.restart_max_delay),
      reset_after_(options.restart_reset_after),
      limit_(options.restart_limit),
      delay_(options.restart_delay) {}

RestartBackoff::Restart RestartBackoff::Next(absl::Duration uptime,
                                             absl::Time now) {
  // Issue 22.16: a worker that ran long enough is restarted at once and
  // resets the backoff; only one that died young waits, so that a crash
  // loop does not spin.
  const bool ran_long = uptime >= reset_after_;
  if (ran_long) delay_ = initial_delay_;
  ++restarts_;
  Restart restart;
  restart.limit_reached = limit_ > 0 && RecordAndCheckLimit(now);
  restart.wait = ran_long ? absl::ZeroDuration() : delay_;
  if (!ran_long) delay_ = std::min(delay_ * 2, max_delay_);
  return restart;
}

absl::Duration RestartBackoff::NextAfterFailedSpawn() {
  const absl::Duration wait = delay_;
  delay_ = std::min(delay_ * 2, max_delay_);
  return wait;
}

std::string RestartBackoff::LimitMessage(absl::string_view last) const {
  return absl::StrCat("giving up after ", limit_, " restarts within ",
                      absl::FormatDuration(reset_after_), "; last ", last);
}

// Issue 23.8: only the times of the last `limit_` restarts are kept; the
// limit is reached when the oldest of them is still inside the window.
bool RestartBackoff::RecordAndCheckLimit(absl::Time now) {
  const absl::Time window_start = now - reset_after_;
  const bool reached = recent_.size() >= static_cast<size_t>(limit_) &&
                       recent_.front() > window_start;
  recent_.push_back(now);
  while (recent_.size() > static_cast<size_t>(limit_)) recent_.pop_front();
  return reached;
}

}  // namespace internal
}  // namespace daemonkit
