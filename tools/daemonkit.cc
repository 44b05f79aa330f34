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
// process it becomes is the program's monitor (program_monitor.h), and the
// control actions go through that monitor (program_control.h). This file
// reads the command line, refuses what the command does not do, and
// dispatches. docs/design.md ("Any program") says why this shape.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
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
#include "absl/time/time.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "daemon/internal/dropped_user.h"
#include "daemon/internal/interrupted_stop.h"
#include "daemon/internal/launcher.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/process_controls.h"
#include "daemon/internal/program.h"
#include "daemon/internal/program_cgroup.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/proc.h"
#include "glog/logging.h"
#include "tools/program_control.h"
#include "tools/program_monitor.h"

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

using internal::ProgramCgroup;
using internal::ReadyMode;

// The name of the program's cgroup for this start's pid file (issue
// 21.3), set before the launcher forks: its failed-start sweep finds the
// cgroup by it. Empty without a pid file (the name then follows the
// session). Never freed.
const std::string* start_cgroup_name = nullptr;

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

// What the command does not do with the program: a second pid file;
// refused before anything starts rather than half done. The library's
// second pid file names a supervised worker, while the library's daemon
// process holds the first; here the first already names the program, on
// every restart and upgrade.
absl::Status CheckSupported(const Options& options) {
  if (!options.child_pidfile.empty()) {
    return UsageError("daemon_child_pidfile",
                      "--daemon_child_pidfile: daemonkit's --daemon_pidfile "
                      "already names the program (on every restart and "
                      "upgrade); use it");
  }
  return absl::OkStatus();
}

// What of the request is the program's, not the monitor's, taken out of
// `options` into the identity the program's process takes on before its
// exec: its user and group (resolved here, while an unknown name can still
// reach the terminal; the monitor keeps the launcher's user, so it holds
// and writes the root-owned pid file itself, no path keeper), capabilities,
// limits and chroot. Judged here, before a restart stops anything.
internal::ProgramIdentity TakeProgramIdentity(Options& options) {
  internal::ProgramIdentity identity;
  absl::StatusOr<std::optional<internal::Credentials>> credentials =
      internal::ResolveCredentials(options.user, options.group);
  if (!credentials.ok()) Fail(credentials.status());
  identity.credentials = *credentials;
  identity.no_new_privs = options.no_new_privs;
  // --daemon_capabilities are the program's too, kept across its drop (the
  // flags' validation made sure of a --daemon_user); as for a library
  // daemon, only a drop to another user than root confines anything.
  if (!options.capabilities.empty() && identity.credentials &&
      identity.credentials->uid == 0) {
    Fail(UsageError(
        "capabilities",
        absl::StrCat(
            "--daemon_capabilities: ", identity.credentials->description,
            " is root: kept capabilities confine only a program "
            "dropped to another user; make --daemon_user a user "
            "other than root")));
  }
  // The library's judge of what the dropped user must not be able to
  // change (a chroot for root under another name, the root's directories,
  // the pid file's and the sockets'): the program's user here, while the
  // monitor stays root and keeps using those paths (the attack of
  // 2026-12-07: none of it was judged for a program).
  Options judged = options;
  for (std::string* path : {&judged.pidfile, &judged.chroot}) {
    absl::StatusOr<std::string> absolute = AbsolutePath(*path);
    if (!absolute.ok()) Fail(absolute.status());
    *path = *absolute;
  }
  if (absl::Status refused = internal::CheckWhatTheDroppedUserMustNotChange(
          judged, identity.credentials);
      !refused.ok()) {
    Fail(refused);
  }
  for (const std::string& name : options.capabilities) {
    if (std::optional<int> cap = internal::CapabilityByName(name)) {
      identity.capabilities.push_back(*cap);
    }
  }
  options.capabilities.clear();
  // So are --daemon_rlimits: the monitor, which writes the program's
  // output, keeps its own (a small fsize or cpu limit would end it).
  for (const ResourceLimit& limit : options.rlimits) {
    identity.limits.push_back({limit.resource, limit.soft, limit.hard});
  }
  options.rlimits.clear();
  // And --daemon_chroot, with --daemon_workdir a path in there: entered in
  // the program's process just before its exec. The monitor stays outside,
  // where the pid file, the outputs, the cgroup and the sockets' paths
  // are, in "/" once detached. The flags' validation made sure of root
  // and of a --daemon_user other than root (root leaves a chroot).
  if (!options.chroot.empty()) {
    absl::StatusOr<std::string> root = AbsolutePath(options.chroot);
    if (!root.ok()) Fail(root.status());
    absl::StatusOr<int> directory =
        internal::OpenDirectoryNoFollow(*root, "chroot");
    if (!directory.ok()) Fail(directory.status());
    internal::CloseDescriptor(*directory);  // only checked
    identity.root = *root;
    identity.workdir = options.workdir.value_or("/");
    if (identity.workdir[0] != '/') identity.workdir.insert(0, "/");
    options.chroot.clear();
    options.workdir.reset();
  }
  options.user.clear();
  options.group.clear();
  return identity;
}

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
  // A removed pid file its live monitor is about to put back: every
  // action looks once it is back.
  AwaitRestoredPidFile(pidfile);
  // A start (or restart) that could not run: refused before a restart
  // stops anything.
  internal::ProgramIdentity identity;
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
    // The monitor's own watchdog hears the program's progress on the
    // only channel that carries it.
    if (request->options.watchdog > absl::ZeroDuration() &&
        ready->kind != ReadyMode::Kind::kNotify) {
      Fail(UsageError("daemon_watchdog",
                      "--daemon_watchdog: needs --ready=notify (the "
                      "program's WATCHDOG=1 on its $NOTIFY_SOCKET is its "
                      "progress)"));
    }
    ready->watchdog = request->options.watchdog;
    // Said at the terminal with exit 2, not by the daemon with exit 1.
    if (absl::Status free = internal::CheckReadyFdIsFree(
            *ready, request->options.listen.size());
        !free.ok()) {
      Fail(free);
    }
    if (absl::Status own = internal::CheckReadyIsNotAListenSocket(
            *ready, request->options.listen);
        !own.ok()) {
      Fail(own);
    }
    identity = TakeProgramIdentity(request->options);
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
      // The attack of 2026-12-07: a program given here was ignored.
      if (!program_argv.empty()) {
        Fail(UsageError("daemon_control",
                        "--daemon_control=upgrade runs the program the start "
                        "named, with the start's flags; it takes no program"));
      }
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
      std::printf("%s%s\n", result->Describe().c_str(),
                  PidFileNote(pidfile).c_str());
      return kExitSuccess;
    }
    case ControlAction::kStart:
      break;
  }
  const Options options = request->options;
  request->action = ControlAction::kStart;
  // The monitor restarts the program itself: the library's supervisor
  // would restart a copy of this monitor, and the pid file would name the
  // supervisor rather than the program.
  request->options.restart = RestartPolicy::kNo;
  // So does its watchdog (the library's is its supervisor's).
  request->options.watchdog = absl::ZeroDuration();
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
  return RunProgramMonitor(
      std::move(daemon), options,
      {std::move(program_argv), *ready, std::move(identity), *stop_signal,
       *reload_signal, *start_cgroup_name});
}

}  // namespace
}  // namespace daemonkit

int main(int argc, char** argv) { return daemonkit::Main(argc, argv); }
