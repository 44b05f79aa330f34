// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/owned_descriptors.h"

#include <pthread.h>
#include <unistd.h>

#include "daemon/internal/signals.h"

namespace daemonkit {
namespace internal {
namespace {

// Written by the main thread before any fork that could run the handler;
// read by the handler in the child (a copy of this memory).
int g_owned[OwnedDescriptors::kSlotCount] = {-1, -1, -1, -1, -1};

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
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

}  // namespace internal
}  // namespace daemonkit
