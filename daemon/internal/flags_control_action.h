// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/flags_control_action.h
// -----------------------------------------------------------------------------
//
// The process an operator runs with `--daemon_control=ACTION`, after its
// flags are read (`DaemonizeFromRequest()`, daemon/flags.cc): `status`,
// `stop`, `reload` and `upgrade` act on the daemon the pid file names, print
// one line (on stdout for an outcome, on stderr for a failure, the pid file
// named) and exit with the code control.h documents; `restart` stops and
// returns, so that the caller starts; `start` returns at once.
//
// Part of the flags layer (//daemon): it speaks to the operator's terminal
// and exits; the public core (daemon/control.h) only returns statuses.
//
// Example (what DaemonizeFromRequest does):
//
//   ConfigureLogging(request->log == LogTarget::kSyslog,
//                    request->log == LogTarget::kJournal);
//   RunControlAction(request->action, request->options);  // exits but for
//                                                         // start, restart
//   absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemonize(...);
//   if (!daemon.ok()) ExitWith(daemon.status());

#ifndef DAEMONKIT_DAEMON_INTERNAL_FLAGS_CONTROL_ACTION_H_
#define DAEMONKIT_DAEMON_INTERNAL_FLAGS_CONTROL_ACTION_H_

#include "absl/status/status.h"
#include "daemon/control.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// Reports `status` as a start failure (one line on stderr, sd_notify's
// ERRNO= to a waiting service manager: ReportStartFailure) and exits with
// ExitCodeFor(status).
[[noreturn]] void ExitWith(const absl::Status& status);

// Sends glog where `--daemon_log` says: to syslog when `syslog`; otherwise
// to stderr (never to glog's log files in /tmp), with the journal's
// priority prefixes when `journal` (or while $JOURNAL_STREAM names stderr).
// Initializes glog first if the program has not.
void ConfigureLogging(bool syslog, bool journal);

// Runs `action` on the daemon `options.pidfile` names, with the options'
// stop and ready timeouts and worker pid file. Exits for kStatus, kReload,
// kStop and kUpgrade, with their documented codes; returns for kStart, and
// for kRestart once the daemon is stopped (or was not running).
void RunControlAction(ControlAction action, const Options& options);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_FLAGS_CONTROL_ACTION_H_
