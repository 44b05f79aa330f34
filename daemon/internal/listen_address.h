// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/listen_address.h
// -----------------------------------------------------------------------------
//
// The text form of one `--daemon_listen` entry (`Options::listen`),
// `NAME=ADDRESS`, and what it means. Pure: parsing touches nothing, so
// `ValidateOptions()` judges the entries with it before anything is bound.
//
//   echo=tcp:127.0.0.1:7000    IPv4, numeric (0.0.0.0: every address)
//   echo=tcp:[::1]:7000        IPv6, numeric, in brackets ([::]: every one)
//   admin=unix:/run/x.sock     a Unix socket file (relative: from the cwd)
//   admin=unix:@x              a Unix socket in the abstract namespace
//
// A name is what systemd's FileDescriptorName= allows and more strictly:
// 1 to 255 of [A-Za-z0-9_.-]. Host names are not resolved (a start must not
// depend on DNS): write the address.

#ifndef DAEMONKIT_DAEMON_INTERNAL_LISTEN_ADDRESS_H_
#define DAEMONKIT_DAEMON_INTERNAL_LISTEN_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// The longest Unix socket path (or abstract name) sockaddr_un holds, without
// the terminating NUL (or the abstract namespace's leading NUL).
inline constexpr size_t kMaxUnixPath = 107;

struct ListenAddress {
  enum class Family { kInet, kInet6, kUnix };
  Family family = Family::kInet;
  std::string host;  // kInet/kInet6: the numeric address, no brackets
  uint16_t port = 0;
  std::string path;  // kUnix: the path, or the abstract name without '@'
  bool abstract = false;
  std::string text;  // as written after "NAME="
};

struct ListenEntry {
  std::string name;
  ListenAddress address;
};

// Parses "NAME=ADDRESS". kInvalidArgument naming the entry and what is wrong
// with it: no '=', a bad name, an unknown scheme, a host that is not a
// numeric address, a port outside 1-65535, an empty or too long path.
absl::StatusOr<ListenEntry> ParseListenEntry(absl::string_view entry);

// True for a name a socket may have (see the top of this file).
bool IsValidListenName(absl::string_view name);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_LISTEN_ADDRESS_H_
