// Copyright 2026 The daemonkit Authors.
//
// The supervisor process's event loop (supervisor_process.h): it waits for
// the worker, signals, the keeper and the clock, answers signals, keeps its
// pid file, and stops or exits. A worker's own life, seen from here, is in
// supervisor_worker.cc.

#include "daemon/internal/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/supervisor_process.h"
#include "daemon/internal/upgrade.h"
#include "daemon/internal/wait_status.h"
#include "daemon/internal/worker_pidfile.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {

Worker Supervisor::Run() {
  if (absl::Status watched = SignalPipe::Watch(SIGCHLD); !watched.ok()) {
    FailStart(watched.message());
  }
  if (absl::Status watched = SignalPipe::WatchQueued(SIGUSR2); !watched.ok()) {
    FailStart(watched.message());
  }
  // What the application leaves behind (a double-forked helper) is
  // reparented to the supervisor, not to init: reaped here, ended by stop.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    FailStart(ErrnoError(errno, "prctl PR_SET_CHILD_SUBREAPER").message());
  }
  worker_own_group_ = !InTerminalForeground();
  for (;;) {
    if (worker_pid_ == 0 && MonotonicNow() >= restart_at_) {
      if (std::optional<Worker> worker = SpawnWorker()) {
        return *std::move(worker);
      }
    }
    WaitForEvent();
    RelayWorkerNotifications();
    HandleSignals();
    StopIfTheKeeperIsGone();
    StopIfTheStartWasAbandoned();
    CheckPidFile();
    ReadWorkerMessages();
    CheckWatchdog();
  }
}

void Supervisor::WaitForEvent() {
  std::vector<struct pollfd> fds = {{state_.signal_fd, POLLIN, 0}};
  if (worker_ready_fd_.valid()) {
    fds.push_back({worker_ready_fd_.get(), POLLIN, 0});
  }
  if (worker_notify_fd_.valid()) {
    fds.push_back({worker_notify_fd_.get(), POLLIN, 0});
  }
  if (state_.outputs->keeper_pidfd() >= 0) {
    fds.push_back({state_.outputs->keeper_pidfd(), POLLIN, 0});
  }
  absl::Time wake = absl::InfiniteFuture();
  if (worker_pid_ == 0) wake = std::min(restart_at_, FeedWatchdog());
  if (worker_pid_ != 0) wake = watchdog_.NextWake();
  // Issue 18.18: a supervisor that holds its pid file itself looks at
  // least every kPidFileCheckPeriod whether it was removed.
  // (Every wake here is on the monotonic clock.)
  if (HoldsPidFile()) {
    wake = std::min(wake, MonotonicNow() + kPidFileCheckPeriod);
  }
  // Not ready yet: wake at the ready timeout, and past it when the
  // launcher goes (its pipe's POLLERR).
  if (!first_ready_ && state_.launcher->pending()) {
    if (MonotonicNow() < ready_deadline_) {
      wake = std::min(wake, ready_deadline_);
    } else {
      fds.push_back({state_.launcher->fd(), 0, 0});
    }
  }
  const int timeout_ms = wake == absl::InfiniteFuture()
                             ? -1
                             : PollTimeoutMs(wake - MonotonicNow());
  if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
    PLOG(ERROR) << "poll";
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::Time Supervisor::FeedWatchdog() {
  const std::optional<absl::Duration> interval =
      state_.notifier->watchdog_interval();
  if (!interval || !first_ready_) return absl::InfiniteFuture();
  const absl::Time now = MonotonicNow();
  if (now >= next_watchdog_) {
    Notify("WATCHDOG=1");
    next_watchdog_ = now + *interval;
  }
  return next_watchdog_;
}

void Supervisor::HandleSignals() {
  for (int signo : SignalPipe::Drain()) {
    if (signo == SIGTERM || signo == SIGINT) Stop(signo);
    if (signo == SIGHUP) {
      LOG(INFO) << "SIGHUP: reopening output files, forwarding to worker "
                << worker_pid_;
      if (absl::Status reopened = state_.outputs->Reopen(); !reopened.ok()) {
        LOG(ERROR) << "reopen output files: " << reopened;
      }
      if (worker_pidfd_.valid()) PidfdSendSignal(worker_pidfd_.get(), SIGHUP);
    }
    // Upgrades (issue 14) replace an unsupervised daemon only; a
    // supervisor answers the request instead of dying of SIGUSR2.
    if (signo == SIGUSR2) {
      // Named after the pid file as it is now (CurrentIdentity): the
      // keeper may have recreated it.
      int channel = -1;
      if (*state_.pidfile) {
        const auto [dev, ino] = (*state_.pidfile)->CurrentIdentity();
        channel =
            ConnectUpgradeChannel(dev, ino, SignalPipe::TakeQueuedValue());
      }
      if (channel >= 0) {
        static constexpr char kRefusal[] =
            "ERR upgrade is not supported under supervision\n";
        (void)!send(channel, kRefusal, sizeof(kRefusal) - 1, MSG_NOSIGNAL);
        close(channel);
      }
    }
    // SIGCHLD (and everything else): reap below.
  }
  Reap();
}

bool Supervisor::HoldsPidFile() const {
  return *state_.pidfile && (*state_.pidfile)->fd() >= 0 &&
         (*state_.pidfile)->keeper() == nullptr;
}

void Supervisor::CheckPidFile() {
  if (!HoldsPidFile()) return;
  absl::StatusOr<PidFileRestore> restored =
      (*state_.pidfile)->RestoreIfRemoved();
  const std::string& path = (*state_.pidfile)->path();
  if (restored.ok() && *restored == PidFileRestore::kRecreated) {
    LOG(WARNING) << "the pid file " << path
                 << " was removed while the daemon ran; recreated it";
  }
  if (restored.ok() && *restored == PidFileRestore::kReplaced) {
    LOG(WARNING) << "the pid file " << path
                 << " was replaced by a file no process holds while the "
                    "daemon ran; put its own back";
  }
  const bool problem = !restored.ok() || *restored == PidFileRestore::kTaken;
  if (problem && !pidfile_problem_logged_) {
    LOG(ERROR) << "the pid file " << path
               << (restored.ok()
                       ? " was removed or replaced while the daemon ran "
                         "and another process holds the file there now"
                       : absl::StrCat(" was removed or replaced and "
                                      "cannot be put back (",
                                      restored.status().message(), ")"))
               << ": stop and status cannot find this daemon (pid " << getpid()
               << "); stop it by its pid";
  }
  pidfile_problem_logged_ = problem;
}

void Supervisor::StopIfTheKeeperIsGone() {
  if (!state_.outputs->keeper_exited()) return;
  LOG(ERROR) << kKeeperExitedMessage;
  Stop(SIGTERM);
}

void Supervisor::StopIfTheStartWasAbandoned() {
  if (first_ready_ || !state_.launcher->pending() ||
      MonotonicNow() < ready_deadline_ || !state_.launcher->ReaderGone()) {
    return;
  }
  LOG(ERROR) << "the daemon was not ready within "
             << absl::FormatDuration(options_.ready_timeout)
             << " and its launcher is gone; its start failed, so the "
                "daemon stops";
  Stop(SIGPIPE);
}

void Supervisor::Stop(int signo) {
  LOG(INFO) << "stopping on " << strsignal(signo);
  if (!relay_.stopping) Notify("STOPPING=1");
  relay_.stopping = true;
  // From now on the worker's pid file names no one: if whoever stops us
  // runs out of patience and SIGKILLs the supervisor (its worker then dies
  // of PR_SET_PDEATHSIG), nothing is left to remove it.
  RemoveWorkerPidFileNow();
  if (worker_pidfd_.valid()) {
    const std::string worker = absl::StrCat("worker ", worker_pid_);
    // Three quarters of the stop timeout: `stop` (or a service manager)
    // waits the whole of it before it SIGKILLs the supervisor, and the
    // supervisor needs the rest to end what the worker left behind.
    if (absl::Status ended = TerminateProcess(
            worker_pidfd_.get(), options_.stop_timeout * 3 / 4, worker.c_str());
        !ended.ok()) {
      LOG(WARNING) << ended;
    }
    // The rest of its process group: while the worker is an unreaped
    // zombie its pid, and so the group's number, cannot be reused.
    if (KillGroupNow(worker_pid_) != 0 && errno != ESRCH) {
      PLOG(WARNING) << "kill process group " << worker_pid_;
    }
    ReapChild(worker_pid_);
    worker_pid_ = 0;
  }
  Exit(kExitSuccess);
}

void Supervisor::FailStart(absl::string_view message) {
  LOG(ERROR) << "start-up failed: " << message;
  // Before the launcher hears of it: it kills what has not exited then.
  EndLeftovers();
  if (state_.launcher->pending()) state_.launcher->ReportError(message);
  Notify(StartupFailureMessage(absl::UnavailableError(message)));
  Exit(kExitFailure);
}

void Supervisor::GiveUp(absl::string_view message) {
  LOG(ERROR) << message;
  EndLeftovers();
  Notify(absl::StrCat("STATUS=", StatusValue(message)));
  if (state_.launcher->pending()) state_.launcher->ReportError(message);
  Exit(kExitFailure);
}

void Supervisor::Exit(int code) {
  EndLeftovers();
  RemoveWorkerPidFileNow();
  if (state_.sockets != nullptr) state_.sockets->RemoveFiles();
  if (*state_.pidfile) (*state_.pidfile)->Remove();
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(code);
}

bool Supervisor::InTerminalForeground() {
  int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (tty < 0) return false;  // no controlling terminal
  const bool foreground = tcgetpgrp(tty) == getpgrp();
  close(tty);
  return foreground;
}

void Supervisor::RemoveWorkerPidFileNow() {
  if (*state_.worker_pidfile) (*state_.worker_pidfile)->Remove();
  state_.worker_pidfile->reset();
}

void Supervisor::Notify(absl::string_view message) {
  if (absl::Status sent = state_.notifier->Send(message); !sent.ok()) {
    LOG(WARNING) << "sd_notify: " << sent.message();
  }
}

Worker Supervise(const Options& options, SupervisorState state) {
  return Supervisor(options, state).Run();
}

}  // namespace internal
}  // namespace daemonkit
