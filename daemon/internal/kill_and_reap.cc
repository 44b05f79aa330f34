// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/kill_and_reap.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/wait_status.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// Sends `signo`; ESRCH counts as sent (the process is gone, and the wait
// that follows sees that).
absl::Status Send(int pidfd, int signo, absl::string_view what) {
  if (PidfdSendSignal(pidfd, signo) == 0 || errno == ESRCH) {
    return absl::OkStatus();
  }
  return ErrnoError(
      errno, absl::StrCat("send SIG", sigabbrev_np(signo), " to ", what));
}

}  // namespace

absl::StatusOr<EndOutcome> EndProcess(int pidfd, const EndPolicy& policy,
                                      absl::string_view what,
                                      absl::FunctionRef<void()> before_kill) {
  DAEMONKIT_RETURN_IF_ERROR(Send(pidfd, policy.first_signal, what));
  if (policy.then_continue && policy.first_signal != SIGCONT) {
    DAEMONKIT_RETURN_IF_ERROR(Send(pidfd, SIGCONT, what));
  }
  if (AwaitExit(pidfd, policy.grace)) return EndOutcome::kExited;
  before_kill();
  DAEMONKIT_RETURN_IF_ERROR(Send(pidfd, SIGKILL, what));
  if (!AwaitExit(pidfd, policy.kill_grace)) {
    return absl::DeadlineExceededError(absl::StrCat(what, " survived SIGKILL"));
  }
  return EndOutcome::kKilled;
}

absl::Status TerminateProcess(int pidfd, absl::Duration stop_timeout,
                              absl::string_view what) {
  EndPolicy policy;
  policy.grace = stop_timeout;
  return EndProcess(pidfd, policy, what,
                    [&] {
                      LOG(WARNING) << what << " ignored SIGTERM for "
                                   << absl::FormatDuration(stop_timeout)
                                   << "; sending SIGKILL";
                    })
      .status();
}

bool KillUntilGone(absl::FunctionRef<bool()> kill_round,
                   const Deadline& deadline) {
  for (;;) {
    if (!kill_round()) return true;
    if (deadline.Passed()) return false;
    absl::SleepFor(kKillSweepTick);
  }
}

int KillNow(pid_t pid) { return kill(pid, SIGKILL); }

int KillGroupNow(pid_t process_group) { return kill(-process_group, SIGKILL); }

int KillThroughPidfd(int pidfd) { return PidfdSendSignal(pidfd, SIGKILL); }

void KillAndReap(pid_t child, int pidfd) {
  (void)KillGroupNow(child);
  if (pidfd >= 0) {
    (void)KillThroughPidfd(pidfd);
  } else {
    (void)KillNow(child);
  }
  ReapChild(child);
}

absl::Status KillSelfAfter(absl::Duration delay) {
  struct sigevent event = {};
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGKILL;
  timer_t timer;
  if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) {
    return ErrnoError(errno, "timer_create");
  }
  struct itimerspec when = {};
  when.it_value = absl::ToTimespec(std::max(delay, absl::Milliseconds(1)));
  if (timer_settime(timer, 0, &when, nullptr) != 0) {
    return ErrnoError(errno, "timer_settime");
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
