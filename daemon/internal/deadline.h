// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/deadline.h
// -----------------------------------------------------------------------------
//
// Every wait of the library with an end (a ready timeout, a stop's grace, a
// lock's patience) is a Deadline: a point on the monotonic clock, so that
// a step of the wall clock (NTP, `date -s`, a VM resumed) neither cuts a
// wait short nor stretches it (issue 23.5), with one rule for turning what
// is left into poll(2)'s milliseconds (rounded up: a wait never ends before
// its deadline, so a caller that finds poll() timed out also finds the
// deadline passed, and never spins on a 0 ms poll just before it).
//
// Example:
//
//   const Deadline deadline = Deadline::In(options.stop_timeout);
//   while (!deadline.Passed()) {
//     struct pollfd pfd = {pidfd, POLLIN, 0};
//     if (poll(&pfd, 1, deadline.PollTimeoutMs()) > 0) return true;
//   }

#ifndef DAEMONKIT_DAEMON_INTERNAL_DEADLINE_H_
#define DAEMONKIT_DAEMON_INTERNAL_DEADLINE_H_

#include "absl/time/time.h"

namespace daemonkit {
namespace internal {

// CLOCK_MONOTONIC as an absl::Time: for deadlines, periods and
// keep-alives. Never compared with absl::Now().
absl::Time MonotonicNow();

// poll(2)'s timeout for a wait of `left`: rounded up to whole milliseconds,
// 0 when nothing is left, -1 (forever) for an infinite duration, and at
// most INT_MAX.
int PollTimeoutMs(absl::Duration left);

class Deadline {
 public:
  // `timeout` from now; an infinite one never passes. A zero or negative
  // one has passed already.
  static Deadline In(absl::Duration timeout);
  static Deadline Never() { return Deadline(absl::InfiniteFuture()); }

  // Whether the deadline has come.
  bool Passed() const { return MonotonicNow() >= at_; }
  // What is left of the wait: zero once passed, infinite for Never().
  absl::Duration Left() const;
  // PollTimeoutMs(Left()).
  int PollTimeoutMs() const { return internal::PollTimeoutMs(Left()); }

 private:
  explicit Deadline(absl::Time at) : at_(at) {}
  absl::Time at_;  // on MonotonicNow()'s clock
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_DEADLINE_H_
