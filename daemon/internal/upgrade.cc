// Copyright 2026 The daemonkit Authors.
//
// Runs in the new daemon (taking the handover) and in the old one (the
// descriptor headroom, the request's channel); upgrade_start.cc starts the
// successor.

#include "daemon/internal/upgrade.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// kUpgradeVariable's descriptors when it names this process, untouched.
std::optional<UpgradeHandover> ParseUpgradeVariable() {
  const char* value = getenv(kUpgradeVariable);
  if (value == nullptr) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  pid_t pid;
  UpgradeHandover handover;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &pid) ||
      pid != getpid() || !absl::SimpleAtoi(parts[1], &handover.pidfile_fd) ||
      !absl::SimpleAtoi(parts[2], &handover.ready_fd) ||
      handover.pidfile_fd < 3 || handover.ready_fd < 3) {
    return std::nullopt;
  }
  return handover;
}

}  // namespace

bool IsUpgradeSuccessor() { return ParseUpgradeVariable().has_value(); }

std::optional<UpgradeHandover> TakeUpgradeHandover() {
  std::optional<UpgradeHandover> parsed = ParseUpgradeVariable();
  if (!parsed) return std::nullopt;
  UpgradeHandover handover = *parsed;
  unsetenv(kUpgradeVariable);
  // The confirm pipe, when the old daemon knows of it (see
  // kUpgradeConfirmVariable); without it the handover counts as confirmed
  // at once, as it did before.
  if (const char* confirm = getenv(kUpgradeConfirmVariable);
      confirm != nullptr) {
    int fd = -1;
    struct stat st;
    if (absl::SimpleAtoi(confirm, &fd) && fd >= 3 &&
        fd != handover.pidfile_fd && fd != handover.ready_fd &&
        fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
      const int flags = fcntl(fd, F_GETFL);
      if (flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0) {
        handover.confirm_fd = fd;
      }
    }
    unsetenv(kUpgradeConfirmVariable);
  }
  // What an old daemon hands over: a regular file (the pid file, whose
  // lock PidFile::Adopt checks) and a pipe. Anything else is not an
  // upgrade, and the ready pipe's "R" must not land in somebody's file.
  struct stat pidfile, ready;
  if (fstat(handover.pidfile_fd, &pidfile) != 0 ||
      fstat(handover.ready_fd, &ready) != 0 || !S_ISREG(pidfile.st_mode) ||
      !S_ISFIFO(ready.st_mode)) {
    return std::nullopt;
  }
  for (int fd : {handover.pidfile_fd, handover.ready_fd, handover.confirm_fd}) {
    if (fd < 0) continue;
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return std::nullopt;
    (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return handover;
}

uint64_t UpgradeDescriptorsNeeded(size_t sockets) {
  // Measured with one socket: an upgrade fails at 16 and succeeds at 20.
  // Each socket is held up to three times over (the old daemon, the moved
  // copy and the placed one in its child); the rest is margin for the
  // application's own files.
  return 32 + 3 * static_cast<uint64_t>(sockets);
}

std::string DescriptorHeadroomRefusal(uint64_t soft, size_t sockets) {
  const uint64_t needed = UpgradeDescriptorsNeeded(sockets);
  if (soft >= needed) return "";
  return absl::StrCat(
      "upgrade needs RLIMIT_NOFILE of at least ", needed, " (it is ", soft,
      "); raise it with --daemon_rlimits=nofile=", needed, " or more");
}

void SurviveTheOldDaemon() { (void)prctl(PR_SET_PDEATHSIG, 0); }

absl::StatusOr<uint64_t> NewUpgradeToken() {
  uint64_t token = 0;
  while (token == 0) {
    const ssize_t n = getrandom(&token, sizeof(token), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof(token))) {
      return ErrnoError(n < 0 ? errno : EIO, "getrandom");
    }
  }
  return token;
}

std::string UpgradeChannelName(dev_t dev, ino_t ino, uint64_t token) {
  return absl::StrCat("daemonkit-upgrade-", dev, "-", ino, "-",
                      absl::Hex(token, absl::kZeroPad16));
}

int ConnectUpgradeChannel(dev_t dev, ino_t ino, uint64_t token) {
  if (ino == 0 || token == 0) return -1;
  const absl::StatusOr<SocketAddress> address =
      SocketAddress::UnixAbstract(UpgradeChannelName(dev, ino, token));
  if (!address.ok()) return -1;
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return -1;
  // The main loop waits here: not for long, should others fill the
  // listener's backlog (its name is visible once bound).
  const struct timeval timeout = {1, 0};
  if (setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout,
                 sizeof(timeout)) != 0) {
    return -1;
  }
  if (connect(fd.get(), address->get(), address->length()) != 0) return -1;
  // Whoever listens there gets the new daemon's error text: only root or
  // this daemon's own user (who could signal it anyway).
  struct ucred peer;
  socklen_t peer_length = sizeof(peer);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0 ||
      (peer.uid != 0 && peer.uid != geteuid())) {
    return -1;
  }
  return fd.release();
}

}  // namespace internal
}  // namespace daemonkit
