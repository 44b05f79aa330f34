// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/daemon_access.h
// -----------------------------------------------------------------------------
//
// What //tools:daemonkit's monitor (issue 21) needs of the `Daemon` handle
// beyond the public API: the monitor is the daemon process of the library,
// but the service it stands for is a program it forked and exec'd, so the
// pid file must name that program, and the program's own sd_notify
// messages go on to the service manager as they came, and an upgrade
// replaces the program, not the monitor. Not an interface for
// applications: a program that links the library is its own daemon.

#ifndef DAEMONKIT_DAEMON_INTERNAL_DAEMON_ACCESS_H_
#define DAEMONKIT_DAEMON_INTERNAL_DAEMON_ACCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace daemonkit {

class Daemon;
struct UpgradeResult;  // control.h

namespace internal {

struct DaemonAccess {
  // Writes `pid` into the locked pid file the handle holds (the file's
  // recreation after a removal copies it). kFailedPrecondition when the
  // handle holds none itself: no pid file, or a path keeper holds it.
  static absl::Status WritePid(Daemon& daemon, pid_t pid);

  // Sends `message` ("STATUS=...", "WATCHDOG=1") to the service manager as
  // the handle's own notifications go; nothing without one.
  static void Notify(Daemon& daemon, absl::string_view message);

  // Hands the daemon's `--daemon_control=upgrade` requests to `take`
  // instead of the library's upgrade (a new copy of this binary): the
  // monitor upgrades its program and stays. `take` runs inside
  // WaitUntil()/WaitFor() with the request's answer channel, connected and
  // close-on-exec, which it owns: it writes "OK NEWPID\n" or "ERR why\n"
  // (RequestUpgrade() reads them), now or later, and closes it. A request
  // that comes once a stop is under way is refused by the library.
  // kFailedPrecondition without a pid file of the handle's own (a request
  // finds its channel through the pid file).
  static absl::Status TakeUpgradeRequests(
      Daemon& daemon, std::function<void(int channel)> take);
};

// The control side of an upgrade, as UpgradeDaemon() (control.h) does it,
// sent to the process `target_pidfd` pins (the monitor of the pid file's
// program, where UpgradeDaemon sends to the lock's holder): the answer
// must come from that process, and the old process is `old_pidfd`'s (the
// old program, which the upgrade ends), awaited up to `drain_timeout`.
absl::StatusOr<UpgradeResult> RequestUpgrade(const std::string& pidfile,
                                             int target_pidfd, int old_pidfd,
                                             absl::Duration ready_timeout,
                                             absl::Duration drain_timeout);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_DAEMON_ACCESS_H_
