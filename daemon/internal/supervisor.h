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
// The supervisor does nothing in signal handlers (they feed the self-pipe).
// It is a child subreaper: what a worker leaves behind (a double-forked
// helper) is reparented to it and reaped. When a worker dies, the
// supervisor SIGKILLs what it left (its process group, then every remaining
// child, found in /proc) before the next worker starts; when it stops, gives
// up or exits, likewise, after the worker itself had SIGTERM and the stop
// timeout. The worker dies with it (PR_SET_PDEATHSIG, checked after
// setting it). The launcher still exits only when the first worker is
// ready; a worker that dies before its first ready is a failed start, not a
// restart loop.
//
// sd_notify: the supervisor is systemd's main process (it sends READY=1 with
// MAINPID= of itself) and alone talks to $NOTIFY_SOCKET. Each worker gets a
// connected socket to it instead, and the supervisor relays what the worker
// says (STATUS=, RELOADING=1 and its READY=1, STOPPING=1, WATCHDOG=1) but
// never MAINPID= or descriptor passing. It sends no WATCHDOG=1 of its own
// while a worker runs, so systemd's watchdog still fires when the worker
// hangs; it does feed it while it waits out a restart delay, which is its own
// work.
//
// A watchdog of our own (`--daemon_watchdog`, watchdog.h): the worker's
// WATCHDOG=1 keep-alives come on the same line (which then exists without
// $NOTIFY_SOCKET too); a worker silent for the period after its readiness
// gets SIGABRT, SIGKILL after three quarters of the stop timeout, and is
// restarted.
//
// The worker's pid file (`--daemon_child_pidfile`): worker_pidfile.h. What
// a worker starts with, and its first steps after the fork: worker.h. When a
// worker starts again: restart_schedule.h. The code: supervisor.cc (the
// event loop) and supervisor_worker.cc (a worker's life), around the class
// in supervisor_process.h.

#ifndef DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_H_
#define DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/listen_sockets.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/ready_channel.h"
// ShouldRestart and RestartStatus, which the `daemonkit` monitor's
// RestartSchedule (program.h) applies to a program, come with this header.
#include "daemon/internal/restart_schedule.h"
#include "daemon/internal/worker.h"
// The supervisor empties and removes the worker's pid file; its users get
// the three functions with this header.
#include "daemon/internal/worker_pidfile.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// The old name of the public `RestartPolicy`, kept for supervisor_test.cc;
// new code says RestartPolicy.
using RestartMode = RestartPolicy;

// What the supervisor hands over to itself: its pid file, the worker's pid
// file (from OpenWorkerPidFile), its output files (reopened on SIGHUP), the
// launcher's ready channel and the notifier.
struct SupervisorState {
  std::optional<PidFile>* pidfile;
  std::optional<PidFile>* worker_pidfile;
  OutputFiles* outputs;
  ReadyReporter* launcher;
  Notifier* notifier;
  int signal_fd;
  // Listening sockets (issue 14): every worker inherits them; their files
  // go at the supervisor's exit. Null: none.
  ListenSockets* sockets = nullptr;
};

// Runs the supervisor in the calling process, with the restart and stop
// values of `options` (Options::restart and below). Returns only in a
// worker it has just forked; the supervisor itself ends with exit(): 0 after a
// stop, or when the worker ended and the mode does not restart it; 1 when it
// gives up (the restart limit), or when the first worker fails before it is
// ready.
Worker Supervise(const Options& options, SupervisorState state);

// Relaying the worker's sd_notify messages (see the top of this file).
struct RelayState {
  bool reloading = false;  // a RELOADING=1 awaits its READY=1
  bool stopping = false;   // STOPPING=1 has been sent
  // The current worker has sent a STATUS= of its own: the supervisor's
  // "running" would overwrite the application's text (attack finding 5).
  bool worker_status = false;
};

// The part of the worker's `message` that the supervisor passes on to
// $NOTIFY_SOCKET, "" for none. Each line must be whole and one of: STATUS=
// (any text without NUL), WATCHDOG=1, ERRNO=<number>, RELOADING=1,
// MONOTONIC_USEC=<number>; READY=1 only to end a reload (the first readiness
// is the supervisor's to announce, with its own MAINPID=); STOPPING=1 once,
// and not under kAlways, where the supervisor restarts a worker that stops
// by itself. Anything else (MAINPID=, FDSTORE=, BARRIER=, WATCHDOG_USEC=,
// WATCHDOG=trigger, EXTEND_TIMEOUT_USEC=, unknown assignments, a line with
// a NUL) is dropped: the worker must not redirect systemd to another
// process nor change how systemd watches the service.
std::string RelayedNotification(absl::string_view message, RestartPolicy mode,
                                RelayState* state);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_H_
