// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/socket_address.h
// -----------------------------------------------------------------------------
//
// The one builder of the addresses daemonkit binds and connects to: a
// `--daemon_listen` entry (IPv4, IPv6, a Unix path, an abstract name), the
// upgrade channel and the sd_notify socket a program gets (abstract names),
// a readiness probe's target. A Unix path or name that does not fit
// sockaddr_un is an error here, never cut short: a truncated name would
// bind or reach another socket than the one meant.
//
// Example:
//
//   DAEMONKIT_ASSIGN_OR_RETURN(const SocketAddress address,
//                              SocketAddress::UnixAbstract(name));
//   if (bind(fd, address.get(), address.length()) != 0) ...

#ifndef DAEMONKIT_DAEMON_INTERNAL_SOCKET_ADDRESS_H_
#define DAEMONKIT_DAEMON_INTERNAL_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/listen_address.h"

namespace daemonkit {
namespace internal {

class SocketAddress {
 public:
  // The file `path` (made of any bytes but NUL). kInvalidArgument, naming
  // the path, when it is empty or longer than kMaxUnixPath bytes.
  static absl::StatusOr<SocketAddress> UnixPath(absl::string_view path);

  // `name` in the abstract namespace (written "@name"): a leading NUL and no
  // terminating one, the length saying where the name ends.
  // kInvalidArgument when it is longer than kMaxUnixPath bytes.
  static absl::StatusOr<SocketAddress> UnixAbstract(absl::string_view name);

  // Where `address` (a parsed --daemon_listen entry) binds or connects.
  // kInvalidArgument when its host is not a numeric address of its family
  // or its path does not fit.
  static absl::StatusOr<SocketAddress> Of(const ListenAddress& address);

  // The address family (AF_INET, AF_INET6, AF_UNIX) for socket(2).
  int family() const { return storage_.ss_family; }
  const struct sockaddr* get() const {
    return reinterpret_cast<const struct sockaddr*>(&storage_);
  }
  socklen_t length() const { return length_; }

 private:
  SocketAddress() = default;

  struct sockaddr_storage storage_ = {};
  socklen_t length_ = 0;
};

// "/proc/self/fd/<dir>/<name>": the file `name` in the directory `dir`,
// reached without walking any path; empty when that would not fit a
// sockaddr_un (a name of more than some 85 bytes).
std::string ThroughDirectory(int dir, absl::string_view name);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SOCKET_ADDRESS_H_
