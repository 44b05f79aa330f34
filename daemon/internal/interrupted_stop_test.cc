// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/interrupted_stop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// What a forked child printed on stderr and how it ended.
struct ChildEnd {
  std::string stderr_text;
  int wait_status = 0;
};

// Runs `body` in a forked child whose stderr is a pipe, and returns what it
// wrote there and how it ended (the child exits 0 when `body` returns).
template <typename Body>
ChildEnd RunInChild(Body body) {
  ChildEnd end;
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: errno " << errno;
    return end;
  }
  const pid_t child = fork();
  if (child == 0) {
    dup2(ends[1], STDERR_FILENO);
    body();
    _exit(0);
  }
  close(ends[1]);
  if (child < 0) {
    ADD_FAILURE() << "fork: errno " << errno;
    close(ends[0]);
    return end;
  }
  char buffer[1024];
  for (;;) {
    const ssize_t n = read(ends[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    end.stderr_text.append(buffer, static_cast<size_t>(n));
  }
  close(ends[0]);
  while (waitpid(child, &end.wait_status, 0) < 0 && errno == EINTR) {
  }
  return end;
}

TEST(InterruptedStopTest, TheMessageNamesThePidAndThePidFile) {
  const std::string program = program_invocation_short_name;
  EXPECT_EQ(StopInterruptedMessage(42, " (pid file /run/t.pid)"),
            "\n" + program +
                ": stop interrupted: the daemon, pid 42, may still be running"
                " (pid file /run/t.pid)\n");
  EXPECT_EQ(
      StopInterruptedMessage(0, ""),
      "\n" + program + ": stop interrupted: the daemon may still be running\n");
}

TEST(InterruptedStopTest, EachStopSignalPrintsTheLineThenEndsByThatSignal) {
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    SCOPED_TRACE(strsignal(signal_number));
    const ChildEnd end = RunInChild([signal_number] {
      // SIGQUIT's default action dumps core: none into the test's directory.
      const struct rlimit no_core = {0, 0};
      setrlimit(RLIMIT_CORE, &no_core);
      SayIfStopIsInterrupted notice("stop interrupted: pid 7\n");
      raise(signal_number);
      _exit(3);  // not reached: the signal's default action ends it
    });
    EXPECT_EQ(end.stderr_text, "stop interrupted: pid 7\n");
    ASSERT_TRUE(WIFSIGNALED(end.wait_status)) << end.wait_status;
    EXPECT_EQ(WTERMSIG(end.wait_status), signal_number)
        << "the shell must see the signal (130 for Ctrl-C), not an exit";
  }
}

TEST(InterruptedStopTest, AnIgnoredSignalStaysIgnored) {
  const ChildEnd end = RunInChild([] {
    signal(SIGHUP, SIG_IGN);  // nohup
    SayIfStopIsInterrupted notice("stop interrupted\n");
    raise(SIGHUP);
    _exit(5);
  });
  EXPECT_EQ(end.stderr_text, "");
  ASSERT_TRUE(WIFEXITED(end.wait_status)) << end.wait_status;
  EXPECT_EQ(WEXITSTATUS(end.wait_status), 5);
}

TEST(InterruptedStopTest, TheEarlierDispositionsComeBackAtTheEndOfScope) {
  const ChildEnd end = RunInChild([] {
    signal(SIGTERM, SIG_IGN);
    { SayIfStopIsInterrupted notice("stop interrupted\n"); }
    struct sigaction now = {};
    sigaction(SIGINT, nullptr, &now);
    if (now.sa_handler != SIG_DFL) _exit(10);
    sigaction(SIGTERM, nullptr, &now);
    if (now.sa_handler != SIG_IGN) _exit(11);
    raise(SIGINT);  // the default action again: no line
    _exit(12);
  });
  EXPECT_EQ(end.stderr_text, "");
  ASSERT_TRUE(WIFSIGNALED(end.wait_status))
      << "exit " << WEXITSTATUS(end.wait_status);
  EXPECT_EQ(WTERMSIG(end.wait_status), SIGINT);
}

TEST(InterruptedStopTest, AVeryLongMessageIsCutAt8KiB) {
  const ChildEnd end = RunInChild([] {
    SayIfStopIsInterrupted notice(std::string(20000, 'x'));
    raise(SIGTERM);
  });
  EXPECT_EQ(end.stderr_text, std::string(8192, 'x'));
  EXPECT_TRUE(WIFSIGNALED(end.wait_status));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
