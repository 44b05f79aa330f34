// Copyright 2026 The daemonkit Authors.
//
// daemonkit [--daemon_* flags] [--ready=MODE] [--stop_signal=SIG]
//           [--reload_signal=SIG] -- PROGRAM [ARGS...]
// daemonkit --daemon_pidfile=P
//           --daemon_control=stop|status|reload|restart|upgrade
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
// `upgrade` asks the monitor to start the program anew beside the old one,
// with the same sockets, and to stop the old one once the new one is ready.
// docs/design.md ("Any program") says why this shape.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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
#include <utility>
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

// upgrade (issue 21.4): asks the monitor, through the library's upgrade
// channel, to start the program anew with the same sockets and, once the
// new one is ready, to stop the old one; waits for the old program's end
// (its stop timeout, then SIGKILL, then its tree's). The program's pids in
// the result; kNotFound when not running.
absl::StatusOr<UpgradeResult> UpgradeProgram(const std::string& pidfile,
                                             const Options& options) {
  absl::StatusOr<std::string> absolute = AbsolutePath(pidfile);
  if (!absolute.ok()) return absolute.status();
  absl::StatusOr<int> pinned = PinProgram(pidfile);
  if (!pinned.ok()) return pinned.status();
  const int program = *pinned;
  const int monitor = PinMonitor(pidfile, program);
  absl::StatusOr<UpgradeResult> result = absl::FailedPreconditionError(
      absl::StrCat("no daemonkit monitor holds the pid file for pid ",
                   internal::PidOfPidfd(program),
                   ": it was not started by daemonkit for a program"));
  // The old program's run cgroup, which the monitor removes once it has
  // ended the program's tree: upgrade returns once that is gone too.
  const std::string old_run =
      internal::ProgramRunCgroupOf(internal::PidOfPidfd(program));
  if (monitor >= 0) {
    const absl::Duration drain = 2 * options.stop_timeout + kMonitorGrace;
    const internal::Deadline deadline = internal::Deadline::In(drain);
    const absl::Time asked = internal::MonotonicNow();
    result = internal::RequestUpgrade(*absolute, monitor, program,
                                      options.ready_timeout, drain);
    close(monitor);
    if (result.ok() && result->old_gone && !old_run.empty()) {
      struct stat st;
      while (stat(old_run.c_str(), &st) == 0 && !deadline.Passed()) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      result->old_gone = stat(old_run.c_str(), &st) != 0;
      result->old_gone_after = internal::MonotonicNow() - asked;
    }
  }
  close(program);
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
    AnswerRequests(stopping_ ? "ERR the daemon is stopping\n"
                             : "ERR the program has ended\n");
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
    } else if (absl::IsUnavailable(cgroup.status())) {
      LOG(INFO) << "no cgroup of the program's own ("
                << cgroup.status().message()
                << "): its tree is ended through the monitor as a child "
                   "subreaper";
    } else {
      return FailStart(cgroup.status());
    }
    // Upgrades (issue 21.4) replace the program, not this monitor: the
    // library hands their requests here (RunOnce answers them).
    if (!options_.pidfile.empty()) {
      if (absl::Status taken = internal::DaemonAccess::TakeUpgradeRequests(
              *daemon_, [this](int channel) { requests_.push_back(channel); });
          !taken.ok()) {
        LOG(WARNING) << "upgrades are off: " << taken.message();
      }
    }
    for (;;) {
      const absl::Time started_at = internal::MonotonicNow();
      int wait_status = 0;
      absl::StatusOr<std::unique_ptr<Program>> program = StartRun();
      if (!program.ok()) {
        if (!ready_said_) return FailStart(program.status());
        // A restart that cannot exec: as a run that failed at once.
        LOG(ERROR) << program.status().message();
        wait_status = 127 << 8;
      } else {
        wait_status = RunOnce(*program);
        program->reset();
      }
      // The rest of the tree goes with the program (systemd's control
      // group), before anything starts again.
      EndTree();
      if (draining_) RemoveRunCgroup(std::move(draining_->cgroup));
      draining_.reset();
      RemoveRunCgroup(std::move(run_cgroup_));
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

  // Starts the program in a cgroup of this run's own (run_cgroup_).
  absl::StatusOr<std::unique_ptr<Program>> StartRun() {
    absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup = NewRunCgroup();
    if (!cgroup.ok()) return cgroup.status();
    run_cgroup_ = std::move(*cgroup);
    return Program::Start(argv_, ready_, sockets_, identity_,
                          EntryOf(run_cgroup_.get()));
  }

  // The cgroup of the next run of the program, below the program's (each
  // run has its own, so that an upgrade ends the old program's tree and
  // not the new one's); null in the fallback.
  absl::StatusOr<std::unique_ptr<ProgramCgroup>> NewRunCgroup() {
    if (cgroup_ == nullptr) return std::unique_ptr<ProgramCgroup>();
    return cgroup_->CreateChild(absl::StrCat("run.", ++runs_));
  }

  static internal::CgroupEntry EntryOf(const ProgramCgroup* cgroup) {
    if (cgroup == nullptr) return {};
    return {cgroup->procs_fd(), cgroup->directory()};
  }

  // Ends what is left in a run's cgroup (the program has exited; its
  // tree gets --stop_signal, SIGKILL after the stop timeout) and removes
  // it.
  void RemoveRunCgroup(std::unique_ptr<ProgramCgroup> cgroup) {
    if (cgroup == nullptr) return;
    if (!cgroup->End(stop_signal_, options_.stop_timeout, kMonitorGrace)) {
      LOG(ERROR) << cgroup->Processes().size() << " processes of cgroup "
                 << cgroup->directory() << " survived SIGKILL";
    }
    if (absl::Status removed = cgroup->Remove(); !removed.ok()) {
      LOG(ERROR) << removed.message();
    }
  }

  // Removes the program's cgroup, ending (SIGKILL) what it still holds.
  absl::Status RemoveCgroup() {
    run_cgroup_.reset();
    std::unique_ptr<ProgramCgroup> cgroup = std::move(cgroup_);
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

  // Runs `program` until it exits; returns its wait status. An upgrade
  // (issue 21.4) replaces `program` with the new one once that is ready.
  int RunOnce(std::unique_ptr<Program>& program) {
    if (!options_.pidfile.empty()) WritePid(program->pid());
    if (ready_.kind == ReadyMode::Kind::kStarted) SayReady();
    absl::Time kill_at = absl::InfiniteFuture();
    for (;;) {
      // The program, its readiness channel, the signals; an upgrade's new
      // program and its channel; the program an upgrade replaced.
      std::vector<struct pollfd> fds = {{daemon_->signal_fd(), POLLIN, 0},
                                        {program->pidfd(), POLLIN, 0},
                                        {program->ready_fd(), POLLIN, 0}};
      Program* next = upgrade_ ? upgrade_->program.get() : nullptr;
      Program* old = draining_ ? draining_->program.get() : nullptr;
      fds.push_back({next != nullptr ? next->pidfd() : -1, POLLIN, 0});
      fds.push_back({next != nullptr ? next->ready_fd() : -1, POLLIN, 0});
      fds.push_back({old != nullptr ? old->pidfd() : -1, POLLIN, 0});
      // The polled modes try again every kReadyPollInterval until ready.
      const bool polling = program->polled() && !ready_said_;
      absl::Duration wait = polling || (next != nullptr && next->polled())
                                ? internal::kReadyPollInterval
                                : absl::Seconds(1);
      for (const absl::Time at :
           {kill_at, upgrade_ ? upgrade_->deadline : absl::InfiniteFuture(),
            draining_ ? draining_->kill_at : absl::InfiniteFuture()}) {
        if (at != absl::InfiniteFuture()) {
          wait = std::min(wait, at - internal::MonotonicNow());
        }
      }
      const int n = poll(fds.data(), fds.size(), internal::PollTimeoutMs(wait));
      if (n < 0 && errno != EINTR) PLOG(ERROR) << "poll";
      auto readable = [&](size_t i) {
        return n > 0 && fds[i].fd >= 0 &&
               (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
      };
      if (readable(0)) {
        const Event event = daemon_->WaitUntil(absl::InfinitePast());
        if (event == Event::kStop && !stopping_) {
          stopping_ = true;
          kill_at = internal::MonotonicNow() + options_.stop_timeout;
          if (upgrade_) AbandonUpgrade("the daemon is stopping");
          if (absl::Status sent = program->Signal(stop_signal_); !sent.ok()) {
            LOG(ERROR) << sent;
          }
          program->Signal(SIGCONT).IgnoreError();
        } else if (event == Event::kReload) {
          if (absl::Status sent = program->Signal(reload_signal_); !sent.ok()) {
            LOG(ERROR) << sent;
          }
        }
      }
      if (readable(2) && program->ready_fd() >= 0) {
        internal::ReadinessInput input = program->ReadReadiness();
        if (!input.relay.empty()) {
          internal::DaemonAccess::Notify(*daemon_, input.relay);
        }
        if (input.ready) SayReady();
        if (input.closed && !ready_said_) {
          not_ready_reason_ = absl::StrCat("closed descriptor ", ready_.fd,
                                           " before it wrote the newline "
                                           "that says it is ready");
          program->Signal(SIGKILL).IgnoreError();
        }
      }
      if (readable(1)) {
        int wait_status = 0;
        pid_t reaped;
        do {
          reaped = waitpid(program->pid(), &wait_status, 0);
        } while (reaped < 0 && errno == EINTR);
        if (upgrade_) {
          AbandonUpgrade(absl::StrCat("the running program ",
                                      internal::DescribeWaitStatus(wait_status),
                                      " meanwhile"));
        }
        return wait_status;
      }
      if (internal::MonotonicNow() >= kill_at) {
        program->Signal(SIGKILL).IgnoreError();
        kill_at = absl::InfiniteFuture();
      }
      if (polling && program->PollReady()) SayReady();
      // The upgrade under way, the program it replaced, new requests.
      // (A stop above may have abandoned the upgrade.)
      if (next != nullptr && upgrade_ && upgrade_->program.get() == next) {
        StepUpgrade(program, readable(3), readable(4));
      }
      if (old != nullptr && draining_) StepDraining(readable(5));
      TakeRequests(program);
      std::vector<pid_t> keep = {program->pid(), program->command_pid()};
      if (upgrade_) {
        keep.push_back(upgrade_->program->pid());
        keep.push_back(upgrade_->program->command_pid());
      }
      if (draining_) keep.push_back(draining_->program->pid());
      internal::ReapExitedChildren(keep);
    }
  }

  void WritePid(pid_t pid) {
    if (absl::Status written = internal::DaemonAccess::WritePid(*daemon_, pid);
        !written.ok()) {
      LOG(ERROR) << "pid file: " << written;
    }
  }

  // Answers the channel of an upgrade request with `reply` and closes it.
  static void Answer(int channel, absl::string_view reply) {
    if (send(channel, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
      PLOG(WARNING) << "upgrade: answer the control process";
    }
    close(channel);
  }

  // Refuses every request not yet taken up.
  void AnswerRequests(absl::string_view reply) {
    for (int channel : std::exchange(requests_, {})) Answer(channel, reply);
  }

  // Takes up the requests that came: the first starts the new program
  // beside `program` (with the same sockets, in a cgroup of its own), the
  // others are refused.
  void TakeRequests(std::unique_ptr<Program>& program) {
    while (!requests_.empty()) {
      const int channel = requests_.front();
      requests_.erase(requests_.begin());
      std::string refusal;
      if (stopping_) {
        refusal = "the daemon is stopping";
      } else if (!ready_said_) {
        refusal = "the program is not ready yet";
      } else if (upgrade_ || draining_) {
        refusal = draining_ ? "the program the last upgrade replaced is "
                              "still stopping"
                            : "an upgrade is already in progress";
      }
      if (!refusal.empty()) {
        Answer(channel, absl::StrCat("ERR ", refusal, "\n"));
        continue;
      }
      LOG(INFO) << "upgrading: starting " << argv_[0] << " beside pid "
                << program->pid();
      Upgrade upgrade;
      upgrade.channel = channel;
      upgrade.deadline = internal::MonotonicNow() + options_.ready_timeout;
      absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup = NewRunCgroup();
      absl::StatusOr<std::unique_ptr<Program>> started =
          cgroup.ok() ? Program::Start(argv_, ready_, sockets_, identity_,
                                       EntryOf(cgroup->get()))
                      : cgroup.status();
      if (cgroup.ok()) upgrade.cgroup = std::move(*cgroup);
      if (!started.ok()) {
        LOG(ERROR) << "upgrade failed, still serving: "
                   << started.status().message();
        RemoveRunCgroup(std::move(upgrade.cgroup));
        Answer(channel, absl::StrCat("ERR ", started.status().message(), "\n"));
        continue;
      }
      upgrade.program = std::move(*started);
      upgrade_ = std::move(upgrade);
      if (ready_.kind == ReadyMode::Kind::kStarted) HandOver(program);
    }
  }

  // The new program of an upgrade: ready (hand over), gone or late
  // (abandon). `exited`, `said`: its pidfd, its readiness channel polled
  // readable.
  void StepUpgrade(std::unique_ptr<Program>& program, bool exited, bool said) {
    Program& next = *upgrade_->program;
    bool ready = false;
    if (said && next.ready_fd() >= 0) {
      internal::ReadinessInput input = next.ReadReadiness();
      ready = input.ready;
      if (input.closed && !ready) {
        AbandonUpgrade(absl::StrCat("the new ", argv_[0], " closed descriptor ",
                                    ready_.fd,
                                    " before it wrote the newline that says "
                                    "it is ready"));
        return;
      }
    }
    if (!ready && next.polled()) ready = next.PollReady();
    if (exited) {
      int wait_status = 0;
      while (waitpid(next.pid(), &wait_status, 0) < 0 && errno == EINTR) {
      }
      AbandonUpgrade(absl::StrCat("the new ", argv_[0], " ",
                                  internal::DescribeWaitStatus(wait_status),
                                  " before it was ready"),
                     /*reaped=*/true);
      return;
    }
    if (ready) {
      HandOver(program);
    } else if (internal::MonotonicNow() >= upgrade_->deadline) {
      AbandonUpgrade(absl::StrCat("the new ", argv_[0],
                                  " was not ready within ",
                                  absl::FormatDuration(options_.ready_timeout),
                                  " (--daemon_ready_timeout)"));
    }
  }

  // The new program is ready: the pid file names it, the control process
  // hears its pid, and the old one gets --stop_signal (SIGKILL after the
  // stop timeout) and drains while the new one serves.
  void HandOver(std::unique_ptr<Program>& program) {
    Upgrade upgrade = std::move(*upgrade_);
    upgrade_.reset();
    const pid_t successor = upgrade.program->pid();
    if (!options_.pidfile.empty()) WritePid(successor);
    LOG(INFO) << "upgraded: pid " << successor << " serves; stopping pid "
              << program->pid();
    Answer(upgrade.channel, absl::StrCat("OK ", successor, "\n"));
    Draining draining;
    draining.program = std::exchange(program, std::move(upgrade.program));
    draining.cgroup = std::exchange(run_cgroup_, std::move(upgrade.cgroup));
    draining.kill_at = internal::MonotonicNow() + options_.stop_timeout;
    if (absl::Status sent = draining.program->Signal(stop_signal_);
        !sent.ok()) {
      LOG(ERROR) << sent;
    }
    draining.program->Signal(SIGCONT).IgnoreError();
    draining_ = std::move(draining);
  }

  // Ends the new program of an upgrade that failed (its tree, reaped, its
  // cgroup removed) and answers "ERR `why`"; the running program serves on.
  void AbandonUpgrade(absl::string_view why, bool reaped = false) {
    Upgrade upgrade = std::move(*upgrade_);
    upgrade_.reset();
    LOG(ERROR) << "upgrade failed, "
               << (stopping_ ? "stopping: " : "still serving: ") << why;
    if (!reaped) {
      upgrade.program->Signal(SIGKILL).IgnoreError();
      while (waitpid(upgrade.program->pid(), nullptr, 0) < 0 &&
             errno == EINTR) {
      }
    }
    if (upgrade.program->command_pid() > 0) {
      kill(upgrade.program->command_pid(), SIGKILL);
      waitpid(upgrade.program->command_pid(), nullptr, 0);
    }
    if (upgrade.cgroup != nullptr) {
      upgrade.cgroup->End(0, absl::ZeroDuration(), kMonitorGrace);
    }
    RemoveRunCgroup(std::move(upgrade.cgroup));
    Answer(upgrade.channel, absl::StrCat("ERR ", why, "\n"));
  }

  // The program an upgrade replaced: SIGKILL at the stop timeout; once it
  // has exited (`exited`: its pidfd polled readable), reaped, and what it
  // left ended with its cgroup.
  void StepDraining(bool exited) {
    Program& old = *draining_->program;
    if (exited) {
      int wait_status = 0;
      while (waitpid(old.pid(), &wait_status, 0) < 0 && errno == EINTR) {
      }
      LOG(INFO) << "the replaced pid " << old.pid() << " "
                << internal::DescribeWaitStatus(wait_status);
      Draining draining = std::move(*draining_);
      draining_.reset();
      RemoveRunCgroup(std::move(draining.cgroup));
    } else if (internal::MonotonicNow() >= draining_->kill_at) {
      old.Signal(SIGKILL).IgnoreError();
      draining_->kill_at = absl::InfiniteFuture();
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
      const Event event =
          daemon_->WaitFor(restart_at - internal::MonotonicNow());
      AnswerRequests(
          "ERR the program is not running (the monitor waits to restart "
          "it)\n");
      if (event == Event::kStop) {
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
  std::unique_ptr<ProgramCgroup> cgroup_;      // null: none (the fallback)
  std::unique_ptr<ProgramCgroup> run_cgroup_;  // the running program's
  int runs_ = 0;                               // runs, for their names
  // Answer channels of upgrade requests not yet taken up (the library's
  // WaitUntil queues them here).
  std::vector<int> requests_;
  // A new program of an upgrade, not yet ready; the channel answered once
  // it is (or is not).
  struct Upgrade {
    std::unique_ptr<Program> program;
    std::unique_ptr<ProgramCgroup> cgroup;
    int channel = -1;
    absl::Time deadline;  // monotonic: --daemon_ready_timeout
  };
  std::optional<Upgrade> upgrade_;
  // The program an upgrade replaced, told to stop, until it has exited.
  struct Draining {
    std::unique_ptr<Program> program;
    std::unique_ptr<ProgramCgroup> cgroup;
    absl::Time kill_at;  // monotonic: --daemon_stop_timeout
  };
  std::optional<Draining> draining_;
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
      "--daemon_control=stop|status|reload|restart|upgrade");
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
    case ControlAction::kUpgrade: {
      absl::StatusOr<UpgradeResult> result =
          UpgradeProgram(pidfile, request->options);
      if (absl::IsNotFound(result.status())) {
        std::fprintf(stderr, "%s: not running%s\n",
                     program_invocation_short_name,
                     PidFileNote(pidfile).c_str());
        return kExitReloadNotRunning;
      }
      if (absl::IsUnknown(result.status())) {
        std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                     std::string(result.status().message()).c_str());
        return kExitUpgradeUnknown;
      }
      if (!result.ok()) Fail(result.status());
      // The library's words, about the program.
      std::printf(
          "upgraded, pid %d (was %d): ready after %s, old %s after %s%s\n",
          static_cast<int>(result->new_pid), static_cast<int>(result->old_pid),
          absl::FormatDuration(result->ready_after).c_str(),
          result->old_gone ? "gone" : "still stopping",
          absl::FormatDuration(result->old_gone_after).c_str(),
          PidFileNote(pidfile).c_str());
      return kExitSuccess;
    }
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
