// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/wait_status.h"

#include <sys/wait.h>

namespace daemonkit {
namespace internal {

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace internal
}  // namespace daemonkit
