// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/notify.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {

absl::StatusOr<NotifyAddress> ParseNotifySocket(absl::string_view value) {
  NotifyAddress result;
  result.address.sun_family = AF_UNIX;
  const bool abstract = !value.empty() && value[0] == '@';
  if (value.empty() || (!abstract && value[0] != '/')) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET='", absl::CHexEscape(value),
                     "' is neither an absolute path nor @name"));
  }
  if (value.size() < 2 || value.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NOTIFY_SOCKET='", absl::CHexEscape(value), "' names no socket"));
  }
  // A path needs room for its terminating NUL; an abstract name starts with
  // a NUL byte instead of the '@' and has no terminator.
  if (value.size() + (abstract ? 0 : 1) > sizeof(result.address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET is ", value.size(),
                     " bytes, longer than a socket address"));
  }
  std::memcpy(result.address.sun_path, value.data(), value.size());
  if (abstract) result.address.sun_path[0] = '\0';
  result.length =
      static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) +
                             value.size() + (abstract ? 0 : 1));
  return result;
}

std::optional<absl::Duration> WatchdogInterval(absl::string_view usec,
                                               absl::string_view pid,
                                               pid_t self, pid_t launcher) {
  uint64_t microseconds = 0;
  if (usec.empty() || !absl::SimpleAtoi(usec, &microseconds) ||
      microseconds == 0) {
    return std::nullopt;
  }
  if (!pid.empty()) {
    pid_t watched = 0;
    if (!absl::SimpleAtoi(pid, &watched) ||
        (watched != self && watched != launcher)) {
      return std::nullopt;
    }
  }
  return std::max(kMinWatchdogInterval,
                  absl::Microseconds(static_cast<int64_t>(microseconds / 2)));
}

int ErrnoForStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ENOENT;
    case absl::StatusCode::kPermissionDenied:
      return EACCES;
    case absl::StatusCode::kAlreadyExists:
      return EEXIST;
    case absl::StatusCode::kInvalidArgument:
      return EINVAL;
    default:
      return EIO;
  }
}

std::string StatusValue(absl::string_view text) {
  std::string value(text);
  for (char& c : value) {
    if (c == '\n' || c == '\0') c = ' ';
  }
  return value;
}

std::string StartupFailureMessage(const absl::Status& status) {
  return absl::StrCat("STATUS=", StatusValue(status.message()),
                      "\nERRNO=", ErrnoForStatus(status));
}

bool IsOtherAddressFamily(absl::string_view value) {
  const size_t colon = value.find(':');
  if (colon == 0 || colon == absl::string_view::npos) return false;
  for (char c : value.substr(0, colon)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

bool HasReadyLine(absl::string_view message) {
  for (absl::string_view line : absl::StrSplit(message, '\n')) {
    if (line == "READY=1") return true;
  }
  return false;
}

namespace {

// A datagram socket of our own for one message, whose sends wait at most
// kNotifySendTimeout for room in the listener's queue.
absl::StatusOr<UniqueFd> OpenNotifySocket() {
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoError(errno, "notify socket");
  const struct timeval timeout = absl::ToTimeval(kNotifySendTimeout);
  if (setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout,
                 sizeof(timeout)) != 0) {
    return ErrnoError(errno, "notify socket: SO_SNDTIMEO");
  }
  return fd;
}

}  // namespace

absl::StatusOr<Notifier> Notifier::FromEnvironment(pid_t launcher) {
  Notifier notifier;
  const char* socket = std::getenv("NOTIFY_SOCKET");
  // Empty is unset, as for libsystemd's sd_notify: no service manager.
  if (socket == nullptr || *socket == '\0') return notifier;
  // Issue 23.10: whoever sets the environment must not fail every start.
  // A family we do not speak (systemd's "vsock:") or a value that is no
  // socket address at all (relative, "@" alone, too long) is logged once
  // and otherwise ignored, as libsystemd's sd_notify ignores what it cannot
  // send to.
  absl::StatusOr<NotifyAddress> address =
      IsOtherAddressFamily(socket)
          ? absl::InvalidArgumentError(
                absl::StrCat("NOTIFY_SOCKET='", absl::CHexEscape(socket),
                             "' is an address family daemonkit does not speak"))
          : ParseNotifySocket(socket);
  if (!address.ok()) {
    // Called more than once per process (the daemon, a failure report).
    static bool warned = false;
    if (!warned) {
      // The message names the variable and its value.
      LOG(WARNING) << address.status().message()
                   << "; running without sd_notify";
      warned = true;
    }
    return notifier;
  }
  notifier.address_ = *address;
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  notifier.watchdog_ =
      WatchdogInterval(usec ? usec : "", pid ? pid : "", getpid(), launcher);
  // Issue 18.14: a socket sent where no store keeps it is lost, and its
  // file, left for a next start that never gets the socket, stays.
  const char* fdstore = std::getenv("FDSTORE");
  int64_t slots = 0;
  notifier.fd_store_ =
      fdstore != nullptr && absl::SimpleAtoi(fdstore, &slots) && slots > 0;
  return notifier;
}

Notifier::Notifier(Notifier&& other) noexcept
    : address_(std::exchange(other.address_, std::nullopt)),
      watchdog_(std::exchange(other.watchdog_, std::nullopt)),
      fd_store_(std::exchange(other.fd_store_, false)),
      fd_(std::move(other.fd_)),
      ready_delivered_(other.ready_delivered_.exchange(false)),
      ended_(other.ended_.exchange(false)),
      listener_stuck_(other.listener_stuck_.exchange(false)),
      dropped_(other.dropped_.exchange(0)) {}

Notifier& Notifier::operator=(Notifier&& other) noexcept {
  if (this != &other) {
    address_ = std::exchange(other.address_, std::nullopt);
    watchdog_ = std::exchange(other.watchdog_, std::nullopt);
    fd_store_ = std::exchange(other.fd_store_, false);
    fd_ = std::move(other.fd_);  // closes this one's socket
    ready_delivered_ = other.ready_delivered_.exchange(false);
    ended_ = other.ended_.exchange(false);
    listener_stuck_ = other.listener_stuck_.exchange(false);
    dropped_ = other.dropped_.exchange(0);
  }
  return *this;
}

Notifier::~Notifier() = default;

int Notifier::SendFlags(absl::string_view message) const {
  const bool keep_alive = message == "WATCHDOG=1";
  return MSG_NOSIGNAL | (keep_alive || listener_stuck_ ? MSG_DONTWAIT : 0);
}

void Notifier::Dropped(absl::string_view message) const {
  ++dropped_;
  if (listener_stuck_.exchange(true)) return;
  const absl::string_view first_line = message.substr(0, message.find('\n'));
  LOG(WARNING) << "sd_notify: NOTIFY_SOCKET's listener reads nothing (its "
                  "queue is full); '"
               << absl::CHexEscape(first_line)
               << "' dropped, and every message until it reads again";
}

void Notifier::Delivered() const {
  if (!listener_stuck_.exchange(false)) return;
  LOG(INFO) << "sd_notify: NOTIFY_SOCKET's listener reads again; "
            << dropped_.exchange(0) << " messages were dropped";
}

absl::Status Notifier::Send(absl::string_view message) const {
  ssize_t sent;
  if (fd_.valid()) {  // Connected()
    do {
      sent = send(fd_.get(), message.data(), message.size(), MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return ErrnoError(errno, "send to the supervisor");
    return absl::OkStatus();
  }
  if (!address_ || ended_) return absl::OkStatus();
  absl::StatusOr<UniqueFd> fd = OpenNotifySocket();
  if (!fd.ok()) return fd.status();
  const int flags = SendFlags(message);
  do {
    sent = sendto(fd->get(), message.data(), message.size(), flags,
                  reinterpret_cast<const struct sockaddr*>(&address_->address),
                  address_->length);
  } while (sent < 0 && errno == EINTR);
  const int saved = errno;
  fd->reset();
  if (sent < 0) {
    if ((saved == ENOENT || saved == ECONNREFUSED) && ready_delivered_ &&
        !ended_.exchange(true)) {
      LOG(INFO) << "NOTIFY_SOCKET is gone after READY=1 ("
                << strerrordesc_np(saved)
                << "): its listener has what it waited for "
                   "(start-stop-daemon --notify-await removes it); no more "
                   "sd_notify messages are sent";
      return absl::OkStatus();
    }
    if (ended_) return absl::OkStatus();
    if (saved == EAGAIN) {
      Dropped(message);
      return absl::OkStatus();
    }
    return ErrnoError(saved, "send to NOTIFY_SOCKET");
  }
  Delivered();
  if (HasReadyLine(message)) ready_delivered_ = true;
  return absl::OkStatus();
}

absl::Status Notifier::SendWithFd(absl::string_view message, int fd) const {
  if (!address_ || fd_.valid() || ended_) return absl::OkStatus();
  absl::StatusOr<UniqueFd> sock = OpenNotifySocket();
  if (!sock.ok()) return sock.status();
  absl::Status sent = SendWithDescriptor(
      sock->get(), message, fd, "NOTIFY_SOCKET",
      SendFlags(message) & ~MSG_NOSIGNAL, &address_->address, address_->length);
  // (SendWithDescriptor leaves errno as sendmsg(2) set it.)
  const int saved = errno;
  sock->reset();
  if (!sent.ok() && saved == EAGAIN) {
    Dropped(message);
    return absl::OkStatus();
  }
  if (sent.ok()) Delivered();
  return sent;
}

Notifier Notifier::Connected(int fd, std::optional<absl::Duration> watchdog) {
  Notifier notifier;
  notifier.watchdog_ = watchdog;
  notifier.fd_.reset(fd);
  return notifier;
}

}  // namespace internal
}  // namespace daemonkit
