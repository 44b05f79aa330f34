// Copyright 2026 The daemonkit Authors.
//
// The self-pipe and what it must not hand down. Each test runs in a forked
// process of its own (the pipe and the dispositions are process-wide).

#include "daemon/internal/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// Runs `body` in a fresh child process and returns its wait status.
template <typename Body>
int InChild(Body body) {
  pid_t child = fork();
  if (child == 0) _exit(body());
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  return status;
}

bool IsDefault(int signo) {
  struct sigaction current;
  return sigaction(signo, nullptr, &current) == 0 &&
         current.sa_handler == SIG_DFL;
}

TEST(SignalPipeTest, SigpipeIsCaughtNotIgnoredSoExecResetsIt) {
  const int status = InChild([] {
    if (!SignalPipe::Install().ok()) return 10;
    struct sigaction current;
    sigaction(SIGPIPE, nullptr, &current);
    if (current.sa_handler == SIG_IGN) return 11;
    // And a write to a closed pipe is an error, not a death.
    int fds[2];
    if (pipe(fds) != 0) return 12;
    close(fds[0]);
    if (write(fds[1], "x", 1) != -1 || errno != EPIPE) return 13;
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// A signal that reaches a forked child before its fork handler ran (or in a
// child forked without one) does what the default action does; it is not
// written into the parent's pipe.
TEST(SignalPipeTest, AForkedChildDoesNotWriteIntoItsParentsPipe) {
  const int status = InChild([] {
    absl::StatusOr<int> read_fd = SignalPipe::Install();
    if (!read_fd.ok()) return 10;
    pid_t grandchild = fork();
    if (grandchild == 0) {
      raise(SIGTERM);
      _exit(0);  // survived SIGTERM
    }
    int grandchild_status = 0;
    waitpid(grandchild, &grandchild_status, 0);
    if (!WIFSIGNALED(grandchild_status) ||
        WTERMSIG(grandchild_status) != SIGTERM) {
      return 11;
    }
    if (!SignalPipe::Drain().empty()) return 12;  // the parent "got" it
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// ForwardTo(): the handler itself sends the signal on, nothing goes into
// the pipe; -1 routes it into the pipe again.
TEST(SignalPipeTest, AForwardedSignalGoesToTheOtherProcessNotThePipe) {
  const int status = InChild([] {
    if (!SignalPipe::Install().ok()) return 10;
    int ready[2];
    if (pipe(ready) != 0) return 11;
    const pid_t receiver = fork();
    if (receiver == 0) {
      sigset_t hup;
      sigemptyset(&hup);
      sigaddset(&hup, SIGHUP);
      sigprocmask(SIG_BLOCK, &hup, nullptr);
      (void)!write(ready[1], "r", 1);
      const struct timespec patience = {60, 0};
      _exit(sigtimedwait(&hup, nullptr, &patience) == SIGHUP ? 0 : 1);
    }
    char byte;
    if (read(ready[0], &byte, 1) != 1) return 12;
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, receiver, 0));
    if (pidfd < 0) return 13;
    SignalPipe::ForwardTo(SIGHUP, pidfd);
    raise(SIGHUP);
    int receiver_status = 0;
    if (waitpid(receiver, &receiver_status, 0) != receiver) return 14;
    if (!WIFEXITED(receiver_status) || WEXITSTATUS(receiver_status) != 0) {
      return 15;  // it never came
    }
    if (!SignalPipe::Drain().empty()) return 16;
    SignalPipe::ForwardTo(SIGHUP, -1);
    raise(SIGHUP);
    if (SignalPipe::Drain() != std::vector<int>{SIGHUP}) return 17;
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SignalPipeTest, ResetInAForkedChildRestoresDefaultsAndClosesThePipe) {
  const int status = InChild([] {
    absl::StatusOr<int> read_fd = SignalPipe::Install();
    if (!read_fd.ok()) return 10;
    // One disposition the application set itself stays.
    signal(SIGINT, SIG_IGN);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, nullptr);
    pid_t grandchild = fork();
    if (grandchild == 0) {
      ResetSignalsInForkedChild();
      if (!IsDefault(SIGTERM) || !IsDefault(SIGHUP) || !IsDefault(SIGPIPE)) {
        _exit(20);
      }
      struct sigaction sigint;
      sigaction(SIGINT, nullptr, &sigint);
      if (sigint.sa_handler != SIG_IGN) _exit(21);
      sigset_t mask;
      sigprocmask(SIG_BLOCK, nullptr, &mask);
      if (sigismember(&mask, SIGUSR1)) _exit(22);
      if (fcntl(*read_fd, F_GETFD) != -1) _exit(23);
      if (!SignalPipe::Drain().empty()) _exit(24);
      _exit(0);
    }
    int grandchild_status = 0;
    waitpid(grandchild, &grandchild_status, 0);
    // The parent's pipe still works.
    raise(SIGHUP);
    std::vector<int> got = SignalPipe::Drain();
    if (std::find(got.begin(), got.end(), SIGHUP) == got.end()) return 12;
    return WIFEXITED(grandchild_status) ? WEXITSTATUS(grandchild_status) : 11;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
