// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/upgrade.h
// -----------------------------------------------------------------------------
//
// `--daemon_control=upgrade` (issue 14): the running daemon replaces itself
// with the binary now at its path, without refusing a connection.
//
//   control process                old daemon                new daemon
//   binds @daemonkit-upgrade-DEV-INO-TOKEN (TOKEN: 64 random bits)
//   SIGUSR2 with TOKEN (sigqueue,
//   through a pidfd)          ──►  connects to it, checks
//                                  the peer's uid
//                                  fork, exec(path, argv) ─► LISTEN_FDS = its
//                                    in a process group of   sockets, the pid
//                                    its own, with its       file's descriptor
//                                    sockets, the pid file's (the same OFD
//                                    descriptor, a pipe      lock); LISTEN_PID
//                                                            and WATCHDOG_PID
//                                                            (when set) its pid
//                                  waits for "R" ◄────────── NotifyReady()
//                                  checks NEW still lives,   (holds its
//                                  sd_notify writes NEW into the messages and
//                                  pid file, MAINPID=NEW,     refuses upgrades)
//                                  "H" on the confirm pipe ─► confirmed: sends
//                                                            what it held
//   reads "OK NEW" ◄────────────── stops: WaitUntil() says
//   waits until OLD is gone        kStop, the application
//                                  drains and exits; the
//                                  pid file and socket
//                                  files stay (they are NEW's);
//                                  it gives up its listeners
//                                  and pid file descriptor,
//                                  and is SIGKILLed after
//                                  --daemon_stop_timeout or
//                                  at NEW's stop (18.8)
//
// The listening sockets are never closed in between: connections that
// arrive while both run wait in the one shared backlog. If the new daemon
// reports an error, dies or is not ready within `Options::ready_timeout`,
// its process group is SIGKILLed (what it started goes too), the old one
// keeps serving, and the control process prints "ERR <the new one's
// error>". A stop (SIGTERM, SIGINT) that reaches the old daemon meanwhile
// ends the new one the same way before the old one stops; should the old
// one be SIGKILLed instead, the new one, not yet ready, gets SIGKILL from
// the kernel (PR_SET_PDEATHSIG, which it clears once ready).
//
// The channel's name is random, not derived from the daemon, because an
// abstract name is anybody's to bind first: a name another local user
// could predict, they could hold, and no upgrade would ever be answered.
//
// Only a daemon without supervision, privilege drop or chroot upgrades (the
// new one must open its outputs by path as the old one's user); neither
// pid 1 of a container (its exit ends the container) nor a foreground
// process without a service manager to take MAINPID= (its exit ends the
// service) can hand over; others answer with an error. The old daemon waits
// for the new one inside WaitUntil(): meanwhile it serves nothing, and
// connections queue in the backlog (none is refused while the backlog has
// room; the wait is bounded by `Options::ready_timeout`).
//
// The successor runs as the old daemon's user, root most often: only a
// binary that user alone could have put at the path is run (issue 18.19,
// CheckRunnableByRootAlone in safe_open.h); any other upgrade is refused
// with the path and the reason, and the old daemon serves on.

#ifndef DAEMONKIT_DAEMON_INTERNAL_UPGRADE_H_
#define DAEMONKIT_DAEMON_INTERNAL_UPGRADE_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
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
// The descriptor on which the old daemon confirms the handover (attack
// 1, 4, 7): "H" once it wrote the new pid and sent MAINPID=. A variable of
// its own, so that an older release started by an upgrade (a rollback),
// which knows only kUpgradeVariable's three fields, still starts.
inline constexpr char kUpgradeConfirmVariable[] = "DAEMONKIT_UPGRADE_CONFIRM";

// In the new daemon.
struct UpgradeHandover {
  int pidfile_fd = -1;  // the old daemon's locked pid file
  int ready_fd = -1;    // "R" or "E<text>" to the old daemon
  // The old daemon's "H" (handover confirmed); -1 from an old daemon of
  // an earlier release, which confirms nothing.
  int confirm_fd = -1;
};

// Whether this process was started by an upgrade (kUpgradeVariable names
// it), before TakeUpgradeHandover(): it then starts, whatever the
// `--daemon_control` of the command line it repeats (`restart`, `stop` or
// `upgrade` would act on the old daemon that started it).
bool IsUpgradeSuccessor();

// Takes (and unsets) kUpgradeVariable when it names this process; nullopt
// (an ordinary start) unless its descriptors are a regular file and a pipe.
std::optional<UpgradeHandover> TakeUpgradeHandover();

// The least RLIMIT_NOFILE (soft) with which a daemon holding `sockets`
// listening sockets can upgrade (issue 18.15): the old daemon opens the
// answer channel, a copy of the pid file and two pipes, its child moves
// every handed-over descriptor above those before placing it, and the
// successor starts holding them all; with room for the few files of the
// application beside them.
uint64_t UpgradeDescriptorsNeeded(size_t sockets);

// The upgrade refusal for a daemon whose RLIMIT_NOFILE is `soft`, holding
// `sockets` listening sockets; "" when the limit leaves room.
std::string DescriptorHeadroomRefusal(uint64_t soft, size_t sockets);

// In the new daemon, once it is ready: it no longer dies with the old one.
void SurviveTheOldDaemon();

// A fresh random token for an upgrade request's channel (never 0).
absl::StatusOr<uint64_t> NewUpgradeToken();

// The abstract socket name of an upgrade request to the daemon holding the
// pid file with this device and inode, without the leading NUL. Named
// after the file, not the pid (abstract names belong to the network
// namespace, which processes of several pid namespaces, containers and
// test sandboxes, can share with equal pids), and after the request's
// random `token`, so nobody can hold it in advance.
std::string UpgradeChannelName(dev_t dev, ino_t ino, uint64_t token);

// In the old daemon, on SIGUSR2 with `token`: connects to the upgrade
// channel of its pid file (PidFile::dev(), ino(): the daemon of a path
// keeper holds no descriptor of it), and checks that whoever listens there
// is root or this process's user. -1 when there is no request (a stray
// SIGUSR2: `token` 0) or no file (`ino` 0).
int ConnectUpgradeChannel(dev_t dev, ino_t ino, uint64_t token);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_UPGRADE_H_
