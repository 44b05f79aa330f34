// Copyright 2026 The daemonkit Authors.
//
// A worker's life as the supervisor sees it (supervisor_worker.cc), with a
// real supervisor: Supervise() runs in a forked child, whose workers (each
// a real forked process) follow a script. The restart limit bounds how many
// workers each test forks; a test that outlives its bound kills the
// supervisor, whose workers die with it (PR_SET_PDEATHSIG).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/worker.h"
#include "daemon/options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

// What one supervisor run came to.
struct Outcome {
  int wait_status = -1;        // the supervisor's
  std::string launcher;        // what its launcher's pipe carried
  std::vector<pid_t> workers;  // each worker's pid, in order
};

class SupervisorWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("supervisor_worker");
    log_ = dir_ + "/workers";
    options_.restart_delay = absl::Milliseconds(1);
    options_.restart_max_delay = absl::Milliseconds(1);
    options_.restart_reset_after = absl::Seconds(60);
    options_.restart_limit = 2;  // at most 3 workers per test
    options_.stop_timeout = absl::Seconds(2);
  }

  // Runs a supervisor with options_ in a forked child; each of its workers
  // writes its pid to the log, then runs `script` and exits with what it
  // returns.
  Outcome Supervise(const std::function<int(Worker&)>& script) {
    Outcome outcome;
    int pipe_fds[2];
    EXPECT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd launcher_read(pipe_fds[0]);
    UniqueFd launcher_write(pipe_fds[1]);
    const pid_t supervisor = fork();
    EXPECT_GE(supervisor, 0);
    if (supervisor == 0) {
      launcher_read.reset();
      absl::StatusOr<int> signal_fd = SignalPipe::Install();
      if (!signal_fd.ok() || !UnblockAllSignals().ok()) _exit(90);
      std::optional<PidFile> pidfile;
      std::optional<PidFile> worker_pidfile;
      OutputFiles outputs;
      ReadyReporter launcher(launcher_write.release());
      Notifier notifier;
      Worker worker =
          internal::Supervise(options_, {&pidfile, &worker_pidfile, &outputs,
                                         &launcher, &notifier, *signal_fd});
      // In a worker, from here on.
      const int log = open(log_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
      const std::string line = absl::StrCat(getpid(), "\n");
      if (log < 0 || write(log, line.data(), line.size()) !=
                         static_cast<ssize_t>(line.size())) {
        _exit(91);
      }
      _exit(script(worker));
    }
    launcher_write.reset();
    // Bounded: a supervisor still running after 30 s is killed.
    int status = 0;
    const bool ended = test_support::WaitFor(
        [&] { return waitpid(supervisor, &status, WNOHANG) == supervisor; });
    if (!ended) {
      ADD_FAILURE() << "the supervisor did not exit";
      KillNow(supervisor);
      waitpid(supervisor, &status, 0);
    }
    outcome.wait_status = status;
    char buffer[512];
    ssize_t n;
    while ((n = read(launcher_read.get(), buffer, sizeof(buffer))) > 0) {
      outcome.launcher.append(buffer, static_cast<size_t>(n));
    }
    for (absl::string_view word : absl::StrSplit(
             test_support::ReadFileOrEmpty(log_), '\n', absl::SkipEmpty())) {
      pid_t pid;
      if (absl::SimpleAtoi(word, &pid)) outcome.workers.push_back(pid);
    }
    return outcome;
  }

  static int ReadyThenExit(Worker& worker, int code) {
    if (!worker.to_supervisor.ReportReady()) return 92;
    return code;
  }

  std::string dir_, log_;
  Options options_;
};

TEST_F(SupervisorWorkerTest, AFirstWorkerEndingBeforeReadyFailsTheStart) {
  options_.restart = RestartPolicy::kAlways;
  const Outcome outcome = Supervise([](Worker&) { return 3; });
  ASSERT_TRUE(WIFEXITED(outcome.wait_status)) << outcome.wait_status;
  EXPECT_EQ(WEXITSTATUS(outcome.wait_status), kExitFailure);
  EXPECT_EQ(outcome.workers.size(), 1u);
  ReadyDecoder decoder;
  decoder.Append(outcome.launcher);
  EXPECT_FALSE(decoder.Next().has_value());
  EXPECT_THAT(decoder.ErrorAtEnd().value_or(""),
              HasSubstr("the worker ended with exit code 3 before it was "
                        "ready"));
}

TEST_F(SupervisorWorkerTest, RestartsUpToTheLimitThenGivesUp) {
  options_.restart = RestartPolicy::kAlways;
  const Outcome outcome =
      Supervise([](Worker& worker) { return ReadyThenExit(worker, 3); });
  ASSERT_TRUE(WIFEXITED(outcome.wait_status)) << outcome.wait_status;
  EXPECT_EQ(WEXITSTATUS(outcome.wait_status), kExitFailure);
  // The first worker, then a restart for each of the 2 the limit allows;
  // the third end within the window is one too many.
  EXPECT_EQ(outcome.workers.size(), 3u);
  ReadyDecoder decoder;
  decoder.Append(outcome.launcher);
  std::optional<ReadyDecoder::Message> message = decoder.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->kind, ReadyDecoder::Message::Kind::kReady);
}

TEST_F(SupervisorWorkerTest, ACleanEndUnderOnFailureIsTheSupervisorsToo) {
  options_.restart = RestartPolicy::kOnFailure;
  const Outcome outcome =
      Supervise([](Worker& worker) { return ReadyThenExit(worker, 0); });
  ASSERT_TRUE(WIFEXITED(outcome.wait_status)) << outcome.wait_status;
  EXPECT_EQ(WEXITSTATUS(outcome.wait_status), 0);
  EXPECT_EQ(outcome.workers.size(), 1u);
}

TEST_F(SupervisorWorkerTest, AWorkerKilledBySignalExitsWith128PlusIt) {
  // SIGTERM is a stop, not a failure: on-failure does not restart it, and
  // the supervisor's code says how the worker ended.
  options_.restart = RestartPolicy::kOnFailure;
  const Outcome outcome = Supervise([](Worker& worker) {
    if (!worker.to_supervisor.ReportReady()) return 92;
    signal(SIGTERM, SIG_DFL);
    raise(SIGTERM);
    return 93;
  });
  ASSERT_TRUE(WIFEXITED(outcome.wait_status)) << outcome.wait_status;
  EXPECT_EQ(WEXITSTATUS(outcome.wait_status), 128 + SIGTERM);
  EXPECT_EQ(outcome.workers.size(), 1u);
}

TEST_F(SupervisorWorkerTest, WhatAWorkerLeftBehindEndsWithIt) {
  options_.restart = RestartPolicy::kNo;
  const std::string helper_file = dir_ + "/helper";
  const Outcome outcome = Supervise([&helper_file](Worker& worker) {
    // One helper in a session of its own, out of the worker's group: only
    // the supervisor, its subreaper, can still find it.
    const pid_t helper = fork();
    if (helper == 0) {
      (void)setsid();
      for (;;) pause();
    }
    if (helper < 0) return 94;
    const std::string pid = absl::StrCat(helper);
    const int fd = open(helper_file.c_str(), O_WRONLY | O_CREAT, 0600);
    if (fd < 0 ||
        write(fd, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) {
      return 95;
    }
    return ReadyThenExit(worker, 0);
  });
  ASSERT_TRUE(WIFEXITED(outcome.wait_status)) << outcome.wait_status;
  EXPECT_EQ(WEXITSTATUS(outcome.wait_status), 0);
  pid_t helper = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(test_support::ReadFileOrEmpty(helper_file), &helper));
  // Killed and reaped by the supervisor before it exited.
  EXPECT_EQ(kill(helper, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
