// Copyright 2026 The daemonkit Authors.
//
// daemonkit [--daemon_* flags] [--ready=MODE] [--stop_signal=SIG]
//           [--reload_signal=SIG] -- PROGRAM [ARGS...]
// daemonkit --daemon_pidfile=P --daemon_control=stop|status|reload|restart
//
// Runs any program (Go, Python, shell, Java: one that cannot link the
// library) as a daemon (issue 21). This binary links //daemon and
// daemonizes through it with the same flags and exit codes; the daemon
// process it becomes is the program's *monitor*: it forks and execs the
// program, writes the program's pid into the pid file, whose lock it holds
// for the program's whole life (the program may close every descriptor it
// inherited), says "ready" to the launcher when --ready says so, passes its
// own stop and reload on to the program as --stop_signal and
// --reload_signal, and once the program has exited ends what the program
// left running (it is a child subreaper) and exits with the program's exit
// code. docs/design.md ("Any program") says why this shape.

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "daemon/internal/daemon_access.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/program.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, ready, "started",
          "when the program is ready: started (the exec succeeded), notify "
          "(READY=1 on the $NOTIFY_SOCKET it is given), fd:N (a newline on "
          "its descriptor N)");
ABSL_FLAG(std::string, stop_signal, "TERM",
          "what stop (and the monitor's own SIGTERM) sends the program");
ABSL_FLAG(std::string, reload_signal, "HUP",
          "what reload (and the monitor's own SIGHUP) sends the program");

namespace daemonkit {
namespace {

using internal::Program;
using internal::ReadyMode;

// How long a stop waits, beyond --daemon_stop_timeout, for the monitor to
// end the rest of the tree and let go of the lock.
constexpr absl::Duration kMonitorGrace = absl::Seconds(5);

[[noreturn]] void Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
               std::string(status.message()).c_str());
  std::exit(ExitCodeFor(status));
}

// The program's pid, from the pid file, pinned by a pidfd opened before a
// second look confirms that the lock is still held for it: a number read
// once could have been recycled by then. kNotFound when not running.
absl::StatusOr<int> PinProgram(const std::string& pidfile) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<DaemonStatus> status = QueryDaemonStatus(pidfile);
    if (!status.ok()) return status.status();
    if (status->state != DaemonStatus::State::kRunning) {
      return absl::NotFoundError("not running");
    }
    if (!status->pid_verified || status->pid <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot tell which process runs the program: ", status->Describe()));
    }
    const int pidfd = internal::PidfdOpen(status->pid);
    if (pidfd < 0) continue;  // gone meanwhile: look again
    absl::StatusOr<DaemonStatus> again = QueryDaemonStatus(pidfile);
    if (again.ok() && again->state == DaemonStatus::State::kRunning &&
        again->pid_verified && again->pid == status->pid) {
      return pidfd;
    }
    close(pidfd);
  }
  return absl::FailedPreconditionError(
      "the pid file changed while it was read; try again");
}

// stop: --stop_signal to the program, SIGKILL after the stop timeout; the
// monitor then ends the rest of the tree and exits, and the library's stop
// waits for the lock to go (or ends whatever still holds it) and removes a
// stale file.
absl::Status StopProgram(const std::string& pidfile, int signo,
                         absl::Duration timeout) {
  absl::StatusOr<int> pidfd = PinProgram(pidfile);
  if (pidfd.ok()) {
    if (internal::PidfdSendSignal(*pidfd, signo) == 0) {
      internal::PidfdSendSignal(*pidfd, SIGCONT);
      if (!internal::AwaitExit(*pidfd, timeout)) {
        internal::PidfdSendSignal(*pidfd, SIGKILL);
        internal::AwaitExit(*pidfd, kMonitorGrace);
      }
    }
    close(*pidfd);
    // The monitor ends the rest of the tree (up to the stop timeout) and
    // then lets go of the lock.
    const absl::Time deadline = absl::Now() + timeout + kMonitorGrace;
    while (absl::Now() < deadline) {
      absl::StatusOr<DaemonStatus> status = QueryDaemonStatus(pidfile);
      if (!status.ok() || status->state != DaemonStatus::State::kRunning) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  } else if (!absl::IsNotFound(pidfd.status()) &&
             !absl::IsFailedPrecondition(pidfd.status())) {
    return pidfd.status();
  }
  return StopDaemon(pidfile, timeout + kMonitorGrace);
}

absl::Status ReloadProgram(const std::string& pidfile, int signo) {
  absl::StatusOr<int> pinned = PinProgram(pidfile);
  if (!pinned.ok()) return pinned.status();
  const int pidfd = *pinned;
  absl::Status result = absl::OkStatus();
  if (internal::PidfdSendSignal(pidfd, signo) != 0) {
    result = errno == ESRCH
                 ? absl::NotFoundError("not running")
                 : absl::InternalError(absl::StrCat("send signal ", signo, ": ",
                                                    std::strerror(errno)));
  }
  close(pidfd);
  return result;
}

// What this first slice of the command does not do yet with the program:
// each needs the monitor to act for it rather than the library's daemon
// process (a privilege drop the program's, supervision restarting the
// program); refused before anything starts rather than half done.
absl::Status CheckSupported(const Options& options) {
  auto refuse = [](absl::string_view flag) {
    return UsageError(flag, absl::StrCat("--", flag,
                                         ": not supported by daemonkit for a "
                                         "program yet"));
  };
  if (!options.user.empty()) return refuse("daemon_user");
  if (!options.group.empty()) return refuse("daemon_group");
  if (!options.chroot.empty()) return refuse("daemon_chroot");
  if (options.restart != RestartPolicy::kNo) return refuse("daemon_restart");
  if (options.watchdog > absl::ZeroDuration()) return refuse("daemon_watchdog");
  if (!options.capabilities.empty()) return refuse("daemon_capabilities");
  return absl::OkStatus();
}

// The monitor, in the daemon process (or the foreground process): runs
// the program to its end and returns daemonkit's exit code.
int Monitor(std::unique_ptr<Daemon> daemon, const Options& options,
            const std::vector<std::string>& argv, const ReadyMode& ready,
            int stop_signal, int reload_signal) {
  // The name readers of the pid file trust (proc.h WriteLockHeldFor),
  // whatever this binary was installed as.
  prctl(PR_SET_NAME, internal::kProgramMonitorName);
  // The program's orphans (a daemonizing program's double fork) come here,
  // so that the end of the program can end them too.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    PLOG(WARNING) << "PR_SET_CHILD_SUBREAPER; the program's orphans escape";
  }
  std::vector<internal::ActivatedSocket> sockets;
  for (const std::string& name : daemon->ListenSocketNames()) {
    absl::StatusOr<int> fd = daemon->ListenSocket(name);
    if (fd.ok()) sockets.push_back({name, *fd});
  }
  absl::StatusOr<std::unique_ptr<Program>> started =
      Program::Start(argv, ready, sockets);
  if (!started.ok()) {
    if (daemon->detached()) {
      daemon->FailStartup(started.status());
    } else {
      std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                   std::string(started.status().message()).c_str());
    }
    return kExitFailure;  // ~Daemon removes the pid file
  }
  std::unique_ptr<Program> program = *std::move(started);
  if (!options.pidfile.empty()) {
    if (absl::Status written =
            internal::DaemonAccess::WritePid(*daemon, program->pid());
        !written.ok()) {
      LOG(ERROR) << "pid file: " << written;
    }
  }
  // The program feeds an outer watchdog itself (notify); otherwise keep-
  // alives would say the monitor lives, not that the program works.
  if (ready.kind == ReadyMode::Kind::kNotify) daemon->SetHealthy(false);
  bool ready_said = false;
  auto say_ready = [&] {
    if (!ready_said) daemon->NotifyReady();
    ready_said = true;
  };
  if (ready.kind == ReadyMode::Kind::kStarted) say_ready();

  int wait_status = 0;
  bool stopping = false;
  absl::Time kill_at = absl::InfiniteFuture();
  std::string not_ready_reason;
  for (;;) {
    struct pollfd fds[3] = {{daemon->signal_fd(), POLLIN, 0},
                            {program->pidfd(), POLLIN, 0},
                            {program->ready_fd(), POLLIN, 0}};
    absl::Duration wait = absl::Seconds(1);
    if (kill_at != absl::InfiniteFuture()) {
      wait = std::min(wait, kill_at - internal::MonotonicNow());
    }
    const int timeout_ms = static_cast<int>(std::max<int64_t>(
        0, absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)))));
    const int n = poll(fds, program->ready_fd() >= 0 ? 3 : 2, timeout_ms);
    if (n < 0 && errno != EINTR) PLOG(ERROR) << "poll";
    if (n > 0 && (fds[0].revents & POLLIN)) {
      const Event event = daemon->WaitUntil(absl::InfinitePast());
      if (event == Event::kStop && !stopping) {
        stopping = true;
        kill_at = internal::MonotonicNow() + options.stop_timeout;
        if (absl::Status sent = program->Signal(stop_signal); !sent.ok()) {
          LOG(ERROR) << sent;
        }
        program->Signal(SIGCONT).IgnoreError();
      } else if (event == Event::kReload) {
        if (absl::Status sent = program->Signal(reload_signal); !sent.ok()) {
          LOG(ERROR) << sent;
        }
      }
    }
    if (n > 0 && program->ready_fd() >= 0 &&
        (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      internal::ReadinessInput input = program->ReadReadiness();
      if (!input.relay.empty()) {
        internal::DaemonAccess::Notify(*daemon, input.relay);
      }
      if (input.ready) say_ready();
      if (input.closed && !ready_said) {
        not_ready_reason = absl::StrCat("closed descriptor ", ready.fd,
                                        " before it wrote the newline that "
                                        "says it is ready");
        program->Signal(SIGKILL).IgnoreError();
      }
    }
    if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
      pid_t reaped;
      do {
        reaped = waitpid(program->pid(), &wait_status, 0);
      } while (reaped < 0 && errno == EINTR);
      break;
    }
    if (internal::MonotonicNow() >= kill_at) {
      program->Signal(SIGKILL).IgnoreError();
      kill_at = absl::InfiniteFuture();
    }
    internal::ReapExitedChildren(program->pid());
  }

  const std::string name = argv[0];
  if (!ready_said) {
    const absl::Status failure = absl::FailedPreconditionError(
        not_ready_reason.empty()
            ? absl::StrCat(name, " ", internal::DescribeWaitStatus(wait_status),
                           " before it was ready")
            : absl::StrCat(name, " ", not_ready_reason));
    if (daemon->detached()) {
      daemon->FailStartup(failure);
    } else {
      std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                   std::string(failure.message()).c_str());
    }
  } else if (!stopping && daemon->detached()) {
    // In the foreground the exit code says it.
    LOG(INFO) << name << " " << internal::DescribeWaitStatus(wait_status);
  }
  // The rest of the tree goes with the program (systemd's control group).
  internal::EndChildren(stop_signal, options.stop_timeout);
  if (!ready_said) return kExitFailure;
  return internal::ExitCodeOfWaitStatus(wait_status);
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "runs PROGRAM as a daemon:\n"
      "  daemonkit [--daemon_* flags] [--ready=MODE] [--stop_signal=SIG] "
      "[--reload_signal=SIG] -- PROGRAM [ARGS...]\n"
      "  daemonkit --daemon_pidfile=P "
      "--daemon_control=stop|status|reload|restart");
  // The program's words are not ours: only those before "--" are parsed.
  int flag_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      flag_argc = i;
      break;
    }
  }
  std::vector<std::string> program_argv(argv + std::min(flag_argc + 1, argc),
                                        argv + argc);
  ParseCommandLine(flag_argc, argv);

  absl::StatusOr<ReadyMode> ready =
      internal::ParseReadyMode(absl::GetFlag(FLAGS_ready));
  if (!ready.ok()) Fail(ready.status());
  absl::StatusOr<int> stop_signal =
      internal::ParseSignal("stop_signal", absl::GetFlag(FLAGS_stop_signal));
  if (!stop_signal.ok()) Fail(stop_signal.status());
  absl::StatusOr<int> reload_signal = internal::ParseSignal(
      "reload_signal", absl::GetFlag(FLAGS_reload_signal));
  if (!reload_signal.ok()) Fail(reload_signal.status());

  // Control actions log through glog as the library's do (a daemon's
  // start sets this up again, with its --daemon_log target).
  if (!google::IsGoogleLoggingInitialized()) {
    google::InitGoogleLogging(program_invocation_short_name);
  }
  FLAGS_logtostderr = true;

  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  // A bad --daemon_* value: the library's message and exit code.
  if (!request.ok()) DaemonizeFromRequest(std::move(request));
  const std::string& pidfile = request->options.pidfile;
  switch (request->action) {
    case ControlAction::kStatus:
      // The library's status reads the lock, which the monitor holds for
      // the program it names.
      DaemonizeFromRequest(std::move(request));
      return kExitFailure;  // not reached
    case ControlAction::kReload: {
      absl::Status status = ReloadProgram(pidfile, *reload_signal);
      if (absl::IsNotFound(status)) {
        std::fprintf(stderr, "%s: not running\n",
                     program_invocation_short_name);
        return kExitReloadNotRunning;
      }
      if (!status.ok()) Fail(status);
      return kExitSuccess;
    }
    case ControlAction::kStop:
    case ControlAction::kRestart: {
      absl::Status status =
          StopProgram(pidfile, *stop_signal, request->options.stop_timeout);
      if (!status.ok()) Fail(status);
      if (request->action == ControlAction::kStop) return kExitSuccess;
      break;
    }
    case ControlAction::kUpgrade:
      Fail(UsageError("daemon_control",
                      "--daemon_control=upgrade: not supported by daemonkit "
                      "for a program yet"));
    case ControlAction::kStart:
      break;
  }
  if (program_argv.empty()) {
    Fail(UsageError("program",
                    "no program to run: daemonkit [flags] -- PROGRAM "
                    "[ARGS...]"));
  }
  if (absl::Status supported = CheckSupported(request->options);
      !supported.ok()) {
    Fail(supported);
  }
  const Options options = request->options;
  request->action = ControlAction::kStart;
  std::unique_ptr<Daemon> daemon = DaemonizeFromRequest(std::move(request));
  return Monitor(std::move(daemon), options, program_argv, *ready, *stop_signal,
                 *reload_signal);
}

}  // namespace
}  // namespace daemonkit

int main(int argc, char** argv) { return daemonkit::Main(argc, argv); }
