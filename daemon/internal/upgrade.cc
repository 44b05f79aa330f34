// Copyright 2026 The daemonkit Authors.
//
// Runs in the old daemon (capturing its command line at start, starting its
// successor on an upgrade request) and in the new one (taking the handover).

#include "daemon/internal/upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"

extern char** environ;

namespace daemonkit {
namespace internal {
namespace {

// Room for a pid written in the child, where nothing may allocate.
constexpr size_t kPidDigits = 20;

// Writes `value` in decimal at `out` (room for kPidDigits), NUL-terminated.
// Async-signal-safe.
void FormatPid(pid_t value, char* out) {
  char digits[kPidDigits];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < kPidDigits - 1);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

}  // namespace

std::optional<UpgradeHandover> TakeUpgradeHandover() {
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
  unsetenv(kUpgradeVariable);
  for (int fd : {handover.pidfile_fd, handover.ready_fd}) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return std::nullopt;
    (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return handover;
}

absl::StatusOr<UpgradeSource> CaptureUpgradeSource() {
  UpgradeSource source;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n < 0) return ErrnoError(errno, "readlink /proc/self/exe");
  source.exe.assign(exe, static_cast<size_t>(n));
  DAEMONKIT_ASSIGN_OR_RETURN(std::string cmdline,
                             ReadSmallFile("/proc/self/cmdline"));
  if (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  source.argv = absl::StrSplit(cmdline, '\0');
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError(errno, "getcwd");
  source.cwd = cwd;
  return source;
}

absl::StatusOr<pid_t> StartSuccessor(const UpgradeSource& source,
                                     int pidfile_fd,
                                     const ListenSockets& sockets,
                                     absl::Duration ready_timeout) {
  // The binary now at the path (the running one may have been replaced:
  // the kernel then shows " (deleted)" after its old path).
  std::string exe = source.exe;
  if (absl::EndsWith(exe, " (deleted)")) {
    exe.resize(exe.size() - std::strlen(" (deleted)"));
  }
  const std::vector<int> fds = sockets.fds();
  const int count = static_cast<int>(fds.size());
  // Everything the child needs is made here: after fork it only moves
  // descriptors, writes its pid into two prepared strings and execs.
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    if (absl::StartsWith(variable, "LISTEN_") ||
        absl::StartsWith(variable, absl::StrCat(kUpgradeVariable, "="))) {
      continue;
    }
    env.emplace_back(variable);
  }
  env.push_back(absl::StrCat("LISTEN_FDS=", count));
  env.push_back(
      absl::StrCat("LISTEN_FDNAMES=", absl::StrJoin(sockets.names(), ":")));
  std::string listen_pid = "LISTEN_PID=" + std::string(kPidDigits, '\0');
  // Room for "PID:PIDFILE_FD:READY_FD": a pid has at most 7 digits.
  std::string handover =
      absl::StrCat(kUpgradeVariable, "=", std::string(kPidDigits, '\0'));
  const int pidfile_target = 3 + count;
  const int ready_target = 4 + count;
  const std::string handover_tail =
      absl::StrCat(":", pidfile_target, ":", ready_target);
  std::vector<char*> envp;
  envp.reserve(env.size() + 3);
  for (std::string& variable : env) envp.push_back(variable.data());
  envp.push_back(listen_pid.data());
  envp.push_back(handover.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = source.argv;
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  char* const listen_pid_digits =
      listen_pid.data() + std::strlen("LISTEN_PID=");
  char* const handover_digits =
      handover.data() + std::strlen(kUpgradeVariable) + 1;

  // A copy the fork handler does not know (it closes the library's own
  // descriptors in every child): the same open file description, so the
  // same lock.
  const int pidfile_copy = fcntl(pidfile_fd, F_DUPFD_CLOEXEC, 3);
  if (pidfile_copy < 0) return ErrnoError(errno, "dup the pid file");
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    const int saved = errno;
    close(pidfile_copy);
    return ErrnoError(saved, "pipe");
  }
  // Sources above every target, so no dup2 overwrites a source still to
  // be moved.
  std::vector<int> sources = fds;
  sources.push_back(pidfile_copy);
  sources.push_back(ready[1]);
  const int floor = std::max(
      ready_target + 1, *std::max_element(sources.begin(), sources.end()) + 1);
  const pid_t pid = fork();
  if (pid < 0) {
    const int saved = errno;
    close(ready[0]);
    close(ready[1]);
    close(pidfile_copy);
    return ErrnoError(saved, "fork the new daemon");
  }
  if (pid == 0) {
    int moved[256 + 2];
    if (sources.size() > sizeof(moved) / sizeof(moved[0])) _exit(127);
    for (size_t i = 0; i < sources.size(); ++i) {
      moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, floor);
      if (moved[i] < 0) _exit(127);
    }
    for (size_t i = 0; i < sources.size(); ++i) {
      if (dup2(moved[i], 3 + static_cast<int>(i)) < 0) _exit(127);
    }
    syscall(SYS_close_range, ready_target + 1, ~0U, 0);
    if (chdir(source.cwd.c_str()) != 0) _exit(127);
    FormatPid(getpid(), listen_pid_digits);
    FormatPid(getpid(), handover_digits);
    // Append ":PIDFILE_FD:READY_FD" after the pid.
    char* end = handover_digits + std::strlen(handover_digits);
    std::memcpy(end, handover_tail.c_str(), handover_tail.size() + 1);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(ready[1]);
  close(pidfile_copy);
  const int pidfd = PidfdOpen(pid);
  ReadyDecoder decoder;
  const absl::Time deadline = absl::Now() + ready_timeout;
  std::string error;
  bool ready_seen = false;
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      error = absl::StrCat("the new daemon was not ready within ",
                           absl::FormatDuration(ready_timeout));
      break;
    }
    struct pollfd pfd = {ready[0], POLLIN, 0};
    const int n =
        poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = ErrnoError(errno, "poll the new daemon's ready pipe").ToString();
      break;
    }
    if (n == 0) continue;
    char buffer[4096];
    const ssize_t got = read(ready[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got > 0) {
      decoder.Append(absl::string_view(buffer, static_cast<size_t>(got)));
      bool done = false;
      while (std::optional<ReadyDecoder::Message> message = decoder.Next()) {
        if (message->kind == ReadyDecoder::Message::Kind::kReady) done = true;
      }
      if (done) {
        ready_seen = true;
        break;
      }
      continue;
    }
    // End-of-file: an error message, or it died.
    if (std::optional<std::string> text = decoder.ErrorAtEnd()) {
      error = *text;
    } else {
      error = "the new daemon exited before it was ready";
    }
    break;
  }
  close(ready[0]);
  if (ready_seen) {
    if (pidfd >= 0) close(pidfd);
    return pid;
  }
  if (pidfd >= 0) {
    (void)PidfdSendSignal(pidfd, SIGKILL);
    close(pidfd);
  } else {
    kill(pid, SIGKILL);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
      error == "the new daemon exited before it was ready") {
    error = absl::StrCat("cannot run ", exe);
  }
  return absl::FailedPreconditionError(error);
}

std::string UpgradeChannelName(dev_t dev, ino_t ino) {
  return absl::StrCat("daemonkit-upgrade-", dev, "-", ino);
}

int ConnectUpgradeChannel(dev_t dev, ino_t ino) {
  if (ino == 0) return -1;
  const std::string name = UpgradeChannelName(dev, ino);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const socklen_t length = static_cast<socklen_t>(
      offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&address), length) != 0) {
    close(fd);
    return -1;
  }
  // Whoever listens there gets the new daemon's error text: only root or
  // this daemon's own user (who could signal it anyway).
  struct ucred peer;
  socklen_t peer_length = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0 ||
      (peer.uid != 0 && peer.uid != geteuid())) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace internal
}  // namespace daemonkit
