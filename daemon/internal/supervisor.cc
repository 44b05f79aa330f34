// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_fd.h"
#include "daemon/internal/restart_schedule.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/upgrade.h"
#include "daemon/internal/wait_status.h"
#include "daemon/internal/watchdog.h"
#include "daemon/internal/worker_pidfile.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// The largest sd_notify message relayed; systemd reads no more either.
constexpr size_t kMaxNotification = 4096;

class Supervisor {
 public:
  Supervisor(const Options& options, SupervisorState state)
      : options_(options),
        state_(state),
        backoff_(options),
        watchdog_(options.watchdog, options.stop_timeout * 3 / 4),
        ready_deadline_(MonotonicNow() + options.ready_timeout) {}

  Worker Run() {
    if (absl::Status watched = SignalPipe::Watch(SIGCHLD); !watched.ok()) {
      FailStart(watched.message());
    }
    if (absl::Status watched = SignalPipe::WatchQueued(SIGUSR2);
        !watched.ok()) {
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

 private:
  // Forks a worker. Returns it in the child; nullopt in the supervisor.
  std::optional<Worker> SpawnWorker() {
    absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
    if (!pipe.ok()) {
      CannotSpawn(
          absl::StrCat("cannot start a worker: ", pipe.status().message()));
      return std::nullopt;
    }
    // The worker's sd_notify line: a connected socket, so no other process
    // can speak for the worker; SEQPACKET keeps message boundaries and
    // tells the end. Non-blocking both ways: a busy supervisor must not
    // stall the worker's main loop.
    // The watchdog of our own hears the worker's progress on it too.
    int notify[2] = {-1, -1};
    if ((state_.notifier->enabled() || watchdog_.enabled()) &&
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   notify) != 0) {
      const int saved = errno;
      close(pipe->read_fd);
      close(pipe->write_fd);
      CannotSpawn(
          ErrnoError(saved, "cannot start a worker: socketpair").message());
      return std::nullopt;
    }
    const pid_t supervisor = getpid();
    pid_t pid = fork();
    if (pid < 0) {
      const int saved = errno;
      close(pipe->read_fd);
      close(pipe->write_fd);
      if (notify[0] >= 0) close(notify[0]);
      if (notify[1] >= 0) close(notify[1]);
      CannotSpawn(ErrnoError(saved, "fork a worker").message());
      return std::nullopt;
    }
    if (pid == 0) {
      // Its own process group (set on both sides of the fork, so that it
      // holds whichever runs first), which a stop ends as a whole.
      if (worker_own_group_) (void)setpgid(0, 0);
      // Issue 18.6: the manager's ready descriptor is the supervisor's to
      // tell, once. While it holds it, the worker closes its copy here,
      // before its own descriptors are made; once told, the number is free
      // and may be any descriptor of the worker's (its signal pipe).
      if (ready_fd_ >= 0) close(ready_fd_);
      close(pipe->read_fd);
      if (notify[0] >= 0) close(notify[0]);
      return BecomeWorker(
          supervisor, pipe->write_fd, notify[1],
          KeepAliveInterval(state_.notifier->watchdog_interval(),
                            options_.watchdog),
          *state_.worker_pidfile);
    }
    if (worker_own_group_ && setpgid(pid, pid) != 0 && errno != EACCES) {
      // EACCES: the worker has already exec'd; it made its group itself.
      PLOG(WARNING) << "setpgid worker " << pid;
    }
    close(pipe->write_fd);
    if (notify[1] >= 0) close(notify[1]);
    // Read between other events, never blocking the supervisor.
    fcntl(pipe->read_fd, F_SETFL, O_NONBLOCK);
    // A dropped worker's pid file is locked and written by the keeper,
    // before any message of the worker is read (so before it is ready).
    if (*state_.worker_pidfile) {
      if (PathKeeperClient* keeper = (*state_.worker_pidfile)->keeper()) {
        absl::Status named = keeper->NameWorker(pid);
        // A worker that died at once is a crash like any other, for the
        // restart policy to judge once it is reaped.
        if (!named.ok() && IsRunning(pid)) {
          GiveUp(absl::StrCat("cannot start a worker: ", named.message()));
        }
      }
    }
    worker_pid_ = pid;
    worker_pidfd_ = PidfdOpen(pid);
    worker_ready_fd_ = pipe->read_fd;
    worker_notify_fd_ = notify[0];
    worker_messages_ = ReadyDecoder();
    worker_error_.clear();
    worker_ready_ = false;
    relay_.reloading = false;
    relay_.worker_status = false;
    worker_started_ = MonotonicNow();
    // The first worker's start is the launcher's to time.
    watchdog_.WorkerStarted(worker_started_, first_ready_
                                                 ? options_.ready_timeout
                                                 : absl::InfiniteDuration());
    LOG(INFO) << "started worker " << pid;
    return std::nullopt;
  }

  // A worker could not be started (fork failed with EAGAIN: RLIMIT_NPROC
  // reached for a moment, a full pid table; or no descriptor was left).
  // Before the first readiness that is a failed start; after it, the
  // service is not given up for it (issue 23.4): the next try comes on the
  // backoff schedule, as runsv and s6-supervise do. No worker ran, so it
  // counts for no restart limit.
  void CannotSpawn(absl::string_view message) {
    if (!first_ready_) GiveUp(message);
    const absl::Duration wait = backoff_.NextAfterFailedSpawn();
    restart_at_ = MonotonicNow() + wait;
    const std::string status =
        absl::StrCat(message, "; retrying in ", absl::FormatDuration(wait));
    LOG(ERROR) << status;
    Notify("STATUS=" + status);
  }

  void WaitForEvent() {
    std::vector<struct pollfd> fds = {{state_.signal_fd, POLLIN, 0}};
    if (worker_ready_fd_ >= 0) fds.push_back({worker_ready_fd_, POLLIN, 0});
    if (worker_notify_fd_ >= 0) fds.push_back({worker_notify_fd_, POLLIN, 0});
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

  // Between workers (a restart delay), the supervisor is the one at work:
  // it keeps systemd's watchdog fed itself. Returns the next time it is due.
  absl::Time FeedWatchdog() {
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

  void HandleSignals() {
    for (int signo : SignalPipe::Drain()) {
      if (signo == SIGTERM || signo == SIGINT) Stop(signo);
      if (signo == SIGHUP) {
        LOG(INFO) << "SIGHUP: reopening output files, forwarding to worker "
                  << worker_pid_;
        if (absl::Status reopened = state_.outputs->Reopen(); !reopened.ok()) {
          LOG(ERROR) << "reopen output files: " << reopened;
        }
        if (worker_pidfd_ >= 0) PidfdSendSignal(worker_pidfd_, SIGHUP);
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

  void Reap() {
    // Issue 23.6: a dead worker's process group goes with it, while the
    // worker is still an unreaped zombie (peeked at with WNOWAIT): until it
    // is reaped, its pid, so the group's number, cannot name another
    // process group.
    if (worker_pid_ != 0 && worker_own_group_) {
      siginfo_t info = {};
      if (waitid(P_PID, static_cast<id_t>(worker_pid_), &info,
                 WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == worker_pid_ && KillGroupNow(worker_pid_) != 0 &&
          errno != ESRCH) {
        PLOG(WARNING) << "kill process group " << worker_pid_;
      }
    }
    int wait_status;
    pid_t pid;
    while ((pid = waitpid(-1, &wait_status, WNOHANG)) > 0) {
      if (pid == worker_pid_) WorkerEnded(wait_status);
    }
  }

  // The worker speaks the launcher's protocol (ready_channel.h), decoded
  // by the same decoder: "R\n" when ready, "E<text>" on a start-up error,
  // end-of-file when it is gone.
  void ReadWorkerMessages() {
    if (worker_ready_fd_ < 0) return;
    char buffer[512];
    ssize_t n;
    while ((n = read(worker_ready_fd_, buffer, sizeof(buffer))) > 0) {
      worker_messages_.Append(
          absl::string_view(buffer, static_cast<size_t>(n)));
    }
    while (std::optional<ReadyDecoder::Message> message =
               worker_messages_.Next()) {
      if (message->kind == ReadyDecoder::Message::Kind::kReady &&
          !worker_ready_) {
        WorkerReady();
      }
    }
    if (n == 0) {
      if (std::optional<std::string> error = worker_messages_.ErrorAtEnd();
          error && !worker_ready_) {
        worker_error_ = *std::move(error);
      }
      close(worker_ready_fd_);
      worker_ready_fd_ = -1;
    }
  }

  // Passes the worker's sd_notify messages on (RelayedNotification). Gone
  // with the worker: whatever it still sent is read first.
  void RelayWorkerNotifications() {
    if (worker_notify_fd_ < 0) return;
    char buffer[kMaxNotification];
    for (;;) {
      ssize_t n = recv(worker_notify_fd_, buffer, sizeof(buffer), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) break;  // the worker closed its end, or an error
      const absl::string_view message(buffer, static_cast<size_t>(n));
      // The worker's READY=1 is its readiness too, in order with what it
      // says on this socket: a STATUS= sent after its ready must reach the
      // manager after ours (the model test saw it come first when the
      // ready pipe, a channel of its own, was read later).
      if (!worker_ready_ && !relay_.reloading && HasReadyLine(message)) {
        relaying_ = true;
        WorkerReady();
        relaying_ = false;
      }
      if (ReportsProgress(message)) watchdog_.Progress(MonotonicNow());
      const std::string relayed =
          RelayedNotification(message, options_.restart, &relay_);
      if (!relayed.empty()) Notify(relayed);
    }
    close(worker_notify_fd_);
    worker_notify_fd_ = -1;
  }

  void WorkerReady() {
    worker_ready_ = true;
    watchdog_.WorkerReady(MonotonicNow());
    if (!first_ready_) {
      first_ready_ = true;
      if (state_.launcher->pending() && !state_.launcher->ReportReady()) {
        // The launcher was killed before it heard: its start failed, and
        // nothing of it may stay (see Daemon::NotifyReady).
        LOG(ERROR) << "the launcher is gone before the daemon was ready; "
                      "its start failed, so the daemon stops";
        Stop(SIGPIPE);
      }
      // Service-manager controls (issue 15): the first readiness only.
      SignalReadyFd(std::exchange(ready_fd_, -1));
      Notify(absl::StrCat("READY=1\nMAINPID=", getpid(), OwnStatus("running")));
      if (state_.sockets) {
        state_.sockets->StoreWithServiceManager(*state_.notifier);
      }
    } else {
      const std::string status =
          OwnStatus(absl::StrCat("running, restart ", backoff_.restarts()));
      if (!status.empty()) Notify(status.substr(1));  // without its newline
    }
    LOG(INFO) << "worker " << worker_pid_ << " ready";
  }

  // "\nSTATUS=<text>", or "" once the worker has sent a STATUS= of its own
  // (attack finding 5): systemctl status then shows the application's text,
  // never overwritten by the supervisor's. Its worker's messages are read
  // first, so that a STATUS= sent before its readiness counts.
  std::string OwnStatus(absl::string_view text) {
    // (Called from the relay itself, at the worker's READY=1, everything
    // the worker said before it has been read.)
    if (!relaying_) RelayWorkerNotifications();
    if (relay_.worker_status) return "";
    return absl::StrCat("\nSTATUS=", text);
  }

  void WorkerEnded(int wait_status) {
    LOG(WARNING) << "worker " << worker_pid_ << " ended with "
                 << WaitStatusSummary(wait_status);
    const absl::Duration uptime = MonotonicNow() - worker_started_;
    RelayWorkerNotifications();  // its last words, before ours
    ReadWorkerMessages();        // a last error message, if any
    // A worker the watchdog ended failed, whatever its status says (it may
    // catch SIGABRT and exit 0).
    const bool hung = watchdog_.WorkerEnded();
    if (worker_ready_fd_ >= 0) close(worker_ready_fd_);
    if (worker_pidfd_ >= 0) close(worker_pidfd_);
    if (worker_notify_fd_ >= 0) close(worker_notify_fd_);
    worker_ready_fd_ = worker_pidfd_ = worker_notify_fd_ = -1;
    worker_pid_ = 0;
    EmptyWorkerPidFile();
    // Issue 23.6: what the worker left behind (its group was killed in
    // Reap(); orphans in sessions of their own were reparented here, as
    // the subreaper) ends now, before the next worker starts, as systemd's
    // control-group kill: a crash loop must not pile helpers up, each
    // holding inherited sockets and files.
    EndLeftovers();
    next_watchdog_ = absl::InfinitePast();

    if (!first_ready_) {
      FailStart(!worker_error_.empty()
                    ? worker_error_
                    : absl::StrCat("the worker ended with ",
                                   WaitStatusSummary(wait_status),
                                   " before it was ready"));
    }
    if (!hung && !ShouldRestart(options_.restart, wait_status)) {
      LOG(INFO) << "not restarting (" << WaitStatusSummary(wait_status) << ")";
      // The worker's outcome is the supervisor's, by the one rule
      // (wait_status.h): a worker killed by a signal is 128 + it, as the
      // container init and the daemonkit command say it.
      Exit(ExitCodeOf(wait_status));
    }
    // Issue 22.16 and 23.8 (restart_schedule.h): at once after a long run,
    // else after the backoff; given up past the limit.
    const RestartBackoff::Restart next = backoff_.Next(uptime, MonotonicNow());
    if (next.limit_reached) {
      GiveUp(backoff_.LimitMessage(WaitStatusSummary(wait_status)));
    }
    restart_at_ = MonotonicNow() + next.wait;
    const std::string status =
        RestartStatus(next.wait, wait_status, backoff_.restarts());
    LOG(WARNING) << status;
    Notify("STATUS=" + status);
  }

  // The watchdog of our own (watchdog.h): SIGABRT to a worker that has
  // reported no progress for the period (a core dump, where allowed, shows
  // where it hung), SIGKILL after the grace; WorkerEnded() restarts it. The
  // worker is an unreaped child: its pid cannot name another process.
  void CheckWatchdog() {
    if (worker_pid_ == 0) return;
    switch (watchdog_.Check(MonotonicNow())) {
      case ProgressWatchdog::Action::kNone:
        return;
      case ProgressWatchdog::Action::kAbort:
        LOG(ERROR) << "watchdog: worker " << worker_pid_
                   << (worker_ready_ ? " reported no progress for "
                                     : " was not ready within ")
                   << absl::FormatDuration(worker_ready_
                                               ? options_.watchdog
                                               : options_.ready_timeout)
                   << "; sending SIGABRT";
        Notify("STATUS=watchdog: worker hung, aborting it");
        if (kill(worker_pid_, SIGABRT) != 0) {
          PLOG(ERROR) << "kill worker " << worker_pid_ << " SIGABRT";
        }
        return;
      case ProgressWatchdog::Action::kKill:
        LOG(ERROR) << "watchdog: worker " << worker_pid_
                   << " survived SIGABRT; sending SIGKILL";
        if (KillNow(worker_pid_) != 0) {
          PLOG(ERROR) << "kill worker " << worker_pid_ << " SIGKILL";
        }
        return;
    }
  }

  // Whether this process holds the pid file's descriptor (not its keeper).
  bool HoldsPidFile() const {
    return *state_.pidfile && (*state_.pidfile)->fd() >= 0 &&
           (*state_.pidfile)->keeper() == nullptr;
  }

  // Issue 18.18: recreates a pid file someone removed (a tmpfiles cleaner),
  // so that stop and status find the supervisor again; the daemon's
  // Daemon::Impl does the same unsupervised.
  void CheckPidFile() {
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
                 << ": stop and status cannot find this daemon (pid "
                 << getpid() << "); stop it by its pid";
    }
    pidfile_problem_logged_ = problem;
  }

  // The path keeper holds the pid file's lock (PathKeeperClient::Exited).
  void StopIfTheKeeperIsGone() {
    if (!state_.outputs->keeper_exited()) return;
    LOG(ERROR) << kKeeperExitedMessage;
    Stop(SIGTERM);
  }

  // SIGTERM/SIGINT: the worker first (TERM, then KILL after the stop
  // timeout), then the supervisor.
  // Past the ready timeout, with no worker ready yet and the launcher
  // gone (SIGKILLed: nobody left to end the start), the start is given up
  // as the launcher would have (see Daemon::NotifyReady; the attack of
  // stop 33 found such a daemon running unready for good).
  void StopIfTheStartWasAbandoned() {
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

  [[noreturn]] void Stop(int signo) {
    LOG(INFO) << "stopping on " << strsignal(signo);
    if (!relay_.stopping) Notify("STOPPING=1");
    relay_.stopping = true;
    // From now on the worker's pid file names no one: if whoever stops us
    // runs out of patience and SIGKILLs the supervisor (its worker then dies
    // of PR_SET_PDEATHSIG), nothing is left to remove it.
    RemoveWorkerPidFileNow();
    if (worker_pidfd_ >= 0) {
      const std::string worker = absl::StrCat("worker ", worker_pid_);
      // Three quarters of the stop timeout: `stop` (or a service manager)
      // waits the whole of it before it SIGKILLs the supervisor, and the
      // supervisor needs the rest to end what the worker left behind.
      if (absl::Status ended = TerminateProcess(
              worker_pidfd_, options_.stop_timeout * 3 / 4, worker.c_str());
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

  [[noreturn]] void FailStart(absl::string_view message) {
    LOG(ERROR) << "start-up failed: " << message;
    // Before the launcher hears of it: it kills what has not exited then.
    EndLeftovers();
    if (state_.launcher->pending()) state_.launcher->ReportError(message);
    Notify(StartupFailureMessage(absl::UnavailableError(message)));
    Exit(kExitFailure);
  }

  [[noreturn]] void GiveUp(absl::string_view message) {
    LOG(ERROR) << message;
    EndLeftovers();
    Notify(absl::StrCat("STATUS=", StatusValue(message)));
    if (state_.launcher->pending()) state_.launcher->ReportError(message);
    Exit(kExitFailure);
  }

  [[noreturn]] void Exit(int code) {
    EndLeftovers();
    RemoveWorkerPidFileNow();
    if (state_.sockets != nullptr) state_.sockets->RemoveFiles();
    if (*state_.pidfile) (*state_.pidfile)->Remove();
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }

  // Once no worker runs (after each worker's end, and at the exit):
  // SIGKILLs every remaining child (what workers left behind, reparented
  // here) and reaps it, until none is left; the children of a killed one
  // come here in turn. As systemd's KillMode=mixed: the
  // worker got SIGTERM and its stop timeout, the rest gets SIGKILL. Our own
  // unreaped children cannot have recycled pids, so kill(2) is safe here.
  void EndLeftovers() {
    int ended = 0;
    bool all_reaped = false;
    const bool swept = KillUntilGone(
        [&] {
          for (pid_t child : OwnChildren()) {
            if (child != worker_pid_) KillNow(child);
          }
          int wait_status;
          pid_t pid;
          while ((pid = waitpid(-1, &wait_status, WNOHANG)) > 0) {
            if (pid != worker_pid_) ++ended;
          }
          all_reaped = pid < 0 && errno == ECHILD;
          // While a worker runs, one round: it is not ours to wait for.
          return !all_reaped && worker_pid_ == 0;
        },
        Deadline::In(kKillGrace));
    if (all_reaped && ended > 0) {
      LOG(INFO) << "ended " << ended << " processes the worker left behind";
    }
    if (!swept) {
      LOG(WARNING) << "processes the worker left behind survived SIGKILL";
    }
  }

  // Whether the supervisor runs in the foreground process group of a
  // terminal (--daemon=false in a shell). A worker moved out of that group
  // would stop at its first read from the terminal (SIGTTIN) and miss the
  // terminal's Ctrl-C; there it stays in the supervisor's group.
  static bool InTerminalForeground() {
    int tty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (tty < 0) return false;  // no controlling terminal
    const bool foreground = tcgetpgrp(tty) == getpgrp();
    close(tty);
    return foreground;
  }

  // The supervisor's children, from /proc (the kernel's list of each of its
  // threads' children); empty without /proc, in a chroot.
  static std::vector<pid_t> OwnChildren() {
    std::vector<pid_t> children;
    const std::string self = absl::StrCat(getpid());
    absl::StatusOr<std::string> list = ReadSmallFile(
        absl::StrCat("/proc/", self, "/task/", self, "/children"));
    if (!list.ok()) return children;
    for (absl::string_view word :
         absl::StrSplit(*list, ' ', absl::SkipWhitespace())) {
      pid_t pid;
      if (absl::SimpleAtoi(word, &pid) && pid > 0) children.push_back(pid);
    }
    return children;
  }

  // After reaping a worker: its lock went with it; its pid goes too. An
  // empty, unlocked pid file reads as "not running". (A path keeper holds
  // the file instead, and empties it itself.)
  void EmptyWorkerPidFile() {
    if (*state_.worker_pidfile && (*state_.worker_pidfile)->fd() >= 0 &&
        ftruncate((*state_.worker_pidfile)->fd(), 0) != 0) {
      PLOG(WARNING) << "empty worker pid file "
                    << (*state_.worker_pidfile)->path();
    }
  }

  // Unlinks the worker's pid file (empties it where the supervisor may no
  // longer unlink) and lets it go.
  void RemoveWorkerPidFileNow() {
    if (*state_.worker_pidfile) (*state_.worker_pidfile)->Remove();
    state_.worker_pidfile->reset();
  }

  void Notify(absl::string_view message) {
    if (absl::Status sent = state_.notifier->Send(message); !sent.ok()) {
      LOG(WARNING) << "sd_notify: " << sent.message();
    }
  }

  const Options& options_;
  SupervisorState state_;
  // Options::ready_fd while the supervisor holds it, -1 once told.
  int ready_fd_ = options_.ready_fd;
  RestartBackoff backoff_;
  // Every time the supervisor keeps (restart_at_, worker_started_, the
  // watchdog's deadlines) is MonotonicNow(): a step of the wall clock must
  // neither delay a restart nor blind the watchdog (issue 23.5).
  absl::Time restart_at_ = absl::InfinitePast();
  pid_t worker_pid_ = 0;
  int worker_pidfd_ = -1;
  int worker_ready_fd_ = -1;
  int worker_notify_fd_ = -1;
  bool worker_own_group_ = true;
  RelayState relay_;
  absl::Time next_watchdog_ = absl::InfinitePast();
  ProgressWatchdog watchdog_;  // our own (--daemon_watchdog)
  // The start's ready timeout, from the supervisor's start (a little after
  // the launcher's).
  const absl::Time ready_deadline_;
  ReadyDecoder worker_messages_;
  std::string worker_error_;
  bool worker_ready_ = false;
  bool relaying_ = false;  // inside RelayWorkerNotifications()
  absl::Time worker_started_;
  bool first_ready_ = false;
  bool pidfile_problem_logged_ = false;
};

}  // namespace

namespace {

// Whether `line` is `name` followed by a decimal number (ERRNO=5).
bool IsNumberAssignment(absl::string_view line, absl::string_view name) {
  if (!absl::ConsumePrefix(&line, name) || line.empty()) return false;
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string RelayedNotification(absl::string_view message, RestartPolicy mode,
                                RelayState* state) {
  std::string relayed;
  auto pass = [&relayed](absl::string_view line) {
    if (!relayed.empty()) relayed += '\n';
    absl::StrAppend(&relayed, line);
  };
  // Issue 18.3: only what the library itself sends, each matched as a whole
  // line. A prefix match let a worker, as the unit's main process, move
  // systemd's watchdog (WATCHDOG_USEC=), fire it (WATCHDOG=trigger) or
  // extend its timeouts without bound (EXTEND_TIMEOUT_USEC=); and systemd
  // reads a datagram only up to a NUL.
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    if (line.find('\0') != absl::string_view::npos) continue;
    if (absl::StartsWith(line, "STATUS=")) {
      state->worker_status = true;
      pass(line);
    } else if (line == "WATCHDOG=1" || IsNumberAssignment(line, "ERRNO=") ||
               IsNumberAssignment(line, "MONOTONIC_USEC=")) {
      pass(line);
    } else if (line == "RELOADING=1") {
      state->reloading = true;
      pass(line);
    } else if (line == "READY=1" && state->reloading) {
      state->reloading = false;
      pass(line);
    } else if (line == "STOPPING=1" && !state->stopping &&
               mode != RestartPolicy::kAlways) {
      state->stopping = true;
      pass(line);
    }
  }
  return relayed;
}

Worker Supervise(const Options& options, SupervisorState state) {
  return Supervisor(options, state).Run();
}

}  // namespace internal
}  // namespace daemonkit
