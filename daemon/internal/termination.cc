// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/termination.h"

#include <signal.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {

absl::Status TerminateProcess(int pidfd, absl::Duration stop_timeout,
                              const char* what) {
  if (PidfdSendSignal(pidfd, SIGTERM) != 0 && errno != ESRCH) {
    return ErrnoError(errno, "send SIGTERM");
  }
  if (AwaitExit(pidfd, stop_timeout)) return absl::OkStatus();
  LOG(WARNING) << what << " ignored SIGTERM for "
               << absl::FormatDuration(stop_timeout) << "; sending SIGKILL";
  if (PidfdSendSignal(pidfd, SIGKILL) != 0 && errno != ESRCH) {
    return ErrnoError(errno, "send SIGKILL");
  }
  if (!AwaitExit(pidfd, kKillGrace)) {
    return absl::DeadlineExceededError(absl::StrCat(what, " survived SIGKILL"));
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
