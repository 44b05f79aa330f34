// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/watchdog.h"

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using Action = ProgressWatchdog::Action;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(KeepAliveIntervalTest, AQuarterOfOursOrSystemdsWhicheverIsShorter) {
  EXPECT_EQ(KeepAliveInterval(std::nullopt, absl::ZeroDuration()),
            std::nullopt);
  EXPECT_EQ(KeepAliveInterval(std::nullopt, absl::Seconds(4)),
            absl::Seconds(1));
  EXPECT_EQ(KeepAliveInterval(absl::Seconds(5), absl::ZeroDuration()),
            absl::Seconds(5));
  EXPECT_EQ(KeepAliveInterval(absl::Milliseconds(500), absl::Seconds(4)),
            absl::Milliseconds(500));
  EXPECT_EQ(KeepAliveInterval(std::nullopt, absl::Milliseconds(20)),
            absl::Milliseconds(10));
}

TEST(ReportsProgressTest, OnlyTheKeepAliveLine) {
  EXPECT_TRUE(ReportsProgress("WATCHDOG=1"));
  EXPECT_TRUE(ReportsProgress("STATUS=busy\nWATCHDOG=1"));
  EXPECT_FALSE(ReportsProgress("WATCHDOG=trigger"));
  EXPECT_FALSE(ReportsProgress("STATUS=WATCHDOG=1"));
  EXPECT_FALSE(ReportsProgress("READY=1"));
}

TEST(ProgressWatchdogTest, OffDoesNothing) {
  ProgressWatchdog watchdog(absl::ZeroDuration(), absl::Seconds(1));
  watchdog.WorkerStarted(kT0, absl::Seconds(1));
  watchdog.WorkerReady(kT0);
  EXPECT_EQ(watchdog.Check(kT0 + absl::Hours(1)), Action::kNone);
  EXPECT_EQ(watchdog.NextWake(), absl::InfiniteFuture());
}

TEST(ProgressWatchdogTest, PeriodCountsFromReadinessAndProgress) {
  ProgressWatchdog watchdog(absl::Seconds(2), absl::Seconds(1));
  watchdog.WorkerStarted(kT0, absl::InfiniteDuration());
  // A slow first start is the ready timeout's business.
  EXPECT_EQ(watchdog.NextWake(), absl::InfiniteFuture());
  watchdog.Progress(kT0 + absl::Seconds(1));  // before ready: ignored
  EXPECT_EQ(watchdog.Check(kT0 + absl::Hours(1)), Action::kNone);
  const absl::Time ready = kT0 + absl::Hours(1);
  watchdog.WorkerReady(ready);
  EXPECT_EQ(watchdog.NextWake(), ready + absl::Seconds(2));
  watchdog.Progress(ready + absl::Seconds(1));
  EXPECT_EQ(watchdog.Check(ready + absl::Seconds(2)), Action::kNone);
  EXPECT_EQ(watchdog.NextWake(), ready + absl::Seconds(3));
  EXPECT_EQ(watchdog.Check(ready + absl::Seconds(3)), Action::kAbort);
  // Late progress does not take the abort back.
  watchdog.Progress(ready + absl::Seconds(3));
  EXPECT_EQ(watchdog.Check(ready + absl::Seconds(3)), Action::kNone);
  EXPECT_EQ(watchdog.NextWake(), ready + absl::Seconds(4));
  EXPECT_EQ(watchdog.Check(ready + absl::Seconds(4)), Action::kKill);
  EXPECT_EQ(watchdog.Check(ready + absl::Hours(4)), Action::kNone);
  EXPECT_TRUE(watchdog.WorkerEnded());
  EXPECT_EQ(watchdog.NextWake(), absl::InfiniteFuture());
}

TEST(ProgressWatchdogTest, ARestartedWorkerHasTheStartTimeoutToBeReady) {
  ProgressWatchdog watchdog(absl::Seconds(2), absl::Seconds(1));
  watchdog.WorkerStarted(kT0, absl::Seconds(30));
  EXPECT_EQ(watchdog.Check(kT0 + absl::Seconds(29)), Action::kNone);
  EXPECT_EQ(watchdog.Check(kT0 + absl::Seconds(30)), Action::kAbort);
  EXPECT_TRUE(watchdog.WorkerEnded());
  watchdog.WorkerStarted(kT0, absl::Seconds(30));
  watchdog.WorkerReady(kT0 + absl::Seconds(1));
  EXPECT_EQ(watchdog.Check(kT0 + absl::Seconds(2)), Action::kNone);
  EXPECT_FALSE(watchdog.WorkerEnded());
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
