// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/upgrade.h
// -----------------------------------------------------------------------------
//
// `--daemon_control=upgrade` (issue 14): the running daemon replaces itself
// with the binary now at its path, without refusing a connection.
//
//   control process                old daemon                new daemon
//   binds @daemonkit-upgrade-DEV-INO (of the pid file)
//   SIGUSR2 (through a pidfd) ──►  connects to it, checks
//                                  the peer's uid
//                                  fork, exec(path, argv) ─► LISTEN_FDS = its
//                                    with its sockets,       sockets, the pid
//                                    the pid file's          file's descriptor
//                                    descriptor, a pipe      (the same OFD
//                                    lock)
//                                  waits for "R" ◄────────── NotifyReady()
//                                  writes NEW into the
//                                  pid file, MAINPID=NEW
//   reads "OK NEW" ◄────────────── stops: WaitUntil() says
//   waits until OLD is gone        kStop, the application
//                                  drains and exits; the
//                                  pid file and socket
//                                  files stay (they are NEW's)
//
// The listening sockets are never closed in between: connections that
// arrive while both run wait in the one shared backlog. If the new daemon
// reports an error, dies or is not ready within `Options::ready_timeout`,
// it is SIGKILLed, the old one writes its own pid back and keeps serving,
// and the control process prints "ERR <the new one's error>".
//
// Only a daemon without supervision, privilege drop or chroot upgrades (the
// new one must open its outputs by path as the old one's user); others
// answer with an error. The old daemon waits for the new one inside
// WaitUntil(): meanwhile connections queue in the backlog.

#ifndef DAEMONKIT_DAEMON_INTERNAL_UPGRADE_H_
#define DAEMONKIT_DAEMON_INTERNAL_UPGRADE_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/listen_sockets.h"

namespace daemonkit {
namespace internal {

// The variable that tells a new daemon it is an upgrade:
// "PID:PIDFILE_FD:READY_FD", PID its own (as LISTEN_PID).
inline constexpr char kUpgradeVariable[] = "DAEMONKIT_UPGRADE";

// In the new daemon.
struct UpgradeHandover {
  int pidfile_fd = -1;  // the old daemon's locked pid file
  int ready_fd = -1;    // "R" or "E<text>" to the old daemon
};

// Takes (and unsets) kUpgradeVariable when it names this process.
std::optional<UpgradeHandover> TakeUpgradeHandover();

// What the old daemon needs to start its successor, captured when it
// starts (before it changes directory): its binary's path, its arguments,
// and the directory relative paths in them are taken from.
struct UpgradeSource {
  std::string exe;
  std::vector<std::string> argv;
  std::string cwd;
};
absl::StatusOr<UpgradeSource> CaptureUpgradeSource();

// Starts the successor and waits for its readiness; its pid, or the error
// it reported (or why it is not there). On error the successor is gone.
absl::StatusOr<pid_t> StartSuccessor(const UpgradeSource& source,
                                     int pidfile_fd,
                                     const ListenSockets& sockets,
                                     absl::Duration ready_timeout);

// The abstract socket name of the upgrade request to the daemon holding
// the pid file with this device and inode, without the leading NUL. Named
// after the file, not the pid: abstract names belong to the network
// namespace, which processes of several pid namespaces (containers, test
// sandboxes) can share with equal pids.
std::string UpgradeChannelName(dev_t dev, ino_t ino);

// In the old daemon, on SIGUSR2: connects to the upgrade channel of its pid
// file (PidFile::dev(), ino(): the daemon of a path keeper holds no
// descriptor of it), and checks that whoever listens there is root or this
// process's user. -1 when there is no request (a stray SIGUSR2) or no file
// (`ino` 0).
int ConnectUpgradeChannel(dev_t dev, ino_t ino);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_UPGRADE_H_
