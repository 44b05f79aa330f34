// Copyright 2026 The daemonkit Authors.
//
// File: daemon/daemon_impl.h
// -----------------------------------------------------------------------------
//
// What the Daemon handle (daemon.h) holds: the daemon's side of its
// readiness, signals, pid file, watchdog and upgrades, in the process that
// called Daemonize() (the daemon, the foreground process or a supervised
// worker). Private to //daemon; its methods live by job:
//
//   daemon.cc          the handle, and the process's core: readiness,
//                      sd_notify, start failures, signals, reload
//   daemon_wait.cc     WaitUntil()/WaitFor(), in the daemon and in a
//                      process the application forked
//   daemon_watch.cc    the timers of signal_fd(): keep-alives, the pid
//                      file's check, the path keeper's end
//   daemon_upgrade.cc  the old daemon answering `upgrade`, and the new one
//                      until the handover is confirmed
//
// Everything here runs in one thread: the application's, calling the
// handle.

#ifndef DAEMONKIT_DAEMON_DAEMON_IMPL_H_
#define DAEMONKIT_DAEMON_DAEMON_IMPL_H_

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
#include "daemon/daemon.h"
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

class Daemon::Impl {
 public:
  explicit Impl(internal::StartedDaemon started);

  // Keep-alives (issue 18.10): an application that follows this header's
  // example polls signal_fd() with no timeout and calls WaitUntil() only
  // when it is readable, so an idle one would send no WATCHDOG=1 and a
  // healthy daemon would be killed every watchdog period. A periodic
  // timer (CLOCK_MONOTONIC: a clock step neither delays nor rushes it) in
  // signal_fd()'s set makes it readable when a keep-alive is due, and
  // WaitUntil() sends it. Without the timer, keep-alives are sent only
  // while WaitUntil() blocks, as before.
  void StartWatchdogTimer();

  // Issue 18.18: a pid file removed while the daemon runs (a tmpfiles
  // cleaner in /tmp, an rm), or replaced by rename, made `stop` exit 0 and let
  // a second daemon start beside this one. The daemon looks at it on every
  // WaitUntil() wake and, through this timer in signal_fd()'s set, at least
  // every kPidFileCheckPeriod, and recreates it (PidFile::RestoreIfRemoved).
  // Not when a path keeper holds the file: the keeper looks after it.
  void StartPidFileTimer();

  // Recreates the pid file if it was removed or replaced (StartPidFileTimer),
  // and quiets the timer. Not while an upgrade hands the file over: two
  // processes hold the one descriptor then, and only one may replace it.
  void CheckPidFile();

  // A path keeper holds the pid file's lock for this daemon; should it die
  // (SIGKILL is the one signal it cannot ignore) the lock goes with it, the
  // daemon would look stopped and a second one could start. So the keeper's
  // exit is an event like a signal: signal_fd() becomes an epoll set of the
  // signal pipe, the keeper's pidfd and the keep-alive timer, which the
  // application's own poll loop watches unchanged, and WaitUntil() then
  // stops the daemon (or sends the keep-alive).
  void WatchKeeper();

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
  int ChildWaitFd();

  // WaitUntil() in a forked child: until the deadline (or kStop, when the
  // daemon was stopping as it forked), touching nothing of the daemon's.
  Event WaitInForkedChild(absl::Time deadline);

  ~Impl();

  // Nobody waits for this start any more: the launcher was killed
  // (SIGKILL, which it could not turn into a clean failure). Its exit code
  // said the start failed, so the daemon does not stay: the next
  // WaitUntil() returns kStop, and the application exits cleanly.
  void AbandonStart(absl::string_view why);

  // The attack of stop 33: a launcher SIGKILLed during a start that never
  // became ready left the daemon running, unready, for good (the launcher's
  // timeout was the only one). Past the ready timeout with the launcher
  // gone, the start is given up as the launcher would have.
  void CheckStartAbandoned();

  void NotifyReady();

  void Notify(absl::string_view message);

  // Sends WATCHDOG=1 when due; returns the time of the next one. On the
  // monotonic clock (internal::MonotonicNow()): a step of the wall clock
  // must not silence the keep-alives (issue 23.5).
  absl::Time FeedWatchdog(absl::Time now);

  void FailStartup(const absl::Status& error);

  // Acts on the signals that arrived: records a stop or a reload, and
  // answers an upgrade request: by upgrading, or while `upgrading` (one runs
  // already) by saying so.
  void HandleSignals(bool upgrading);

  // Waits until the wall clock reaches `deadline` (WaitUntil) or the
  // monotonic clock reaches `monotonic_deadline` (WaitFor: an interval,
  // which no clock step stretches or cuts short); either may be
  // InfiniteFuture. Issue 23.5: a wall-clock deadline is re-checked at
  // least every kWallClockRecheck, so one that a step of the clock carried
  // past is noticed.
  Event Wait(absl::Time deadline, absl::Time monotonic_deadline);

  // An upgrade's new daemon: whether the old one has confirmed the
  // handover ("H": it wrote this pid and sent MAINPID=), or is gone
  // (end-of-file: it was killed; this one serves on, as before the
  // confirmation existed). Then the held sd_notify messages go out.
  void CheckHandoverConfirmed();

  // Issue 18.8: a stop of the service also ends an old daemon still
  // draining since it handed over to this one: it no longer listens nor
  // holds the pid file, so no control action could reach it.
  void EndDrainingPredecessor();

  // Issue 18.8: after the handover this process drains what it has: it
  // gives up its listening sockets and its pid file descriptor (both the
  // successor's now), and ends, SIGKILLed by a timer of its own, no later
  // than --daemon_stop_timeout from now, as a stop would end it.
  void LeaveAfterHandover();

  // Passes a reload on to the process this one handed over to.
  void ForwardReloadToSuccessor();

  // The answer channel of an upgrade request, named after the pid file as
  // it is now: a path keeper that recreated a removed pid file made it a
  // new inode, and a channel named after the one opened at start was never
  // found (the control process waited 40 s for a refusal; the model test,
  // `1:start,delete_pidfile,upgrade`).
  int ConnectUpgradeChannel(uint64_t token) const;

  // Issue 18.17: answers the request a SIGUSR2 carries with "ERR `why`"
  // and does nothing else. Without an answer its control process waited
  // out its deadline and blamed the main loop.
  void RefuseUpgrade(absl::string_view why);

  // Upgrades (issue 14): answers a `--daemon_control=upgrade` request,
  // starting the successor and stopping this process once it is ready.
  void Upgrade();
  // Upgrade()'s work once the request is the daemon's own: starts the
  // successor and hands over to it; the reply for the control process.
  std::string StartSuccessorAndHandOver();
  // The successor `successor` serves: this process stops, passes reloads
  // on, and drains (LeaveAfterHandover).
  void HandOverTo(pid_t successor);

  void Reload();

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

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_DAEMON_IMPL_H_
