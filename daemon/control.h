// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: daemon/control.h
// -----------------------------------------------------------------------------
//
// Operating a running daemon through its pid file: stop, reload, status. The
// lock on the pid file, not the number written in it, says whether the daemon
// runs, and only a write lock counts (any user may take a read lock on the
// 0644 file). The number is trusted only once /proc shows the process it
// names holding that write lock (having the file open is not enough), and
// signals go through a pidfd, so a stale file, a recycled pid or a process
// that merely opened the file never gets a signal meant for the daemon. When
// the number names no holder (someone rewrote the file), the actions scan
// /proc for the process holding the write lock: exactly one thread group
// found is the daemon; none or several, and nothing is signalled.
//
// A relative pid-file path is taken from the current directory, as a start
// takes it.
//
// Example (what `--daemon_control=status` does):
//
//   absl::StatusOr<daemonkit::DaemonStatus> status =
//       daemonkit::QueryDaemonStatus("/run/mydaemon.pid");
//   if (!status.ok()) { ... unreadable pid file ... }
//   std::cout << status->Describe() << "\n";  // "running, pid 4242"
//   return status->ExitCode();                 // LSB: 0, 1 or 3

#ifndef DAEMONKIT_DAEMON_CONTROL_H_
#define DAEMONKIT_DAEMON_CONTROL_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace daemonkit {

// The actions of `--daemon_control`.
enum class ControlAction {
  kStart,
  kStop,
  kRestart,
  kReload,
  kStatus,
  kUpgrade,  // issue 14
};

// Parses "start", "stop", "restart", "reload" or "status"; kInvalidArgument
// otherwise.
absl::StatusOr<ControlAction> ParseControlAction(absl::string_view text);

// Exit codes of the control actions (LSB init-script conventions).
inline constexpr int kExitStatusRunning = 0;
inline constexpr int kExitStatusDead = 1;  // pid file left, no daemon
inline constexpr int kExitStatusNotRunning = 3;
// LSB "program or service status is unknown": the pid file cannot be read
// (a directory, a device node, a FIFO, a symbolic link, no permission).
inline constexpr int kExitStatusUnknown = 4;
inline constexpr int kExitReloadNotRunning = 7;
// `upgrade` gave up waiting for the old daemon's answer (attack 3): the
// upgrade may or may not happen; `status` tells. SPEC gives `upgrade` the
// codes 0, 1 and 7 only, so this is 1, told apart by its message ("the
// upgrade may still complete: check status").
inline constexpr int kExitUpgradeUnknown = 1;

// What the pid file says about the daemon.
struct DaemonStatus {
  enum class State {
    kRunning,     // the lock is held
    kDead,        // a pid file is left but no daemon holds its lock (nobody,
                  // or a path keeper whose daemon is gone: left_keeper_pid)
    kNotRunning,  // no pid file
  };
  State state = State::kNotRunning;
  pid_t pid = 0;  // the daemon's pid when running; the stale one when dead
  // When running: whether `pid` is seen holding the lock. False while no
  // process is found holding it (a daemon still starting, several holders,
  // or none that can be looked at): then `pid` is the file's number, not
  // the daemon's.
  bool pid_verified = false;
  // The number written in the pid file (0 when it holds none). It differs
  // from a verified `pid` when someone rewrote the file: the daemon is then
  // the one process that /proc shows holding the file's write lock.
  pid_t pidfile_pid = 0;
  pid_t worker_pid = 0;  // under supervision, the worker's (from its pid file)
  // When dead: the path keeper that still holds the lock although its
  // daemon has exited (issue 18.12: it was stopped); 0 when none.
  pid_t left_keeper_pid = 0;
  std::string pidfile;

  // One line a script can parse: "running, pid 4242" (", worker 4243"
  // under supervision), "running, pid 4242 (the pid file says 1)" when the
  // file was rewritten but the holder of its lock is found, "running, pid
  // unknown (...)" when no single holder is, "dead, pid file /run/x.pid left
  // (pid 4242)" (with "; its path keeper, pid N, still holds the lock"
  // when a keeper outlived its daemon) or "not running".
  std::string Describe() const;
  // LSB: kExitStatusRunning, kExitStatusDead or kExitStatusNotRunning.
  int ExitCode() const;
};

// `path` as an absolute path: a relative one is taken from the current
// directory, as every control action takes its pid file and as every
// control message names it ("not running (pid file /run/app.pid)"), so that
// a message said from another directory shows where it looked. An error
// only when the current directory cannot be read.
absl::StatusOr<std::string> AbsolutePath(const std::string& path);

// Reads the state of the daemon behind `pidfile` without disturbing it, and
// the worker's pid from `child_pidfile` when given and locked. Errors only
// when the pid file cannot be read (a directory, a symbolic link, no
// permission).
absl::StatusOr<DaemonStatus> QueryDaemonStatus(
    const std::string& pidfile, const std::string& child_pidfile = "");

// Sends SIGTERM to the daemon, waits up to `timeout` for it to be gone, then
// sends SIGKILL; returns once the process no longer exists. A pid file left
// by a dead daemon is removed; failing to remove it (a read-only file
// system, no permission) is logged as a warning, since nothing runs. OK when
// stopped or not running;
// kDeadlineExceeded when even SIGKILL did not end it, kFailedPrecondition
// when the lock holder cannot be identified. A path keeper left holding the
// lock once its daemon is gone (stopped with SIGSTOP) is resumed and, if it
// does not exit within a grace, killed, so that the lock is released; stop
// does not succeed while such a keeper holds it. With `child_pidfile` (the
// worker's, under supervision), a worker pid file that no worker holds any
// more is removed too: a supervisor killed with SIGKILL leaves it, and its
// worker dies with it.
absl::Status StopDaemon(const std::string& pidfile, absl::Duration timeout,
                        const std::string& child_pidfile = "");

// Sends SIGHUP to the daemon. kNotFound when it is not running.
absl::Status ReloadDaemon(const std::string& pidfile);

// Upgrades (issue 14).
//
// What `--daemon_control=upgrade` did.
struct UpgradeResult {
  pid_t old_pid = 0;
  pid_t new_pid = 0;
  // From the request to the new daemon's readiness, and to the old one's
  // exit (its drain included); `old_gone` false when it still drained at
  // the deadline.
  absl::Duration ready_after;
  absl::Duration old_gone_after;
  bool old_gone = false;

  // "upgraded, pid NEW (was OLD): ready after 1.2s, old gone after 1.5s"
  // ("old still draining after ..." when it was not gone).
  std::string Describe() const;
};

// Replaces the running daemon with the binary now at its path, started with
// its command line and its listening sockets (daemon/internal/upgrade.h):
// sends it SIGUSR2 and waits up to `ready_timeout` (plus a margin) for the
// answer, then up to `drain_timeout` for the old process to be gone. OK
// with the result when the new daemon is ready and holds the pid file;
// kNotFound when no daemon runs; kUnknown when the old daemon took the
// request and gave no answer in time (or closed the channel without one):
// the upgrade may still complete; otherwise the new daemon's own error
// (kFailedPrecondition), and the old daemon keeps serving.
absl::StatusOr<UpgradeResult> UpgradeDaemon(const std::string& pidfile,
                                            absl::Duration ready_timeout,
                                            absl::Duration drain_timeout);

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_CONTROL_H_
