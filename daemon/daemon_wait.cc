// Copyright 2026 The daemonkit Authors.
//
// WaitUntil() and WaitFor(): in the daemon (its signals, timers and
// deadlines), and in a process the application forked, which shares
// none of them.

#include "daemon/daemon_impl.h"

namespace daemonkit {
namespace {

using Owned = internal::OwnedDescriptors;

// How long WaitUntil() sleeps at most before it reads the wall clock again:
// ppoll's timeout runs on the monotonic clock, so a step of the wall clock
// past the deadline would otherwise wait out the old distance (issue 23.5).
constexpr absl::Duration kWallClockRecheck = absl::Seconds(1);

}  // namespace

int Daemon::Impl::ChildWaitFd() {
  if (child_wait_fd_ < 0 && !child_wait_fd_failed_) {
    child_wait_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (child_wait_fd_ < 0) {
      child_wait_fd_failed_ = true;
      PLOG(ERROR) << "eventfd for the daemon handle in a forked child; its "
                     "signal_fd() is -1";
    }
  }
  return child_wait_fd_;
}

Event Daemon::Impl::WaitInForkedChild(absl::Time deadline) {
  for (;;) {
    if (stop_requested_) return Event::kStop;
    const absl::Time now = absl::Now();
    if (now >= deadline) return Event::kTimeout;
    const absl::Duration left = deadline - now;
    struct timespec timeout = absl::ToTimespec(left);
    const int fd = ChildWaitFd();
    struct pollfd pfd = {fd, POLLIN, 0};
    if (ppoll(&pfd, fd >= 0 ? 1 : 0,
              deadline == absl::InfiniteFuture() ? nullptr : &timeout,
              nullptr) < 0 &&
        errno != EINTR) {
      PLOG(ERROR) << "ppoll in a forked child";
      absl::SleepFor(std::min(left, absl::Milliseconds(10)));
    }
  }
}

Event Daemon::Impl::Wait(absl::Time deadline, absl::Time monotonic_deadline) {
  if (InForkedChild()) {
    if (monotonic_deadline != absl::InfiniteFuture()) {
      deadline = std::min(deadline, absl::Now() + (monotonic_deadline -
                                                   internal::MonotonicNow()));
    }
    return WaitInForkedChild(deadline);
  }
  for (;;) {
    CheckHandoverConfirmed();
    // Attack 1: until the old daemon confirms the handover, another
    // upgrade would start a third process beside two.
    HandleSignals(/*upgrading=*/confirm_fd_ >= 0);
    CheckPidFile();
    CheckStartAbandoned();
    if (!stop_requested_ && outputs_.keeper_exited()) {
      LOG(ERROR) << internal::kKeeperExitedMessage;
      Notify("STOPPING=1");
      stop_requested_ = true;
    }
    // First of all, whatever is returned: an application's poll loop
    // wakes for a due keep-alive and calls WaitUntil(absl::InfinitePast())
    // for it, stopping or not.
    const absl::Time keep_alive = FeedWatchdog(internal::MonotonicNow());
    if (stop_requested_) return Event::kStop;
    if (reload_pending_) {
      reload_pending_ = false;
      Reload();
      return Event::kReload;
    }
    const absl::Time now = absl::Now();
    const absl::Time monotonic_now = internal::MonotonicNow();
    if (now >= deadline || monotonic_now >= monotonic_deadline) {
      return Event::kTimeout;
    }
    absl::Time wake = std::min(monotonic_deadline, keep_alive);
    // Not ready yet: wake at the ready timeout, and past it when the
    // launcher goes (its pipe's POLLERR).
    const bool watch_launcher =
        reporter_.pending() && monotonic_now >= ready_deadline_;
    if (reporter_.pending() && !watch_launcher) {
      wake = std::min(wake, ready_deadline_);
    }
    absl::Duration left = std::min(wake - monotonic_now, deadline - now);
    if (deadline != absl::InfiniteFuture()) {
      left = std::min(left, kWallClockRecheck);
    }
    struct timespec timeout = absl::ToTimespec(left);
    struct pollfd pfds[2] = {{signal_fd_, POLLIN, 0},
                             {watch_launcher ? reporter_.fd() : -1, 0, 0}};
    const bool forever = left == absl::InfiniteDuration();
    if (ppoll(pfds, 2, forever ? nullptr : &timeout, nullptr) < 0 &&
        errno != EINTR) {
      PLOG(ERROR) << "ppoll on the signal pipe";
      absl::SleepFor(std::min(left, absl::Milliseconds(10)));
    }
  }
}

}  // namespace daemonkit
