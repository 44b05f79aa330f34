// Copyright 2026 The daemonkit Authors.
//
// Pid-file content is untrusted: anyone who could write the file (or a
// crashed daemon) decides it. ParsePid must never crash, and whatever it
// accepts must be a pid the kernel could hand out.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "daemon/internal/pidfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<pid_t> pid = daemonkit::internal::ParsePid(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  if (pid.ok() && (*pid < 1 || *pid > 4194304)) __builtin_trap();
  return 0;
}
