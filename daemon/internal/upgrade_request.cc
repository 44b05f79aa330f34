// Copyright 2026 The daemonkit Authors.
//
// Runs in the control action's process, and only there (upgrade issue 14).

#include "daemon/internal/upgrade_request.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/upgrade.h"

namespace daemonkit {
namespace internal {

bool WaitReadable(int fd, const Deadline& deadline) {
  for (;;) {
    if (deadline.Passed()) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    const int n = poll(&pfd, 1, deadline.PollTimeoutMs());
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

UpgradeRequest::UpgradeRequest(UniqueFd listener, int target_pidfd,
                               pid_t target, uint64_t token,
                               absl::Time asked_at, absl::Duration patience)
    : listener_(std::move(listener)),
      target_pidfd_(target_pidfd),
      target_(target),
      token_(token),
      asked_at_(asked_at),
      patience_(patience),
      deadline_(Deadline::In(patience)) {}

absl::StatusOr<UpgradeRequest> UpgradeRequest::ListenAndSignal(
    const std::string& pidfile, int target_pidfd, pid_t target,
    absl::Duration patience) {
  // Named after the pid file and a random token that only the signal
  // carries (upgrade.h).
  struct stat st;
  if (stat(pidfile.c_str(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat("stat ", pidfile));
  }
  DAEMONKIT_ASSIGN_OR_RETURN(const uint64_t token, NewUpgradeToken());
  const std::string name = UpgradeChannelName(st.st_dev, st.st_ino, token);
  DAEMONKIT_ASSIGN_OR_RETURN(const SocketAddress address,
                             SocketAddress::UnixAbstract(name));
  UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return ErrnoError(errno, "socket");
  if (bind(listener.get(), address.get(), address.length()) != 0 ||
      listen(listener.get(), 16) != 0) {
    return ErrnoError(errno, absl::StrCat("listen on @", name));
  }
  const absl::Time asked_at = MonotonicNow();
  if (PidfdSendQueuedSignal(target_pidfd, SIGUSR2, token) != 0) {
    if (errno == ESRCH) return absl::NotFoundError("not running");
    return ErrnoError(errno, "send SIGUSR2");
  }
  // The patience runs from the signal on.
  return UpgradeRequest(std::move(listener), target_pidfd, target, token,
                        asked_at, patience);
}

absl::StatusOr<UniqueFd> UpgradeRequest::AwaitDaemonConnection() const {
  for (;;) {
    // Unanswered after a second, the signal goes again: a request sent
    // while another's SIGUSR2 was still pending was lost, and waited out
    // its patience (the model test's command rows, two upgrades a moment
    // apart). A daemon that already took this token refuses or ignores
    // the copy.
    const Deadline slice =
        Deadline::In(std::min(absl::Seconds(1), deadline_.Left()));
    if (!WaitReadable(listener_.get(), slice)) {
      if (!deadline_.Passed()) {
        // It ran when asked: what it did with the request before it ended
        // is unknown (the attack of 2026-12-07 saw "not running").
        if (AwaitExit(target_pidfd_, absl::ZeroDuration()) ||
            (PidfdSendQueuedSignal(target_pidfd_, SIGUSR2, token_) != 0 &&
             errno == ESRCH)) {
          return absl::UnknownError(absl::StrCat(
              "the daemon (pid ", target_,
              ") ended before it answered the upgrade request; check "
              "status"));
        }
        continue;
      }
      return absl::DeadlineExceededError(absl::StrCat(
          "the daemon (pid ", target_,
          ") did not answer the upgrade request "
          "within ",
          absl::FormatDuration(patience_),
          ": it may be frozen or busy, or its main loop does not call "
          "WaitUntil"));
    }
    UniqueFd connected(
        accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connected.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return ErrnoError(errno, "accept");
    }
    struct ucred peer;
    socklen_t peer_length = sizeof(peer);
    if (getsockopt(connected.get(), SOL_SOCKET, SO_PEERCRED, &peer,
                   &peer_length) == 0 &&
        peer.pid == target_) {
      return connected;
    }
    // Somebody else's connection: closed here, and the wait goes on.
  }
}

absl::StatusOr<pid_t> UpgradeRequest::ReadAnswer(int channel) const {
  std::string answer;
  bool timed_out = false;
  while (answer.find('\n') == std::string::npos) {
    if (!WaitReadable(channel, deadline_)) {
      timed_out = true;
      break;
    }
    char buffer[4096];
    const ssize_t n = read(channel, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  absl::string_view line = answer;
  line = line.substr(0, line.find('\n'));
  if (absl::ConsumePrefix(&line, "ERR ")) {
    return absl::FailedPreconditionError(line);
  }
  // Attack 3: the daemon took the request and has not answered: it may be
  // slow or frozen, and its successor may take over after this process
  // gave up. Neither failure nor success is known (kUnknown).
  if (timed_out) {
    return absl::UnknownError(
        absl::StrCat("no answer from the old daemon (pid ", target_,
                     ") within ", absl::FormatDuration(patience_),
                     "; the upgrade may still complete: check status"));
  }
  pid_t new_pid = 0;
  if (!absl::ConsumePrefix(&line, "OK ") || !absl::SimpleAtoi(line, &new_pid)) {
    return absl::UnknownError(absl::StrCat(
        "the old daemon (pid ", target_,
        ") closed the upgrade channel without an answer (did it die?); the "
        "upgrade may have completed: check status"));
  }
  return new_pid;
}

}  // namespace internal
}  // namespace daemonkit
