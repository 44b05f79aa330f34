// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/errors.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace internal {

absl::Status ErrnoError(int errno_value, absl::string_view what) {
  absl::StatusCode code = absl::ErrnoToStatusCode(errno_value);
  // ELOOP is what O_NOFOLLOW answers for a symlink: a state to fix, not a
  // malformed request.
  if (errno_value == ELOOP) code = absl::StatusCode::kFailedPrecondition;
  return absl::Status(code,
                      absl::StrCat(what, ": ", std::strerror(errno_value)));
}

}  // namespace internal
}  // namespace daemonkit
