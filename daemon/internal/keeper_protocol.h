// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/keeper_protocol.h
// -----------------------------------------------------------------------------
//
// The path keeper's wire protocol (path_keeper.h): the one codec both ends
// use, so that what the daemon sends and what the keeper accepts cannot
// drift apart.
//
// Two processes run this code. The daemon, or its supervisor (and a worker,
// which holds the daemon's end too), encodes requests and decodes replies in
// path_keeper_client.cc; the keeper process decodes requests and encodes
// replies in path_keeper.cc. Start's two notes travel on the same socket,
// from the keeper's intermediate process and from the keeper itself.
//
// On the SOCK_SEQPACKET socket, a request is one KeeperRequest record and
// exactly one descriptor: the socket to reply on, so that a supervisor and
// its worker never read each other's replies. The kernel attaches the
// sender's credentials (SO_PASSCRED), which is how the keeper knows who
// asks. A reply is one message: the status code, whether a file was
// removed, the error text; and, for a successful OpenOutput, the opened
// descriptor.
//
// Example (the daemon's side; path_keeper_client.cc):
//
//   const KeeperRequest request = MakeKeeperRequest(kKeeperOpenOutput, 0, 0);
//   SendKeeperMessage(keeper, AsBytes(request), reply_socket);
//   ...
//   absl::StatusOr<size_t> n = ReceiveKeeperMessage(reply_socket, buffer,
//                                                   sizeof(buffer), &fd,
//                                                   &extra);
//   std::optional<KeeperReply> reply =
//       DecodeKeeperReply(absl::string_view(buffer, *n));

#ifndef DAEMONKIT_DAEMON_INTERNAL_KEEPER_PROTOCOL_H_
#define DAEMONKIT_DAEMON_INTERNAL_KEEPER_PROTOCOL_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// The first field of every request ("keep"): a message from anything that
// is not a daemonkit client is malformed, and ends the keeper's serving.
inline constexpr uint32_t kKeeperMagic = 0x6b656570;

// What a request asks (KeeperRequest::op).
enum KeeperOp : uint8_t {
  kKeeperOpenOutput = 1,
  kKeeperRemovePidFile = 2,
  kKeeperRemoveSocket = 3,
  kKeeperNameWorker = 4,
};

// A request, as it travels (host byte order: both ends are one machine).
// `index` names the output, pid file (KeeperPidFileId) or socket file;
// `pid` the worker of a kKeeperNameWorker.
struct KeeperRequest {
  uint32_t magic;
  uint8_t op;
  uint8_t index;
  uint8_t padding[2];
  int32_t pid;
};

// A request with the magic and zero padding.
KeeperRequest MakeKeeperRequest(uint8_t op, uint8_t index, pid_t pid);

// The request's bytes, to send.
inline absl::string_view AsBytes(const KeeperRequest& request) {
  return absl::string_view(reinterpret_cast<const char*>(&request),
                           sizeof(request));
}

// The request in `bytes`, or nullopt unless they are exactly one record
// that starts with kKeeperMagic. Whether the keeper has the op and the
// index asked for is the keeper's to judge (path_keeper.cc).
std::optional<KeeperRequest> DecodeKeeperRequest(absl::string_view bytes);

// The largest reply: the code, the removed flag and at most
// kMaxKeeperReply - 2 bytes of the error's text (longer ones are cut).
inline constexpr size_t kMaxKeeperReply = 512;

// A decoded reply. `removed`: for RemovePidFile and RemoveSocketFile,
// whether the keeper unlinked (or, for the pid file whose lock it holds,
// will unlink) the file.
struct KeeperReply {
  absl::Status status;
  bool removed = false;
};

// The bytes of a reply carrying `status` and `removed`.
std::string EncodeKeeperReply(const absl::Status& status, bool removed);

// The reply in `bytes`; nullopt when they are too short to be one (fewer
// than the code and the flag: a keeper gone mid-answer). An OK reply's text
// is ignored.
std::optional<KeeperReply> DecodeKeeperReply(absl::string_view bytes);

// The two notes the daemon waits for in PathKeeperClient::Start, one byte
// each: the intermediate process's, with the keeper's pidfd attached, and
// the keeper's own, once it holds nothing but what it keeps. They may
// arrive in either order.
inline constexpr char kKeeperPidfdNote = 'k';
inline constexpr char kKeeperServingNote = 's';

// Sends `data` as one message on `socket` with descriptor `fd` attached
// when `fd` >= 0. `flags`: MSG_DONTWAIT for the keeper's replies, which
// must never block it (a requester may hand over a reply socket whose peer
// never reads). Errors name "the path keeper".
absl::Status SendKeeperMessage(int socket, absl::string_view data, int fd,
                               int flags = 0);

// Receives one message of at most `size` bytes and at most one descriptor
// (close-on-exec). Returns the size (0 at end-of-file); `fd` is -1 when
// none came; `extra` is set when more than one descriptor (the others are
// closed), another kind of control message, or a truncated message came.
// `sender`, when given, receives the sending process's pid from
// SCM_CREDENTIALS (0 when none came). EINTR is retried.
absl::StatusOr<size_t> ReceiveKeeperMessage(int socket, void* data, size_t size,
                                            int* fd, bool* extra,
                                            pid_t* sender = nullptr);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_KEEPER_PROTOCOL_H_
