// Copyright 2026 The daemonkit Authors.
//
// An application that stops making progress on request, to drive the
// supervisor's own watchdog (--daemon_watchdog) from tests. It takes the
// --daemon* flags of //daemon. Each start appends "<pid> <monotonic ns>" to
// --report (the format of //tests:fake_daemon, read by ReportedStarts),
// declares itself ready and then:
//
//   - while fewer than --hang_starts starts are recorded (this one
//     included): makes --ticks_before_hang ticks of --tick, appends
//     "hang <pid>", and hangs without ever calling WaitUntil again
//     (deaf to SIGABRT too with --ignore_abort), or, with --unhealthy,
//     calls SetHealthy(false) and goes on calling WaitUntil;
//   - otherwise ticks (WaitFor(--tick)) until stopped, appending
//     "tick <pid>" after each tick.

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

ABSL_FLAG(std::string, report, "", "file to append starts and ticks to");
ABSL_FLAG(int, hang_starts, 0, "how many starts hang");
ABSL_FLAG(int, ticks_before_hang, 2, "ticks a hanging start makes first");
ABSL_FLAG(absl::Duration, tick, absl::Milliseconds(50), "one unit of work");
ABSL_FLAG(bool, ignore_abort, false, "a hanging start ignores SIGABRT");
ABSL_FLAG(bool, unhealthy, false,
          "a hanging start calls SetHealthy(false) and goes on ticking");

namespace {

void Append(const std::string& report, const std::string& line) {
  std::ofstream(report, std::ios::app) << line << "\n" << std::flush;
}

// Lines of `report` that are starts ("<pid> <ns>": a digit first).
int CountStarts(const std::string& report) {
  std::ifstream in(report);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] >= '0' && line[0] <= '9') ++count;
  }
  return count;
}

int64_t MonotonicNanos() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  const std::string report = absl::GetFlag(FLAGS_report);
  std::unique_ptr<daemonkit::Daemon> daemon =
      daemonkit::DaemonizeFromRequest(daemonkit::RequestFromFlags());
  const std::string pid = std::to_string(getpid());
  Append(report, pid + " " + std::to_string(MonotonicNanos()));
  const bool hang = CountStarts(report) <= absl::GetFlag(FLAGS_hang_starts);
  daemon->NotifyReady();
  const absl::Duration tick = absl::GetFlag(FLAGS_tick);
  if (hang) {
    for (int i = 0; i < absl::GetFlag(FLAGS_ticks_before_hang); ++i) {
      if (daemon->WaitFor(tick) == daemonkit::Event::kStop) return 0;
    }
    if (absl::GetFlag(FLAGS_ignore_abort)) signal(SIGABRT, SIG_IGN);
    Append(report, "hang " + pid);
    if (absl::GetFlag(FLAGS_unhealthy)) {
      // Knows it is stuck: its main loop still runs, but reports no
      // progress.
      daemon->SetHealthy(false);
      while (daemon->WaitFor(tick) != daemonkit::Event::kStop) {
      }
      return 0;
    }
    for (;;) pause();  // stuck: no more WaitUntil, no more progress
  }
  while (daemon->WaitFor(tick) != daemonkit::Event::kStop) {
    Append(report, "tick " + pid);
  }
  return 0;
}
