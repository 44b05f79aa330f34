// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/upgrade_start.h
// -----------------------------------------------------------------------------
//
// The old daemon's side of `--daemon_control=upgrade` (upgrade.h has the
// whole exchange): it captures its command line when it starts, and on a
// request forks and execs its successor with the listening sockets, the
// pid file's descriptor and the handover variables, waits for its
// readiness, and then confirms the handover or ends it. Runs in the old
// daemon; between fork and exec, in the successor-to-be (async-signal-safe
// only).
//
//   absl::StatusOr<Successor> next = StartSuccessor(
//       *source, pidfile_fd, sockets, ready_timeout, signal_fd, interrupted);
//   if (!next.ok()) return next.status();  // nothing of it runs
//   if (absl::Status handed = ConfirmHandover(*next); !handed.ok()) ...

#ifndef DAEMONKIT_DAEMON_INTERNAL_UPGRADE_START_H_
#define DAEMONKIT_DAEMON_INTERNAL_UPGRADE_START_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/internal/listen_sockets.h"

namespace daemonkit {
namespace internal {

// What the old daemon needs to start its successor, captured when it
// starts (before it changes directory): its binary's path as it was
// executed (AT_EXECFN, made absolute: a deployment that moves a symlink to
// a new release upgrades to the release the link names then), its
// arguments, and the directory relative paths in them are taken from.
struct UpgradeSource {
  std::string exe;
  std::vector<std::string> argv;
  std::string cwd;
};
absl::StatusOr<UpgradeSource> CaptureUpgradeSource();

// A successor that said it is ready, not yet confirmed (ConfirmHandover).
struct Successor {
  pid_t pid = -1;
  int confirm_fd = -1;  // the write end of its confirm pipe
};

// Starts the successor and waits for its readiness; the successor, or the
// error it reported (or why it is not there: one that died after it said
// ready is dead, not ready). While waiting, whenever
// `interrupt_fd` turns readable it calls `interrupted`, and gives up (an
// Aborted error) when that returns true. On error the successor and its
// process group are gone. A binary that someone other than root (or this
// process's user) could have chosen is refused before anything starts
// (issue 18.19, CheckRunnableByRootAlone).
absl::StatusOr<Successor> StartSuccessor(
    const UpgradeSource& source, int pidfile_fd, const ListenSockets& sockets,
    absl::Duration ready_timeout, int interrupt_fd,
    const std::function<bool()>& interrupted);

// Whether the successor (this process's child) is still alive: not exited,
// not a zombie. Attack 4: the old daemon handed over to a successor killed
// after it said ready, and nothing served.
bool SuccessorAlive(pid_t pid);

// Tells the successor the handover is done ("H"; it then sends its held
// sd_notify messages and takes upgrade requests), once it is checked
// alive. On error (it died) the successor and its process group are
// killed and reaped; either way `successor.confirm_fd` is closed.
absl::Status ConfirmHandover(Successor& successor);

// Ends a successor that will not be handed over: its process group, then
// it, reaped; closes its confirm pipe.
void AbandonSuccessor(Successor& successor);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_UPGRADE_START_H_
