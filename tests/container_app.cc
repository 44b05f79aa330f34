// Copyright 2026 The daemonkit Authors.
//
// An application for pid 1 of a container: run it in the foreground
// (--daemon=false) under `unshare --pid --fork --mount-proc`. It takes the
// --daemon* flags of //daemon, and appends to --report:
//
//   app <pid> <ppid>        after Daemonize (pid and ppid in the namespace)
//   orphan <pid>            each of --orphans grandchildren: double-forked,
//                           so each lands on pid 1, where it exits at once
//   child <status>          its own direct child (exit 7), waited for with
//                           waitpid(child) while the orphans come and go:
//                           "child exit 7", or "child waitpid: <error>"
//   ready                   after NotifyReady()
//   stopping                when WaitFor returns kStop; it then exits with
//                           --exit_code
//   deaf                    instead, with --deaf_to_stop: it never exits
//
// With --thread it starts a thread before Daemonize, which must then fail.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

ABSL_FLAG(std::string, report, "", "file to append what happened to");
ABSL_FLAG(int, orphans, 20, "how many orphans to leave behind");
ABSL_FLAG(int, exit_code, 42, "exit code after a stop");
ABSL_FLAG(bool, deaf_to_stop, false, "go on after kStop");
ABSL_FLAG(bool, thread, false, "start a thread before Daemonize");

namespace {

void Append(const std::string& report, const std::string& line) {
  std::ofstream(report, std::ios::app) << line << "\n" << std::flush;
}

// Forks a child that forks a grandchild and exits at once; the grandchild,
// reparented to pid 1, exits at once too. Returns the grandchild's pid.
pid_t LeaveOrphan() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
  const pid_t middle = fork();
  if (middle < 0) std::abort();
  if (middle == 0) {
    const pid_t orphan = fork();
    if (orphan == 0) {
      // Gone only after its parent: it dies an orphan.
      while (getppid() != 1) usleep(1000);
      _exit(0);
    }
    (void)!write(fds[1], &orphan, sizeof(orphan));
    _exit(0);
  }
  close(fds[1]);
  pid_t orphan = -1;
  while (read(fds[0], &orphan, sizeof(orphan)) < 0 && errno == EINTR) {
  }
  close(fds[0]);
  int status;
  while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  return orphan;
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  const std::string report = absl::GetFlag(FLAGS_report);
  if (absl::GetFlag(FLAGS_thread)) {
    std::thread([] {
      for (;;) pause();
    }).detach();
  }
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  Append(report,
         "app " + std::to_string(getpid()) + " " + std::to_string(getppid()));

  const pid_t child = fork();
  if (child < 0) std::abort();
  if (child == 0) {
    usleep(200 * 1000);  // alive while the orphans come and go
    _exit(7);
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_orphans); ++i) {
    Append(report, "orphan " + std::to_string(LeaveOrphan()));
  }
  int status = 0;
  pid_t waited;
  while ((waited = waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited != child) {
    Append(report, std::string("child waitpid: ") + std::strerror(errno));
  } else if (WIFEXITED(status)) {
    Append(report, "child exit " + std::to_string(WEXITSTATUS(status)));
  } else {
    Append(report, "child status " + std::to_string(status));
  }

  daemon->NotifyReady();
  Append(report, "ready");
  while (daemon->WaitFor(absl::Hours(1)) != daemonkit::Event::kStop) {
  }
  if (absl::GetFlag(FLAGS_deaf_to_stop)) {
    Append(report, "deaf");
    for (;;) pause();
  }
  Append(report, "stopping");
  return absl::GetFlag(FLAGS_exit_code);
}
