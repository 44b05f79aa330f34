// Copyright 2026 The daemonkit Authors.
//
// An application that leaves processes behind, to drive the supervisor as a
// subreaper from tests. It takes the --daemon* flags of //daemon. The first
// worker (no "worker" line in --report yet) double-forks two helpers, one
// that stays in its process group and one that starts a session of its own,
// reports them, declares itself ready and crashes. Later workers just serve
// until stopped. Lines appended to --report:
//
//   worker <pid>
//   helper <pid> grouped|detached

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
