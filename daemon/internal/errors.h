// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/errors.h
// -----------------------------------------------------------------------------
//
// The few absl::Status helpers daemonkit needs and Abseil 20220623 lacks:
// errno-carrying errors that name what failed, and early-return macros.

#ifndef DAEMONKIT_DAEMON_INTERNAL_ERRORS_H_
#define DAEMONKIT_DAEMON_INTERNAL_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// Returns an error whose code follows `errno_value` (ENOENT: kNotFound,
// EACCES/EPERM: kPermissionDenied, ...) and whose message is
// "<what>: <strerror>", for example "open /run/x.pid: Permission denied".
absl::Status ErrnoError(int errno_value, absl::string_view what);

}  // namespace internal
}  // namespace daemonkit

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define DAEMONKIT_RETURN_IF_ERROR(expr)                    \
  do {                                                     \
    ::absl::Status daemonkit_status_ = (expr);             \
    if (!daemonkit_status_.ok()) return daemonkit_status_; \
  } while (false)

#define DAEMONKIT_CONCAT_INNER_(a, b) a##b
#define DAEMONKIT_CONCAT_(a, b) DAEMONKIT_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration: DAEMONKIT_ASSIGN_OR_RETURN(PidFile file, PidFile::Acquire(p));
#define DAEMONKIT_ASSIGN_OR_RETURN(lhs, rexpr) \
  DAEMONKIT_ASSIGN_OR_RETURN_IMPL_(            \
      DAEMONKIT_CONCAT_(daemonkit_statusor_, __LINE__), lhs, rexpr)
#define DAEMONKIT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                     \
  if (!statusor.ok()) return std::move(statusor).status();     \
  lhs = std::move(statusor).value()

#endif  // DAEMONKIT_DAEMON_INTERNAL_ERRORS_H_
