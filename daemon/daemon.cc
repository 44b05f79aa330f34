// Copyright 2026 The daemonkit Authors.
//
// The Daemon handle: runs in the application's process, the daemon (or
// the foreground process) or, under supervision, the worker.

#include "daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/internal/daemon_startup.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/owned_descriptors.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/ready_fd.h"
#include "daemon/internal/session.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/termination.h"
#include "daemon/internal/upgrade.h"
#include "glog/logging.h"

namespace daemonkit {
namespace {

using Owned = internal::OwnedDescriptors;

// How long WaitUntil() sleeps at most before it reads the wall clock again:
// ppoll's timeout runs on the monotonic clock, so a step of the wall clock
// past the deadline would otherwise wait out the old distance (issue 23.5).
constexpr absl::Duration kWallClockRecheck = absl::Seconds(1);

}  // namespace

class Daemon::Impl {
 public:
  explicit Impl(internal::StartedDaemon started)
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
        handover_pending_(started.handover_pending) {
    if (notifier_.watchdog_interval()) {
      next_watchdog_ =
          internal::MonotonicNow() + *notifier_.watchdog_interval();
    }
    // What a process the application forks must not keep (the self-pipe
    // is the signal code's own to close).
    Owned::Own(Owned::kPidFile,
               pidfile_ ? pidfile_->fd() : started.worker_pidfile_fd);
    Owned::Own(Owned::kKeeper, outputs_.keeper_fd());
    Owned::Own(Owned::kKeeperPidfd, outputs_.keeper_pidfd());
    Owned::Own(Owned::kReadyPipe, reporter_.fd());
    Owned::Own(Owned::kSupervisorLine, notifier_.connected_fd());
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
  }

  // A path keeper holds the pid file's lock for this daemon; should it die
  // (SIGKILL is the one signal it cannot ignore) the lock goes with it, the
  // daemon would look stopped and a second one could start. So the keeper's
  // exit is an event like a signal: signal_fd() becomes an epoll set of the
  // signal pipe and the keeper's pidfd, which the application's own poll
  // loop watches unchanged, and WaitUntil() then stops the daemon.
  void WatchKeeper() {
    const int keeper = outputs_.keeper_pidfd();
    if (keeper < 0) return;
    const int set = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event on_input = {};
    on_input.events = EPOLLIN;
    bool added = set >= 0;
    for (int fd : {signal_fd_, keeper}) {
      on_input.data.fd = fd;
      added = added && epoll_ctl(set, EPOLL_CTL_ADD, fd, &on_input) == 0;
    }
    if (!added) {
      PLOG(WARNING) << "cannot watch the path keeper; its death would go "
                       "unnoticed";
      if (set >= 0) close(set);
      return;
    }
    signal_fd_ = event_set_ = set;
    Owned::Own(Owned::kEventSet, set);
  }

  ~Impl() {
    if (getpid() != owner_pid_) {
      // A child forked by the daemon: the fork handler already closed these
      // descriptors, and the pid file is the daemon's to remove.
      if (pidfile_) pidfile_->Forget();
      reporter_.Forget();
      outputs_.Forget();
      notifier_.Forget();
      sockets_.Forget();
      return;
    }
    if (event_set_ >= 0) close(event_set_);
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

  void NotifyReady() {
    // An upgrade's new daemon outlives the old one from here on (the old
    // one exits as soon as it reads "ready"), and its pid is in the file
    // before it says so: should the old one die at any moment from here,
    // the file names the process that serves. (An old one that rejects it
    // after all kills it first and writes its own pid back.)
    if (handover_pending_) {
      internal::SurviveTheOldDaemon();
      if (pidfile_) {
        if (absl::Status written = pidfile_->WritePid(getpid());
            !written.ok()) {
          LOG(ERROR) << "upgrade: " << written;
        }
      }
      if (reporter_.pending() && !reporter_.ReportReady()) {
        LOG(WARNING) << "the old daemon is gone before it heard that this "
                        "one is ready; this one serves on";
      }
    }
    if (reporter_.pending() && !reporter_.ReportReady()) {
      // Nobody waits for this start any more: the launcher was killed
      // (SIGKILL, which it could not turn into a clean failure). Its exit
      // code said the start failed, so the daemon does not stay: the next
      // WaitUntil() returns kStop, and the application exits cleanly.
      Owned::Release(Owned::kReadyPipe);
      LOG(ERROR) << "the launcher is gone before the daemon was ready; "
                    "its start failed, so the daemon stops";
      // What the start set going goes too, as the launcher would have seen
      // to (the path keeper, in a group of its own, stays to remove the pid
      // file at the exit).
      if (!internal::KillRestOfOwnGroup(internal::kKillGrace)) {
        LOG(ERROR) << "some processes the start set going survived SIGKILL";
      }
      stop_requested_ = true;
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
    sockets_.StoreWithServiceManager(notifier_);
  }

  void Notify(absl::string_view message) {
    absl::Status sent = notifier_.Send(message);
    if (!sent.ok() && !notify_failure_logged_) {
      LOG(WARNING) << "sd_notify: " << sent.message();
      notify_failure_logged_ = true;
    }
  }

  // Sends WATCHDOG=1 when due; returns the time of the next one. On the
  // monotonic clock (internal::MonotonicNow()): a step of the wall clock
  // must not silence the keep-alives (issue 23.5).
  absl::Time FeedWatchdog(absl::Time now) {
    if (!notifier_.watchdog_interval()) return absl::InfiniteFuture();
    if (now >= next_watchdog_) {
      if (healthy_) Notify("WATCHDOG=1");
      next_watchdog_ = now + *notifier_.watchdog_interval();
    }
    return next_watchdog_;
  }

  void FailStartup(const absl::Status& error) {
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
    if (ready_fd_ >= 0) close(std::exchange(ready_fd_, -1));
  }

  // Acts on the signals that arrived: records a stop or a reload, and
  // answers an upgrade request unless `upgrading` (one runs already: the
  // channel of another request cannot even be bound meanwhile).
  void HandleSignals(bool upgrading) {
    for (int signo : internal::SignalPipe::Drain()) {
      if (signo == SIGTERM || signo == SIGINT) {
        if (!stop_requested_) {
          LOG(INFO) << "stopping on " << strsignal(signo);
          Notify("STOPPING=1");
        }
        stop_requested_ = true;
      } else if (signo == SIGHUP) {
        reload_pending_ = true;
      } else if (signo == SIGUSR2 && !upgrading) {
        Upgrade();
      }
    }
  }

  // Waits until the wall clock reaches `deadline` (WaitUntil) or the
  // monotonic clock reaches `monotonic_deadline` (WaitFor: an interval,
  // which no clock step stretches or cuts short); either may be
  // InfiniteFuture. Issue 23.5: a wall-clock deadline is re-checked at
  // least every kWallClockRecheck, so one that a step of the clock carried
  // past is noticed.
  Event Wait(absl::Time deadline, absl::Time monotonic_deadline) {
    for (;;) {
      HandleSignals(/*upgrading=*/false);
      if (!stop_requested_ && outputs_.keeper_exited()) {
        LOG(ERROR) << internal::kKeeperExitedMessage;
        Notify("STOPPING=1");
        stop_requested_ = true;
      }
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
      const absl::Time wake =
          std::min(monotonic_deadline, FeedWatchdog(monotonic_now));
      absl::Duration left = std::min(wake - monotonic_now, deadline - now);
      if (deadline != absl::InfiniteFuture()) {
        left = std::min(left, kWallClockRecheck);
      }
      struct timespec timeout = absl::ToTimespec(left);
      struct pollfd pfd = {signal_fd_, POLLIN, 0};
      const bool forever = left == absl::InfiniteDuration();
      if (ppoll(&pfd, 1, forever ? nullptr : &timeout, nullptr) < 0 &&
          errno != EINTR) {
        PLOG(ERROR) << "ppoll on the signal pipe";
        absl::SleepFor(std::min(left, absl::Milliseconds(10)));
      }
    }
  }

  // Upgrades (issue 14): answers a `--daemon_control=upgrade` request,
  // starting the successor and stopping this process once it is ready.
  void Upgrade() {
    const uint64_t token = internal::SignalPipe::TakeQueuedValue();
    const int channel = pidfile_ ? internal::ConnectUpgradeChannel(
                                       pidfile_->dev(), pidfile_->ino(), token)
                                 : -1;
    if (channel < 0) {
      LOG(WARNING) << "SIGUSR2 without an upgrade request; ignored";
      return;
    }
    std::string reply;
    if (stop_requested_) {
      reply = "ERR the daemon is stopping\n";
    } else if (!upgrade_source_ || !pidfile_) {
      reply = absl::StrCat("ERR ",
                           upgrade_refusal_.empty()
                               ? "upgrade is not supported here"
                               : upgrade_refusal_,
                           "\n");
    } else {
      LOG(INFO) << "upgrading: starting " << upgrade_source_->exe;
      // A stop that comes meanwhile ends the new daemon too (the old one
      // would otherwise stop and leave it, unready and unrecorded).
      absl::StatusOr<pid_t> next =
          internal::StartSuccessor(*upgrade_source_, pidfile_->fd(), sockets_,
                                   ready_timeout_, signal_fd_, [this] {
                                     HandleSignals(/*upgrading=*/true);
                                     return stop_requested_;
                                   });
      if (next.ok()) {
        absl::Status written = pidfile_->WritePid(*next);
        if (!written.ok()) LOG(ERROR) << "upgrade: " << written;
        Notify(absl::StrCat("MAINPID=", *next));
        LOG(INFO) << "upgraded: pid " << *next << " serves; stopping";
        handed_over_ = true;
        stop_requested_ = true;
        reply = absl::StrCat("OK ", *next, "\n");
      } else {
        LOG(ERROR) << "upgrade failed"
                   << (stop_requested_ ? ", stopping: " : ", still serving: ")
                   << next.status().message();
        // The new one may have written its pid before it was killed.
        if (absl::Status written = pidfile_->WritePid(getpid());
            !written.ok()) {
          LOG(ERROR) << "upgrade: " << written;
        }
        reply = absl::StrCat("ERR ", next.status().message(), "\n");
      }
    }
    if (send(channel, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
      PLOG(WARNING) << "upgrade: answer the control process";
    }
    close(channel);
  }

  void Reload() {
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

  bool detached_;
  pid_t owner_pid_;
  internal::OutputFiles outputs_;
  std::optional<internal::PidFile> pidfile_;
  internal::ReadyReporter reporter_;
  int signal_fd_;
  int event_set_ = -1;  // WatchKeeper()'s epoll set, when there is a keeper
  bool stop_requested_ = false;
  bool reload_pending_ = false;
  std::function<void()> reload_hook_;
  internal::Notifier notifier_;
  absl::Time next_watchdog_ = absl::InfiniteFuture();
  bool healthy_ = true;
  bool notify_failure_logged_ = false;
  // Service-manager controls (issue 15): Options::ready_fd until ready.
  int ready_fd_ = -1;
  internal::ListenSockets sockets_;  // issue 14
  std::optional<internal::UpgradeSource> upgrade_source_;
  std::string upgrade_refusal_;
  absl::Duration ready_timeout_;
  bool handed_over_ = false;
  bool handover_pending_ = false;
};

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
int Daemon::signal_fd() const { return impl_->signal_fd_; }
void Daemon::SetReloadHook(std::function<void()> hook) {
  impl_->reload_hook_ = std::move(hook);
}
bool Daemon::detached() const { return impl_->detached_; }
void Daemon::NotifyStatus(absl::string_view status) {
  impl_->Notify(absl::StrCat("STATUS=", status));
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

}  // namespace daemonkit
