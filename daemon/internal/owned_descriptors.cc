// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/owned_descriptors.h"

#include <pthread.h>
#include <unistd.h>

#include <array>

#include "daemon/internal/signals.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// Written by the main thread before any fork that could run the handler;
// read by the handler in the child (a copy of this memory). Every slot
// starts at -1 whatever their number: a slot left at 0 would close every
// child's stdin.
using OwnedArray = std::array<int, OwnedDescriptors::kSlotCount>;
OwnedArray g_owned = [] {
  OwnedArray none;
  none.fill(-1);
  return none;
}();

extern "C" void CloseOwnedDescriptorsInChild() {
  OwnedDescriptors::CloseInChild();
}

}  // namespace

void OwnedDescriptors::Own(Slot slot, int fd) { g_owned[slot] = fd; }

void OwnedDescriptors::Release(Slot slot) { g_owned[slot] = -1; }

void OwnedDescriptors::ReleaseAll() {
  for (int& fd : g_owned) fd = -1;
}

bool OwnedDescriptors::InstallForkHandler() {
  static const bool installed = [] {
    return pthread_atfork(nullptr, nullptr, CloseOwnedDescriptorsInChild) == 0;
  }();
  return installed;
}

void OwnedDescriptors::CloseInChild() {
  ResetSignalsInForkedChild();
  for (int& fd : g_owned) {
    CloseDescriptor(fd);
    fd = -1;
  }
}

}  // namespace internal
}  // namespace daemonkit
