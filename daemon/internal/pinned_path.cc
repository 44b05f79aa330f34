// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pinned_path.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace internal {

absl::StatusOr<PinnedPath> PinnedPath::Pin(const std::string& path,
                                           absl::string_view what) {
  if (path.empty() || path[0] != '/' || path.back() == '/') {
    // The caller resolves paths first (a bug otherwise). kInvalidArgument
    // no longer means "exit 2": only a usage error does (options.h).
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not an absolute file path"));
  }
  PinnedPath pinned;
  pinned.path_ = path;
  return pinned;
}

int PinnedPath::Lstat(struct stat* st) const {
  return lstat(path_.c_str(), st);
}

int PinnedPath::Unlink() const { return unlink(path_.c_str()); }

}  // namespace internal
}  // namespace daemonkit
