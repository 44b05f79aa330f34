// Copyright 2026 The daemonkit Authors.
//
// Which ends restart a worker, the backoff between restarts and the sliding
// window of the restart limit, on times the test chooses.

#include "daemon/internal/restart_schedule.h"

#include <signal.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/options.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(ShouldRestartTest, FollowsTheMode) {
  const int clean = 0;             // exit code 0
  const int failed = 3 << 8;       // exit code 3
  const int aborted = SIGABRT;     // killed by SIGABRT
  const int terminated = SIGTERM;  // killed by SIGTERM
  EXPECT_FALSE(ShouldRestart(RestartPolicy::kNo, failed));
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kAlways, clean));
  EXPECT_FALSE(ShouldRestart(RestartPolicy::kOnFailure, clean));
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kOnFailure, failed));
  EXPECT_TRUE(ShouldRestart(RestartPolicy::kOnFailure, aborted));
  EXPECT_FALSE(ShouldRestart(RestartPolicy::kOnFailure, terminated));
  EXPECT_EQ(RestartStatus(absl::Seconds(4), failed, 2),
            "restarting in 4s after exit code 3, restart 2");
  EXPECT_EQ(RestartStatus(absl::ZeroDuration(), failed, 1),
            "restarting at once after exit code 3, restart 1");
}

Options BackoffOptions(int limit) {
  Options options;
  options.restart = RestartPolicy::kAlways;
  options.restart_delay = absl::Seconds(1);
  options.restart_max_delay = absl::Seconds(5);
  options.restart_reset_after = absl::Seconds(60);
  options.restart_limit = limit;
  return options;
}

// A start of the monotonic clock; the tests add to it.
const absl::Time kStart = absl::UnixEpoch() + absl::Hours(1);

TEST(RestartBackoffTest, DoublesAfterShortRunsUpToTheMaximum) {
  RestartBackoff backoff(BackoffOptions(0));
  const absl::Duration short_run = absl::Seconds(1);
  EXPECT_EQ(backoff.Next(short_run, kStart).wait, absl::Seconds(1));
  EXPECT_EQ(backoff.Next(short_run, kStart).wait, absl::Seconds(2));
  EXPECT_EQ(backoff.Next(short_run, kStart).wait, absl::Seconds(4));
  EXPECT_EQ(backoff.Next(short_run, kStart).wait, absl::Seconds(5));
  EXPECT_EQ(backoff.Next(short_run, kStart).wait, absl::Seconds(5));
  EXPECT_EQ(backoff.restarts(), 5);
}

TEST(RestartBackoffTest, ALongRunRestartsAtOnceAndResetsTheBackoff) {
  RestartBackoff backoff(BackoffOptions(0));
  EXPECT_EQ(backoff.Next(absl::Seconds(1), kStart).wait, absl::Seconds(1));
  EXPECT_EQ(backoff.Next(absl::Seconds(1), kStart).wait, absl::Seconds(2));
  EXPECT_EQ(backoff.Next(absl::Seconds(60), kStart).wait, absl::ZeroDuration());
  EXPECT_EQ(backoff.Next(absl::Seconds(1), kStart).wait, absl::Seconds(1));
  EXPECT_EQ(backoff.restarts(), 4);
}

TEST(RestartBackoffTest, AFailedSpawnWaitsAndDoublesButCountsNoRestart) {
  RestartBackoff backoff(BackoffOptions(1));
  EXPECT_EQ(backoff.NextAfterFailedSpawn(), absl::Seconds(1));
  EXPECT_EQ(backoff.NextAfterFailedSpawn(), absl::Seconds(2));
  EXPECT_EQ(backoff.restarts(), 0);
  // Nor does it fill the limit's window.
  const RestartBackoff::Restart next = backoff.Next(absl::Seconds(1), kStart);
  EXPECT_FALSE(next.limit_reached);
  EXPECT_EQ(next.wait, absl::Seconds(4));
}

TEST(RestartBackoffTest, TheLimitIsASlidingWindow) {
  RestartBackoff backoff(BackoffOptions(2));
  const absl::Duration short_run = absl::Seconds(1);
  EXPECT_FALSE(backoff.Next(short_run, kStart).limit_reached);
  EXPECT_FALSE(
      backoff.Next(short_run, kStart + absl::Seconds(10)).limit_reached);
  // A third within 60 s of the first: more than 2 restarts in the window.
  EXPECT_TRUE(
      backoff.Next(short_run, kStart + absl::Seconds(59)).limit_reached);
  // Only the last two count: those at 10 s and 59 s. At 71 s the one at
  // 10 s has left the window.
  EXPECT_FALSE(
      backoff.Next(short_run, kStart + absl::Seconds(71)).limit_reached);
  EXPECT_TRUE(
      backoff.Next(short_run, kStart + absl::Seconds(72)).limit_reached);
}

TEST(RestartBackoffTest, NoLimitNeverGivesUp) {
  RestartBackoff backoff(BackoffOptions(0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(backoff.Next(absl::Seconds(1), kStart).limit_reached);
  }
}

TEST(RestartBackoffTest, TheLimitMessageNamesLimitWindowAndLastEnd) {
  RestartBackoff backoff(BackoffOptions(5));
  EXPECT_EQ(backoff.LimitMessage("exit code 3"),
            "giving up after 5 restarts within 1m; last exit code 3");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
