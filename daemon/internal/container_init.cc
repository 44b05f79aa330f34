// Copyright 2026 The daemonkit Authors.
//
// pid 1 of a container: the reaper and signal forwarder that stays behind
// when the application forks away from pid 1 (container_init.h).

#include "daemon/internal/container_init.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/wait_status.h"

namespace daemonkit {
namespace internal {
namespace {

// What pid 1 passes on to the application.
constexpr int kForwarded[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
                              SIGUSR1, SIGUSR2, SIGWINCH};

// One line on stderr without stdio's buffers or locks (the parent of a
// fork that may have happened while another thread held them).
void Say(const char* what, int error) {
  char line[256];
  const int n = std::snprintf(line, sizeof(line), "daemonkit pid 1: %s: %s\n",
                              what, strerrordesc_np(error));
  if (n > 0) (void)!write(STDERR_FILENO, line, static_cast<size_t>(n));
}

int64_t MonotonicMillis() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

// The application is gone, and the kernel ends the rest of the namespace
// when pid 1 exits. What ends with the application on its own (its path
// keeper, which removes the pid file once the application has exited) gets
// a moment to do so first: pid 1 reaps until no child is left, for at most
// kRestGrace, then exits with `code`. SIGCHLD is blocked (waited for).
[[noreturn]] void ExitOnceTheRestHasEnded(int code) {
  constexpr int64_t kRestGraceMs = 1000;
  const int64_t deadline_ms = MonotonicMillis() + kRestGraceMs;
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  for (;;) {
    int wait_status;
    pid_t pid;
    while ((pid = waitpid(-1, &wait_status, WNOHANG)) > 0) {
    }
    if (pid < 0 && errno == ECHILD) _exit(code);
    const int64_t left = deadline_ms - MonotonicMillis();
    if (left <= 0) _exit(code);
    struct timespec timeout = absl::ToTimespec(absl::Milliseconds(left));
    siginfo_t info;
    (void)sigtimedwait(&child, &info, &timeout);
  }
}

[[noreturn]] void RunContainerInit(pid_t application,
                                   absl::Duration stop_timeout) {
  // Nothing but the standard streams: a pipe or socket the application
  // holds must see its end when the application closes it.
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    Say("close_range", errno);
  }
  // Waited for, never handled. A blocked signal is queued even for a
  // namespace's init with the default action (the kernel drops only
  // unblocked ones); an inherited SIG_IGN on SIGCHLD would let the kernel
  // reap the application and lose its status.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  for (int signo : kForwarded) sigaddset(&waited, signo);
  signal(SIGCHLD, SIG_DFL);
  for (int signo : kForwarded) signal(signo, SIG_DFL);
  const int64_t stop_ms = absl::ToInt64Milliseconds(stop_timeout);
  int64_t kill_at_ms = -1;  // none yet
  for (;;) {
    int wait_status;
    pid_t pid;
    while ((pid = waitpid(-1, &wait_status, WNOHANG)) > 0) {
      if (pid == application) ExitOnceTheRestHasEnded(ExitCodeOf(wait_status));
    }
    if (pid < 0 && errno != EINTR) {
      // ECHILD: the application cannot be gone unreaped; nothing to wait
      // for is a failure of this code, not of the application.
      Say("waitpid", errno);
      _exit(1);
    }
    if (kill_at_ms >= 0 && MonotonicMillis() >= kill_at_ms) {
      // The application is an unreaped child: its pid is still its own.
      if (kill(application, SIGKILL) != 0) Say("kill SIGKILL", errno);
      kill_at_ms = -1;
    }
    siginfo_t info;
    int signo;
    if (kill_at_ms >= 0) {
      const int64_t left = std::max<int64_t>(0, kill_at_ms - MonotonicMillis());
      struct timespec timeout = absl::ToTimespec(absl::Milliseconds(left));
      signo = sigtimedwait(&waited, &info, &timeout);
    } else {
      signo = sigwaitinfo(&waited, &info);
    }
    if (signo < 0) {
      if (errno != EAGAIN && errno != EINTR) Say("sigtimedwait", errno);
      continue;
    }
    if (signo == SIGCHLD) continue;  // reaped above
    if (kill(application, signo) != 0) Say("forward a signal", errno);
    if ((signo == SIGTERM || signo == SIGINT) && kill_at_ms < 0) {
      kill_at_ms = MonotonicMillis() + stop_ms;
    }
  }
}

// Issue 22.17, what dumb-init does for its child: a signal ignored when
// pid 1 was started (a non-interactive shell starts `cmd &` with SIGINT and
// SIGQUIT ignored; docker's shell form, a runner) goes back to its default
// action in the application, so that a SIGQUIT pid 1 forwards does what
// it says instead of nothing. Handlers the application installed itself
// stay; only SIG_IGN, which exec passes on, is undone.
absl::Status UnignoreInheritedSignals() {
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    struct sigaction current = {};
    // glibc reserves two real-time signals for itself (EINVAL): skip them.
    if (sigaction(signo, nullptr, &current) != 0) {
      if (errno == EINVAL) continue;
      return ErrnoError(errno, "sigaction");
    }
    if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_IGN) {
      continue;
    }
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    if (sigaction(signo, &action, nullptr) != 0) {
      return ErrnoError(errno, absl::StrCat("reset signal ", signo));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsContainerInit() { return getpid() == 1; }

absl::Status SplitOffContainerInit(absl::Duration stop_timeout) {
  // Every signal held across the fork: one sent to pid 1 in between waits
  // for the loop (and is forwarded) instead of being dropped.
  sigset_t all, caller_mask;
  sigfillset(&all);
  if (sigprocmask(SIG_SETMASK, &all, &caller_mask) != 0) {
    return ErrnoError(errno, "sigprocmask");
  }
  std::fflush(nullptr);  // buffered output is written once, not twice
  const pid_t application = fork();
  if (application < 0) {
    const int saved = errno;
    (void)sigprocmask(SIG_SETMASK, &caller_mask, nullptr);
    return ErrnoError(saved, "fork the application away from pid 1");
  }
  if (application > 0) RunContainerInit(application, stop_timeout);
  // The sockets a service manager (podman, systemd-nspawn) activated for
  // the process it started, pid 1 (LISTEN_PID=1), are the application's,
  // which goes on as pid 2 with the descriptors: activation's check,
  // LISTEN_PID == getpid(), silently dropped them (the model test found an
  // activated container serving nothing).
  const char* listen_pid = getenv("LISTEN_PID");
  if (listen_pid != nullptr && absl::string_view(listen_pid) == "1" &&
      setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1) != 0) {
    const int saved = errno;
    (void)sigprocmask(SIG_SETMASK, &caller_mask, nullptr);
    return ErrnoError(saved, "setenv LISTEN_PID");
  }
  // All signals are still blocked: none arrives between the two states.
  if (absl::Status reset = UnignoreInheritedSignals(); !reset.ok()) {
    (void)sigprocmask(SIG_SETMASK, &caller_mask, nullptr);
    return reset;
  }
  if (sigprocmask(SIG_SETMASK, &caller_mask, nullptr) != 0) {
    return ErrnoError(errno, "sigprocmask");
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
