// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/wait_status.h"

#include <errno.h>
#include <sys/wait.h>

namespace daemonkit {
namespace internal {

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

bool ReapChild(pid_t pid, int* wait_status) {
  int status = 0;
  pid_t reaped;
  while ((reaped = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (reaped < 0) return false;
  if (wait_status != nullptr) *wait_status = status;
  return true;
}

}  // namespace internal
}  // namespace daemonkit
