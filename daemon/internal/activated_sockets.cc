// Copyright 2026 The daemonkit Authors.
//
// Runs in the caller of Daemonize(), before the first fork.

#include "daemon/internal/activated_sockets.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/errors.h"

namespace daemonkit {
namespace internal {

absl::StatusOr<std::vector<ActivatedSocket>> TakeActivatedSockets() {
  std::vector<ActivatedSocket> sockets;
  const char* pid_text = getenv("LISTEN_PID");
  const char* fds_text = getenv("LISTEN_FDS");
  if (pid_text == nullptr || fds_text == nullptr) return sockets;
  pid_t pid;
  if (!absl::SimpleAtoi(pid_text, &pid) || pid != getpid()) return sockets;
  const char* names_text = getenv("LISTEN_FDNAMES");
  std::vector<std::string> names;
  if (names_text != nullptr) {
    names = absl::StrSplit(names_text, ':');
  }
  int count;
  if (!absl::SimpleAtoi(fds_text, &count) || count < 0 || count > (1 << 16)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "socket activation: LISTEN_FDS=", fds_text, " is not a count"));
  }
  for (int i = 0; i < count; ++i) {
    const int fd = kListenFdsStart + i;
    struct stat st;
    if (fstat(fd, &st) != 0) {
      return ErrnoError(errno, absl::StrCat("socket activation: descriptor ",
                                            fd, " of LISTEN_FDS=", count));
    }
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("socket activation: descriptor ", fd,
                       " of LISTEN_FDS=", count, " is not a socket"));
    }
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
      return ErrnoError(errno, absl::StrCat("socket activation: descriptor ",
                                            fd, " close-on-exec"));
    }
    ActivatedSocket socket;
    socket.fd = fd;
    socket.name = static_cast<size_t>(i) < names.size() && !names[i].empty()
                      ? names[i]
                      : "unknown";
    sockets.push_back(std::move(socket));
  }
  // Consumed: a program this process runs must not take them again.
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return sockets;
}

}  // namespace internal
}  // namespace daemonkit
