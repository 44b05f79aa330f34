// Copyright 2026 The daemonkit Authors.
//
// Two processes run code of this file: the daemon (PathKeeperClient, which
// asks) and the keeper (ServePathKeeper and what Start runs after its forks,
// which answers).

#include "daemon/internal/path_keeper.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/signals.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {
namespace {

// The request: a fixed-size record and exactly one descriptor, the socket
// to reply on. Anything else is malformed and ends the keeper.
constexpr uint32_t kMagic = 0x6b656570;  // "keep"
enum Op : uint8_t { kOpenOutput = 1, kRemovePidFile = 2, kRemoveSocket = 3 };
struct Request {
  uint32_t magic;
  uint8_t op;
  uint8_t index;
  uint8_t padding[2];
};

// The reply: the status code, whether the pid file was removed, the error
// message; a descriptor attached to a successful OpenOutput.
constexpr size_t kMaxReply = 512;
// How long the daemon waits for an answer: the keeper only opens or unlinks
// a file, but that file may sit on a stalled network filesystem.
constexpr int kReplyTimeoutMs = 10000;

absl::Status SendWithFd(int socket, const void* data, size_t size, int fd) {
  struct iovec iov = {const_cast<void*>(data), size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, "send to the path keeper");
  return absl::OkStatus();
}

// Receives one message and at most one descriptor. Returns the size (0 at
// end-of-file); `fd` is -1 when none came; `extra` is set when more than one
// descriptor (or a truncated message) came.
absl::StatusOr<size_t> ReceiveWithFd(int socket, void* data, size_t size,
                                     int* fd, bool* extra) {
  *fd = -1;
  *extra = false;
  struct iovec iov = {data, size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, "receive from the path keeper");
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *extra = true;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
      *extra = true;
      continue;
    }
    const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      if (*fd < 0) {
        *fd = received;
      } else {
        close(received);
        *extra = true;
      }
    }
  }
  return static_cast<size_t>(n);
}

void Reply(int reply_fd, const absl::Status& status, bool removed, int fd) {
  std::string message(1, static_cast<char>(status.code()));
  message.push_back(removed ? 1 : 0);
  absl::string_view text = status.message().substr(0, kMaxReply - 2);
  message.append(text.data(), text.size());
  (void)SendWithFd(reply_fd, message.data(), message.size(), fd);
}

// The pid file a RemovePidFile request names, if the keeper was given it.
const std::optional<KeeperPidFile>& TargetPidFile(const KeeperTargets& targets,
                                                  KeeperPidFileId id) {
  return id == KeeperPidFileId::kWorker ? targets.worker_pidfile
                                        : targets.pidfile;
}

// Answers one well-formed request on its reply socket.
void Serve(const Request& request, int reply_fd, const KeeperTargets& targets) {
  if (request.op == kOpenOutput) {
    const KeeperOutput& output = targets.outputs[request.index];
    absl::StatusOr<OpenedFile> opened = SafeOpen(output.path, output.policy);
    if (!opened.ok()) {
      Reply(reply_fd, opened.status(), false, -1);
      return;
    }
    Reply(reply_fd, absl::OkStatus(), false, opened->fd);
    close(opened->fd);
    return;
  }
  const KeeperPidFile& pidfile =
      request.op == kRemoveSocket
          ? targets.sockets[request.index]
          : *TargetPidFile(targets,
                           static_cast<KeeperPidFileId>(request.index));
  absl::StatusOr<bool> removed =
      UnlinkIfSame(pidfile.path, pidfile.dev, pidfile.ino);
  Reply(reply_fd, removed.status(), removed.ok() && *removed, -1);
}

bool IsSocket(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

// The keeper process, after the double fork: sheds everything the daemon
// had but the socket and the daemon's pidfd, then serves. Never returns.
[[noreturn]] void RunKeeper(int fd, int daemon_pidfd,
                            const KeeperTargets& targets) {
  // Terminal signals (Ctrl-C on a foreground daemon) go to the foreground
  // process group: the keeper must outlive them to remove the pid file.
  (void)setpgid(0, 0);
  (void)ResetSignals();
  // Nothing here may keep a filesystem busy, nor a directory reachable.
  if (chdir("/") != 0) _exit(kExitFailure);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) _exit(kExitFailure);
  for (int target = 0; target <= 2; ++target) {
    if (!Redirect(null_fd, target).ok()) _exit(kExitFailure);
  }
  const int keep[] = {fd, daemon_pidfd};
  if (!CloseInheritedDescriptors(keep).ok()) _exit(kExitFailure);
  _exit(ServePathKeeper(fd, daemon_pidfd, targets));
}

}  // namespace

int ServePathKeeper(int fd, int daemon_pidfd, const KeeperTargets& targets) {
  for (;;) {
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {daemon_pidfd, POLLIN, 0}};
    const int count = daemon_pidfd >= 0 ? 2 : 1;
    if (poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    // The daemon is gone: whatever still holds its end (a child it forked)
    // has no business with its files.
    if (count == 2 && (fds[1].revents & POLLIN)) return 0;
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;

    Request request;
    int reply_fd;
    bool extra;
    absl::StatusOr<size_t> n =
        ReceiveWithFd(fd, &request, sizeof(request), &reply_fd, &extra);
    if (!n.ok()) return 1;
    if (*n == 0 && reply_fd < 0 && !extra) return 0;  // end-of-file
    const bool well_formed =
        *n == sizeof(request) && !extra && reply_fd >= 0 &&
        IsSocket(reply_fd) && request.magic == kMagic &&
        ((request.op == kOpenOutput &&
          request.index < targets.outputs.size()) ||
         (request.op == kRemovePidFile && request.index <= 1 &&
          TargetPidFile(targets, static_cast<KeeperPidFileId>(request.index))
              .has_value()) ||
         (request.op == kRemoveSocket &&
          request.index < targets.sockets.size()));
    if (!well_formed) {
      if (reply_fd >= 0) close(reply_fd);
      return 1;
    }
    Serve(request, reply_fd, targets);
    close(reply_fd);
  }
}

absl::StatusOr<std::shared_ptr<PathKeeperClient>> PathKeeperClient::Start(
    const KeeperTargets& targets) {
  if (targets.outputs.size() > 255 || targets.sockets.size() > 255) {
    return absl::InvalidArgumentError("too many output files for the keeper");
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoError(errno, "socketpair for the path keeper");
  }
  // Opened here, inherited by the keeper: the daemon cannot be gone (and its
  // pid reused) before the keeper holds it.
  const int daemon_pidfd = PidfdOpen(getpid());
  if (daemon_pidfd < 0) {
    const int saved = errno;
    close(sv[0]);
    close(sv[1]);
    return ErrnoError(saved, "pidfd_open of the daemon for the path keeper");
  }
  const pid_t middle = fork();
  if (middle < 0) {
    const int saved = errno;
    close(sv[0]);
    close(sv[1]);
    close(daemon_pidfd);
    return ErrnoError(saved, "fork the path keeper");
  }
  if (middle == 0) {
    close(sv[0]);
    const pid_t keeper = fork();
    if (keeper != 0) _exit(keeper < 0 ? 1 : 0);
    RunKeeper(sv[1], daemon_pidfd, targets);
  }
  close(sv[1]);
  close(daemon_pidfd);
  int wait_status;
  pid_t reaped;
  do {
    reaped = waitpid(middle, &wait_status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped < 0 || !WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    close(sv[0]);
    return absl::InternalError("could not fork the path keeper");
  }
  return std::make_shared<PathKeeperClient>(sv[0]);
}

PathKeeperClient::~PathKeeperClient() {
  if (fd_ >= 0) close(fd_);
}

absl::Status PathKeeperClient::Ask(uint8_t op, uint8_t index, int* fd) {
  *fd = -1;
  if (fd_ < 0) return absl::UnavailableError("no path keeper");
  int reply[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, reply) != 0) {
    return ErrnoError(errno, "socketpair for a path keeper reply");
  }
  Request request = {kMagic, op, index, {0, 0}};
  absl::Status sent = SendWithFd(fd_, &request, sizeof(request), reply[1]);
  close(reply[1]);
  if (!sent.ok()) {
    close(reply[0]);
    return sent;
  }
  struct pollfd pfd = {reply[0], POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, kReplyTimeoutMs);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    close(reply[0]);
    return absl::DeadlineExceededError("the path keeper did not answer");
  }
  char buffer[kMaxReply];
  bool extra;
  absl::StatusOr<size_t> n =
      ReceiveWithFd(reply[0], buffer, sizeof(buffer), fd, &extra);
  close(reply[0]);
  if (!n.ok() || *n < 2 || extra) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    if (!n.ok()) return n.status();
    return absl::UnavailableError("the path keeper is gone");
  }
  const auto code = static_cast<absl::StatusCode>(buffer[0]);
  if (code != absl::StatusCode::kOk) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
    return absl::Status(code, absl::string_view(buffer + 2, *n - 2));
  }
  if (buffer[1] != 0) *fd = -2;  // removed, for RemovePidFile
  return absl::OkStatus();
}

absl::StatusOr<int> PathKeeperClient::OpenOutput(size_t index) {
  if (index > 255) return absl::InvalidArgumentError("no such output");
  int fd;
  DAEMONKIT_RETURN_IF_ERROR(Ask(kOpenOutput, static_cast<uint8_t>(index), &fd));
  if (fd < 0) return absl::InternalError("the path keeper sent no descriptor");
  return fd;
}

absl::StatusOr<bool> PathKeeperClient::RemovePidFile(KeeperPidFileId id) {
  int removed;
  DAEMONKIT_RETURN_IF_ERROR(
      Ask(kRemovePidFile, static_cast<uint8_t>(id), &removed));
  return removed == -2;
}

absl::StatusOr<bool> PathKeeperClient::RemoveSocketFile(size_t index) {
  if (index > 255) return absl::InvalidArgumentError("no such socket file");
  int removed;
  DAEMONKIT_RETURN_IF_ERROR(
      Ask(kRemoveSocket, static_cast<uint8_t>(index), &removed));
  return removed == -2;
}

}  // namespace internal
}  // namespace daemonkit
