// Copyright 2026 The daemonkit Authors.
//
// The daemon's side of the path keeper (path_keeper.h), run by the daemon,
// its supervisor and a worker (which holds the daemon's end too): Start,
// which forks the keeper and waits until it serves, and the requests. The
// keeper process itself is path_keeper.cc; the bytes between them are
// keeper_protocol.h's.

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/keeper_protocol.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"

namespace daemonkit {
namespace internal {
namespace {

// How long the daemon waits for an answer: the keeper only opens or unlinks
// a file, but that file may sit on a stalled network filesystem, or the
// keeper may be stopped (SIGSTOP, a debugger, a frozen cgroup). The daemon
// handles no signal meanwhile, so this stays well below the default stop
// timeout (10 s): a stop that comes during a reload still ends it cleanly.
constexpr int kReplyTimeoutMs = 3000;

// How long Start waits for both of the keeper's start notes
// (keeper_protocol.h): two forks and a close_range, so this is
// only reached by a keeper that was stopped or starved (a sanitizer build on
// a loaded machine takes milliseconds); the start then fails, whole.
constexpr int kKeeperStartTimeoutMs = 30000;

// In the daemon: waits for the two notes of a keeper's start (the keeper's
// pidfd from the intermediate process, then the keeper's word that it
// serves) and returns that pidfd. Once this returns, the keeper holds only
// the descriptors it keeps.
absl::StatusOr<int> AwaitKeeperServing(int socket) {
  UniqueFd keeper_pidfd;
  bool serving = false;
  const Deadline deadline =
      Deadline::In(absl::Milliseconds(kKeeperStartTimeoutMs));
  while (!keeper_pidfd.valid() || !serving) {
    struct pollfd pfd = {socket, POLLIN, 0};
    const int ready = poll(&pfd, 1, deadline.PollTimeoutMs());
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      return ready == 0
                 ? absl::DeadlineExceededError("the path keeper did not start")
                 : ErrnoError(errno, "wait for the path keeper");
    }
    char note = 0;
    int fd;
    bool extra;
    absl::StatusOr<size_t> n =
        ReceiveKeeperMessage(socket, &note, 1, &fd, &extra);
    UniqueFd received(fd);
    const bool pidfd_note = n.ok() && *n == 1 && note == kKeeperPidfdNote &&
                            received.valid() && !keeper_pidfd.valid() && !extra;
    const bool serving_note = n.ok() && *n == 1 && note == kKeeperServingNote &&
                              !received.valid() && !serving && !extra;
    if (pidfd_note) {
      keeper_pidfd = std::move(received);
    } else if (serving_note) {
      serving = true;
    } else {
      return absl::InternalError(n.ok() && *n == 0
                                     ? "the path keeper exited before it served"
                                     : "the path keeper sent no pidfd");
    }
  }
  return keeper_pidfd.release();
}

}  // namespace

absl::StatusOr<std::shared_ptr<PathKeeperClient>> PathKeeperClient::Start(
    const KeeperTargets& targets) {
  if (targets.outputs.size() > 255 || targets.sockets.size() > 255) {
    return absl::InvalidArgumentError("too many output files for the keeper");
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoError(errno, "socketpair for the path keeper");
  }
  UniqueFd daemon_end(sv[0]);
  UniqueFd keeper_end(sv[1]);
  // Every request then carries its sender's pid, vouched for by the kernel.
  const int on = 1;
  if (setsockopt(keeper_end.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) !=
      0) {
    return ErrnoError(errno, "SO_PASSCRED for the path keeper");
  }
  // Opened here, inherited by the keeper: the daemon cannot be gone (and its
  // pid reused) before the keeper holds it.
  UniqueFd daemon_pidfd(PidfdOpen(getpid()));
  if (!daemon_pidfd.valid()) {
    return ErrnoError(errno, "pidfd_open of the daemon for the path keeper");
  }
  const pid_t middle = fork();
  if (middle < 0) return ErrnoError(errno, "fork the path keeper");
  if (middle == 0) {
    daemon_end.reset();
    RunKeeperIntermediateProcess(keeper_end.get(), daemon_pidfd.get(), targets);
  }
  keeper_end.reset();
  daemon_pidfd.reset();
  int wait_status = 0;
  if (!ReapChild(middle, &wait_status) || !WIFEXITED(wait_status) ||
      WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError("could not fork the path keeper");
  }
  absl::StatusOr<int> keeper_pidfd = AwaitKeeperServing(daemon_end.get());
  if (!keeper_pidfd.ok()) return keeper_pidfd.status();
  auto client = std::make_shared<PathKeeperClient>(daemon_end.release());
  client->keeper_pidfd_ = *keeper_pidfd;
  return client;
}

PathKeeperClient::~PathKeeperClient() {
  if (fd_ >= 0) close(fd_);
  if (keeper_pidfd_ >= 0) close(keeper_pidfd_);
}

bool PathKeeperClient::Exited() const {
  return keeper_pidfd_ >= 0 && AwaitExit(keeper_pidfd_, absl::ZeroDuration());
}

absl::Status PathKeeperClient::Ask(uint8_t op, uint8_t index, int* fd,
                                   pid_t pid) {
  *fd = -1;
  if (fd_ < 0) return absl::UnavailableError("no path keeper");
  int reply[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, reply) != 0) {
    return ErrnoError(errno, "socketpair for a path keeper reply");
  }
  UniqueFd reply_socket(reply[0]);
  UniqueFd reply_write(reply[1]);
  const KeeperRequest request = MakeKeeperRequest(op, index, pid);
  absl::Status sent =
      SendKeeperMessage(fd_, AsBytes(request), reply_write.get());
  // Only the keeper may hold the writing end: if it goes, the read below
  // sees end-of-file rather than waiting out the timeout.
  reply_write.reset();
  if (!sent.ok()) return sent;
  struct pollfd pfd = {reply_socket.get(), POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, kReplyTimeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return absl::DeadlineExceededError("the path keeper did not answer");
  }
  char buffer[kMaxKeeperReply];
  bool extra;
  absl::StatusOr<size_t> n = ReceiveKeeperMessage(reply_socket.get(), buffer,
                                                  sizeof(buffer), fd, &extra);
  reply_socket.reset();
  std::optional<KeeperReply> reply_read;
  if (n.ok() && !extra) {
    reply_read = DecodeKeeperReply(absl::string_view(buffer, *n));
  }
  if (!reply_read) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    if (!n.ok()) return n.status();
    return absl::UnavailableError("the path keeper is gone");
  }
  if (!reply_read->status.ok()) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return reply_read->status;
  }
  if (reply_read->removed) *fd = -2;  // removed, for RemovePidFile
  return absl::OkStatus();
}

absl::StatusOr<int> PathKeeperClient::OpenOutput(size_t index) {
  if (index > 255) return absl::InvalidArgumentError("no such output");
  int fd;
  DAEMONKIT_RETURN_IF_ERROR(
      Ask(kKeeperOpenOutput, static_cast<uint8_t>(index), &fd));
  if (fd < 0) return absl::InternalError("the path keeper sent no descriptor");
  return fd;
}

absl::Status PathKeeperClient::NameWorker(pid_t worker) {
  int unused;
  return Ask(kKeeperNameWorker, 0, &unused, worker);
}

absl::StatusOr<bool> PathKeeperClient::RemovePidFile(KeeperPidFileId id) {
  int removed;
  DAEMONKIT_RETURN_IF_ERROR(
      Ask(kKeeperRemovePidFile, static_cast<uint8_t>(id), &removed));
  return removed == -2;
}

absl::StatusOr<bool> PathKeeperClient::RemoveSocketFile(size_t index) {
  if (index > 255) return absl::InvalidArgumentError("no such socket file");
  int removed;
  DAEMONKIT_RETURN_IF_ERROR(
      Ask(kKeeperRemoveSocket, static_cast<uint8_t>(index), &removed));
  return removed == -2;
}

}  // namespace internal
}  // namespace daemonkit
