// Copyright 2026 The daemonkit Authors.
//
// Run by the daemon (and its supervisor and worker) and by the path keeper:
// the protocol between them (keeper_protocol.h).

#include "daemon/internal/keeper_protocol.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

KeeperRequest MakeKeeperRequest(uint8_t op, uint8_t index, pid_t pid) {
  return KeeperRequest{kKeeperMagic, op, index, {0, 0}, pid};
}

std::optional<KeeperRequest> DecodeKeeperRequest(absl::string_view bytes) {
  KeeperRequest request;
  if (bytes.size() != sizeof(request)) return std::nullopt;
  std::memcpy(&request, bytes.data(), sizeof(request));
  if (request.magic != kKeeperMagic) return std::nullopt;
  return request;
}

std::string EncodeKeeperReply(const absl::Status& status, bool removed) {
  std::string message(1, static_cast<char>(status.code()));
  message.push_back(removed ? 1 : 0);
  absl::string_view text = status.message().substr(0, kMaxKeeperReply - 2);
  message.append(text.data(), text.size());
  return message;
}

std::optional<KeeperReply> DecodeKeeperReply(absl::string_view bytes) {
  if (bytes.size() < 2) return std::nullopt;
  KeeperReply reply;
  const auto code = static_cast<absl::StatusCode>(bytes[0]);
  if (code != absl::StatusCode::kOk) {
    reply.status = absl::Status(code, bytes.substr(2));
  }
  reply.removed = bytes[1] != 0;
  return reply;
}

absl::Status SendKeeperMessage(int socket, absl::string_view data, int fd,
                               int flags) {
  return SendWithDescriptor(socket, data, fd, "the path keeper", flags);
}

absl::StatusOr<size_t> ReceiveKeeperMessage(int socket, void* data, size_t size,
                                            int* fd, bool* extra,
                                            pid_t* sender) {
  *fd = -1;
  *extra = false;
  if (sender != nullptr) *sender = 0;
  struct iovec iov = {data, size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char
      control[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
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
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_CREDENTIALS &&
        sender != nullptr && cmsg->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
      struct ucred credentials;
      std::memcpy(&credentials, CMSG_DATA(cmsg), sizeof(credentials));
      *sender = credentials.pid;
      continue;
    }
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
        UniqueFd unwanted(received);  // closed here: one descriptor per message
        *extra = true;
      }
    }
  }
  return static_cast<size_t>(n);
}

}  // namespace internal
}  // namespace daemonkit
