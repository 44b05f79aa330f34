// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// Written before any handler is installed, read by handlers.
volatile sig_atomic_t g_pipe_write_fd = -1;
int g_pipe_read_fd = -1;
// The process that owns the pipe: a forked child that has not yet run
// ResetSignalsInForkedChild() must not write into its parent's pipe.
volatile sig_atomic_t g_pipe_owner = 0;
// The signals routed into the pipe, as a bit per signal number.
volatile sig_atomic_t g_watched = 0;
// ForwardTo(): the signal sent on instead of into the pipe, and where to.
// The pidfd is set before the signal, so a handler that sees the signal
// sees its pidfd.
volatile sig_atomic_t g_forward_signo = 0;
volatile sig_atomic_t g_forward_pidfd = -1;

// The value of the last signal sent with sigqueue(3) (SI_QUEUE) to a
// signal watched with WatchQueued(); 0 when none.
std::atomic<uint64_t> g_queued_value{0};
static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "a signal handler may store only a lock-free atomic");

constexpr int kRoutedSignals[] = {SIGTERM, SIGINT, SIGHUP};

// In a forked child before its reset: what the default action would do.
void ActAsDefault(int signo) {
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signo, &action, nullptr);
  // Blocked while this handler runs, so delivered (with the default action)
  // when it returns.
  raise(signo);
}

extern "C" void ForwardSignalToPipe(int signo) {
  const int saved_errno = errno;
  if (getpid() != g_pipe_owner) {
    ActAsDefault(signo);
  } else {
    if (signo == g_forward_signo && g_forward_pidfd >= 0) {
      // A raw system call, as async-signal-safe as write(2). Should the
      // process behind it be gone, there is nobody left to tell.
      (void)syscall(SYS_pidfd_send_signal, static_cast<int>(g_forward_pidfd),
                    signo, nullptr, 0);
    } else {
      const unsigned char byte = static_cast<unsigned char>(signo);
      // A full pipe already holds plenty of pending signals: dropping this
      // one loses nothing the main loop would act on.
      ssize_t ignored = write(g_pipe_write_fd, &byte, 1);
      (void)ignored;
    }
  }
  errno = saved_errno;
}

extern "C" void ForwardQueuedSignalToPipe(int signo, siginfo_t* info,
                                          void* /*context*/) {
  if (getpid() == g_pipe_owner && info != nullptr &&
      info->si_code == SI_QUEUE) {
    uint64_t value;
    static_assert(sizeof(info->si_value) == sizeof(value));
    std::memcpy(&value, &info->si_value, sizeof(value));
    g_queued_value.store(value, std::memory_order_relaxed);
  }
  ForwardSignalToPipe(signo);
}

// SIGPIPE's handler: the write that raised it fails with EPIPE, which the
// caller handles. Caught instead of ignored so that exec resets it.
extern "C" void DiscardSignal(int signo) {
  if (getpid() != g_pipe_owner) {
    const int saved_errno = errno;
    ActAsDefault(signo);
    errno = saved_errno;
  }
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
  DAEMONKIT_RETURN_IF_ERROR(ResetSignalDispositions());
  return UnblockAllSignals();
}

absl::Status ResetSignalDispositions() {
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
  return absl::OkStatus();
}

absl::Status HoldStopAndReloadSignals() {
  sigset_t held;
  sigemptyset(&held);
  for (int signo : kRoutedSignals) sigaddset(&held, signo);
  if (sigprocmask(SIG_SETMASK, &held, nullptr) != 0) {
    return ErrnoError(errno, "sigprocmask SIG_SETMASK");
  }
  return absl::OkStatus();
}

absl::Status BlockAllSignals(sigset_t* saved) {
  sigset_t all;
  sigfillset(&all);
  if (sigprocmask(SIG_BLOCK, &all, saved) != 0) {
    return ErrnoError(errno, "sigprocmask SIG_BLOCK");
  }
  return absl::OkStatus();
}

absl::Status RestoreSignalMask(const sigset_t& saved) {
  if (sigprocmask(SIG_SETMASK, &saved, nullptr) != 0) {
    return ErrnoError(errno, "sigprocmask SIG_SETMASK");
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
  g_pipe_owner = getpid();
  for (int signo : kRoutedSignals) {
    g_watched = g_watched | (1 << signo);
    DAEMONKIT_RETURN_IF_ERROR(SetDisposition(signo, ForwardSignalToPipe));
  }
  DAEMONKIT_RETURN_IF_ERROR(SetDisposition(SIGPIPE, DiscardSignal));
  return g_pipe_read_fd;
}

absl::Status SignalPipe::Watch(int signo) {
  // Signal numbers of interest here (SIGCHLD) fit a sig_atomic_t's bits.
  if (signo < 31) g_watched = g_watched | (1 << signo);
  return SetDisposition(signo, ForwardSignalToPipe);
}

absl::Status SignalPipe::WatchQueued(int signo) {
  if (signo < 31) g_watched = g_watched | (1 << signo);
  struct sigaction action = {};
  action.sa_sigaction = ForwardQueuedSignalToPipe;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_SIGINFO;
  if (sigaction(signo, &action, nullptr) != 0) {
    return ErrnoError(errno, absl::StrCat("sigaction ", strsignal(signo)));
  }
  return absl::OkStatus();
}

uint64_t SignalPipe::TakeQueuedValue() {
  return g_queued_value.exchange(0, std::memory_order_relaxed);
}

void SignalPipe::ForwardTo(int signo, int pidfd) {
  g_forward_signo = 0;
  g_forward_pidfd = pidfd;
  if (pidfd >= 0) g_forward_signo = signo;
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
    CloseDescriptor(g_pipe_read_fd);
    CloseDescriptor(g_pipe_write_fd);
    g_pipe_read_fd = -1;
    g_pipe_write_fd = -1;
    absl::StatusOr<int> fresh = Install();
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (!fresh.ok()) return fresh;
  }
  DAEMONKIT_RETURN_IF_ERROR(SetDisposition(SIGCHLD, SIG_DFL));
  g_watched = g_watched & ~(1 << SIGCHLD);
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

void ResetSignalsInForkedChild() {
  if (g_pipe_owner == 0) return;
  const int saved_errno = errno;
  for (int signo = 1; signo < 31; ++signo) {
    if (signo != SIGPIPE && (g_watched & (1 << signo)) == 0) continue;
    struct sigaction current;
    if (sigaction(signo, nullptr, &current) != 0) continue;
    // A disposition the application set after ours is its own business.
    if ((current.sa_flags & SA_SIGINFO) != 0
            ? current.sa_sigaction != ForwardQueuedSignalToPipe
            : current.sa_handler != ForwardSignalToPipe &&
                  current.sa_handler != DiscardSignal) {
      continue;
    }
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(signo, &action, nullptr);
  }
  g_watched = 0;
  CloseDescriptor(g_pipe_read_fd);
  CloseDescriptor(g_pipe_write_fd);
  g_pipe_read_fd = -1;
  g_pipe_write_fd = -1;
  g_pipe_owner = 0;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  errno = saved_errno;
}

}  // namespace internal
}  // namespace daemonkit
