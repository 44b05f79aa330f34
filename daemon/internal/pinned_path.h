// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/pinned_path.h
// -----------------------------------------------------------------------------
//
// An absolute file path, checked once, and the path operations the pid file
// needs: lstat(2) and unlink(2), never following a symbolic link as the last
// component. It holds no descriptor. (It once held the file's directory open
// so that the daemon could reach its files after chroot(2); a descriptor of
// a directory outside the new root is a way out of it, and any held
// directory keeps its filesystem busy. Paths are resolved before the daemon
// changes directory, and after a chroot the path keeper, which stayed
// outside, does what must be done there: see path_keeper.h.)

#ifndef DAEMONKIT_DAEMON_INTERNAL_PINNED_PATH_H_
#define DAEMONKIT_DAEMON_INTERNAL_PINNED_PATH_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

class PinnedPath {
 public:
  // Checks that `path` is absolute and names a file, not a directory.
  // `what` names the path in errors ("pid file").
  static absl::StatusOr<PinnedPath> Pin(const std::string& path,
                                        absl::string_view what);

  PinnedPath() = default;

  // lstat(2) of the path; -1 with errno.
  int Lstat(struct stat* st) const;
  // unlink(2) of the path; -1 with errno.
  int Unlink() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PINNED_PATH_H_
