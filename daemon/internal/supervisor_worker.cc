// Copyright 2026 The daemonkit Authors.
//
// A worker's life as the supervisor process sees it (supervisor_process.h):
// forking it with its channels, reading its ready pipe, relaying its
// sd_notify messages, the watchdog of our own, reaping it, restarting it on
// the restart schedule, and ending what it left behind. Only the supervisor
// runs this code, but for SpawnWorker's child branch, which becomes the
// worker (worker.h).

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_fd.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/supervisor_process.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"
#include "daemon/internal/watchdog.h"
#include "daemon/internal/worker_pidfile.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// The largest sd_notify message relayed; systemd reads no more either.
constexpr size_t kMaxNotification = 4096;

// Whether `line` is `name` followed by a decimal number (ERRNO=5).
bool IsNumberAssignment(absl::string_view line, absl::string_view name) {
  if (!absl::ConsumePrefix(&line, name) || line.empty()) return false;
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<Worker> Supervisor::SpawnWorker() {
  std::optional<WorkerChannels> channels = OpenWorkerChannels();
  if (!channels) return std::nullopt;
  const pid_t supervisor = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    const int saved = errno;
    channels->CloseAll();
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
    channels->ready_read.reset();
    channels->notify_read.reset();
    return BecomeWorker(supervisor, channels->ready_write.release(),
                        channels->notify_write.release(),
                        KeepAliveInterval(state_.notifier->watchdog_interval(),
                                          options_.watchdog),
                        *state_.worker_pidfile);
  }
  AdoptWorker(pid, *std::move(channels));
  return std::nullopt;
}

void Supervisor::WorkerChannels::CloseAll() {
  ready_read.reset();
  ready_write.reset();
  notify_read.reset();
  notify_write.reset();
}

std::optional<Supervisor::WorkerChannels> Supervisor::OpenWorkerChannels() {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  if (!pipe.ok()) {
    CannotSpawn(
        absl::StrCat("cannot start a worker: ", pipe.status().message()));
    return std::nullopt;
  }
  WorkerChannels channels;
  channels.ready_read.reset(pipe->read_fd);
  channels.ready_write.reset(pipe->write_fd);
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
    channels.CloseAll();
    CannotSpawn(
        ErrnoError(saved, "cannot start a worker: socketpair").message());
    return std::nullopt;
  }
  channels.notify_read.reset(notify[0]);
  channels.notify_write.reset(notify[1]);
  return channels;
}

void Supervisor::AdoptWorker(pid_t pid, WorkerChannels channels) {
  if (worker_own_group_ && setpgid(pid, pid) != 0 && errno != EACCES) {
    // EACCES: the worker has already exec'd; it made its group itself.
    PLOG(WARNING) << "setpgid worker " << pid;
  }
  channels.ready_write.reset();
  channels.notify_write.reset();
  // Read between other events, never blocking the supervisor.
  fcntl(channels.ready_read.get(), F_SETFL, O_NONBLOCK);
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
  worker_pidfd_.reset(PidfdOpen(pid));
  worker_ready_fd_ = std::move(channels.ready_read);
  worker_notify_fd_ = std::move(channels.notify_read);
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
}

void Supervisor::CannotSpawn(absl::string_view message) {
  if (!first_ready_) GiveUp(message);
  const absl::Duration wait = backoff_.NextAfterFailedSpawn();
  restart_at_ = MonotonicNow() + wait;
  const std::string status =
      absl::StrCat(message, "; retrying in ", absl::FormatDuration(wait));
  LOG(ERROR) << status;
  Notify("STATUS=" + status);
}

void Supervisor::Reap() {
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

void Supervisor::ReadWorkerMessages() {
  if (!worker_ready_fd_.valid()) return;
  char buffer[512];
  ssize_t n;
  while ((n = read(worker_ready_fd_.get(), buffer, sizeof(buffer))) > 0) {
    worker_messages_.Append(absl::string_view(buffer, static_cast<size_t>(n)));
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
    worker_ready_fd_.reset();
  }
}

void Supervisor::RelayWorkerNotifications() {
  if (!worker_notify_fd_.valid()) return;
  char buffer[kMaxNotification];
  for (;;) {
    ssize_t n = recv(worker_notify_fd_.get(), buffer, sizeof(buffer), 0);
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
  worker_notify_fd_.reset();
}

void Supervisor::WorkerReady() {
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

std::string Supervisor::OwnStatus(absl::string_view text) {
  // (Called from the relay itself, at the worker's READY=1, everything
  // the worker said before it has been read.)
  if (!relaying_) RelayWorkerNotifications();
  if (relay_.worker_status) return "";
  return absl::StrCat("\nSTATUS=", text);
}

void Supervisor::WorkerEnded(int wait_status) {
  LOG(WARNING) << "worker " << worker_pid_ << " ended with "
               << WaitStatusSummary(wait_status);
  const absl::Duration uptime = MonotonicNow() - worker_started_;
  RelayWorkerNotifications();  // its last words, before ours
  ReadWorkerMessages();        // a last error message, if any
  // A worker the watchdog ended failed, whatever its status says (it may
  // catch SIGABRT and exit 0).
  const bool hung = watchdog_.WorkerEnded();
  worker_ready_fd_.reset();
  worker_pidfd_.reset();
  worker_notify_fd_.reset();
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

void Supervisor::CheckWatchdog() {
  if (worker_pid_ == 0) return;
  switch (watchdog_.Check(MonotonicNow())) {
    case ProgressWatchdog::Action::kNone:
      return;
    case ProgressWatchdog::Action::kAbort:
      LOG(ERROR) << "watchdog: worker " << worker_pid_
                 << (worker_ready_ ? " reported no progress for "
                                   : " was not ready within ")
                 << absl::FormatDuration(worker_ready_ ? options_.watchdog
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

void Supervisor::EndLeftovers() {
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

std::vector<pid_t> Supervisor::OwnChildren() {
  std::vector<pid_t> children;
  const std::string self = absl::StrCat(getpid());
  absl::StatusOr<std::string> list =
      ReadSmallFile(absl::StrCat("/proc/", self, "/task/", self, "/children"));
  if (!list.ok()) return children;
  for (absl::string_view word :
       absl::StrSplit(*list, ' ', absl::SkipWhitespace())) {
    pid_t pid;
    if (absl::SimpleAtoi(word, &pid) && pid > 0) children.push_back(pid);
  }
  return children;
}

void Supervisor::EmptyWorkerPidFile() {
  if (*state_.worker_pidfile && (*state_.worker_pidfile)->fd() >= 0 &&
      ftruncate((*state_.worker_pidfile)->fd(), 0) != 0) {
    PLOG(WARNING) << "empty worker pid file "
                  << (*state_.worker_pidfile)->path();
  }
}

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

}  // namespace internal
}  // namespace daemonkit
