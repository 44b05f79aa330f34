// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/deadline.h"

#include <time.h>

#include <algorithm>
#include <climits>
#include <cstdint>

namespace daemonkit {
namespace internal {

absl::Time MonotonicNow() {
  struct timespec now;
  // Cannot fail: CLOCK_MONOTONIC always exists and `now` is valid.
  clock_gettime(CLOCK_MONOTONIC, &now);
  return absl::UnixEpoch() + absl::DurationFromTimespec(now);
}

int PollTimeoutMs(absl::Duration left) {
  if (left == absl::InfiniteDuration()) return -1;
  if (left <= absl::ZeroDuration()) return 0;
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

Deadline Deadline::In(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return Never();
  return Deadline(MonotonicNow() + timeout);
}

absl::Duration Deadline::Left() const {
  if (at_ == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return std::max(at_ - MonotonicNow(), absl::ZeroDuration());
}

}  // namespace internal
}  // namespace daemonkit
