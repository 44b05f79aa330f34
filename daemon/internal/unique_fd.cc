// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/unique_fd.h"

#include <unistd.h>

#include <cerrno>

#include "daemon/internal/errors.h"

namespace daemonkit {
namespace internal {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) {
    // A destructor on an error path must not change the errno its caller
    // is about to report; a signal handler must not change the errno of the
    // code it interrupted.
    const int saved_errno = errno;
    // Never retried on EINTR: Linux has released the number already, and a
    // second close could close another thread's new descriptor.
    close(fd_);
    errno = saved_errno;
  }
  fd_ = fd < 0 ? -1 : fd;
}

absl::Status UniqueFd::Close() {
  const int fd = release();
  if (fd < 0 || close(fd) == 0) return absl::OkStatus();
  // EINTR: the descriptor is closed anyway (Linux), and nothing was lost
  // that a retry would recover.
  if (errno == EINTR) return absl::OkStatus();
  return ErrnoError(errno, "close");
}

void CloseDescriptor(int fd) {
  // The same close as a UniqueFd's, so the reasons there hold here too.
  UniqueFd(fd).reset();
}

}  // namespace internal
}  // namespace daemonkit
