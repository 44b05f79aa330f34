// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/worker.h
// -----------------------------------------------------------------------------
//
// Runs in a supervised worker, right after the supervisor forked it
// (supervisor.h): it ties its life to the supervisor's, takes its own
// channels and its pid file, and returns to `Daemonize()`'s caller, the
// application.

#ifndef DAEMONKIT_DAEMON_INTERNAL_WORKER_H_
#define DAEMONKIT_DAEMON_INTERNAL_WORKER_H_

#include <sys/types.h>

#include <optional>

#include "absl/time/time.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/ready_channel.h"

namespace daemonkit {
namespace internal {

// What a worker starts with.
struct Worker {
  ReadyReporter to_supervisor;  // NotifyReady() goes here
  // sd_notify to the supervisor, which relays; disabled without
  // $NOTIFY_SOCKET and without `--daemon_watchdog`. Feeds the watchdog at
  // the supervisor's interval (watchdog.h KeepAliveInterval).
  Notifier notifier;
  // The worker's pid file, locked by this process and holding its pid; -1
  // without one. Keep it open for the process's life: the kernel drops the
  // lock when the worker dies (or closes any descriptor of the file).
  int pidfile_fd = -1;
  int signal_fd = -1;  // the worker's own self-pipe
};

// The worker's first steps: dies with `supervisor` (PR_SET_PDEATHSIG),
// reports to it on `ready_fd`, speaks sd_notify on `notify_fd` (-1: none)
// with the supervisor's `watchdog` interval, gets a self-pipe of its own
// and, with a `worker_pidfile` (reset here), locks it and writes its pid.
// On failure reports on `ready_fd` and exits kExitFailure.
Worker BecomeWorker(pid_t supervisor, int ready_fd, int notify_fd,
                    std::optional<absl::Duration> watchdog,
                    std::optional<PidFile>& worker_pidfile);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_WORKER_H_
