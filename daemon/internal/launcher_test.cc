// Copyright 2026 The daemonkit Authors.
//
// RunLauncher in a real launcher process: a forked child whose own first
// child, like the session leader, starts a session, forks a stand-in daemon
// and reports its pid on the ready pipe. The test then speaks the rest of
// the protocol on the pipe (R, E<text>, end-of-file, nothing) and checks the
// launcher's exit status, its stderr, and what became of the daemon.

#include "daemon/internal/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/options.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

struct LauncherRun {
  int wait_status = 0;
  std::string stderr_text;
  pid_t daemon = 0;  // the stand-in daemon, a child of the test by now
};

std::string TempPath(const std::string& name) {
  return test_support::MakeTempDir(name) + "/" + name;
}

bool WriteAll(int fd, absl::string_view text) {
  return write(fd, text.data(), text.size()) ==
         static_cast<ssize_t>(text.size());
}

// Waits (up to a minute) until `pid` blocks `signo`: its launcher has turned
// that signal into an event.
bool AwaitBlocked(pid_t pid, int signo) {
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> status =
        ReadSmallFile(absl::StrCat("/proc/", pid, "/status"));
    if (!status.ok()) return false;
    const size_t at = status->find("SigBlk:\t");
    if (at != std::string::npos) {
      const uint64_t mask =
          std::strtoull(status->c_str() + at + 8, nullptr, 16);
      if (mask & (1ULL << (signo - 1))) return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

class LauncherTest : public ::testing::Test {
 protected:
  // The stand-in daemon outlives its parent, the first child: as a subreaper
  // the test inherits it and can tell how it ended.
  void SetUp() override { ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }

  // Runs a launcher with `options`; `feed` gets the write end of the ready
  // pipe (the daemon's pid already in it) and the launcher's pid, and
  // returns true to keep the pipe open, silent, until the launcher exits;
  // false closes it at once (end-of-file after what was fed).
  // `hangup_pending`: the launcher starts as Daemonize leaves it, every
  // signal blocked since the fork, with a SIGHUP that came meanwhile.
  LauncherRun Launch(const Options& options,
                     const std::function<bool(int, pid_t)>& feed,
                     bool hangup_pending = false) {
    SCOPED_TRACE("Launch");
    LauncherRun run;
    absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
    EXPECT_TRUE(pipe.ok()) << pipe.status();
    int info[2];
    EXPECT_EQ(pipe2(info, O_CLOEXEC), 0);
    const std::string err_path = TempPath("launcher_stderr");
    const pid_t launcher = fork();
    if (launcher == 0) {
      const int err = open(err_path.c_str(),
                           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (err < 0 || dup2(err, 2) != 2) _exit(100);
      close(info[0]);
      const pid_t first_child = fork();
      if (first_child == 0) {
        if (setsid() < 0) _exit(101);
        const pid_t daemon = fork();
        if (daemon == 0) {
          close(pipe->write_fd);
          close(info[1]);
          for (;;) pause();
        }
        // The pid message first: what the test feeds must come after it.
        if (daemon < 0 ||
            !WriteAll(pipe->write_fd, absl::StrCat("P", daemon, "\n")) ||
            !WriteAll(info[1], absl::StrCat(daemon))) {
          _exit(102);
        }
        _exit(0);
      }
      close(info[1]);
      if (hangup_pending) {
        sigset_t all;
        sigfillset(&all);
        if (sigprocmask(SIG_BLOCK, &all, nullptr) != 0 || raise(SIGHUP) != 0) {
          _exit(103);
        }
      }
      RunLauncher(first_child, *pipe, options, std::nullopt, OutputFiles());
    }
    EXPECT_GT(launcher, 0);
    close(pipe->read_fd);
    close(info[1]);
    char buffer[32] = {};
    const ssize_t n = read(info[0], buffer, sizeof(buffer) - 1);
    close(info[0]);
    EXPECT_GT(n, 0);
    run.daemon = std::atoi(buffer);
    EXPECT_GT(run.daemon, 0);
    const bool hold_open = feed(pipe->write_fd, launcher);
    if (!hold_open) close(pipe->write_fd);
    run.wait_status = test_support::ReapChild(launcher);
    if (hold_open) close(pipe->write_fd);
    absl::StatusOr<std::string> text = ReadSmallFile(err_path);
    if (text.ok()) run.stderr_text = *text;
    unlink(err_path.c_str());
    return run;
  }

  // Whether the stand-in daemon still runs; reaps it either way (killing it
  // first when it runs) and stores how it ended.
  bool DaemonRanAndReap(pid_t daemon, int* wait_status) {
    absl::StatusOr<ProcStat> stat = ReadProcStat(daemon);
    const bool running = stat.ok() && stat->running();
    if (running) kill(daemon, SIGKILL);
    *wait_status = test_support::ReapChild(daemon);
    return running;
  }

  // A failed start: exit 1, `message` on stderr, and the daemon killed.
  void ExpectFailedStart(const LauncherRun& run, absl::string_view message) {
    SCOPED_TRACE("ExpectFailedStart");
    EXPECT_TRUE(WIFEXITED(run.wait_status) &&
                WEXITSTATUS(run.wait_status) == kExitFailure)
        << run.wait_status;
    EXPECT_TRUE(absl::StrContains(run.stderr_text, message)) << run.stderr_text;
    ExpectDaemonKilled(run.daemon);
  }

  // The launcher ended the start: the stand-in daemon died of SIGKILL.
  void ExpectDaemonKilled(pid_t daemon) {
    int daemon_status = 0;
    EXPECT_FALSE(DaemonRanAndReap(daemon, &daemon_status));
    EXPECT_TRUE(WIFSIGNALED(daemon_status) &&
                WTERMSIG(daemon_status) == SIGKILL)
        << daemon_status;
  }
};

TEST_F(LauncherTest, ReadyExitsZeroAndLeavesTheDaemonRunning) {
  Options options;
  options.ready_message = "";
  LauncherRun run = Launch(options, [](int fd, pid_t) {
    EXPECT_TRUE(WriteAll(fd, "R\n"));
    return false;
  });
  ASSERT_TRUE(WIFEXITED(run.wait_status)) << run.wait_status;
  EXPECT_EQ(WEXITSTATUS(run.wait_status), kExitSuccess) << run.stderr_text;
  EXPECT_EQ(run.stderr_text, "");
  int daemon_status = 0;
  EXPECT_TRUE(DaemonRanAndReap(run.daemon, &daemon_status));
}

TEST_F(LauncherTest, DaemonErrorIsPrintedAndTheDaemonEnded) {
  Options options;
  options.stop_timeout = absl::Milliseconds(100);
  LauncherRun run = Launch(options, [](int fd, pid_t) {
    EXPECT_TRUE(WriteAll(fd, "Eopen /nonexistent/out: No such file"));
    return false;
  });
  ExpectFailedStart(run, ": open /nonexistent/out: No such file\n");
}

TEST_F(LauncherTest, EndOfFileWithoutReadyIsADeathAndEndsTheSession) {
  Options options;
  const std::string err =
      test_support::MakeTempDir("launcher_died") + "/example.err";
  ASSERT_TRUE(test_support::WriteFile(err, "E cannot bind\n"));
  options.stderr_path = err;
  LauncherRun run = Launch(options, [](int, pid_t) { return false; });
  ExpectFailedStart(
      run, "the daemon exited before it was ready (its stderr: " + err + ")\n");
}

// An empty stderr file says nothing, and one the start made is removed
// with the failed start: the error names no such file (the attack of
// stop 33 was sent to a file gone by then).
TEST_F(LauncherTest, ADeathWithAnEmptyStderrNamesNoFile) {
  Options options;
  const std::string err =
      test_support::MakeTempDir("launcher_died_silent") + "/example.err";
  ASSERT_TRUE(test_support::WriteFile(err, ""));
  options.stderr_path = err;
  LauncherRun run = Launch(options, [](int, pid_t) { return false; });
  ExpectFailedStart(run, "the daemon exited before it was ready\n");
}

TEST_F(LauncherTest, TimeoutKillsTheDaemon) {
  Options options;
  options.ready_timeout = absl::Milliseconds(300);
  LauncherRun run = Launch(options, [](int, pid_t) { return true; });
  ExpectFailedStart(run, "the daemon was not ready within 300ms; killed it\n");
}

TEST_F(LauncherTest, InterruptEndsTheStartThenDiesOfTheSignal) {
  Options options;
  LauncherRun run = Launch(options, [](int, pid_t launcher) {
    EXPECT_TRUE(AwaitBlocked(launcher, SIGTERM));
    EXPECT_EQ(kill(launcher, SIGTERM), 0);
    return true;
  });
  // It dies of the signal, as it would have without the clean-up.
  EXPECT_TRUE(WIFSIGNALED(run.wait_status) &&
              WTERMSIG(run.wait_status) == SIGTERM)
      << run.wait_status;
  EXPECT_TRUE(absl::StrContains(
      run.stderr_text,
      "interrupted by SIGTERM before the daemon was ready; stopped it\n"))
      << run.stderr_text;
  ExpectDaemonKilled(run.daemon);
}

// A SIGHUP (a closed terminal) between the fork and the launcher's
// signalfd: pending, since every signal is blocked across the fork. The
// launcher used to unblock them all before it made its signalfd, and died
// of the signal's default action there, silent, the start not ended
// (interrupted_start_test saw it once under load).
TEST_F(LauncherTest, AHangupRightAfterTheForkIsAnInterruptToo) {
  Options options;
  LauncherRun run = Launch(
      options, [](int, pid_t) { return true; }, /*hangup_pending=*/true);
  EXPECT_TRUE(WIFSIGNALED(run.wait_status) &&
              WTERMSIG(run.wait_status) == SIGHUP)
      << run.wait_status;
  EXPECT_TRUE(absl::StrContains(
      run.stderr_text,
      "interrupted by SIGHUP before the daemon was ready; stopped it\n"))
      << run.stderr_text;
  ExpectDaemonKilled(run.daemon);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
