// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"

namespace daemonkit {
namespace internal {
namespace {

// Written once before any handler is installed, read only by handlers.
volatile sig_atomic_t g_pipe_write_fd = -1;
int g_pipe_read_fd = -1;

extern "C" void ForwardSignalToPipe(int signo) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signo);
  // A full pipe already holds plenty of pending signals: dropping this one
  // loses nothing the main loop would act on.
  ssize_t ignored = write(g_pipe_write_fd, &byte, 1);
  (void)ignored;
  errno = saved_errno;
}

absl::Status SetDisposition(int signo, void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(signo, &action, nullptr) != 0) {
    return ErrnoError(errno, absl::StrCat("sigaction ", strsignal(signo)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ResetSignals() {
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    // glibc reserves two real-time signals for itself (EINVAL): skip them.
    if (sigaction(signo, &action, nullptr) != 0 && errno != EINVAL) {
      return ErrnoError(errno, absl::StrCat("reset signal ", signo));
    }
  }
  return UnblockAllSignals();
}

absl::Status HoldStopAndReloadSignals() {
  sigset_t held;
  sigemptyset(&held);
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&held, signo);
  if (sigprocmask(SIG_BLOCK, &held, nullptr) != 0) {
    return ErrnoError(errno, "sigprocmask SIG_BLOCK");
  }
  return absl::OkStatus();
}

absl::Status UnblockAllSignals() {
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) {
    return ErrnoError(errno, "sigprocmask");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SignalPipe::Install() {
  if (g_pipe_read_fd < 0) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      return ErrnoError(errno, "create signal pipe");
    }
    g_pipe_read_fd = fds[0];
    g_pipe_write_fd = fds[1];
  }
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) {
    DAEMONKIT_RETURN_IF_ERROR(SetDisposition(signo, ForwardSignalToPipe));
  }
  DAEMONKIT_RETURN_IF_ERROR(SetDisposition(SIGPIPE, SIG_IGN));
  return g_pipe_read_fd;
}

absl::Status SignalPipe::Watch(int signo) {
  return SetDisposition(signo, ForwardSignalToPipe);
}

absl::StatusOr<int> SignalPipe::Reinstall() {
  if (g_pipe_read_fd >= 0) {
    // Signals keep writing to the old pipe until the new one is in place;
    // block them meanwhile.
    sigset_t all, old;
    sigfillset(&all);
    if (sigprocmask(SIG_BLOCK, &all, &old) != 0) {
      return ErrnoError(errno, "sigprocmask");
    }
    close(g_pipe_read_fd);
    close(g_pipe_write_fd);
    g_pipe_read_fd = -1;
    g_pipe_write_fd = -1;
    absl::StatusOr<int> fresh = Install();
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (!fresh.ok()) return fresh;
  }
  DAEMONKIT_RETURN_IF_ERROR(SetDisposition(SIGCHLD, SIG_DFL));
  return Install();
}

std::vector<int> SignalPipe::Drain() {
  std::vector<int> signals;
  if (g_pipe_read_fd < 0) return signals;
  unsigned char buffer[64];
  for (;;) {
    ssize_t n = read(g_pipe_read_fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    signals.insert(signals.end(), buffer, buffer + n);
  }
  return signals;
}

}  // namespace internal
}  // namespace daemonkit
