// Copyright 2026 The daemonkit Authors.
//
// A daemon that misbehaves on request, to drive the launcher and the
// supervisor from tests. It takes the --daemon* flags of //daemon, and:
//
//   --behavior=ready        declare itself ready and wait to be stopped
//              fail         report a start-up error
//              die          exit 3 before it is ready
//              hang         never become ready
//              threads      start a thread before daemonizing
//              ignore_term  ready, then deaf to SIGTERM
//              child        reap a child of its own, then ready
//              kill_between_forks  SIGKILL itself between the two forks
//              crash_times  ready, then abort while fewer than --crash_times
//                           starts are recorded in --report
//
// Each process that gets past daemonizing appends "<pid> <monotonic ns>" to
// --report, so tests can see every daemon (and every restarted worker).

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "daemon/internal/testing_hooks.h"

ABSL_FLAG(std::string, behavior, "ready", "what to do; see the file comment");
ABSL_FLAG(std::string, report, "",
          "file to append each started daemon's pid to");
ABSL_FLAG(absl::Duration, delay, absl::ZeroDuration(),
          "wait this long before acting");
ABSL_FLAG(int, keep_fd, -1, "a descriptor to keep open across daemonizing");
ABSL_FLAG(int, crash_times, 0,
          "with --behavior=crash_times: how many starts crash");

namespace {

int64_t MonotonicNanos() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

int RecordedStarts(const std::string& report) {
  std::ifstream in(report);
  std::string line;
  int starts = 0;
  while (std::getline(in, line)) ++starts;
  return starts;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string behavior = absl::GetFlag(FLAGS_behavior);
  const std::string report_path = absl::GetFlag(FLAGS_report);
  absl::StatusOr<daemonkit::FlagRequest> request =
      daemonkit::RequestFromFlags();
  if (request.ok() && absl::GetFlag(FLAGS_keep_fd) >= 0) {
    request->options.keep_fds.push_back(absl::GetFlag(FLAGS_keep_fd));
  }
  if (behavior == "kill_between_forks") {
    daemonkit::internal::SetBetweenForksHookForTesting([] { raise(SIGKILL); });
  }
  std::thread helper;
  if (behavior == "threads") {
    helper = std::thread([] { absl::SleepFor(absl::Seconds(1)); });
  }
  // DaemonizeFromRequest exits on failure; the thread must be joined first.
  if (helper.joinable()) {
    absl::StatusOr<std::unique_ptr<daemonkit::Daemon>> daemon =
        daemonkit::Daemonize(request->options);
    helper.join();
    std::fprintf(stderr, "fake_daemon: %s\n",
                 std::string(daemon.status().message()).c_str());
    return daemonkit::ExitCodeFor(daemon.status());
  }
  std::unique_ptr<daemonkit::Daemon> daemon =
      daemonkit::DaemonizeFromRequest(std::move(request));

  const int earlier_starts = RecordedStarts(report_path);
  {
    std::ofstream report(report_path, std::ios::app);
    report << getpid() << " " << MonotonicNanos() << "\n";
  }
  absl::SleepFor(absl::GetFlag(FLAGS_delay));

  if (behavior == "fail") {
    daemon->FailStartup(
        absl::UnavailableError("cannot bind 127.0.0.1:80: in use"));
    return 1;
  }
  if (behavior == "die") _exit(3);
  if (behavior == "hang") {
    for (;;) pause();
  }
  if (behavior == "child") {
    // SIGCHLD must not be ignored behind the application's back, or the
    // kernel would reap the child and waitpid would fail with ECHILD.
    pid_t child = fork();
    if (child == 0) _exit(7);
    int status = 0;
    if (waitpid(child, &status, 0) == child && WIFEXITED(status)) {
      std::ofstream(report_path, std::ios::app)
          << "child exited " << WEXITSTATUS(status) << "\n";
    }
  }
  daemon->NotifyReady();
  if (behavior == "crash_times" &&
      earlier_starts < absl::GetFlag(FLAGS_crash_times)) {
    std::abort();
  }
  if (behavior == "ignore_term") {
    signal(SIGTERM, SIG_IGN);
    for (;;) pause();
  }
  while (daemon->WaitFor(absl::Hours(1)) != daemonkit::Event::kStop) {
  }
  return 0;
}
