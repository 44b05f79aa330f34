// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/signals.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr absl::Duration kKillGrace = absl::Seconds(5);

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("signal ", strsignal(WTERMSIG(wait_status)));
  }
  return "unknown status";
}

class Supervisor {
 public:
  Supervisor(const RestartSchedule& schedule, SupervisorState state)
      : schedule_(schedule), state_(state), delay_(schedule.delay) {}

  Worker Run() {
    if (absl::Status watched = SignalPipe::Watch(SIGCHLD); !watched.ok()) {
      FailStart(watched.message());
    }
    for (;;) {
      if (worker_pid_ == 0 && absl::Now() >= restart_at_) {
        if (std::optional<Worker> worker = SpawnWorker()) {
          return *std::move(worker);
        }
      }
      WaitForEvent();
      HandleSignals();
      ReadWorkerMessages();
    }
  }

 private:
  // Forks a worker. Returns it in the child; nullopt in the supervisor.
  std::optional<Worker> SpawnWorker() {
    absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
    if (!pipe.ok()) {
      GiveUp(absl::StrCat("cannot start a worker: ", pipe.status().message()));
    }
    const pid_t supervisor = getpid();
    pid_t pid = fork();
    if (pid < 0) GiveUp(ErrnoError(errno, "fork a worker").ToString());
    if (pid == 0) {
      close(pipe->read_fd);
      return BecomeWorker(supervisor, pipe->write_fd);
    }
    close(pipe->write_fd);
    // Read between other events, never blocking the supervisor.
    fcntl(pipe->read_fd, F_SETFL, O_NONBLOCK);
    worker_pid_ = pid;
    worker_pidfd_ = PidfdOpen(pid);
    worker_ready_fd_ = pipe->read_fd;
    worker_message_.clear();
    worker_error_.clear();
    worker_ready_ = false;
    worker_started_ = absl::Now();
    LOG(INFO) << "started worker " << pid;
    return std::nullopt;
  }

  Worker BecomeWorker(pid_t supervisor, int ready_fd) {
    // Dies with its supervisor; the check closes the race in which the
    // supervisor died before the request took effect.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != supervisor) {
      _exit(1);
    }
    Worker worker{ReadyReporter(ready_fd), std::nullopt, -1};
    absl::StatusOr<int> signal_fd = SignalPipe::Reinstall();
    if (!signal_fd.ok()) {
      worker.to_supervisor.ReportError(signal_fd.status().message());
      _exit(1);
    }
    worker.signal_fd = *signal_fd;
    if (!schedule_.child_pidfile.empty()) {
      absl::StatusOr<PidFile> pidfile =
          PidFile::Acquire(schedule_.child_pidfile, absl::ZeroDuration());
      absl::Status written =
          pidfile.ok() ? pidfile->WritePid(getpid()) : pidfile.status();
      if (!written.ok()) {
        worker.to_supervisor.ReportError(written.message());
        _exit(1);
      }
      worker.pidfile = *std::move(pidfile);
    }
    return worker;
  }

  void WaitForEvent() {
    std::vector<struct pollfd> fds = {{state_.signal_fd, POLLIN, 0}};
    if (worker_ready_fd_ >= 0) fds.push_back({worker_ready_fd_, POLLIN, 0});
    int timeout_ms = -1;
    if (worker_pid_ == 0) {
      timeout_ms = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(absl::Ceil(restart_at_ - absl::Now(),
                                                  absl::Milliseconds(1)))));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      PLOG(ERROR) << "poll";
      absl::SleepFor(absl::Milliseconds(10));
    }
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
      // SIGCHLD (and everything else): reap below.
    }
    Reap();
  }

  void Reap() {
    int wait_status;
    pid_t pid;
    while ((pid = waitpid(-1, &wait_status, WNOHANG)) > 0) {
      if (pid == worker_pid_) WorkerEnded(wait_status);
    }
  }

  // The worker speaks the launcher's protocol: "R\n" when ready, "E<text>"
  // on a start-up error, end-of-file when it is gone.
  void ReadWorkerMessages() {
    if (worker_ready_fd_ < 0) return;
    char buffer[512];
    ssize_t n;
    while ((n = read(worker_ready_fd_, buffer, sizeof(buffer))) > 0) {
      worker_message_.append(buffer, static_cast<size_t>(n));
    }
    if (!worker_ready_ && worker_message_.rfind("R\n", 0) == 0) WorkerReady();
    if (n == 0) {
      if (!worker_ready_ && !worker_message_.empty() &&
          worker_message_[0] == 'E') {
        worker_error_ = worker_message_.substr(1);
      }
      close(worker_ready_fd_);
      worker_ready_fd_ = -1;
    }
  }

  void WorkerReady() {
    worker_ready_ = true;
    if (!first_ready_) {
      first_ready_ = true;
      if (state_.launcher->pending()) state_.launcher->ReportReady();
      Notify(absl::StrCat("READY=1\nMAINPID=", getpid(), "\nSTATUS=running"));
    } else {
      Notify(absl::StrCat("STATUS=running, restart ", restarts_));
    }
    LOG(INFO) << "worker " << worker_pid_ << " ready";
  }

  void WorkerEnded(int wait_status) {
    LOG(WARNING) << "worker " << worker_pid_ << " ended with "
                 << DescribeExit(wait_status);
    const absl::Duration uptime = absl::Now() - worker_started_;
    ReadWorkerMessages();  // a last error message, if any
    if (worker_ready_fd_ >= 0) close(worker_ready_fd_);
    if (worker_pidfd_ >= 0) close(worker_pidfd_);
    worker_ready_fd_ = worker_pidfd_ = -1;
    worker_pid_ = 0;
    if (!schedule_.child_pidfile.empty()) {
      (void)RemoveStalePidFile(schedule_.child_pidfile);
    }

    if (!first_ready_) {
      FailStart(!worker_error_.empty() ? worker_error_
                                       : absl::StrCat("the worker ended with ",
                                                      DescribeExit(wait_status),
                                                      " before it was ready"));
    }
    if (!ShouldRestart(schedule_.mode, wait_status)) {
      LOG(INFO) << "not restarting (" << DescribeExit(wait_status) << ")";
      Exit(WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1);
    }
    if (uptime >= schedule_.reset_after) {
      restarts_in_window_ = 0;
      delay_ = schedule_.delay;
    }
    ++restarts_;
    ++restarts_in_window_;
    if (schedule_.limit > 0 && restarts_in_window_ > schedule_.limit) {
      GiveUp(absl::StrCat("giving up after ", schedule_.limit,
                          " restarts within ",
                          absl::FormatDuration(schedule_.reset_after),
                          "; last ", DescribeExit(wait_status)));
    }
    restart_at_ = absl::Now() + delay_;
    const std::string status = RestartStatus(delay_, wait_status, restarts_);
    LOG(WARNING) << status;
    Notify("STATUS=" + status);
    delay_ = std::min(delay_ * 2, schedule_.max_delay);
  }

  // SIGTERM/SIGINT: the worker first (TERM, then KILL after the stop
  // timeout), then the supervisor.
  [[noreturn]] void Stop(int signo) {
    LOG(INFO) << "stopping on " << strsignal(signo);
    Notify("STOPPING=1");
    if (worker_pidfd_ >= 0) {
      PidfdSendSignal(worker_pidfd_, SIGTERM);
      if (!AwaitExit(worker_pidfd_, schedule_.stop_timeout)) {
        LOG(WARNING) << "worker " << worker_pid_ << " ignored SIGTERM for "
                     << absl::FormatDuration(schedule_.stop_timeout)
                     << "; sending SIGKILL";
        PidfdSendSignal(worker_pidfd_, SIGKILL);
        AwaitExit(worker_pidfd_, kKillGrace);
      }
      int wait_status;
      while (waitpid(worker_pid_, &wait_status, 0) < 0 && errno == EINTR) {
      }
      if (!schedule_.child_pidfile.empty()) {
        (void)RemoveStalePidFile(schedule_.child_pidfile);
      }
    }
    Exit(0);
  }

  [[noreturn]] void FailStart(absl::string_view message) {
    LOG(ERROR) << "start-up failed: " << message;
    if (state_.launcher->pending()) state_.launcher->ReportError(message);
    Notify(StartupFailureMessage(absl::UnavailableError(message)));
    Exit(1);
  }

  [[noreturn]] void GiveUp(absl::string_view message) {
    LOG(ERROR) << message;
    Notify(absl::StrCat("STATUS=", message));
    if (state_.launcher->pending()) state_.launcher->ReportError(message);
    Exit(1);
  }

  [[noreturn]] void Exit(int code) {
    if (*state_.pidfile) (*state_.pidfile)->Remove();
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(code);
  }

  void Notify(absl::string_view message) {
    if (absl::Status sent = state_.notifier->Send(message); !sent.ok()) {
      LOG(WARNING) << "sd_notify: " << sent.message();
    }
  }

  const RestartSchedule& schedule_;
  SupervisorState state_;
  absl::Duration delay_;
  absl::Time restart_at_ = absl::InfinitePast();
  pid_t worker_pid_ = 0;
  int worker_pidfd_ = -1;
  int worker_ready_fd_ = -1;
  std::string worker_message_;
  std::string worker_error_;
  bool worker_ready_ = false;
  absl::Time worker_started_;
  bool first_ready_ = false;
  int restarts_ = 0;
  int restarts_in_window_ = 0;
};

}  // namespace

bool ShouldRestart(RestartMode mode, int wait_status) {
  switch (mode) {
    case RestartMode::kNo:
      return false;
    case RestartMode::kAlways:
      return true;
    case RestartMode::kOnFailure:
      if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status) != 0;
      // Killed: a failure, unless by the signals that ask a daemon to stop.
      return !WIFSIGNALED(wait_status) || (WTERMSIG(wait_status) != SIGTERM &&
                                           WTERMSIG(wait_status) != SIGINT);
  }
  return false;
}

std::string RestartStatus(absl::Duration delay, int wait_status, int restart) {
  return absl::StrCat("restarting in ", absl::FormatDuration(delay), " after ",
                      DescribeExit(wait_status), ", restart ", restart);
}

Worker Supervise(const RestartSchedule& schedule, SupervisorState state) {
  return Supervisor(schedule, state).Run();
}

}  // namespace internal
}  // namespace daemonkit
