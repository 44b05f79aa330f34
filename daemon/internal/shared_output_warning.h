// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/shared_output_warning.h
// -----------------------------------------------------------------------------
//
// Issue 22.12: two daemons given the same --daemon_stdout (or stderr) file
// interleave their lines, and the reload of one reopens only its own
// descriptor after a rotation, so the other writes on into the rotated
// file. A shared log may be meant (one file for a group of services), so
// this warns on stderr rather than refuses.
//
// Runs in the caller of `Daemonize()`, before the first fork, after the pid
// file is won (a second start of the same daemon, "already running", is not
// warned about its own log) and before the output files are opened.
//
// Example:
//
//   if (!request.handover) WarnIfOutputIsAnotherWritersFile(options);

#ifndef DAEMONKIT_DAEMON_INTERNAL_SHARED_OUTPUT_WARNING_H_
#define DAEMONKIT_DAEMON_INTERNAL_SHARED_OUTPUT_WARNING_H_

#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// Warns on stderr, once per file, when an existing regular file that
// `options.stdout_path` or `options.stderr_path` names is open for writing
// by another live process: the first one seen is named, with its pid and
// its /proc/PID/comm made safe for a terminal. Only the processes this user
// may look at are seen; the scan is O(processes x descriptors), once per
// start. Says nothing for "inherit", a missing file, a file that is no
// regular one, a reader, this process itself, or without /proc.
void WarnIfOutputIsAnotherWritersFile(const Options& options);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SHARED_OUTPUT_WARNING_H_
