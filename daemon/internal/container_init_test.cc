// Copyright 2026 The daemonkit Authors.
//
// SplitOffContainerInit in real processes: a forked child makes a pid
// namespace whose first process (pid 1) splits off its init; the
// application is then pid 2, keeps its signal mask, shares no descriptor
// with pid 1, gets the signals sent to pid 1, and its end is pid 1's exit
// code. Needs CAP_SYS_ADMIN for the namespace (root, as the tests run);
// without it the tests fail saying so.

#include "daemon/internal/container_init.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr int kNoNamespace = 200;

// Runs `before` and then `application` as the application of a container
// whose pid 1 is the init SplitOffContainerInit leaves behind. Returns pid
// 1's exit code (100 + the signal if it died of one).
int RunInContainer(const std::function<void()>& before,
                   const std::function<int()>& application,
                   absl::Duration stop_timeout = absl::Seconds(30)) {
  const pid_t outer = fork();
  if (outer < 0) return -1;
  if (outer == 0) {
    if (unshare(CLONE_NEWPID) != 0) _exit(kNoNamespace);
    const pid_t init = fork();  // the namespace's pid 1
    if (init < 0) _exit(kNoNamespace + 1);
    if (init == 0) {
      if (!IsContainerInit()) _exit(kNoNamespace + 2);
      before();
      if (!SplitOffContainerInit(stop_timeout).ok()) _exit(kNoNamespace + 3);
      _exit(application());
    }
    int status;
    while (waitpid(init, &status, 0) < 0) {
      if (errno != EINTR) _exit(kNoNamespace + 4);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
  }
  int status;
  while (waitpid(outer, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ContainerInitTest,
     ApplicationIsPidOnesChildWithItsMaskAndNoSharedDescriptor) {
  static int fds[2];
  const int code = RunInContainer(
      [] {
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        sigprocmask(SIG_BLOCK, &usr1, nullptr);
        if (pipe(fds) != 0) _exit(1);
      },
      [] {
        // Pid 2 as a rule; ThreadSanitizer's helper thread in pid 1 can
        // take that number first.
        if (getpid() == 1) return 2;
        if (getppid() != 1) return 3;
        sigset_t mask;
        sigprocmask(SIG_SETMASK, nullptr, &mask);
        if (sigismember(&mask, SIGUSR1) != 1) return 4;
        if (sigismember(&mask, SIGTERM) != 0) return 5;
        // pid 1 closed its copy of the write end: closing ours is the end.
        close(fds[1]);
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (poll(&pfd, 1, 30000) != 1) return 6;
        char byte;
        if (read(fds[0], &byte, 1) != 0) return 7;
        return 9;
      });
  ASSERT_NE(code, kNoNamespace) << "cannot create a pid namespace here, so "
                                   "the container init is NOT tested";
  EXPECT_EQ(code, 9);
}

int DieOfSigkill() {
  kill(getpid(), SIGKILL);
  return 0;
}

TEST(ContainerInitTest, ADeathBySignalIsExitCode128PlusIt) {
  const int code = RunInContainer([] {}, DieOfSigkill);
  ASSERT_NE(code, kNoNamespace) << "cannot create a pid namespace here";
  EXPECT_EQ(code, 128 + SIGKILL);
}

// Sends pid 1, from inside the namespace where pid 1 has no handler,
// SIGUSR1 (which must come back from pid 1) and then SIGTERM, to which it is
// deaf.
int SignalPidOneAndIgnoreSigterm() {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, nullptr);
  if (kill(1, SIGUSR1) != 0) return 2;
  siginfo_t info;
  if (sigwaitinfo(&usr1, &info) != SIGUSR1) return 3;
  if (info.si_pid != 1) return 4;
  signal(SIGTERM, SIG_IGN);
  if (kill(1, SIGTERM) != 0) return 5;
  for (;;) pause();
}

TEST(ContainerInitTest, ForwardsSignalsAndKillsAfterTheStopTimeout) {
  const int code = RunInContainer([] {}, SignalPidOneAndIgnoreSigterm,
                                  absl::Milliseconds(200));
  ASSERT_NE(code, kNoNamespace) << "cannot create a pid namespace here";
  EXPECT_EQ(code, 128 + SIGKILL);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
