// Copyright 2026 The daemonkit Authors.
//
// Runs in `daemonkit`'s monitor: whether its program is ready yet, by the
// program's own word (a newline on --ready=fd:N, READY=1 on its
// $NOTIFY_SOCKET) or by a probe (--ready=connect:..., --ready=command).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/program.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"

namespace daemonkit {
namespace internal {
namespace {

// Whether a line of a program's notification goes on to an outer service
// manager (issue 21.2): STATUS= and the four documented flags, each matched
// as a whole line, as the supervisor relays (issue 18.3). MAINPID=,
// FDSTORE=, ERRNO= and the rest speak for the service, which the monitor
// is; WATCHDOG=trigger would fire systemd's watchdog action, and systemd
// reads a datagram only up to a NUL.
bool IsRelayed(absl::string_view line) {
  if (line.find('\0') != absl::string_view::npos) return false;
  return absl::StartsWith(line, "STATUS=") || line == "RELOADING=1" ||
         line == "STOPPING=1" || line == "WATCHDOG=1" || line == "READY=1";
}

// One connection attempt to `address`, of up to `timeout`.
bool Connects(const ListenAddress& listen, absl::Duration timeout) {
  const absl::StatusOr<SocketAddress> address = SocketAddress::Of(listen);
  if (!address.ok()) return false;
  const UniqueFd fd(
      socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return false;
  bool connected = connect(fd.get(), address->get(), address->length()) == 0;
  if (!connected && errno == EINPROGRESS) {
    struct pollfd pfd = {fd.get(), POLLOUT, 0};
    int error = 0;
    socklen_t error_length = sizeof(error);
    connected = poll(&pfd, 1, PollTimeoutMs(timeout)) == 1 &&
                getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error,
                           &error_length) == 0 &&
                error == 0;
  }
  return connected;
}

}  // namespace

bool Program::PollReady() {
  if (mode_.kind == ReadyMode::Kind::kConnect) {
    return Connects(mode_.address, kReadyPollInterval);
  }
  if (mode_.kind != ReadyMode::Kind::kCommand) return false;
  if (command_pid_ > 0) {
    int status = 0;
    const pid_t reaped = waitpid(command_pid_, &status, WNOHANG);
    if (reaped == 0 || (reaped < 0 && errno == EINTR)) return false;
    command_pid_ = -1;
    next_command_ = MonotonicNow() + kReadyPollInterval;
    return reaped > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (MonotonicNow() < next_command_) return false;
  // As the program runs: its user, default signals, no descriptor of the
  // monitor's (all are close-on-exec), stdin from /dev/null.
  const pid_t pid = fork();
  if (pid < 0) {
    next_command_ = MonotonicNow() + kReadyPollInterval;
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    for (int signo = 1; signo < NSIG; ++signo) {
      if (signo == SIGKILL || signo == SIGSTOP) continue;
      (void)sigaction(signo, &action, nullptr);
    }
    if (identity_.credentials) {
      if (!DropPrivileges(*identity_.credentials).ok()) _exit(126);
      // Cleared by the change of credentials (see ExecInChild).
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(126);
    }
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl("/bin/sh", "sh", "-c", mode_.command.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  command_pid_ = pid;
  return false;
}

ReadinessInput Program::ReadReadiness() {
  if (!ready_fd_.valid()) return {};
  return mode_.kind == ReadyMode::Kind::kNotify ? ReadNotify() : ReadFdPipe();
}

ReadinessInput Program::ReadFdPipe() {
  ReadinessInput input;
  char buffer[256];
  for (;;) {
    const ssize_t n = read(ready_fd_.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return input;  // EAGAIN: nothing more now
    if (n == 0) {
      input.closed = true;
      break;
    }
    if (std::memchr(buffer, '\n', static_cast<size_t>(n)) != nullptr) {
      input.ready = true;
      break;
    }
  }
  ready_fd_.reset();
  return input;
}

ReadinessInput Program::ReadNotify() {
  ReadinessInput input;
  std::vector<std::string> relay;
  for (;;) {
    char buffer[4096];
    struct iovec iov = {buffer, sizeof(buffer) - 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct ucred)) +
                                         CMSG_SPACE(sizeof(int) * 16)];
    struct msghdr message = {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t n =
        recvmsg(ready_fd_.get(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: all read
    const struct ucred* credentials = nullptr;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
         c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS) {
        credentials = reinterpret_cast<const struct ucred*>(CMSG_DATA(c));
      } else if (c->cmsg_type == SCM_RIGHTS) {
        // FDSTORE=1 and the like: not ours to keep.
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int* fds = reinterpret_cast<const int*>(CMSG_DATA(c));
        for (size_t i = 0; i < count; ++i) CloseDescriptor(fds[i]);
      }
    }
    if (credentials == nullptr ||
        (credentials->uid != uid_ && credentials->uid != 0)) {
      continue;  // a stranger who found the name in /proc/net/unix
    }
    for (absl::string_view line :
         absl::StrSplit(absl::string_view(buffer, static_cast<size_t>(n)), '\n',
                        absl::SkipEmpty())) {
      if (line == "READY=1" && !ready_seen_) {
        ready_seen_ = true;
        input.ready = true;
        continue;  // the monitor's own NotifyReady() says it
      }
      if (IsRelayed(line)) relay.emplace_back(line);
    }
  }
  input.relay = absl::StrJoin(relay, "\n");
  return input;
}

}  // namespace internal
}  // namespace daemonkit
