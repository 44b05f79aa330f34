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
// left running (the program's own cgroup where the machine lets it make
// one, and as a child subreaper) and exits with the program's exit code.
// docs/design.md ("Any program") says why this shape.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
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
#include "daemon/internal/deadline.h"
#include "daemon/internal/interrupted_stop.h"
#include "daemon/internal/launcher.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/program.h"
#include "daemon/internal/program_cgroup.h"
#include "daemon/internal/wait_status.h"
#include "daemon/proc.h"
#include "glog/logging.h"
#include "tools/executable_pages.h"

ABSL_FLAG(std::string, ready, "started",
          "when the program is ready: started (the exec succeeded), notify "
          "(READY=1 on the $NOTIFY_SOCKET it is given), fd:N (a newline on "
          "its descriptor N), connect:tcp:HOST:PORT or connect:unix:PATH (a "
          "connection succeeds), command (--ready_command exits 0)");
ABSL_FLAG(std::string, ready_command, "",
          "the command --ready=command polls, run by /bin/sh -c");
ABSL_FLAG(std::string, stop_signal, "TERM",
          "what the monitor sends the program to stop it (at stop, or at "
          "its own SIGTERM or SIGINT)");
ABSL_FLAG(std::string, reload_signal, "HUP",
          "what reload (and the monitor's own SIGHUP) sends the program");

namespace daemonkit {
namespace {

using internal::Program;
using internal::ProgramCgroup;
using internal::ReadyMode;

// How long a stop waits, beyond --daemon_stop_timeout, for the monitor to
// end the rest of the tree and let go of the lock.
constexpr absl::Duration kMonitorGrace = absl::Seconds(5);

// The name of the program's cgroup for this start's pid file (issue
// 21.3), set before the launcher forks: its failed-start sweep finds the
// cgroup by it. Empty without a pid file (the name then follows the
// session). Never freed.
const std::string* start_cgroup_name = nullptr;

// Ends the processes of every cgroup named `name` with `signo`, SIGKILL
// after `grace` (0 for SIGKILL at once), and removes them. An error naming
// the cgroup when a process survived or a directory stayed; `ended` counts
// the cgroups that held processes.
absl::Status EndProgramCgroups(const std::string& name, int signo,
                               absl::Duration grace, int* ended = nullptr) {
  for (const std::string& directory : internal::FindProgramCgroups(name)) {
    std::unique_ptr<ProgramCgroup> cgroup = ProgramCgroup::At(directory);
    if (cgroup->Populated() && ended != nullptr) ++*ended;
    if (!cgroup->End(signo, grace, kMonitorGrace)) {
      return absl::InternalError(absl::StrCat(cgroup->Processes().size(),
                                              " processes of cgroup ",
                                              directory, " survived SIGKILL"));
    }
    if (absl::Status removed = cgroup->Remove(); !removed.ok()) {
      return removed;
    }
  }
  return absl::OkStatus();
}

// The launcher's sweep after a failed start (a ready timeout, an
// interrupt): the program's cgroup holds what moved to a session of its
// own, which the session sweep cannot see.
void SweepFailedStart(pid_t session) {
  const std::string name =
      start_cgroup_name != nullptr && !start_cgroup_name->empty()
          ? *start_cgroup_name
          : internal::ProgramCgroupNameForSession(session);
  if (absl::Status ended = EndProgramCgroups(name, 0, absl::ZeroDuration());
      !ended.ok()) {
    std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                 std::string(ended.message()).c_str());
  }
}

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

// " (pid file /abs/path)", the note the library's control messages end
// with: said from another directory, it shows where the action looked.
std::string PidFileNote(const std::string& pidfile) {
  absl::StatusOr<std::string> absolute = AbsolutePath(pidfile);
  return absl::StrCat(" (pid file ", absolute.ok() ? *absolute : pidfile, ")");
}

// Whether `pid` is a daemonkit monitor (its process name).
bool IsMonitor(pid_t pid) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  return stat.ok() && stat->field(ProcStat::kComm) ==
                          absl::string_view(internal::kProgramMonitorName);
}

// The monitor of the program that `program_pidfd` pins: its parent, named
// daemonkit and holding the pid file's lock (or the monitor itself, which
// the pid file names between two runs under --daemon_restart). A pidfd of
// it, or -1.
int PinMonitor(const std::string& pidfile, int program_pidfd) {
  const pid_t program = internal::PidOfPidfd(program_pidfd);
  if (program <= 0) return -1;
  if (IsMonitor(program)) return fcntl(program_pidfd, F_DUPFD_CLOEXEC, 0);
  auto parent_of = [](pid_t pid) {
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    pid_t parent = 0;
    if (!stat.ok() || !stat->ParseField(ProcStat::kPpid, &parent)) return 0;
    return parent;
  };
  const pid_t parent = parent_of(program);
  if (parent <= 1) return -1;
  const int pidfd = internal::PidfdOpen(parent);
  if (pidfd < 0) return -1;
  // Pinned, and still the parent: the pid names the monitor.
  struct stat st;
  absl::StatusOr<bool> holds =
      stat(pidfile.c_str(), &st) == 0
          ? internal::ProcessHoldsWriteLock(parent, st.st_dev, st.st_ino)
          : absl::StatusOr<bool>(false);
  if (parent_of(program) != parent || !IsMonitor(parent) || !holds.ok() ||
      !*holds) {
    close(pidfd);
    return -1;
  }
  return pidfd;
}

// stop: SIGTERM to the monitor, which sends the program its --stop_signal
// (SIGKILL after the stop timeout), ends the rest of the tree and exits
// without restarting anything; then the library's stop waits for the lock
// to go (or ends whatever still holds it) and removes a stale file, and
// the program's cgroup, if any, is ended and removed (`leftovers` counts
// those that still held processes). Sent to the program itself, the
// signal would look to a monitor under --daemon_restart=always like a
// crash to restart.
absl::Status StopProgram(const std::string& pidfile, int signo,
                         absl::Duration timeout, int* leftovers) {
  // The monitor may take the stop timeout for the program, then for the
  // rest of the tree.
  const absl::Duration monitor_timeout = 2 * timeout + kMonitorGrace;
  absl::StatusOr<int> pidfd = PinProgram(pidfile);
  if (pidfd.ok()) {
    const int monitor = PinMonitor(pidfile, *pidfd);
    const int target = monitor >= 0 ? monitor : *pidfd;
    if (internal::PidfdSendSignal(target, monitor >= 0 ? SIGTERM : signo) ==
        0) {
      internal::PidfdSendSignal(target, SIGCONT);
      if (!internal::AwaitExit(target, monitor_timeout)) {
        internal::PidfdSendSignal(target, SIGKILL);
        internal::AwaitExit(target, kMonitorGrace);
      }
    }
    if (monitor >= 0) close(monitor);
    close(*pidfd);
  } else if (!absl::IsNotFound(pidfd.status()) &&
             !absl::IsFailedPrecondition(pidfd.status())) {
    return pidfd.status();
  }
  if (absl::Status stopped = StopDaemon(pidfile, monitor_timeout);
      !stopped.ok()) {
    return stopped;
  }
  // What the program's cgroup still holds: nothing once a monitor ended
  // it; the program's tree when the monitor was SIGKILLed (its children,
  // reparented away, and a setuid program, which the parent-death signal
  // does not reach). Left alone when a new start holds the lock by now.
  absl::StatusOr<DaemonStatus> after = QueryDaemonStatus(pidfile);
  if (after.ok() && after->state == DaemonStatus::State::kRunning) {
    return absl::OkStatus();
  }
  return EndProgramCgroups(internal::ProgramCgroupName(pidfile), signo, timeout,
                           leftovers);
}

absl::Status ReloadProgram(const std::string& pidfile, int signo) {
  absl::StatusOr<int> pinned = PinProgram(pidfile);
  if (!pinned.ok()) return pinned.status();
  const int pidfd = *pinned;
  // Through the monitor when there is one, as stop goes: it reopens its
  // output files and passes the reload on as the start's --reload_signal
  // (the attack of 2026-12-06: a reload sent to the program itself was
  // SIGHUP whatever the start had said, and killed a program that handles
  // only USR1). The monitor between two runs takes the HUP the same way.
  int target = PinMonitor(pidfile, pidfd);
  if (target >= 0 || IsMonitor(internal::PidOfPidfd(pidfd))) signo = SIGHUP;
  absl::Status result = absl::OkStatus();
  if (internal::PidfdSendSignal(target >= 0 ? target : pidfd, signo) != 0) {
    result = errno == ESRCH
                 ? absl::NotFoundError("not running")
                 : absl::InternalError(absl::StrCat("send signal ", signo, ": ",
                                                    std::strerror(errno)));
  }
  if (target >= 0) close(target);
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
  if (!options.chroot.empty()) return refuse("daemon_chroot");
  if (!options.child_pidfile.empty()) return refuse("daemon_child_pidfile");
  if (options.watchdog > absl::ZeroDuration()) return refuse("daemon_watchdog");
  if (!options.capabilities.empty()) return refuse("daemon_capabilities");
  return absl::OkStatus();
}

// The monitor, in the daemon process (or the foreground process): runs
// the program to its end (again and again under --daemon_restart) and
// returns daemonkit's exit code.
class Monitor {
 public:
  Monitor(std::unique_ptr<Daemon> daemon, const Options& options,
          std::vector<std::string> argv, const ReadyMode& ready,
          internal::ProgramIdentity identity, int stop_signal,
          int reload_signal, std::string cgroup_name)
      : daemon_(std::move(daemon)),
        options_(options),
        argv_(std::move(argv)),
        ready_(ready),
        identity_(std::move(identity)),
        stop_signal_(stop_signal),
        reload_signal_(reload_signal),
        cgroup_name_(std::move(cgroup_name)),
        schedule_(options) {}

  // Runs the program (again and again under --daemon_restart) and returns
  // daemonkit's exit code, the program's cgroup removed.
  int Run() {
    const int code = RunPrograms();
    // Empty by now (EndTree); a monitor that cannot remove it says so.
    if (cgroup_ != nullptr) {
      if (absl::Status removed = RemoveCgroup(); !removed.ok()) {
        LOG(ERROR) << removed.message();
      }
    }
    return code;
  }

 private:
  int RunPrograms() {
    // The name readers of the pid file trust (proc.h WriteLockHeldFor),
    // whatever this binary was installed as.
    prctl(PR_SET_NAME, internal::kProgramMonitorName);
    // The program's orphans (a daemonizing program's double fork) come
    // here, so that the end of the program can end them too.
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      PLOG(WARNING) << "PR_SET_CHILD_SUBREAPER; the program's orphans escape";
    }
    for (const std::string& name : daemon_->ListenSocketNames()) {
      absl::StatusOr<int> fd = daemon_->ListenSocket(name);
      if (fd.ok()) sockets_.push_back({name, *fd});
    }
    // The program feeds an outer watchdog itself (notify); otherwise
    // keep-alives would say the monitor lives, not that the program works.
    if (ready_.kind == ReadyMode::Kind::kNotify) daemon_->SetHealthy(false);
    // The program's own cgroup (issue 21.3), where the machine lets us
    // make one: a cgroup2 mount we may write. Elsewhere the subreaper
    // alone ends the tree. Without a pid file, the name follows what the
    // launcher's sweep knows (the session its first child made) or, in
    // the foreground, this process.
    absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup =
        ProgramCgroup::Create(
            !cgroup_name_.empty() ? cgroup_name_
            : daemon_->detached()
                ? internal::ProgramCgroupNameForSession(getsid(0))
                : internal::ProgramCgroupNameForMonitor(getpid()));
    if (cgroup.ok()) {
      cgroup_ = std::move(*cgroup);
      cgroup_entry_.procs_fd = cgroup_->procs_fd();
      cgroup_entry_.directory = cgroup_->directory();
    } else if (absl::IsUnavailable(cgroup.status())) {
      LOG(INFO) << "no cgroup of the program's own ("
                << cgroup.status().message()
                << "): its tree is ended through the monitor as a child "
                   "subreaper";
    } else {
      return FailStart(cgroup.status());
    }
    for (;;) {
      const absl::Time started_at = internal::MonotonicNow();
      int wait_status = 0;
      absl::StatusOr<std::unique_ptr<Program>> program =
          Program::Start(argv_, ready_, sockets_, identity_, cgroup_entry_);
      if (!program.ok()) {
        if (!ready_said_) return FailStart(program.status());
        // A restart that cannot exec: as a run that failed at once.
        LOG(ERROR) << program.status().message();
        wait_status = 127 << 8;
      } else {
        wait_status = RunOnce(**program);
        program->reset();
      }
      // The rest of the tree goes with the program (systemd's control
      // group), before anything starts again.
      EndTree();
      if (!ready_said_) {
        return FailStart(absl::FailedPreconditionError(
            not_ready_reason_.empty()
                ? absl::StrCat(argv_[0], " ",
                               internal::DescribeWaitStatus(wait_status),
                               " before it was ready")
                : absl::StrCat(argv_[0], " ", not_ready_reason_)));
      }
      exit_code_ = internal::ExitCodeOf(wait_status);
      if (stopping_) return exit_code_;
      if (daemon_->detached()) {
        LOG(INFO) << argv_[0] << " "
                  << internal::DescribeWaitStatus(wait_status);
      }
      absl::StatusOr<std::optional<absl::Duration>> next =
          schedule_.Next(wait_status, internal::MonotonicNow() - started_at);
      if (!next.ok()) {
        LOG(ERROR) << next.status().message();
        daemon_->NotifyStatus(next.status().message());
        return kExitFailure;
      }
      if (!next->has_value()) return exit_code_;
      if (!WaitToRestart(**next, wait_status)) return exit_code_;
    }
  }

  // Ends what the program left: its cgroup's processes (`--stop_signal`,
  // SIGKILL after the stop timeout), then the monitor's remaining children
  // (the same), reaping every one.
  void EndTree() {
    if (cgroup_ != nullptr &&
        !cgroup_->End(stop_signal_, options_.stop_timeout, kMonitorGrace)) {
      LOG(ERROR) << cgroup_->Processes().size() << " processes of cgroup "
                 << cgroup_->directory() << " survived SIGKILL";
    }
    internal::EndChildren(stop_signal_, options_.stop_timeout);
  }

  // Removes the program's cgroup, ending (SIGKILL) what it still holds.
  absl::Status RemoveCgroup() {
    std::unique_ptr<ProgramCgroup> cgroup = std::move(cgroup_);
    cgroup_entry_ = {};
    if (!cgroup->End(0, absl::ZeroDuration(), kMonitorGrace)) {
      return absl::InternalError(
          absl::StrCat(cgroup->Processes().size(), " processes of cgroup ",
                       cgroup->directory(), " survived SIGKILL"));
    }
    return cgroup->Remove();
  }

  // A start that fails before the program was ever ready: the launcher's
  // error (or, in the foreground, ours), exit 1. The cgroup this start
  // made goes first.
  int FailStart(const absl::Status& failure) {
    if (cgroup_ != nullptr) {
      if (absl::Status removed = RemoveCgroup(); !removed.ok()) {
        LOG(ERROR) << removed.message();
      }
    }
    if (daemon_->detached()) {
      daemon_->FailStartup(failure);
    } else {
      std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                   std::string(failure.message()).c_str());
    }
    return kExitFailure;  // ~Daemon removes the pid file
  }

  void SayReady() {
    if (!ready_said_) {
      daemon_->NotifyReady();
      // From here the monitor mostly waits: let go of the code and data of
      // its start-up (docs/benchmarks.md, "The daemonkit command's
      // memory"). Only memory is at stake: on failure the pages stay.
      DropExecutablePages().IgnoreError();
    }
    ready_said_ = true;
  }

  // Runs `program` until it exits; returns its wait status.
  int RunOnce(Program& program) {
    if (!options_.pidfile.empty()) {
      if (absl::Status written =
              internal::DaemonAccess::WritePid(*daemon_, program.pid());
          !written.ok()) {
        LOG(ERROR) << "pid file: " << written;
      }
    }
    if (ready_.kind == ReadyMode::Kind::kStarted) SayReady();
    absl::Time kill_at = absl::InfiniteFuture();
    for (;;) {
      struct pollfd fds[3] = {{daemon_->signal_fd(), POLLIN, 0},
                              {program.pidfd(), POLLIN, 0},
                              {program.ready_fd(), POLLIN, 0}};
      // The polled modes try again every kReadyPollInterval until ready.
      const bool polling = program.polled() && !ready_said_;
      absl::Duration wait =
          polling ? internal::kReadyPollInterval : absl::Seconds(1);
      if (kill_at != absl::InfiniteFuture()) {
        wait = std::min(wait, kill_at - internal::MonotonicNow());
      }
      const int n = poll(fds, program.ready_fd() >= 0 ? 3 : 2,
                         internal::PollTimeoutMs(wait));
      if (n < 0 && errno != EINTR) PLOG(ERROR) << "poll";
      if (n > 0 && (fds[0].revents & POLLIN)) {
        const Event event = daemon_->WaitUntil(absl::InfinitePast());
        if (event == Event::kStop && !stopping_) {
          stopping_ = true;
          kill_at = internal::MonotonicNow() + options_.stop_timeout;
          if (absl::Status sent = program.Signal(stop_signal_); !sent.ok()) {
            LOG(ERROR) << sent;
          }
          program.Signal(SIGCONT).IgnoreError();
        } else if (event == Event::kReload) {
          if (absl::Status sent = program.Signal(reload_signal_); !sent.ok()) {
            LOG(ERROR) << sent;
          }
        }
      }
      if (n > 0 && program.ready_fd() >= 0 &&
          (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
        internal::ReadinessInput input = program.ReadReadiness();
        if (!input.relay.empty()) {
          internal::DaemonAccess::Notify(*daemon_, input.relay);
        }
        if (input.ready) SayReady();
        if (input.closed && !ready_said_) {
          not_ready_reason_ = absl::StrCat("closed descriptor ", ready_.fd,
                                           " before it wrote the newline "
                                           "that says it is ready");
          program.Signal(SIGKILL).IgnoreError();
        }
      }
      if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP))) {
        int wait_status = 0;
        pid_t reaped;
        do {
          reaped = waitpid(program.pid(), &wait_status, 0);
        } while (reaped < 0 && errno == EINTR);
        return wait_status;
      }
      if (internal::MonotonicNow() >= kill_at) {
        program.Signal(SIGKILL).IgnoreError();
        kill_at = absl::InfiniteFuture();
      }
      if (polling && program.PollReady()) SayReady();
      internal::ReapExitedChildren(program.pid(), program.command_pid());
    }
  }

  // Between two runs the monitor is the service: the pid file names it,
  // so that `kill $(cat P)` and stop end the wait. False when stopped.
  bool WaitToRestart(absl::Duration delay, int wait_status) {
    const std::string status = schedule_.Describe(delay, wait_status);
    LOG(WARNING) << status;
    daemon_->NotifyStatus(status);
    if (delay <= absl::ZeroDuration()) return true;
    if (!options_.pidfile.empty()) {
      internal::DaemonAccess::WritePid(*daemon_, getpid()).IgnoreError();
    }
    const absl::Time restart_at = internal::MonotonicNow() + delay;
    while (internal::MonotonicNow() < restart_at) {
      if (daemon_->WaitFor(restart_at - internal::MonotonicNow()) ==
          Event::kStop) {
        stopping_ = true;
        return false;
      }
    }
    return true;
  }

  std::unique_ptr<Daemon> daemon_;
  const Options options_;
  const std::vector<std::string> argv_;
  const ReadyMode ready_;
  const internal::ProgramIdentity identity_;
  const int stop_signal_;
  const int reload_signal_;
  const std::string cgroup_name_;  // empty: no pid file
  internal::RestartSchedule schedule_;
  std::unique_ptr<ProgramCgroup> cgroup_;  // null: none (the fallback)
  internal::CgroupEntry cgroup_entry_;
  std::vector<internal::ActivatedSocket> sockets_;
  bool ready_said_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
  std::string not_ready_reason_;
};

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

  absl::StatusOr<ReadyMode> ready = internal::ParseReadyMode(
      absl::GetFlag(FLAGS_ready), absl::GetFlag(FLAGS_ready_command));
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
  if (!request.ok()) {
    DaemonizeFromRequest(std::move(request));  // prints and exits
    return kExitUsage;                         // not reached
  }
  const std::string& pidfile = request->options.pidfile;
  // A start (or restart) that could not run: refused before a restart
  // stops anything.
  if (request->action == ControlAction::kStart ||
      request->action == ControlAction::kRestart) {
    if (program_argv.empty()) {
      Fail(UsageError("program",
                      "no program to run: daemonkit [flags] -- PROGRAM "
                      "[ARGS...]"));
    }
    if (absl::Status supported = CheckSupported(request->options);
        !supported.ok()) {
      Fail(supported);
    }
    // Said at the terminal with exit 2, not by the daemon with exit 1.
    if (absl::Status free = internal::CheckReadyFdIsFree(
            *ready, request->options.listen.size());
        !free.ok()) {
      Fail(free);
    }
  }
  switch (request->action) {
    case ControlAction::kStatus: {
      // The monitor gone (SIGKILLed), what its program's cgroup still
      // holds is no dead service: said so, exit 1 (LSB: the program is
      // dead and its pid file, if any, left), and stop ends it.
      absl::StatusOr<DaemonStatus> status = QueryDaemonStatus(pidfile);
      if (status.ok() && status->state != DaemonStatus::State::kRunning) {
        for (const std::string& directory : internal::FindProgramCgroups(
                 internal::ProgramCgroupName(pidfile))) {
          const size_t count = ProgramCgroup::At(directory)->Processes().size();
          if (count == 0) continue;
          std::printf(
              "monitor gone, but the program's tree still runs in cgroup %s "
              "(%zu process%s); stop ends it%s\n",
              directory.c_str(), count, count == 1 ? "" : "es",
              PidFileNote(pidfile).c_str());
          return kExitStatusDead;
        }
      }
      // The library's status reads the lock, which the monitor holds for
      // the program it names.
      DaemonizeFromRequest(std::move(request));
      return kExitFailure;  // not reached
    }
    case ControlAction::kReload: {
      absl::Status status = ReloadProgram(pidfile, *reload_signal);
      if (absl::IsNotFound(status)) {
        std::fprintf(stderr, "%s: not running%s\n",
                     program_invocation_short_name,
                     PidFileNote(pidfile).c_str());
        return kExitReloadNotRunning;
      }
      if (!status.ok()) Fail(status);
      // The library's words, with the signal the program asked for.
      std::printf("SIG%s sent%s\n", sigabbrev_np(*reload_signal),
                  PidFileNote(pidfile).c_str());
      return kExitSuccess;
    }
    case ControlAction::kStop:
    case ControlAction::kRestart: {
      // Only for the messages, as the library's stop: StopProgram decides
      // on its own look.
      absl::StatusOr<DaemonStatus> before = QueryDaemonStatus(pidfile);
      const bool was_running =
          before.ok() && before->state == DaemonStatus::State::kRunning;
      const pid_t pid = was_running && before->pid_verified ? before->pid : 0;
      int leftovers = 0;
      absl::Status status;
      {
        // Ctrl-C during the wait says the program may still run (the
        // library's stop does the same; the attack of 2026-12-06 found this
        // one silent).
        const internal::SayIfStopIsInterrupted notice(
            internal::StopInterruptedMessage(pid, PidFileNote(pidfile)));
        status = StopProgram(pidfile, *stop_signal,
                             request->options.stop_timeout, &leftovers);
      }
      if (!status.ok()) Fail(status);
      if (was_running) {
        std::printf("stopped%s%s\n",
                    pid > 0 ? absl::StrCat(", pid ", pid).c_str() : "",
                    PidFileNote(pidfile).c_str());
      } else if (leftovers > 0) {
        std::printf(
            "stopped what was left of the program's tree in its "
            "cgroup%s\n",
            PidFileNote(pidfile).c_str());
      } else if (request->action == ControlAction::kStop) {
        std::printf("not running%s\n", PidFileNote(pidfile).c_str());
      }
      std::fflush(stdout);
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
  // --daemon_user and --daemon_group are the program's: resolved here,
  // while an unknown name can still reach the terminal, and applied in
  // the program's process. The monitor keeps the launcher's user, so it
  // holds and writes the root-owned pid file itself (no path keeper).
  internal::ProgramIdentity identity;
  absl::StatusOr<std::optional<internal::Credentials>> credentials =
      internal::ResolveCredentials(request->options.user,
                                   request->options.group);
  if (!credentials.ok()) Fail(credentials.status());
  identity.credentials = *credentials;
  identity.no_new_privs = request->options.no_new_privs;
  request->options.user.clear();
  request->options.group.clear();
  const Options options = request->options;
  request->action = ControlAction::kStart;
  // The monitor restarts the program itself: the library's supervisor
  // would restart a copy of this monitor, and the pid file would name the
  // supervisor rather than the program.
  request->options.restart = RestartPolicy::kNo;
  // The program's cgroup is named after the pid file (resolved from here,
  // before the daemon leaves this directory), so that a stop finds it from
  // the pid file alone; a failed start's launcher sweeps it.
  start_cgroup_name =
      new std::string(internal::ProgramCgroupName(options.pidfile));
  // What a SIGKILLed monitor's program left in it is not this start's to
  // end, nor to run beside: refused before anything forks (the monitor
  // checks again once it holds the lock), so that the sweep of a failed
  // start ends only what this start put there.
  if (absl::StatusOr<DaemonStatus> status = QueryDaemonStatus(pidfile);
      status.ok() && status->state != DaemonStatus::State::kRunning) {
    for (const std::string& directory :
         internal::FindProgramCgroups(*start_cgroup_name)) {
      if (ProgramCgroup::At(directory)->Populated()) {
        Fail(absl::FailedPreconditionError(absl::StrCat(
            "processes of an earlier run still run in cgroup ", directory,
            " (its monitor was killed): stop them first")));
      }
    }
  }
  internal::SetFailedStartSweep(&SweepFailedStart);
  std::unique_ptr<Daemon> daemon = DaemonizeFromRequest(std::move(request));
  return Monitor(std::move(daemon), options, std::move(program_argv), *ready,
                 identity, *stop_signal, *reload_signal, *start_cgroup_name)
      .Run();
}

}  // namespace
}  // namespace daemonkit

int main(int argc, char** argv) { return daemonkit::Main(argc, argv); }
