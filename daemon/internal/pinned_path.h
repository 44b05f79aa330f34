// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/pinned_path.h
// -----------------------------------------------------------------------------
//
// A path whose directory is held open. The daemon opens its pid file and
// output files while it can still see them; after chroot(2), chdir(2) or a
// privilege drop it must still reopen its logs on SIGHUP and remove its pid
// file at exit. Going through a descriptor of the directory (openat,
// unlinkat) makes that work, and pins the directory against being swapped
// by a rename.

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
  // Opens the directory of `path` (absolute). `what` names the path in
  // errors: "pid file /run/x/y.pid: directory /run/x: No such file or
  // directory".
  static absl::StatusOr<PinnedPath> Pin(const std::string& path,
                                        absl::string_view what);

  PinnedPath() = default;
  PinnedPath(PinnedPath&& other) noexcept;
  PinnedPath& operator=(PinnedPath&& other) noexcept;
  PinnedPath(const PinnedPath&) = delete;
  PinnedPath& operator=(const PinnedPath&) = delete;
  ~PinnedPath();

  // openat(2) of the entry; -1 with errno on failure.
  int Open(int flags, mode_t mode = 0) const;
  // fstatat(2) without following a final symbolic link; -1 with errno.
  int Lstat(struct stat* st) const;
  // unlinkat(2); -1 with errno.
  int Unlink() const;

  // Drops the directory descriptor number without closing it (in a forked
  // child, whose copy a fork handler closed).
  void Forget() { dir_fd_ = -1; }

  bool pinned() const { return dir_fd_ >= 0; }
  int dir_fd() const { return dir_fd_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string name_;
  int dir_fd_ = -1;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PINNED_PATH_H_
