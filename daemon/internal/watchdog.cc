// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/watchdog.h"

#include <algorithm>

#include "absl/strings/str_split.h"
#include "daemon/internal/notify.h"

namespace daemonkit {
namespace internal {

std::optional<absl::Duration> KeepAliveInterval(
    std::optional<absl::Duration> systemd, absl::Duration own) {
  std::optional<absl::Duration> interval = systemd;
  if (own > absl::ZeroDuration()) {
    const absl::Duration quarter = std::max(kMinWatchdogInterval, own / 4);
    interval = interval ? std::min(*interval, quarter) : quarter;
  }
  return interval;
}

bool ReportsProgress(absl::string_view message) {
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    if (line == "WATCHDOG=1") return true;
  }
  return false;
}

void ProgressWatchdog::WorkerStarted(absl::Time now,
                                     absl::Duration start_timeout) {
  if (!enabled()) return;
  ready_ = false;
  fired_ = false;
  kill_at_ = absl::InfiniteFuture();
  deadline_ = start_timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                        : now + start_timeout;
}

void ProgressWatchdog::WorkerReady(absl::Time now) {
  if (!enabled() || fired_) return;
  ready_ = true;
  deadline_ = now + period_;
}

void ProgressWatchdog::Progress(absl::Time now) {
  if (!enabled() || !ready_ || fired_) return;
  deadline_ = now + period_;
}

bool ProgressWatchdog::WorkerEnded() {
  const bool fired = fired_;
  ready_ = false;
  fired_ = false;
  deadline_ = kill_at_ = absl::InfiniteFuture();
  return fired;
}

ProgressWatchdog::Action ProgressWatchdog::Check(absl::Time now) {
  if (!enabled()) return Action::kNone;
  if (!fired_ && now >= deadline_) {
    fired_ = true;
    deadline_ = absl::InfiniteFuture();
    kill_at_ = now + grace_;
    return Action::kAbort;
  }
  if (fired_ && now >= kill_at_) {
    kill_at_ = absl::InfiniteFuture();
    return Action::kKill;
  }
  return Action::kNone;
}

absl::Time ProgressWatchdog::NextWake() const {
  return std::min(deadline_, kill_at_);
}

}  // namespace internal
}  // namespace daemonkit
