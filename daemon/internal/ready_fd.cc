// Copyright 2026 The daemonkit Authors.
//
// Checked in the caller of Daemonize(); written by the application's
// process or, under supervision, by the supervisor.

#include "daemon/internal/ready_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {

absl::Status PrepareReadyFd(int fd) {
  if (fd < 0) return absl::OkStatus();
  const int flags = fcntl(fd, F_GETFD);
  if (flags < 0) {
    const int saved = errno;
    return absl::FailedPreconditionError(absl::StrCat(
        "--daemon_ready_fd=", fd, ": descriptor ", fd, " is not open (",
        std::strerror(saved), "); the service manager passes it"));
  }
  const int status_flags = fcntl(fd, F_GETFL);
  if (status_flags < 0 || ((status_flags & O_ACCMODE) != O_WRONLY &&
                           (status_flags & O_ACCMODE) != O_RDWR)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--daemon_ready_fd=", fd, ": descriptor ", fd,
        " is not open for writing; the readiness line could not be written"));
  }
  if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    return ErrnoError(
        errno, absl::StrCat("--daemon_ready_fd=", fd, ": fcntl F_SETFD"));
  }
  return absl::OkStatus();
}

void SignalReadyFd(int fd) {
  if (fd < 0) return;
  ssize_t written;
  do {
    written = write(fd, "\n", 1);
  } while (written < 0 && errno == EINTR);
  if (written != 1) {
    PLOG(WARNING) << "--daemon_ready_fd=" << fd
                  << ": writing the readiness line";
  }
  // The number was inherited for this one line; Close() reports a failure
  // (EINTR aside: on Linux the descriptor is gone then).
  if (const absl::Status closed = UniqueFd(fd).Close(); !closed.ok()) {
    LOG(WARNING) << "--daemon_ready_fd=" << fd << ": " << closed.message();
  }
}

}  // namespace internal
}  // namespace daemonkit
