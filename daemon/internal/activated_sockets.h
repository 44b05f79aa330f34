// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/activated_sockets.h
// -----------------------------------------------------------------------------
//
// The reading end of systemd's socket activation (sd_listen_fds(3)): the
// listening sockets a service manager passed this process as descriptors
// 3, 4, ... and described in $LISTEN_PID, $LISTEN_FDS and $LISTEN_FDNAMES.
// Runs in the caller of `Daemonize()`, before the first fork, where
// `ListenSockets::Open()` takes them ahead of the `--daemon_listen` entries
// it binds (an activated name wins over the same entry).
//
// The variables are consumed: once taken they are unset, so that a program
// this process runs later does not take the same descriptors again. The
// writing end (a successor's or a program's environment) is not here.
//
// Example:
//
//   DAEMONKIT_ASSIGN_OR_RETURN(std::vector<ActivatedSocket> taken,
//                              TakeActivatedSockets());
//   for (const ActivatedSocket& socket : taken) Use(socket.name, socket.fd);

#ifndef DAEMONKIT_DAEMON_INTERNAL_ACTIVATED_SOCKETS_H_
#define DAEMONKIT_DAEMON_INTERNAL_ACTIVATED_SOCKETS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace daemonkit {
namespace internal {

// The first descriptor systemd passes (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

// One socket the service manager passed: its descriptor (close-on-exec once
// taken) and its name from $LISTEN_FDNAMES.
struct ActivatedSocket {
  int fd = -1;
  std::string name;
};

// TakeActivatedSockets()
//
// systemd's socket activation (sd_listen_fds_with_names(3)): when
// $LISTEN_PID is this process's pid, descriptors 3 to 3+$LISTEN_FDS-1, named
// by the colon list $LISTEN_FDNAMES ("unknown" where a name is missing or
// empty). Each must be a socket; each is made close-on-exec; the three
// variables are unset. Without them, or when $LISTEN_PID names another
// process, returns none and leaves the environment alone. A malformed value
// or a descriptor that is not a socket: kFailedPrecondition naming it (the
// variables are then left set). The descriptors stay the caller's: nothing
// here closes them.
absl::StatusOr<std::vector<ActivatedSocket>> TakeActivatedSockets();

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_ACTIVATED_SOCKETS_H_
