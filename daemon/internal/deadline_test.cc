// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/deadline.h"

#include <climits>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(PollTimeoutMsTest, RoundsUpSoThatAWaitNeverEndsEarly) {
  EXPECT_EQ(PollTimeoutMs(absl::Microseconds(1)), 1);
  EXPECT_EQ(PollTimeoutMs(absl::Milliseconds(1)), 1);
  EXPECT_EQ(PollTimeoutMs(absl::Microseconds(1001)), 2);
  EXPECT_EQ(PollTimeoutMs(absl::Seconds(2)), 2000);
}

TEST(PollTimeoutMsTest, NothingLeftIsZeroAndForeverIsMinusOne) {
  EXPECT_EQ(PollTimeoutMs(absl::ZeroDuration()), 0);
  EXPECT_EQ(PollTimeoutMs(-absl::Seconds(3)), 0);
  EXPECT_EQ(PollTimeoutMs(absl::InfiniteDuration()), -1);
  EXPECT_EQ(PollTimeoutMs(absl::Hours(24 * 365 * 100)), INT_MAX);
}

TEST(DeadlineTest, PassesOnceItsTimeHasCome) {
  EXPECT_TRUE(Deadline::In(absl::ZeroDuration()).Passed());
  EXPECT_TRUE(Deadline::In(-absl::Seconds(1)).Passed());
  EXPECT_EQ(Deadline::In(-absl::Seconds(1)).Left(), absl::ZeroDuration());
  EXPECT_EQ(Deadline::In(-absl::Seconds(1)).PollTimeoutMs(), 0);

  const Deadline soon = Deadline::In(absl::Hours(1));
  EXPECT_FALSE(soon.Passed());
  EXPECT_GT(soon.Left(), absl::Minutes(59));
  EXPECT_LE(soon.Left(), absl::Hours(1));
  EXPECT_GT(soon.PollTimeoutMs(), 59 * 60 * 1000);
}

TEST(DeadlineTest, NeverNeverPasses) {
  for (const Deadline never :
       {Deadline::Never(), Deadline::In(absl::InfiniteDuration())}) {
    EXPECT_FALSE(never.Passed());
    EXPECT_EQ(never.Left(), absl::InfiniteDuration());
    EXPECT_EQ(never.PollTimeoutMs(), -1);
  }
}

TEST(MonotonicNowTest, NeverGoesBack) {
  absl::Time last = MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const absl::Time now = MonotonicNow();
    EXPECT_GE(now, last);
    last = now;
  }
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
