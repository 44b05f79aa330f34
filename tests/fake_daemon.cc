// Copyright 2026 The daemonkit Authors.
//
// A daemon that misbehaves on request, to drive the launcher's side of the
// ready handshake from tests: --behavior=ready|fail|die|hang|threads.
// Before it acts it writes its pid to --report (a plain file, not the pid
// file) so that a test can check that nothing is left running.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "daemon/daemon.h"
#include "daemon/internal/testing_hooks.h"

ABSL_FLAG(std::string, behavior, "ready",
          "ready, fail, die, hang, threads, ignore_term (ready, then deaf to "
          "SIGTERM), child (reap a child of its own, then ready) or "
          "kill_between_forks (SIGKILL itself after setsid, before the "
          "second fork)");
ABSL_FLAG(int, keep_fd, -1, "a descriptor to keep open across daemonizing");
ABSL_FLAG(std::string, pidfile, "", "pid file");
ABSL_FLAG(std::string, report, "", "file to write the daemon's pid to");
ABSL_FLAG(absl::Duration, ready_timeout, absl::Seconds(30), "ready timeout");
ABSL_FLAG(absl::Duration, delay, absl::ZeroDuration(), "wait this long before acting");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string behavior = absl::GetFlag(FLAGS_behavior);
  daemonkit::Options options;
  options.pidfile = absl::GetFlag(FLAGS_pidfile);
  options.ready_timeout = absl::GetFlag(FLAGS_ready_timeout);

  if (absl::GetFlag(FLAGS_keep_fd) >= 0) options.keep_fds.push_back(absl::GetFlag(FLAGS_keep_fd));
  if (behavior == "kill_between_forks") {
    daemonkit::internal::SetBetweenForksHookForTesting([] { raise(SIGKILL); });
  }
  std::thread helper;
  if (behavior == "threads") helper = std::thread([] { absl::SleepFor(absl::Seconds(1)); });
  absl::StatusOr<std::unique_ptr<daemonkit::Daemon>> daemon = daemonkit::Daemonize(options);
  if (helper.joinable()) helper.join();
  if (!daemon.ok()) {
    std::fprintf(stderr, "fake_daemon: %s\n", std::string(daemon.status().message()).c_str());
    return daemonkit::ExitCodeFor(daemon.status());
  }
  std::ofstream report(absl::GetFlag(FLAGS_report));
  report << getpid() << "\n" << std::flush;
  absl::SleepFor(absl::GetFlag(FLAGS_delay));

  if (behavior == "fail") {
    (*daemon)->FailStartup(absl::UnavailableError("cannot bind 127.0.0.1:80: in use"));
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
      report << "child exited " << WEXITSTATUS(status) << "\n" << std::flush;
    }
  }
  if (behavior == "ignore_term") {
    (*daemon)->NotifyReady();
    signal(SIGTERM, SIG_IGN);
    for (;;) pause();
  }
  (*daemon)->NotifyReady();
  while ((*daemon)->WaitFor(absl::Hours(1)) != daemonkit::Event::kStop) {
  }
  return 0;
}
