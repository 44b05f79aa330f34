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
#include "daemon/internal/upgrade.h"
#include "daemon/internal/upgrade_start.h"
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
        ready_deadline_(internal::MonotonicNow() + started.ready_timeout),
        stop_timeout_(started.stop_timeout),
        handover_pending_(started.handover_pending),
        confirm_fd_(started.handover_confirm_fd) {
    Owned::Own(Owned::kHandoverConfirm, confirm_fd_);
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
      if (absl::Status runnable = internal::CheckRunnableByRootAlone(
              upgrade_source_->exe, "binary");
          !runnable.ok()) {
        LOG(WARNING) << "upgrades will be refused: " << runnable.message();
      }
    }
  }

  // Keep-alives (issue 18.10): an application that follows this header's
  // example polls signal_fd() with no timeout and calls WaitUntil() only
  // when it is readable, so an idle one would send no WATCHDOG=1 and a
  // healthy daemon would be killed every watchdog period. A periodic
  // timer (CLOCK_MONOTONIC: a clock step neither delays nor rushes it) in
  // signal_fd()'s set makes it readable when a keep-alive is due, and
  // WaitUntil() sends it. Without the timer, keep-alives are sent only
  // while WaitUntil() blocks, as before.
  void StartWatchdogTimer() {
    if (!notifier_.watchdog_interval()) return;
    const int timer =
        timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer < 0) {
      PLOG(WARNING) << "timerfd_create; keep-alives are sent only while "
                       "WaitUntil() blocks";
      return;
    }
    struct itimerspec period = {};
    period.it_interval = absl::ToTimespec(*notifier_.watchdog_interval());
    period.it_value = period.it_interval;
    if (timerfd_settime(timer, 0, &period, nullptr) != 0) {
      PLOG(WARNING) << "timerfd_settime; keep-alives are sent only while "
                       "WaitUntil() blocks";
      close(timer);
      return;
    }
    watchdog_timer_ = timer;
    Owned::Own(Owned::kWatchdogTimer, timer);
  }

  // Issue 18.18: a pid file removed while the daemon runs (a tmpfiles
  // cleaner in /tmp, an rm), or replaced by rename, made `stop` exit 0 and let
  // a second daemon start beside this one. The daemon looks at it on every
  // WaitUntil() wake and, through this timer in signal_fd()'s set, at least
  // every kPidFileCheckPeriod, and recreates it (PidFile::RestoreIfRemoved).
  // Not when a path keeper holds the file: the keeper looks after it.
  void StartPidFileTimer() {
    if (!pidfile_ || pidfile_->fd() < 0 || pidfile_->keeper() != nullptr) {
      return;
    }
    const int timer =
        timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer < 0) {
      PLOG(WARNING) << "timerfd_create; a removed pid file is recreated only "
                       "when WaitUntil() wakes";
      return;
    }
    struct itimerspec period = {};
    period.it_interval = absl::ToTimespec(internal::kPidFileCheckPeriod);
    period.it_value = period.it_interval;
    if (timerfd_settime(timer, 0, &period, nullptr) != 0) {
      PLOG(WARNING) << "timerfd_settime; a removed pid file is recreated only "
                       "when WaitUntil() wakes";
      close(timer);
      return;
    }
    pidfile_timer_ = timer;
    Owned::Own(Owned::kPidFileTimer, timer);
  }

  // Recreates the pid file if it was removed or replaced (StartPidFileTimer),
  // and quiets the timer. Not while an upgrade hands the file over: two
  // processes hold the one descriptor then, and only one may replace it.
  void CheckPidFile() {
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

  // A path keeper holds the pid file's lock for this daemon; should it die
  // (SIGKILL is the one signal it cannot ignore) the lock goes with it, the
  // daemon would look stopped and a second one could start. So the keeper's
  // exit is an event like a signal: signal_fd() becomes an epoll set of the
  // signal pipe, the keeper's pidfd and the keep-alive timer, which the
  // application's own poll loop watches unchanged, and WaitUntil() then
  // stops the daemon (or sends the keep-alive).
  void WatchKeeper() {
    const int keeper = outputs_.keeper_pidfd();
    if (keeper < 0 && watchdog_timer_ < 0 && pidfile_timer_ < 0 &&
        confirm_fd_ < 0) {
      return;
    }
    const int set = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event on_input = {};
    on_input.events = EPOLLIN;
    bool added = set >= 0;
    for (int fd :
         {signal_fd_, keeper, watchdog_timer_, pidfile_timer_, confirm_fd_}) {
      if (fd < 0) continue;
      on_input.data.fd = fd;
      added = added && epoll_ctl(set, EPOLL_CTL_ADD, fd, &on_input) == 0;
    }
    if (!added) {
      PLOG(WARNING) << "cannot make signal_fd() an event set; the path "
                       "keeper's death would go unnoticed and keep-alives "
                       "are sent only while WaitUntil() blocks";
      if (set >= 0) close(set);
      if (watchdog_timer_ >= 0) {
        Owned::Release(Owned::kWatchdogTimer);
        close(std::exchange(watchdog_timer_, -1));
      }
      if (pidfile_timer_ >= 0) {
        Owned::Release(Owned::kPidFileTimer);
        close(std::exchange(pidfile_timer_, -1));
      }
      return;
    }
    signal_fd_ = event_set_ = set;
    Owned::Own(Owned::kEventSet, set);
  }

  // Issue 23.7: in a process forked from the daemon, the fork handler
  // closed the self-pipe, the event set, the keep-alive timer, the keeper's
  // pidfd and the supervisor line, and their numbers may be the
  // application's own files by now: polling them spun (POLLNVAL at once,
  // or a file always readable). The handle there uses none of them. It
  // waits on a descriptor of its own (an eventfd nobody writes: signals
  // take their default action in a forked child), made on first use.
  bool InForkedChild() const { return getpid() != owner_pid_; }

  // The forked child's own wait descriptor; -1 (logged) when it cannot be
  // made, and then waits poll nothing.
  int ChildWaitFd() {
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

  // WaitUntil() in a forked child: until the deadline (or kStop, when the
  // daemon was stopping as it forked), touching nothing of the daemon's.
  Event WaitInForkedChild(absl::Time deadline) {
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

  ~Impl() {
    if (getpid() != owner_pid_) {
      // A child forked by the daemon: the fork handler already closed these
      // descriptors, and the pid file is the daemon's to remove.
      if (child_wait_fd_ >= 0) close(child_wait_fd_);
      if (pidfile_) pidfile_->Forget();
      reporter_.Forget();
      outputs_.Forget();
      notifier_.Forget();
      sockets_.Forget();
      return;
    }
    if (event_set_ >= 0) close(event_set_);
    if (watchdog_timer_ >= 0) close(watchdog_timer_);
    if (successor_pidfd_ >= 0) close(successor_pidfd_);
    if (predecessor_pidfd_ >= 0) close(predecessor_pidfd_);
    if (pidfile_timer_ >= 0) close(pidfile_timer_);
    if (confirm_fd_ >= 0) close(confirm_fd_);
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

  // Nobody waits for this start any more: the launcher was killed
  // (SIGKILL, which it could not turn into a clean failure). Its exit code
  // said the start failed, so the daemon does not stay: the next
  // WaitUntil() returns kStop, and the application exits cleanly.
  void AbandonStart(absl::string_view why) {
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

  // The attack of stop 33: a launcher SIGKILLed during a start that never
  // became ready left the daemon running, unready, for good (the launcher's
  // timeout was the only one). Past the ready timeout with the launcher
  // gone, the start is given up as the launcher would have.
  void CheckStartAbandoned() {
    if (!reporter_.pending() || stop_requested_ ||
        internal::MonotonicNow() < ready_deadline_ || !reporter_.ReaderGone()) {
      return;
    }
    AbandonStart(absl::StrCat(
        "the daemon was not ready within ",
        absl::FormatDuration(ready_timeout_),
        " and its launcher is gone; its start failed, so the daemon stops"));
  }

  void NotifyReady() {
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
      const int pidfd = internal::PidfdOpen(predecessor);
      if (pidfd >= 0 && getppid() == predecessor) {
        predecessor_pidfd_ = pidfd;
        Owned::Own(Owned::kPredecessorPidfd, pidfd);
      } else if (pidfd >= 0) {
        close(pidfd);
      }
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

  void Notify(absl::string_view message) {
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

  // Sends WATCHDOG=1 when due; returns the time of the next one. On the
  // monotonic clock (internal::MonotonicNow()): a step of the wall clock
  // must not silence the keep-alives (issue 23.5).
  absl::Time FeedWatchdog(absl::Time now) {
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

  void FailStartup(const absl::Status& error) {
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
    if (ready_fd_ >= 0) close(std::exchange(ready_fd_, -1));
  }

  // Acts on the signals that arrived: records a stop or a reload, and
  // answers an upgrade request: by upgrading, or while `upgrading` (one runs
  // already) by saying so.
  void HandleSignals(bool upgrading) {
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

  // Waits until the wall clock reaches `deadline` (WaitUntil) or the
  // monotonic clock reaches `monotonic_deadline` (WaitFor: an interval,
  // which no clock step stretches or cuts short); either may be
  // InfiniteFuture. Issue 23.5: a wall-clock deadline is re-checked at
  // least every kWallClockRecheck, so one that a step of the clock carried
  // past is noticed.
  Event Wait(absl::Time deadline, absl::Time monotonic_deadline) {
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

  // An upgrade's new daemon: whether the old one has confirmed the
  // handover ("H": it wrote this pid and sent MAINPID=), or is gone
  // (end-of-file: it was killed; this one serves on, as before the
  // confirmation existed). Then the held sd_notify messages go out.
  void CheckHandoverConfirmed() {
    if (confirm_fd_ < 0) return;
    char byte;
    ssize_t got;
    do {
      got = read(confirm_fd_, &byte, 1);
    } while (got < 0 && errno == EINTR);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (got < 0) PLOG(WARNING) << "upgrade: read the handover confirmation";
    if (got == 0 && handover_pending_) {
      // Not ready yet: the old daemon's death takes this one too (the
      // parent-death signal, upgrade.h); it must not say it serves on (the
      // attack of stop 33 read that line from a process dead 0.2 s later).
      LOG(ERROR) << "upgrade: the old daemon is gone before this one was "
                    "ready; the upgrade failed, this one stops";
      stop_requested_ = true;
    } else if (got == 0) {
      LOG(WARNING) << "upgrade: the old daemon is gone without confirming "
                      "the handover; this one serves on";
    }
    if (event_set_ >= 0) {
      (void)epoll_ctl(event_set_, EPOLL_CTL_DEL, confirm_fd_, nullptr);
    }
    Owned::Release(Owned::kHandoverConfirm);
    close(std::exchange(confirm_fd_, -1));
    for (const std::string& message : std::exchange(held_messages_, {})) {
      Notify(message);
    }
  }

  // Issue 18.8: a stop of the service also ends an old daemon still
  // draining since it handed over to this one: it no longer listens nor
  // holds the pid file, so no control action could reach it.
  void EndDrainingPredecessor() {
    if (predecessor_pidfd_ < 0) return;
    if (internal::KillThroughPidfd(predecessor_pidfd_) == 0) {
      LOG(INFO) << (confirm_fd_ >= 0
                        ? "ended the old daemon, which had not yet confirmed "
                          "the handover"
                        : "ended the old daemon still draining");
    }
    Owned::Release(Owned::kPredecessorPidfd);
    close(std::exchange(predecessor_pidfd_, -1));
  }

  // Issue 18.8: after the handover this process drains what it has: it
  // gives up its listening sockets and its pid file descriptor (both the
  // successor's now), and ends, SIGKILLed by a timer of its own, no later
  // than --daemon_stop_timeout from now, as a stop would end it.
  void LeaveAfterHandover() {
    sockets_.Relinquish();
    if (pidfile_) {
      pidfile_->Close();
      Owned::Release(Owned::kPidFile);
    }
    if (absl::Status bounded = internal::KillSelfAfter(stop_timeout_);
        !bounded.ok()) {
      LOG(ERROR) << "upgrade: no bound on the drain: " << bounded.message();
    }
  }

  // Passes a reload on to the process this one handed over to.
  void ForwardReloadToSuccessor() {
    if (successor_pidfd_ < 0 ||
        internal::PidfdSendSignal(successor_pidfd_, SIGHUP) != 0) {
      PLOG(WARNING) << "upgrade: cannot pass the reload on to the new daemon";
      return;
    }
    LOG(INFO) << "reload passed on to the new daemon";
  }

  // The answer channel of an upgrade request, named after the pid file as
  // it is now: a path keeper that recreated a removed pid file made it a
  // new inode, and a channel named after the one opened at start was never
  // found (the control process waited 40 s for a refusal; the model test,
  // `1:start,delete_pidfile,upgrade`).
  int ConnectUpgradeChannel(uint64_t token) const {
    if (!pidfile_) return -1;
    const auto [dev, ino] = pidfile_->CurrentIdentity();
    return internal::ConnectUpgradeChannel(dev, ino, token);
  }

  // Issue 18.17: answers the request a SIGUSR2 carries with "ERR `why`"
  // and does nothing else. Without an answer its control process waited
  // out its deadline and blamed the main loop.
  void RefuseUpgrade(absl::string_view why) {
    const uint64_t token = internal::SignalPipe::TakeQueuedValue();
    const int channel = ConnectUpgradeChannel(token);
    if (channel < 0) return;
    const std::string reply = absl::StrCat("ERR ", why, "\n");
    if (send(channel, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
      PLOG(WARNING) << "upgrade: answer the control process";
    }
    close(channel);
  }

  // Upgrades (issue 14): answers a `--daemon_control=upgrade` request,
  // starting the successor and stopping this process once it is ready.
  void Upgrade() {
    const uint64_t token = internal::SignalPipe::TakeQueuedValue();
    const int channel = ConnectUpgradeChannel(token);
    if (channel < 0) {
      LOG(WARNING) << "SIGUSR2 without an upgrade request; ignored";
      return;
    }
    std::string reply;
    if (stop_requested_) {
      reply = "ERR the daemon is stopping\n";
    } else if (upgrade_taker_) {
      // The daemonkit command's monitor upgrades its program itself.
      upgrade_taker_(channel);
      return;
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
      absl::StatusOr<internal::Successor> next =
          internal::StartSuccessor(*upgrade_source_, pidfile_->fd(), sockets_,
                                   ready_timeout_, signal_fd_, [this] {
                                     // A due keep-alive wakes this wait
                                     // too: send it, or the wait spins.
                                     FeedWatchdog(internal::MonotonicNow());
                                     HandleSignals(/*upgrading=*/true);
                                     return stop_requested_;
                                   });
      absl::Status handed = next.status();
      if (next.ok()) {
        absl::Status written = pidfile_->WritePid(next->pid);
        if (!written.ok()) LOG(ERROR) << "upgrade: " << written;
        // Attack 7: MAINPID= before the successor says anything (it holds
        // its messages until the confirmation below): systemd's
        // NotifyAccess=main drops what a pid not yet main sends.
        Notify(absl::StrCat("MAINPID=", next->pid));
        // Attack 4: checked alive again at the handover itself.
        handed = internal::ConfirmHandover(*next);
        if (!handed.ok()) Notify(absl::StrCat("MAINPID=", getpid()));
      }
      if (handed.ok()) {
        const pid_t successor = next->pid;
        LOG(INFO) << "upgraded: pid " << successor << " serves; stopping";
        handed_over_ = true;
        stop_requested_ = true;
        // Still this process's child, unreaped: the pid is its own.
        successor_pidfd_ = internal::PidfdOpen(successor);
        if (successor_pidfd_ >= 0) {
          Owned::Own(Owned::kSuccessorPidfd, successor_pidfd_);
          // From here a SIGHUP goes on to the successor from the handler,
          // even once the application has left its main loop to drain;
          // one already in the pipe is passed on below.
          internal::SignalPipe::ForwardTo(SIGHUP, successor_pidfd_);
        }
        // Issue 18.7: a SIGHUP that came while the successor started (a
        // rotated log) is the successor's, which may have opened its
        // outputs before the rename; this process reopens nothing now.
        if (reload_pending_) {
          reload_pending_ = false;
          ForwardReloadToSuccessor();
        }
        // And one that reached the pipe after this loop last drained it.
        HandleSignals(/*upgrading=*/true);
        LeaveAfterHandover();
        reply = absl::StrCat("OK ", successor, "\n");
      } else {
        LOG(ERROR) << "upgrade failed"
                   << (stop_requested_ ? ", stopping: " : ", still serving: ")
                   << handed.message();
        // The new one may have written its pid before it was killed.
        if (absl::Status written = pidfile_->WritePid(getpid());
            !written.ok()) {
          LOG(ERROR) << "upgrade: " << written;
        }
        reply = absl::StrCat("ERR ", handed.message(), "\n");
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
  int event_set_ = -1;       // WatchKeeper()'s epoll set, when there is one
  int watchdog_timer_ = -1;  // StartWatchdogTimer()'s timerfd
  int pidfile_timer_ = -1;   // StartPidFileTimer()'s timerfd
  bool pidfile_problem_logged_ = false;
  // ChildWaitFd(): a forked child's own descriptor, made on first use.
  int child_wait_fd_ = -1;
  bool child_wait_fd_failed_ = false;
  bool stop_requested_ = false;
  bool reload_pending_ = false;
  std::function<void()> reload_hook_;
  internal::Notifier notifier_;
  absl::Time next_watchdog_ = absl::InfiniteFuture();
  bool healthy_ = true;
  // systemd arms the watchdog once the start-up is complete (READY=1):
  // keep-alives go out from then on, never before READY=1.
  bool ready_notified_ = false;
  bool notify_failure_logged_ = false;
  // Service-manager controls (issue 15): Options::ready_fd until ready.
  int ready_fd_ = -1;
  internal::ListenSockets sockets_;  // issue 14
  std::optional<internal::UpgradeSource> upgrade_source_;
  // DaemonAccess::TakeUpgradeRequests(): who answers upgrade requests.
  std::function<void(int channel)> upgrade_taker_;
  std::string upgrade_refusal_;
  absl::Duration ready_timeout_;
  // The start's ready timeout, counted from this process's start (a little
  // after the launcher's own): past it, a launcher that is gone can no
  // longer end a start that never became ready, so the daemon does.
  absl::Time ready_deadline_;
  absl::Duration stop_timeout_;
  bool handed_over_ = false;
  bool handover_pending_ = false;
  int successor_pidfd_ = -1;  // once handed over (issue 18.7)
  // The old daemon still draining, once this successor serves (18.8).
  int predecessor_pidfd_ = -1;
  // An upgrade's new daemon until the old one confirms the handover
  // (attack 1, 7), and the sd_notify messages held meanwhile.
  int confirm_fd_ = -1;
  std::vector<std::string> held_messages_;
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
