// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/program_ready_mode.h
// -----------------------------------------------------------------------------
//
// The words of the `daemonkit` command that say when a program is ready
// (--ready=, --ready_command) and which signals stop and reload it
// (--stop_signal, --reload_signal): parsed and judged here, in the process
// that reads the command line, before anything starts. Program::Start
// (program.h) acts on the ReadyMode.
//
//   absl::StatusOr<ReadyMode> ready = ParseReadyMode("fd:3");
//   if (!ready.ok()) return ready.status();  // a usage error, field "ready"
//   DAEMONKIT_RETURN_IF_ERROR(CheckReadyFdIsFree(*ready, sockets.size()));

#ifndef DAEMONKIT_DAEMON_INTERNAL_PROGRAM_READY_MODE_H_
#define DAEMONKIT_DAEMON_INTERNAL_PROGRAM_READY_MODE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/listen_address.h"

namespace daemonkit {
namespace internal {

// What --ready= asks for.
struct ReadyMode {
  enum class Kind {
    kStarted,  // the exec succeeded
    kNotify,   // READY=1 on the program's own $NOTIFY_SOCKET
    kFd,       // a newline on descriptor `fd` (s6's notification-fd)
    kConnect,  // a connection to `address` succeeds (polled)
    kCommand,  // `command`, run by /bin/sh -c, exits 0 (polled)
  };
  Kind kind = Kind::kStarted;
  int fd = -1;  // kFd: the program's descriptor number, 3 or more
  // kConnect: where to connect, as a --daemon_listen address is written
  // (numeric host, or "localhost"; a relative Unix path made absolute).
  ListenAddress address;
  std::string command;  // kCommand: --ready_command
  // kNotify: the monitor's own --daemon_watchdog (0: off). The program gets
  // WATCHDOG_USEC (the shorter of this and an outer manager's) and
  // WATCHDOG_PID, and its WATCHDOG=1 is its progress.
  absl::Duration watchdog = absl::ZeroDuration();
};

// Parses "started", "notify", "fd:N" (N from 3: 0 to 2 are the program's
// standard streams), "connect:tcp:HOST:PORT", "connect:tcp:[V6]:PORT",
// "connect:unix:PATH", "connect:unix:@NAME" or "command" (with
// `ready_command`, which must then not be empty). A usage error (field
// "ready") otherwise: "unknown --ready mode" with the modes listed.
absl::StatusOr<ReadyMode> ParseReadyMode(absl::string_view text,
                                         absl::string_view ready_command = "");

// OK unless `ready` is fd:N with N among the descriptors that `socket_count`
// activated sockets take (3 to 2 + socket_count, as sd_listen_fds() finds
// them): a usage error (field "ready") naming them.
absl::Status CheckReadyFdIsFree(const ReadyMode& ready, size_t socket_count);

// OK unless `ready` is connect:ADDRESS to one of the `listen` sockets
// (--daemon_listen entries): daemonkit binds those itself, so a connection
// succeeds before the program runs. A usage error (field "ready") naming
// the entry then.
absl::Status CheckReadyIsNotAListenSocket(
    const ReadyMode& ready, const std::vector<std::string>& listen);

// How often the polled modes try: a connection attempt, or a new run of
// the command once the last one failed.
inline constexpr absl::Duration kReadyPollInterval = absl::Milliseconds(50);

// Parses a signal as --stop_signal and --reload_signal take it: "TERM",
// "SIGTERM" or "15". A usage error (field `flag`) otherwise.
absl::StatusOr<int> ParseSignal(absl::string_view flag, absl::string_view text);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PROGRAM_READY_MODE_H_
