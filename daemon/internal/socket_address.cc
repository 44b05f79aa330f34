// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace internal {

absl::StatusOr<SocketAddress> SocketAddress::UnixPath(absl::string_view path) {
  if (path.empty() || path.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("Unix socket path '", path, "' is ",
                     path.empty() ? "empty" : "too long", " (at most ",
                     kMaxUnixPath, " bytes)"));
  }
  SocketAddress address;
  auto* un = reinterpret_cast<struct sockaddr_un*>(&address.storage_);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  // The terminating NUL is counted, as the kernel and getsockname show it.
  address.length_ = static_cast<socklen_t>(
      offsetof(struct sockaddr_un, sun_path) + path.size() + 1);
  return address;
}

absl::StatusOr<SocketAddress> SocketAddress::UnixAbstract(
    absl::string_view name) {
  if (name.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("abstract socket name '@", name, "' is too long (at most ",
                     kMaxUnixPath, " bytes)"));
  }
  SocketAddress address;
  auto* un = reinterpret_cast<struct sockaddr_un*>(&address.storage_);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path + 1, name.data(), name.size());
  address.length_ = static_cast<socklen_t>(
      offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
  return address;
}

absl::StatusOr<SocketAddress> SocketAddress::Of(const ListenAddress& listen) {
  switch (listen.family) {
    case ListenAddress::Family::kUnix:
      return listen.abstract ? UnixAbstract(listen.path)
                             : UnixPath(listen.path);
    case ListenAddress::Family::kInet: {
      SocketAddress address;
      auto* in = reinterpret_cast<struct sockaddr_in*>(&address.storage_);
      in->sin_family = AF_INET;
      in->sin_port = htons(listen.port);
      if (inet_pton(AF_INET, listen.host.c_str(), &in->sin_addr) != 1) break;
      address.length_ = sizeof(*in);
      return address;
    }
    case ListenAddress::Family::kInet6: {
      SocketAddress address;
      auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&address.storage_);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(listen.port);
      if (inet_pton(AF_INET6, listen.host.c_str(), &in6->sin6_addr) != 1) {
        break;
      }
      address.length_ = sizeof(*in6);
      return address;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", listen.host, "' is not a numeric address of its family"));
}

std::string ThroughDirectory(int dir, absl::string_view name) {
  std::string through = absl::StrCat("/proc/self/fd/", dir, "/", name);
  if (through.size() > kMaxUnixPath) through.clear();
  return through;
}

}  // namespace internal
}  // namespace daemonkit
