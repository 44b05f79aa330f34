// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/launcher.h
// -----------------------------------------------------------------------------
//
// Runs in the launcher, the process the user started, after the first fork:
// it reaps the first child, waits on the ready pipe for the daemon's verdict
// (ready_channel.h) and exits with it. On anything but "ready" it ends the
// whole failed start (session.h) and removes the pid files it left.

#ifndef DAEMONKIT_DAEMON_INTERNAL_LAUNCHER_H_
#define DAEMONKIT_DAEMON_INTERNAL_LAUNCHER_H_

#include <sys/types.h>

#include <optional>

#include "daemon/internal/listen_sockets.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// What a failed start also ends, after the session sweep: //tools:daemonkit's
// program cgroup (issue 21.3), which holds what left the session (setsid)
// and which the sweep cannot see. Called in the launcher with the first
// child's pid (the session's id) when the daemon died, was killed (not
// ready in time, an interrupt) or never reported: one that reported its
// failure itself has ended what it made. It says on stderr what survived.
// Set before Daemonize(); nullptr (the default): nothing more.
using FailedStartSweep = void (*)(pid_t session);
void SetFailedStartSweep(FailedStartSweep sweep);

// Never returns: exits kExitSuccess once the daemon is ready, kExitFailure
// when it failed, died or was not ready within `options.ready_timeout`.
// `pipe` is the ready pipe (both ends, taken over); `pidfile` the launcher's
// copy of the locked pid file, closed at once so that only the daemon holds
// the lock; `outputs` the output files opened before the fork, whose
// created (and still empty) files a failed start removes.
// `sockets` (issue 14): the listening sockets, closed at once (the daemon
// has them); a failed start removes the socket files it bound.
[[noreturn]] void RunLauncher(pid_t first_child, ReadyPipe pipe,
                              const Options& options,
                              std::optional<PidFile> pidfile,
                              OutputFiles outputs,
                              ListenSockets sockets = ListenSockets());

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_LAUNCHER_H_
