// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/daemon_access.h
// -----------------------------------------------------------------------------
//
// What //tools:daemonkit's monitor (issue 21) needs of the `Daemon` handle
// beyond the public API: the monitor is the daemon process of the library,
// but the service it stands for is a program it forked and exec'd, so the
// pid file must name that program, and the program's own sd_notify
// messages go on to the service manager as they came. Not an interface for
// applications: a program that links the library is its own daemon.

#ifndef DAEMONKIT_DAEMON_INTERNAL_DAEMON_ACCESS_H_
#define DAEMONKIT_DAEMON_INTERNAL_DAEMON_ACCESS_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace daemonkit {

class Daemon;

namespace internal {

struct DaemonAccess {
  // Writes `pid` into the locked pid file the handle holds (the file's
  // recreation after a removal copies it). kFailedPrecondition when the
  // handle holds none itself: no pid file, or a path keeper holds it.
  static absl::Status WritePid(Daemon& daemon, pid_t pid);

  // Sends `message` ("STATUS=...", "WATCHDOG=1") to the service manager as
  // the handle's own notifications go; nothing without one.
  static void Notify(Daemon& daemon, absl::string_view message);
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_DAEMON_ACCESS_H_
