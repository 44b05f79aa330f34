// Copyright 2026 The daemonkit Authors.
//
// The timers in signal_fd()'s set: the watchdog's keep-alives, the
// periodic check that the pid file still names this process, and the end
// of the path keeper.

#include "daemon/daemon_impl.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace {

using Owned = internal::OwnedDescriptors;

}  // namespace

void Daemon::Impl::StartWatchdogTimer() {
  if (!notifier_.watchdog_interval()) return;
  internal::UniqueFd timer(
      timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer.valid()) {
    PLOG(WARNING) << "timerfd_create; keep-alives are sent only while "
                     "WaitUntil() blocks";
    return;
  }
  struct itimerspec period = {};
  period.it_interval = absl::ToTimespec(*notifier_.watchdog_interval());
  period.it_value = period.it_interval;
  if (timerfd_settime(timer.get(), 0, &period, nullptr) != 0) {
    PLOG(WARNING) << "timerfd_settime; keep-alives are sent only while "
                     "WaitUntil() blocks";
    return;
  }
  watchdog_timer_ = timer.release();
  Owned::Own(Owned::kWatchdogTimer, watchdog_timer_);
}

void Daemon::Impl::StartPidFileTimer() {
  if (!pidfile_ || pidfile_->fd() < 0 || pidfile_->keeper() != nullptr) {
    return;
  }
  internal::UniqueFd timer(
      timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer.valid()) {
    PLOG(WARNING) << "timerfd_create; a removed pid file is recreated only "
                     "when WaitUntil() wakes";
    return;
  }
  struct itimerspec period = {};
  period.it_interval = absl::ToTimespec(internal::kPidFileCheckPeriod);
  period.it_value = period.it_interval;
  if (timerfd_settime(timer.get(), 0, &period, nullptr) != 0) {
    PLOG(WARNING) << "timerfd_settime; a removed pid file is recreated only "
                     "when WaitUntil() wakes";
    return;
  }
  pidfile_timer_ = timer.release();
  Owned::Own(Owned::kPidFileTimer, pidfile_timer_);
}

void Daemon::Impl::CheckPidFile() {
  if (pidfile_timer_ >= 0) {
    uint64_t expirations = 0;
    (void)!read(pidfile_timer_, &expirations, sizeof(expirations));
  }
  if (!pidfile_ || handover_pending_ || handed_over_ || stop_requested_) {
    return;
  }
  absl::StatusOr<internal::PidFileRestore> restored =
      pidfile_->RestoreIfRemoved();
  if (!restored.ok()) {
    if (!pidfile_problem_logged_) {
      LOG(ERROR) << "the pid file " << pidfile_->path()
                 << " was removed or replaced and cannot be put back ("
                 << restored.status().message()
                 << "): stop and status cannot find this daemon";
    }
    pidfile_problem_logged_ = true;
    return;
  }
  switch (*restored) {
    case internal::PidFileRestore::kInPlace:
      pidfile_problem_logged_ = false;
      break;
    case internal::PidFileRestore::kRecreated:
    case internal::PidFileRestore::kReplaced:
      Owned::Own(Owned::kPidFile, pidfile_->fd());
      LOG(WARNING) << "the pid file " << pidfile_->path()
                   << (*restored == internal::PidFileRestore::kRecreated
                           ? " was removed while the daemon ran; recreated it"
                           : " was replaced by a file no process holds "
                             "while the daemon ran; put its own back");
      pidfile_problem_logged_ = false;
      break;
    case internal::PidFileRestore::kTaken:
      if (!pidfile_problem_logged_) {
        LOG(ERROR) << "the pid file " << pidfile_->path()
                   << " was removed or replaced while the daemon ran and "
                      "another process holds the file there now: stop and "
                      "status act on that one, not on this daemon (pid "
                   << getpid() << "); stop this one by its pid";
      }
      pidfile_problem_logged_ = true;
      break;
  }
}

void Daemon::Impl::WatchKeeper() {
  const int keeper = outputs_.keeper_pidfd();
  if (keeper < 0 && watchdog_timer_ < 0 && pidfile_timer_ < 0 &&
      confirm_fd_ < 0) {
    return;
  }
  internal::UniqueFd set(epoll_create1(EPOLL_CLOEXEC));
  struct epoll_event on_input = {};
  on_input.events = EPOLLIN;
  bool added = set.valid();
  for (int fd :
       {signal_fd_, keeper, watchdog_timer_, pidfile_timer_, confirm_fd_}) {
    if (fd < 0) continue;
    on_input.data.fd = fd;
    added = added && epoll_ctl(set.get(), EPOLL_CTL_ADD, fd, &on_input) == 0;
  }
  if (!added) {
    PLOG(WARNING) << "cannot make signal_fd() an event set; the path "
                     "keeper's death would go unnoticed and keep-alives "
                     "are sent only while WaitUntil() blocks";
    set.reset();
    if (watchdog_timer_ >= 0) {
      Owned::Release(Owned::kWatchdogTimer);
      internal::CloseDescriptor(std::exchange(watchdog_timer_, -1));
    }
    if (pidfile_timer_ >= 0) {
      Owned::Release(Owned::kPidFileTimer);
      internal::CloseDescriptor(std::exchange(pidfile_timer_, -1));
    }
    return;
  }
  signal_fd_ = event_set_ = set.release();
  Owned::Own(Owned::kEventSet, event_set_);
}

absl::Time Daemon::Impl::FeedWatchdog(absl::Time now) {
  if (!notifier_.watchdog_interval()) return absl::InfiniteFuture();
  if (watchdog_timer_ >= 0) {
    // The timer says when, and wakes every wait on signal_fd() for it.
    // Reading it (however many periods passed) makes signal_fd() quiet
    // again, healthy or not.
    uint64_t expirations = 0;
    if (read(watchdog_timer_, &expirations, sizeof(expirations)) ==
            static_cast<ssize_t>(sizeof(expirations)) &&
        healthy_ && ready_notified_) {
      Notify("WATCHDOG=1");
    }
    return absl::InfiniteFuture();
  }
  if (now >= next_watchdog_) {
    if (healthy_ && ready_notified_) Notify("WATCHDOG=1");
    next_watchdog_ = now + *notifier_.watchdog_interval();
  }
  return next_watchdog_;
}

}  // namespace daemonkit
