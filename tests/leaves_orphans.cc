// Copyright 2026 The daemonkit Authors.
//
// An application that leaves processes behind, to drive the supervisor as a
// subreaper from tests. It takes the --daemon* flags of //daemon. The first
// worker (no "worker" line in --report yet) double-forks two helpers, one
// that stays in its process group and one that starts a session of its own,
// reports them, declares itself ready and crashes. Later workers first
// look in /proc at the helpers reported so far (issue 23.6: the supervisor
// must have ended them before this worker runs), then serve until stopped.
// Lines appended to --report:
//
//   worker <pid>
//   helper <pid> grouped|detached
//   alive <n>        (later workers: how many reported helpers still run)

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

ABSL_FLAG(std::string, report, "", "file to append workers and helpers to");

namespace {

void Append(const std::string& report, const std::string& line) {
  std::ofstream(report, std::ios::app) << line << "\n" << std::flush;
}

// Forks a child that forks the helper and exits at once: the helper is an
// orphan, reparented to the nearest subreaper.
void DoubleFork(const std::string& report, bool detach) {
  pid_t child = fork();
  if (child < 0) std::abort();
  if (child == 0) {
    if (fork() == 0) {
      if (detach && setsid() < 0) _exit(1);
      Append(report, "helper " + std::to_string(getpid()) +
                         (detach ? " detached" : " grouped"));
      for (;;) pause();
    }
    _exit(0);
  }
  int status;
  while (waitpid(child, &status, 0) < 0) {
  }
}

// Whether `pid` runs: /proc/PID/stat exists and does not say zombie (a
// killed helper not yet reaped is as good as gone).
bool Runs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const size_t name_end = stat.rfind(')');
  return name_end != std::string::npos && name_end + 2 < stat.size() &&
         stat[name_end + 2] != 'Z' && stat[name_end + 2] != 'X';
}

// How many of the helpers in `report` still run.
int HelpersAlive(const std::string& report) {
  std::ifstream in(report);
  int alive = 0;
  for (std::string line; std::getline(in, line);) {
    if (!absl::StartsWith(line, "helper ")) continue;
    const pid_t pid = std::atoi(line.c_str() + 7);
    if (pid > 0 && Runs(pid)) ++alive;
  }
  return alive;
}

int CountLines(const std::string& report, const std::string& prefix) {
  std::ifstream in(report);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    if (absl::StartsWith(line, prefix)) ++count;
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  const std::string report = absl::GetFlag(FLAGS_report);
  std::unique_ptr<daemonkit::Daemon> daemon =
      daemonkit::DaemonizeFromRequest(daemonkit::RequestFromFlags());
  const bool first = CountLines(report, "worker ") == 0;
  Append(report, "worker " + std::to_string(getpid()));
  if (!first) Append(report, "alive " + std::to_string(HelpersAlive(report)));
  if (first) {
    DoubleFork(report, /*detach=*/false);
    DoubleFork(report, /*detach=*/true);
    // Both helpers are written down before the crash.
    while (CountLines(report, "helper ") < 2) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  daemon->NotifyReady();
  if (first) std::abort();
  while (daemon->WaitFor(absl::Hours(1)) != daemonkit::Event::kStop) {
  }
  return 0;
}
