// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/daemon_startup.h
// -----------------------------------------------------------------------------
//
// Runs in the daemon, right after the second fork, or in the foreground
// process (`Options::detach = false`): the rest of daemon(7)'s checklist
// (stdin, outputs, umask, chroot and workdir, the pid, core dumps, the
// privilege drop, the environment), then, under supervision, the supervisor
// (supervisor.h), which returns only in a worker it forked.

#ifndef DAEMONKIT_DAEMON_INTERNAL_DAEMON_STARTUP_H_
#define DAEMONKIT_DAEMON_INTERNAL_DAEMON_STARTUP_H_

#include <optional>

#include "absl/status/status.h"
#include "daemon/internal/listen_sockets.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/upgrade.h"
#include "daemon/internal/upgrade_start.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// What the application's process (the daemon, the foreground process or a
// worker) starts with; `Daemon`'s handle takes it over.
struct StartedDaemon {
  bool detached = false;
  OutputFiles outputs;
  // The daemon's pid file, locked; unset without one, and in a worker.
  std::optional<PidFile> pidfile;
  // A worker's pid file (worker.h `Worker::pidfile_fd`): locked, kept
  // open for the process's life, removed by the supervisor. -1: none.
  int worker_pidfile_fd = -1;
  ReadyReporter reporter;  // to the launcher, or a worker's to its supervisor
  int signal_fd = -1;      // the self-pipe (signals.h)
  Notifier notifier;
  // Service-manager controls (issue 15): `Options::ready_fd`, for
  // `Daemon::NotifyReady()` to write; -1 when none, and in a worker (the
  // supervisor writes it).
  int ready_fd = -1;
  // Listening sockets (issue 14); in a worker, without the files.
  ListenSockets sockets;
  // --daemon_control=upgrade (issue 14): how to start a successor; unset
  // where upgrades are not supported (`upgrade_refusal` says why).
  std::optional<UpgradeSource> upgrade_source;
  std::string upgrade_refusal;
  absl::Duration ready_timeout = absl::Seconds(30);
  // How long an upgraded old daemon may drain (issue 18.8).
  absl::Duration stop_timeout = absl::Seconds(10);
  // A new daemon started by an upgrade, not yet ready: the pid file and the
  // socket files are still the old daemon's.
  bool handover_pending = false;
  // Its confirm pipe (upgrade.h UpgradeHandover::confirm_fd); -1 when the
  // old daemon confirms nothing.
  int handover_confirm_fd = -1;
};

// What the caller of `Daemonize()` prepared while still attached to the
// terminal (daemonize.cc), carried through both forks.
struct StartRequest {
  Options options;  // validated, defaults filled in, paths absolute
  std::optional<Credentials> credentials;
  Notifier notifier;
  std::optional<PidFile> pidfile;         // locked
  std::optional<PidFile> worker_pidfile;  // worker_pidfile.h
  OutputFiles outputs;                    // opened, not installed
  ListenSockets sockets;  // listening (issue 14), kept through the forks
  // Upgrades (issue 14): set in a new daemon started by an upgrade; what
  // the daemon will need to start its own successor.
  std::optional<UpgradeHandover> handover;
  std::optional<UpgradeSource> upgrade_source;
  std::string upgrade_refusal;

  // After a failed start: removes the output files this start created and
  // the pid files.
  void RemoveWhatWasMade();
};

// In the foreground process: daemon(7)'s steps that `request.options`
// asks for, then supervision if asked (returning in a worker). On error the
// caller removes what was made and returns the error to its caller.
absl::StatusOr<StartedDaemon> StartInForeground(StartRequest& request);

// In the daemon, right after the second fork: the same steps, then the
// signals held since the first child are let in, then supervision if asked
// (returning in a worker). On error it reports to the launcher through
// `reporter`, removes what was made and exits kExitFailure.
StartedDaemon StartAfterForks(StartRequest& request, ReadyReporter reporter);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_DAEMON_STARTUP_H_
