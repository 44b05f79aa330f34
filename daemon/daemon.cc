// Copyright 2026 The daemonkit Authors.
//
// The Daemon handle: runs in the application's process, the daemon (or
// the foreground process) or, under supervision, the worker.

#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/daemon_impl.h"
#include "daemon/internal/daemon_access.h"
#include "daemon/internal/daemon_startup.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/executable_trust.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/owned_descriptors.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/ready_fd.h"
#include "daemon/internal/session.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/upgrade.h"
#include "daemon/internal/upgrade_start.h"
#include "glog/logging.h"

namespace daemonkit {
namespace {

using Owned = internal::OwnedDescriptors;

}  // namespace

Daemon::Impl::Impl(internal::StartedDaemon started)
    : detached_(started.detached),
      owner_pid_(getpid()),
      outputs_(std::move(started.outputs)),
      pidfile_(std::move(started.pidfile)),
      reporter_(std::move(started.reporter)),
      signal_fd_(started.signal_fd),
      notifier_(std::move(started.notifier)),
      ready_fd_(started.ready_fd),
      sockets_(std::move(started.sockets)),
      upgrade_source_(std::move(started.upgrade_source)),
      upgrade_refusal_(std::move(started.upgrade_refusal)),
      ready_timeout_(started.ready_timeout),
      ready_deadline_(internal::MonotonicNow() + started.ready_timeout),
      stop_timeout_(started.stop_timeout),
      handover_pending_(started.handover_pending),
      confirm_fd_(started.handover_confirm_fd) {
  Owned::Own(Owned::kHandoverConfirm, confirm_fd_);
  if (notifier_.watchdog_interval()) {
    next_watchdog_ = internal::MonotonicNow() + *notifier_.watchdog_interval();
  }
  // What a process the application forks must not keep (the self-pipe
  // is the signal code's own to close).
  Owned::Own(Owned::kPidFile,
             pidfile_ ? pidfile_->fd() : started.worker_pidfile_fd);
  Owned::Own(Owned::kKeeper, outputs_.keeper_fd());
  Owned::Own(Owned::kKeeperPidfd, outputs_.keeper_pidfd());
  Owned::Own(Owned::kReadyPipe, reporter_.fd());
  Owned::Own(Owned::kSupervisorLine, notifier_.connected_fd());
  StartWatchdogTimer();
  StartPidFileTimer();
  WatchKeeper();
  if (!Owned::InstallForkHandler()) LOG(WARNING) << "pthread_atfork failed";
  // Upgrades (issue 14): `--daemon_control=upgrade` sends SIGUSR2. Not
  // in a supervised worker, whose supervisor would not hear of it.
  if (upgrade_source_ || !upgrade_refusal_.empty()) {
    if (absl::Status watched = internal::SignalPipe::WatchQueued(SIGUSR2);
        !watched.ok()) {
      LOG(WARNING) << "upgrades are off: " << watched;
    }
  }
  // Issue 18.19: said at start too, so that the path is fixed before the
  // upgrade that needs it (each upgrade checks again).
  if (upgrade_source_) {
    if (absl::Status runnable =
            internal::CheckRunnableByRootAlone(upgrade_source_->exe, "binary");
        !runnable.ok()) {
      LOG(WARNING) << "upgrades will be refused: " << runnable.message();
    }
  }
}

Daemon::Impl::~Impl() {
  if (getpid() != owner_pid_) {
    // A child forked by the daemon: the fork handler already closed these
    // descriptors, and the pid file is the daemon's to remove.
    internal::CloseDescriptor(child_wait_fd_);
    if (pidfile_) pidfile_->Forget();
    reporter_.Forget();
    outputs_.Forget();
    notifier_.Forget();
    sockets_.Forget();
    return;
  }
  // Plain numbers, not UniqueFd: each is also a fork-handler slot
  // (OwnedDescriptors), and a forked child must not close them again.
  for (int fd : {event_set_, watchdog_timer_, successor_pidfd_,
                 predecessor_pidfd_, pidfile_timer_, confirm_fd_}) {
    internal::CloseDescriptor(fd);
  }
  if (handed_over_ || handover_pending_) {
    // An upgrade gave the pid file (the same lock) and the socket files
    // to the new daemon, or this new daemon was never ready and they are
    // still the old one's: they stay.
    sockets_.DisownFiles();
    if (pidfile_) pidfile_->Close();
    Owned::ReleaseAll();
    return;
  }
  // Before the pid file: once it is gone a new start may bind the path.
  sockets_.RemoveFiles();
  if (pidfile_) pidfile_->Remove();
  Owned::ReleaseAll();
}

void Daemon::Impl::AbandonStart(absl::string_view why) {
  Owned::Release(Owned::kReadyPipe);
  reporter_.Close();
  LOG(ERROR) << why;
  // What the start set going goes too, as the launcher would have seen
  // to (the path keeper, in a group of its own, stays to remove the pid
  // file at the exit).
  if (!internal::KillRestOfOwnGroup(internal::kKillGrace)) {
    LOG(ERROR) << "some processes the start set going survived SIGKILL";
  }
  stop_requested_ = true;
}

void Daemon::Impl::CheckStartAbandoned() {
  if (!reporter_.pending() || stop_requested_ ||
      internal::MonotonicNow() < ready_deadline_ || !reporter_.ReaderGone()) {
    return;
  }
  AbandonStart(absl::StrCat(
      "the daemon was not ready within ", absl::FormatDuration(ready_timeout_),
      " and its launcher is gone; its start failed, so the daemon stops"));
}

void Daemon::Impl::NotifyReady() {
  // An upgrade's new daemon outlives the old one from here on (the old
  // one exits as soon as it reads "ready"), and its pid is in the file
  // before it says so: should the old one die at any moment from here,
  // the file names the process that serves. (An old one that rejects it
  // after all kills it first and writes its own pid back.)
  if (handover_pending_) {
    internal::SurviveTheOldDaemon();
    // Issue 18.8: the old daemon, our parent, drains on; a stop of this
    // one ends it too. Its pid is ours to trust only while it is still
    // our parent, checked once the pidfd pins it.
    const pid_t predecessor = getppid();
    internal::UniqueFd pidfd(internal::PidfdOpen(predecessor));
    if (pidfd.valid() && getppid() == predecessor) {
      predecessor_pidfd_ = pidfd.release();
      Owned::Own(Owned::kPredecessorPidfd, predecessor_pidfd_);
    }
    pidfd.reset();  // not our parent after all: not ours to end
    if (pidfile_) {
      if (absl::Status written = pidfile_->WritePid(getpid()); !written.ok()) {
        LOG(ERROR) << "upgrade: " << written;
      }
    }
    if (reporter_.pending() && !reporter_.ReportReady()) {
      LOG(WARNING) << "the old daemon is gone before it heard that this "
                      "one is ready; this one serves on";
    }
  }
  if (reporter_.pending() && !reporter_.ReportReady()) {
    AbandonStart(
        "the launcher is gone before the daemon was ready; its "
        "start failed, so the daemon stops");
    return;
  }
  Owned::Release(Owned::kReadyPipe);
  // Service-manager controls (issue 15): s6, dinit.
  internal::SignalReadyFd(std::exchange(ready_fd_, -1));
  // An upgrade's new daemon: the pid file and the socket files are its
  // own from now on (the old one writes this pid and exits).
  handover_pending_ = false;
  // systemd started the launcher: a detached daemon names its new self.
  Notify(detached_ ? absl::StrCat("READY=1\nMAINPID=", getpid()) : "READY=1");
  ready_notified_ = true;
  sockets_.StoreWithServiceManager(notifier_);
}

void Daemon::Impl::Notify(absl::string_view message) {
  // A forked child is not the service, and the supervisor line's number
  // is no longer the library's there.
  if (InForkedChild()) return;
  // Attack 7: an upgrade's new daemon speaks once the old one has sent
  // MAINPID= for it (CheckHandoverConfirmed); systemd's NotifyAccess=main
  // would drop it before. A keep-alive is for now or never.
  if (confirm_fd_ >= 0) {
    if (message != "WATCHDOG=1") held_messages_.emplace_back(message);
    return;
  }
  absl::Status sent = notifier_.Send(message);
  if (!sent.ok() && !notify_failure_logged_) {
    LOG(WARNING) << "sd_notify: " << sent.message();
    notify_failure_logged_ = true;
  }
}

void Daemon::Impl::FailStartup(const absl::Status& error) {
  // Found by the attack of 2026-12-06: after the ready, the start is
  // over; removing the pid file and its lock would hide a daemon that
  // runs on and let a second one start beside it.
  if (ready_notified_) {
    LOG(ERROR) << "start-up failure reported after the daemon was ready "
                  "(ignored: the start succeeded; exit to stop): "
               << error.message();
    return;
  }
  LOG(ERROR) << "start-up failed: " << error.message();
  Notify(internal::StartupFailureMessage(error));
  if (reporter_.pending()) reporter_.ReportError(error.message());
  Owned::Release(Owned::kReadyPipe);
  Owned::Release(Owned::kPidFile);
  // A failed upgrade's new daemon leaves the old one's pid file alone.
  if (pidfile_ && !handover_pending_) pidfile_->Remove();
  if (pidfile_ && handover_pending_) pidfile_->Close();
  pidfile_.reset();
  // Service-manager controls (issue 15): end-of-file without a newline
  // tells the manager the start failed.
  internal::CloseDescriptor(std::exchange(ready_fd_, -1));
}

void Daemon::Impl::HandleSignals(bool upgrading) {
  for (int signo : internal::SignalPipe::Drain()) {
    if (signo == SIGTERM || signo == SIGINT) {
      if (!stop_requested_) {
        LOG(INFO) << "stopping on " << strsignal(signo);
        Notify("STOPPING=1");
      }
      stop_requested_ = true;
      EndDrainingPredecessor();
    } else if (signo == SIGHUP && handed_over_) {
      // Issue 18.7: the reload is for the process that serves now (a
      // control action may have read this pid just before the handover).
      ForwardReloadToSuccessor();
    } else if (signo == SIGHUP) {
      reload_pending_ = true;
    } else if (signo == SIGUSR2) {
      if (upgrading) {
        RefuseUpgrade("an upgrade is already in progress");
      } else {
        Upgrade();
      }
    }
  }
}

void Daemon::Impl::Reload() {
  LOG(INFO) << "reloading on SIGHUP";
  struct timespec monotonic;
  clock_gettime(CLOCK_MONOTONIC, &monotonic);
  Notify(absl::StrCat(
      "RELOADING=1\nMONOTONIC_USEC=",
      absl::ToInt64Microseconds(absl::DurationFromTimespec(monotonic))));
  absl::Status reopened = outputs_.Reopen();
  if (!reopened.ok()) LOG(ERROR) << "reopen output files: " << reopened;
  if (reload_hook_) reload_hook_();
  Notify("READY=1");
}

std::unique_ptr<Daemon> Daemon::Create(internal::StartedDaemon started) {
  return std::unique_ptr<Daemon>(
      new Daemon(std::make_unique<Impl>(std::move(started))));
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;
void Daemon::NotifyReady() { impl_->NotifyReady(); }
void Daemon::FailStartup(const absl::Status& error) {
  impl_->FailStartup(error);
}

Event Daemon::WaitUntil(absl::Time deadline) {
  return impl_->Wait(deadline, absl::InfiniteFuture());
}

Event Daemon::WaitFor(absl::Duration timeout) {
  return impl_->Wait(absl::InfiniteFuture(),
                     internal::MonotonicNow() + timeout);
}

bool Daemon::stop_requested() const { return impl_->stop_requested_; }
int Daemon::signal_fd() const {
  return impl_->InForkedChild() ? impl_->ChildWaitFd() : impl_->signal_fd_;
}

void Daemon::SetReloadHook(std::function<void()> hook) {
  impl_->reload_hook_ = std::move(hook);
}

bool Daemon::detached() const { return impl_->detached_; }
void Daemon::NotifyStatus(absl::string_view status) {
  // Issue 18.3: the text (often a client's) stays one assignment.
  impl_->Notify(absl::StrCat("STATUS=", internal::StatusValue(status)));
}

void Daemon::SetHealthy(bool healthy) { impl_->healthy_ = healthy; }

// Listening sockets (issue 14).
absl::StatusOr<int> Daemon::ListenSocket(absl::string_view name) const {
  const int fd = impl_->sockets_.Find(name);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("no listening socket named '", name, "'"));
  }
  return fd;
}

std::vector<std::string> Daemon::ListenSocketNames() const {
  return impl_->sockets_.names();
}

namespace internal {

absl::Status DaemonAccess::WritePid(Daemon& daemon, pid_t pid) {
  Daemon::Impl& impl = *daemon.impl_;
  if (!impl.pidfile_ || impl.pidfile_->fd() < 0 ||
      impl.pidfile_->keeper() != nullptr) {
    return absl::FailedPreconditionError(
        "this process does not hold its pid file itself");
  }
  return impl.pidfile_->WritePid(pid);
}

void DaemonAccess::Notify(Daemon& daemon, absl::string_view message) {
  daemon.impl_->Notify(message);
}

absl::Status DaemonAccess::TakeUpgradeRequests(
    Daemon& daemon, std::function<void(int channel)> take) {
  if (!daemon.impl_->pidfile_) {
    return absl::FailedPreconditionError("no pid file: no upgrade requests");
  }
  daemon.impl_->upgrade_taker_ = std::move(take);
  return internal::SignalPipe::WatchQueued(SIGUSR2);
}

}  // namespace internal
}  // namespace daemonkit
