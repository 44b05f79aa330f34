// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/upgrade_request.h
// -----------------------------------------------------------------------------
//
// The asking end of an upgrade request (the left column of upgrade.h's
// diagram), run by the control action's process: `--daemon_control=upgrade`
// (UpgradeDaemon(), control.h) and //tools:daemonkit's upgrade of its
// program (internal::RequestUpgrade(), daemon_access.h). Never by a daemon.
//
// The request listens on an abstract socket named after the daemon's pid
// file and a random token, and sends SIGUSR2 with that token through a
// pidfd: only the signalled process learns the name. The daemon connects
// once its main loop sees the signal, and writes one line once the new
// daemon is ready ("OK NEWPID") or has failed ("ERR why"). Anybody may
// connect to a bound abstract name (it shows in /proc/net/unix), so only a
// connection whose peer is the signalled process counts.
//
// Example:
//
//   DAEMONKIT_ASSIGN_OR_RETURN(
//       UpgradeRequest request,
//       UpgradeRequest::ListenAndSignal(pidfile, pidfd, pid, patience));
//   DAEMONKIT_ASSIGN_OR_RETURN(UniqueFd channel,
//                              request.AwaitDaemonConnection());
//   DAEMONKIT_ASSIGN_OR_RETURN(pid_t new_pid,
//                              request.ReadAnswer(channel.get()));

#ifndef DAEMONKIT_DAEMON_INTERNAL_UPGRADE_REQUEST_H_
#define DAEMONKIT_DAEMON_INTERNAL_UPGRADE_REQUEST_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

// One upgrade request, from the signal to the answer. Move-only: it owns
// the listening socket.
class UpgradeRequest {
 public:
  // Binds the request's channel (upgrade.h UpgradeChannelName: `pidfile`'s
  // device and inode and a new token), then sends SIGUSR2 with the token
  // through `target_pidfd`, the pidfd of `target`, which must outlive the
  // request. `patience`, counted from the signal, bounds both the wait for
  // the connection and the wait for the answer. kNotFound when the target
  // is gone; the errno error of stat, socket, bind, listen or the signal
  // otherwise.
  static absl::StatusOr<UpgradeRequest> ListenAndSignal(
      const std::string& pidfile, int target_pidfd, pid_t target,
      absl::Duration patience);

  UpgradeRequest(UpgradeRequest&&) = default;
  UpgradeRequest& operator=(UpgradeRequest&&) = default;

  // Waits for the target's connection, closing others', and sends the
  // signal again each second without one (the kernel keeps one pending
  // SIGUSR2, whatever value each carries, so a request sent while another's
  // signal was pending is lost). kUnknown when the target ended before it
  // connected (what it did with the request is unknown);
  // kDeadlineExceeded once the patience is spent.
  absl::StatusOr<UniqueFd> AwaitDaemonConnection() const;

  // Reads the answer line from `channel` (the daemon's connection) within
  // the patience: the new daemon's pid for "OK NEWPID";
  // kFailedPrecondition with the daemon's text for "ERR text"; kUnknown
  // when no line came in time, or the channel closed without one, or
  // the line is neither (the upgrade may still complete, or may have).
  absl::StatusOr<pid_t> ReadAnswer(int channel) const;

  // Monotonic (deadline.h), taken just before the first signal.
  absl::Time asked_at() const { return asked_at_; }

 private:
  UpgradeRequest(UniqueFd listener, int target_pidfd, pid_t target,
                 uint64_t token, absl::Time asked_at, absl::Duration patience);

  UniqueFd listener_;
  int target_pidfd_;
  pid_t target_;
  uint64_t token_;
  absl::Time asked_at_;
  absl::Duration patience_;
  Deadline deadline_;  // patience_ after the first signal
};

// Waits until `fd` (a socket, a pidfd) polls readable, up to `deadline`;
// false once it has passed, without polling, or on a poll error.
bool WaitReadable(int fd, const Deadline& deadline);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_UPGRADE_REQUEST_H_
