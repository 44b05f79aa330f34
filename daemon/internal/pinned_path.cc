// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pinned_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"

namespace daemonkit {
namespace internal {

absl::StatusOr<PinnedPath> PinnedPath::Pin(const std::string& path,
                                           absl::string_view what) {
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == path.size() - 1) {
    return absl::InternalError(
        absl::StrCat(what, " ", path, " is not an absolute file path"));
  }
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  PinnedPath pinned;
  pinned.path_ = path;
  pinned.name_ = path.substr(slash + 1);
  pinned.dir_fd_ = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (pinned.dir_fd_ < 0) {
    return ErrnoError(errno,
                      absl::StrCat(what, " ", path, ": directory ", dir));
  }
  return pinned;
}

PinnedPath::PinnedPath(PinnedPath&& other) noexcept
    : path_(std::move(other.path_)),
      name_(std::move(other.name_)),
      dir_fd_(std::exchange(other.dir_fd_, -1)) {}

PinnedPath& PinnedPath::operator=(PinnedPath&& other) noexcept {
  if (this != &other) {
    if (dir_fd_ >= 0) close(dir_fd_);
    path_ = std::move(other.path_);
    name_ = std::move(other.name_);
    dir_fd_ = std::exchange(other.dir_fd_, -1);
  }
  return *this;
}

PinnedPath::~PinnedPath() {
  if (dir_fd_ >= 0) close(dir_fd_);
}

int PinnedPath::Open(int flags, mode_t mode) const {
  return openat(dir_fd_, name_.c_str(), flags, mode);
}

int PinnedPath::Lstat(struct stat* st) const {
  return fstatat(dir_fd_, name_.c_str(), st, AT_SYMLINK_NOFOLLOW);
}

int PinnedPath::Unlink() const { return unlinkat(dir_fd_, name_.c_str(), 0); }

}  // namespace internal
}  // namespace daemonkit
