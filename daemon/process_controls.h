// Copyright 2026 The daemonkit Authors.
//
// File: daemon/process_controls.h
// -----------------------------------------------------------------------------
//
// Service-manager controls (issue 15): the rules about their `Options`
// values, kept beside `ValidateOptions()` (daemon/options.cc), which calls
// them. Pure. Part of //daemon:options; not a public interface.

#ifndef DAEMONKIT_DAEMON_PROCESS_CONTROLS_H_
#define DAEMONKIT_DAEMON_PROCESS_CONTROLS_H_

#include "absl/status/status.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// The usage error (UsageError(), naming the field) for a bad `rlimits`,
// `nice`, `oom_score_adj`, `capabilities` or `ready_fd`; OK otherwise.
absl::Status ValidateProcessControls(const Options& options);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_PROCESS_CONTROLS_H_
