// Copyright 2026 The daemonkit Authors.
//
// Runs in the caller of Daemonize(), before the first fork.

#include "daemon/internal/socket_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/status/statusor.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

bool IsDeadSocketFile(const SocketAddress& address, int dir,
                      const std::string& name, struct stat* st) {
  if (fstatat(dir, name.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISSOCK(st->st_mode)) {
    return false;
  }
  const UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return false;
  absl::StatusOr<SocketAddress> through =
      SocketAddress::UnixPath(ThroughDirectory(dir, name));
  const SocketAddress& target = through.ok() ? *through : address;
  int connected;
  do {
    connected = connect(probe.get(), target.get(), target.length());
  } while (connected != 0 && errno == EINTR);
  return connected != 0 && errno == ECONNREFUSED;
}

bool PathStillReaches(const std::string& path, int dir) {
  std::string name;
  absl::StatusOr<int> again = OpenContainingDirectory(path, "bind", &name);
  if (!again.ok()) return false;
  const UniqueFd walked_again(*again);
  struct stat now, walked;
  return fstat(walked_again.get(), &now) == 0 && fstat(dir, &walked) == 0 &&
         SameFile(now, walked);
}

}  // namespace internal
}  // namespace daemonkit
