// Copyright 2026 The daemonkit Authors.
//
// The hook point runs exactly the hook that is set, and nothing once it is
// cleared. Where the point sits in the start-up is session_leader_test's
// (HookRunsInTheNewSessionBeforeTheSecondFork).

#include "daemon/internal/testing_hooks.h"

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

int g_calls = 0;
void CountCall() { ++g_calls; }

TEST(TestingHooksTest, RunsTheHookThatIsSetUntilCleared) {
  g_calls = 0;
  RunBetweenForksHookForTesting();  // none set: nothing to run
  EXPECT_EQ(g_calls, 0);
  SetBetweenForksHookForTesting(&CountCall);
  RunBetweenForksHookForTesting();
  RunBetweenForksHookForTesting();
  EXPECT_EQ(g_calls, 2);
  SetBetweenForksHookForTesting(nullptr);
  RunBetweenForksHookForTesting();
  EXPECT_EQ(g_calls, 2);
}

TEST(TestingHooksTest, TheKeeperStartHookIsItsOwn) {
  g_calls = 0;
  SetKeeperStartHookForTesting(&CountCall);
  RunBetweenForksHookForTesting();  // another point: not this hook
  EXPECT_EQ(g_calls, 0);
  RunKeeperStartHookForTesting();
  EXPECT_EQ(g_calls, 1);
  SetKeeperStartHookForTesting(nullptr);
  RunKeeperStartHookForTesting();
  EXPECT_EQ(g_calls, 1);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
