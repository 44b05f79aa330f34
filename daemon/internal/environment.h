// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/environment.h
// -----------------------------------------------------------------------------
//
// A daemon's environment should be what it was configured with, not what the
// operator's shell happened to hold (tokens, proxies, LD_PRELOAD).

#ifndef DAEMONKIT_DAEMON_INTERNAL_ENVIRONMENT_H_
#define DAEMONKIT_DAEMON_INTERNAL_ENVIRONMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// The variables a supervisor hands the daemon, always kept: sd_notify,
// socket activation, the watchdog and the fd store (an upgrade's successor
// reads them again).
inline constexpr absl::string_view kSupervisorVariables[] = {
    "NOTIFY_SOCKET", "LISTEN_FDS",   "LISTEN_PID", "LISTEN_FDNAMES",
    "WATCHDOG_USEC", "WATCHDOG_PID", "FDSTORE"};

// The --daemon_keep_env list syntax is public (options.h); the fuzzer and
// this module's tests reach it here too.
using ::daemonkit::ParseVariableList;

// Removes every environment variable but `keep` and kSupervisorVariables,
// from libc's environment and from the block the process started with (which
// /proc/PID/environ shows), so a removed secret is gone from memory too.
// What stays is exactly one NAME=value per kept name, the one getenv()
// answered (the first): no second copy, no entry without '=' or with an
// empty name. Kept strings do not move (getenv() pointers stay valid).
// Errors: when libc cannot allocate the new array, and when the block's
// bounds cannot be read from /proc/self/stat (no /proc, as inside a chroot:
// call it before chroot(2)), rather than leave the removed values there.
absl::Status KeepOnlyVariables(const std::vector<std::string>& keep);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_ENVIRONMENT_H_
