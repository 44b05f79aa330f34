// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/testing_hooks.h"

namespace daemonkit {
namespace internal {
namespace {

void (*g_between_forks_hook)() = nullptr;
void (*g_keeper_start_hook)() = nullptr;

}  // namespace

void SetBetweenForksHookForTesting(void (*hook)()) {
  g_between_forks_hook = hook;
}

void RunBetweenForksHookForTesting() {
  if (g_between_forks_hook != nullptr) g_between_forks_hook();
}

void SetKeeperStartHookForTesting(void (*hook)()) {
  g_keeper_start_hook = hook;
}

void RunKeeperStartHookForTesting() {
  if (g_keeper_start_hook != nullptr) g_keeper_start_hook();
}

}  // namespace internal
}  // namespace daemonkit
