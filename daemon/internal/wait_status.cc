// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/wait_status.h"

#include <errno.h>
#include <sys/wait.h>

#include <cstring>

#include "absl/strings/str_cat.h"

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

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(wait_status), " (",
                        strsignal(WTERMSIG(wait_status)), ")");
  }
  return "ended";
}

std::string WaitStatusSummary(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("signal ", strsignal(WTERMSIG(wait_status)));
  }
  return "unknown status";
}

}  // namespace internal
}  // namespace daemonkit
