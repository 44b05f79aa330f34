// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/supervisor.h
// -----------------------------------------------------------------------------
//
// Supervision (`--daemon_restart`): the daemon process becomes a small
// supervisor that holds the pid-file lock and forks the worker, which runs
// the application, and starts it again when it dies, with exponential backoff
// and crash-loop protection. FreeBSD daemon(8) -r and systemd's Restart= for
// programs without a service manager.
//
// The supervisor does nothing in signal handlers (they feed the self-pipe);
// it reaps every child; the worker dies with it (PR_SET_PDEATHSIG, checked
// after setting it). The launcher still exits only when the first worker is
// ready; a worker that dies before its first ready is a failed start, not a
// restart loop.

#ifndef DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_H_
#define DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/ready_channel.h"

namespace daemonkit {
namespace internal {

enum class RestartMode { kNo, kOnFailure, kAlways };

struct RestartSchedule {
  RestartMode mode = RestartMode::kNo;
  absl::Duration delay = absl::Seconds(1);
  absl::Duration max_delay = absl::Seconds(60);
  absl::Duration reset_after = absl::Seconds(60);
  int limit = 0;  // restarts within the reset window before giving up; 0: never
  absl::Duration stop_timeout = absl::Seconds(10);
  std::string child_pidfile;
};

// What the supervisor hands over to itself: its pid file, its output files
// (reopened on SIGHUP), the launcher's ready channel and the notifier.
struct SupervisorState {
  std::optional<PidFile>* pidfile;
  OutputFiles* outputs;
  ReadyReporter* launcher;
  Notifier* notifier;
  int signal_fd;
};

// What a worker starts with.
struct Worker {
  ReadyReporter to_supervisor;     // NotifyReady() goes here
  std::optional<PidFile> pidfile;  // --daemon_child_pidfile, locked
  int signal_fd;                   // the worker's own self-pipe
};

// Runs the supervisor in the calling process. Returns only in a worker it
// has just forked; the supervisor itself ends with exit(): 0 after a stop,
// or when the worker ended and the mode does not restart it; 1 when it gives
// up (the restart limit), or when the first worker fails before it is ready.
Worker Supervise(const RestartSchedule& schedule, SupervisorState state);

// "restarting in 4s after exit code 3, restart 2": the STATUS= line.
std::string RestartStatus(absl::Duration delay, int wait_status, int restart);

// Whether `mode` restarts a worker that ended with `wait_status`.
bool ShouldRestart(RestartMode mode, int wait_status);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_H_
