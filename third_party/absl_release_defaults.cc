// Copyright 2026 The daemonkit Authors.
//
// Abseil's release-build defaults for `-c opt` binaries linked against
// Debian's Abseil archives.
//
// Debian compiles Abseil without NDEBUG, so its archives keep the debug
// build's choices. One of them is costly at every start: the mutex deadlock
// detector is on (kAbort) and runs on every Mutex::Lock, and static flag
// registration alone locks the flag registry ~30 times, building the
// detector's lock graph as it goes: 107,000 instructions, 12% of a ticker
// start (docs/benchmarks.md). Upstream Abseil turns the detector off when
// NDEBUG is defined, as `-c opt` does; this restores that default. Test and
// debug builds (fastbuild, dbg) do not link this file and keep the detector.
//
// It runs before any C++ static initializer of the program (priority 101 is
// the first one a program may use), so before the first flag is registered.

#include "absl/synchronization/mutex.h"

namespace {

__attribute__((constructor(101))) void AbseilReleaseDefaults() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace
