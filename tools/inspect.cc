// Copyright 2026 The daemonkit Authors.
//
// inspect: prints the identity of a process (itself, --pid=N, or the holder
// of --pidfile=PATH) as aligned text or JSON, and with --check judges it
// against daemon(7). Exit 0: all rules hold (or no --check); 1: a rule
// fails; 2: the process cannot be read or the command line is wrong.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "daemon/command_line.h"
#include "daemon/control.h"
#include "tools/process_identity.h"

ABSL_FLAG(int, pid, 0, "process to inspect; 0: inspect itself");
ABSL_FLAG(std::string, pidfile, "",
          "inspect the daemon holding this pid file's lock");
ABSL_FLAG(std::string, format, "text", "output format: text or json");
ABSL_FLAG(bool, check, false,
          "judge the process against daemon(7); exit 1 if a rule fails");

namespace {

constexpr int kExitRuleFailed = 1;
constexpr int kExitUnreadable = 2;

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "inspect: %s\n", message.c_str());
  std::exit(kExitUnreadable);
}

pid_t TargetPid() {
  const std::string pidfile = absl::GetFlag(FLAGS_pidfile);
  const int pid = absl::GetFlag(FLAGS_pid);
  if (!pidfile.empty() && pid != 0) {
    Fail("--pid and --pidfile exclude each other");
  }
  if (pid < 0) Fail("--pid must be positive");
  if (pidfile.empty()) return pid == 0 ? getpid() : pid;
  // Under `bazel run`, a relative path means the user's directory, not the
  // runfiles tree; otherwise QueryDaemonStatus takes it from here.
  std::string path = pidfile;
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path[0] != '/' && user_dir != nullptr && *user_dir != '\0') {
    path = std::string(user_dir) + "/" + path;
  }
  absl::StatusOr<daemonkit::DaemonStatus> status =
      daemonkit::QueryDaemonStatus(path);
  if (!status.ok()) Fail(std::string(status.status().message()));
  // Only a process seen holding the lock is the daemon: the number in the
  // file may name any process. QueryDaemonStatus finds the holder also when
  // the file was rewritten.
  if (status->state != daemonkit::DaemonStatus::State::kRunning) {
    Fail("--pidfile=" + pidfile + ": no process holds its lock (" +
         status->Describe() + ")");
  }
  if (status->pid <= 0 || !status->pid_verified) {
    Fail("--pidfile=" + pidfile +
         ": its lock is held, but not by one process that can be named (" +
         (status->pid > 0 ? "the file names " + std::to_string(status->pid) +
                                ", which does not hold the lock"
                          : std::string("the file names no pid")) +
         ")");
  }
  return status->pid;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "prints a process's identity and checks it against daemon(7)");
  daemonkit::ParseCommandLine(argc, argv);
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "text" && format != "json") {
    Fail("--format=" + format + ": not text or json");
  }

  const pid_t pid = TargetPid();
  absl::StatusOr<daemonkit::ProcessIdentity> identity =
      daemonkit::ReadProcessIdentity(pid);
  if (!identity.ok()) {
    // Said plainly when the pid names nothing (issue 22.11); the exit code
    // stays the SPEC's 2: 1 is a rule that fails.
    const std::string proc = "/proc/" + std::to_string(pid);
    if (access(proc.c_str(), F_OK) != 0 && errno == ENOENT) {
      Fail("no process with pid " + std::to_string(pid) +
           " (cannot read process " + std::to_string(pid) + ")");
    }
    Fail("cannot read process " + std::to_string(pid) + ": " +
         std::string(identity.status().message()));
  }

  const bool check = absl::GetFlag(FLAGS_check);
  std::vector<daemonkit::Finding> findings;
  if (check) findings = daemonkit::CheckDaemonRules(*identity);
  if (format == "json") {
    std::fputs(
        daemonkit::FormatJson(*identity, check ? &findings : nullptr).c_str(),
        stdout);
  } else {
    std::fputs(daemonkit::FormatText(*identity).c_str(), stdout);
    if (check) {
      std::fputs("\n", stdout);
      std::fputs(daemonkit::FormatFindings(findings).c_str(), stdout);
    }
  }
  return check && !daemonkit::AllRulesHold(findings) ? kExitRuleFailed : 0;
}
