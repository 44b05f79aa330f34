// Copyright 2026 The daemonkit Authors.
//
// Runs in the process an operator runs with --daemon_control.

#include "daemon/internal/flags_control_action.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "daemon/daemon.h"
#include "daemon/internal/interrupted_stop.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// The pid file a control action names in its messages (issue 22.4), as
// given when the current directory cannot be read.
std::string AbsolutePidFile(const std::string& path) {
  absl::StatusOr<std::string> absolute = AbsolutePath(path);
  return absolute.ok() ? *absolute : path;
}

std::string PidFileNote(const std::string& pidfile) {
  return absl::StrCat(" (pid file ", pidfile, ")");
}

// Ctrl-C on `upgrade` (attack suspicion): the daemon already took the
// request and carries it out whatever this process does, so an interrupted
// control process says so instead of exiting silently (130). Cancelling
// would need the old daemon's answer channel, which only says results.
char interrupted_upgrade_message[512];
size_t interrupted_upgrade_length = 0;

void OnInterruptedUpgrade(int signo) {
  ssize_t ignored = write(STDERR_FILENO, interrupted_upgrade_message,
                          interrupted_upgrade_length);
  (void)ignored;
  _exit(128 + signo);
}

void SayTheUpgradeGoesOnWhenInterrupted() {
  const int n = std::snprintf(
      interrupted_upgrade_message, sizeof(interrupted_upgrade_message),
      "%s: interrupted; an upgrade the daemon has begun goes on without "
      "this command: check status\n",
      program_invocation_short_name);
  if (n <= 0) return;
  interrupted_upgrade_length =
      std::min(static_cast<size_t>(n), sizeof(interrupted_upgrade_message) - 1);
  struct sigaction action = {};
  action.sa_handler = OnInterruptedUpgrade;
  sigemptyset(&action.sa_mask);
  for (int signo : {SIGINT, SIGTERM}) {
    if (sigaction(signo, &action, nullptr) != 0) {
      PLOG(WARNING) << "sigaction";
    }
  }
}

[[noreturn]] void RunStatus(const Options& options, const std::string& shown) {
  absl::StatusOr<DaemonStatus> status =
      QueryDaemonStatus(options.pidfile, options.child_pidfile);
  if (!status.ok()) {
    // LSB: "program or service status is unknown". The state line is
    // on stdout as for every other state (SPEC: status prints one
    // line there; the attack of stop 33 found it empty), why on
    // stderr.
    std::printf("unknown%s\n", PidFileNote(shown).c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                 std::string(status.status().message()).c_str());
    std::exit(kExitStatusUnknown);
  }
  std::printf("%s\n", status->Describe().c_str());
  std::exit(status->ExitCode());
}

[[noreturn]] void RunReload(const Options& options, const std::string& shown) {
  absl::Status status = ReloadDaemon(options.pidfile);
  if (absl::IsNotFound(status)) {
    std::fprintf(stderr, "%s: not running%s\n", program_invocation_short_name,
                 PidFileNote(shown).c_str());
    std::exit(kExitReloadNotRunning);
  }
  if (!status.ok()) ExitWith(status);
  std::printf("SIGHUP sent%s\n", PidFileNote(shown).c_str());
  std::exit(kExitSuccess);
}

// `stop`, and the first half of `restart` (which returns).
void RunStop(ControlAction action, const Options& options,
             const std::string& shown) {
  // Only for the messages: StopDaemon decides on its own probe.
  absl::StatusOr<DaemonStatus> before = QueryDaemonStatus(options.pidfile);
  const bool was_running =
      before.ok() && before->state == DaemonStatus::State::kRunning;
  const pid_t pid = was_running && before->pid_verified ? before->pid : 0;
  absl::Status status;
  {
    const SayIfStopIsInterrupted notice(
        StopInterruptedMessage(pid, PidFileNote(shown)));
    status = StopDaemon(options.pidfile, options.stop_timeout,
                        options.child_pidfile);
  }
  if (!status.ok()) ExitWith(status);
  if (was_running) {
    std::printf("stopped%s%s\n",
                pid > 0 ? absl::StrCat(", pid ", pid).c_str() : "",
                PidFileNote(shown).c_str());
  } else if (action == ControlAction::kStop) {
    // LSB: stopping what does not run succeeds; it is said all the
    // same, with the file looked at (issue 22.10).
    std::printf("not running%s\n", PidFileNote(shown).c_str());
  }
  std::fflush(stdout);
  if (action == ControlAction::kStop) std::exit(kExitSuccess);
}

[[noreturn]] void RunUpgrade(const Options& options, const std::string& shown) {
  SayTheUpgradeGoesOnWhenInterrupted();
  absl::StatusOr<UpgradeResult> result = UpgradeDaemon(
      options.pidfile, options.ready_timeout, options.stop_timeout);
  if (absl::IsNotFound(result.status())) {
    std::fprintf(stderr, "%s: not running%s\n", program_invocation_short_name,
                 PidFileNote(shown).c_str());
    std::exit(kExitReloadNotRunning);
  }
  if (absl::IsUnknown(result.status())) {
    std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                 std::string(result.status().message()).c_str());
    // SPEC's upgrade exit codes are 0, 1 and 7: an outcome this
    // process could not learn is a failure of the command, and the
    // message says that the upgrade may still complete.
    std::exit(kExitUpgradeUnknown);
  }
  if (!result.ok()) ExitWith(result.status());
  std::printf("%s%s\n", result->Describe().c_str(), PidFileNote(shown).c_str());
  std::exit(kExitSuccess);
}

}  // namespace

void ExitWith(const absl::Status& status) {
  ReportStartFailure(status);
  std::exit(ExitCodeFor(status));
}

void ConfigureLogging(bool syslog, bool journal) {
  if (!google::IsGoogleLoggingInitialized()) {
    google::InitGoogleLogging(program_invocation_short_name);
  }
  if (syslog) {
    LogToSyslog();
    return;
  }
  // A daemon must not scatter log files into /tmp or $TEST_TMPDIR (glog's
  // defaults): its log goes to stderr, which after detaching is the
  // --daemon_stderr file.
  FLAGS_logtostderr = true;
  // Service-manager controls (issue 15): the journal's priority prefixes,
  // forced, or while $JOURNAL_STREAM names stderr.
  LogToJournalStream(journal);
}

void RunControlAction(ControlAction action, const Options& options) {
  const std::string shown = AbsolutePidFile(options.pidfile);
  switch (action) {
    case ControlAction::kStatus:
      RunStatus(options, shown);
    case ControlAction::kReload:
      RunReload(options, shown);
    case ControlAction::kStop:
    case ControlAction::kRestart:
      RunStop(action, options, shown);
      return;
    case ControlAction::kUpgrade:  // issue 14
      RunUpgrade(options, shown);
    case ControlAction::kStart:
      return;
  }
}

}  // namespace internal
}  // namespace daemonkit
