// Copyright 2026 The daemonkit Authors.
//
// -c opt binaries get Abseil's release default (no mutex deadlock detector,
// third_party/absl_release_defaults.cc); test and debug builds keep it.

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace {

// Takes two mutexes in one order, then in the other: never a deadlock in
// one thread, but a cycle in the lock graph that the detector reports.
void InvertLockOrder() {
  absl::Mutex a;
  absl::Mutex b;
  a.Lock();
  b.Lock();
  b.Unlock();
  a.Unlock();
  b.Lock();
  a.Lock();
  a.Unlock();
  b.Unlock();
}

#ifdef NDEBUG
TEST(AbseilReleaseDefaultsTest, OptBuildsDoNotTrackLockOrder) {
  InvertLockOrder();
  SUCCEED();
}
#else
TEST(AbseilReleaseDefaultsTest, DebugBuildsKeepTheDeadlockDetector) {
  testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(InvertLockOrder(), "Potential Mutex deadlock");
}
#endif

}  // namespace
