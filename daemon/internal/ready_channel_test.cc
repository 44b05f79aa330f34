// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/ready_channel.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// Forks a stand-in daemon that runs `act` with the reporter, and returns the
// launcher's view of it.
template <typename Act>
ReadyOutcome Launch(Act act, absl::Duration timeout,
                    pid_t* child_out = nullptr) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  EXPECT_TRUE(pipe.ok());
  pid_t child = fork();
  if (child == 0) {
    close(pipe->read_fd);
    ReadyReporter reporter(pipe->write_fd);
    act(reporter);
    _exit(0);
  }
  close(pipe->write_fd);
  ReadyOutcome outcome = AwaitReady(pipe->read_fd, timeout);
  close(pipe->read_fd);
  if (child_out != nullptr) {
    *child_out = child;
  } else {
    waitpid(child, nullptr, 0);
  }
  if (outcome.daemon_pidfd >= 0) close(outcome.daemon_pidfd);
  return outcome;
}

TEST(AwaitReadyTest, ReadyAfterThePid) {
  pid_t child = 0;
  ReadyOutcome outcome = Launch(
      [](ReadyReporter& r) {
        r.ReportPid(getpid());
        if (!r.ReportReady()) _exit(1);
      },
      absl::Seconds(30), &child);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kReady);
  EXPECT_EQ(outcome.daemon_pid, child);
}

// A daemon ready at once can beat its first child's pid report into the
// pipe (session_leader_test saw it in CI): the report, already in the pipe
// when the launcher reads the ready message, is taken too.
TEST(AwaitReadyTest, APidReportBehindTheReadyMessageIsTaken) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  {
    ReadyReporter daemon(dup(pipe->write_fd));
    ReadyReporter first_child(pipe->write_fd);
    ASSERT_TRUE(daemon.ReportReady());
    first_child.ReportPid(getpid());
  }
  ReadyOutcome outcome =
      AwaitReady(pipe->read_fd, Deadline::In(absl::Seconds(30)));
  close(pipe->read_fd);
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kReady);
  EXPECT_EQ(outcome.daemon_pid, getpid());
  if (outcome.daemon_pidfd >= 0) close(outcome.daemon_pidfd);
}

TEST(AwaitReadyTest, AReadableCancelDescriptorInterruptsTheWait) {
  int pipe_fds[2], cancel[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(cancel, O_CLOEXEC), 0);
  ASSERT_EQ(write(cancel[1], "x", 1), 1);
  ReadyOutcome outcome =
      AwaitReady(pipe_fds[0], Deadline::In(absl::Seconds(30)), cancel[0]);
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kInterrupted);
  for (int fd : {pipe_fds[0], pipe_fds[1], cancel[0], cancel[1]}) close(fd);
}

// A launcher that is gone (SIGKILLed) leaves the pipe without a reader: the
// daemon learns it from ReportReady, and must not stay (see Daemon).
TEST(ReadyReporterTest, ReportReadySaysWhenNobodyListens) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  close(fds[0]);
  // SIGPIPE is caught by the daemon's handlers; here it is ignored for the
  // test's own process, so the write fails with EPIPE either way.
  struct sigaction ignore = {}, old;
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &old), 0);
  ReadyReporter gone(fds[1]);
  EXPECT_FALSE(gone.ReportReady());
  ASSERT_EQ(sigaction(SIGPIPE, &old, nullptr), 0);

  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ReadyReporter heard(fds[1]);
  EXPECT_TRUE(heard.ReportReady());
  char buffer[4];
  EXPECT_EQ(read(fds[0], buffer, sizeof(buffer)), 2);
  close(fds[0]);
  EXPECT_TRUE(ReadyReporter().ReportReady()) << "no launcher: nothing to tell";
}

TEST(ReadyReporterTest, ReaderGoneOnceTheLastReaderClosed) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ReadyReporter reporter(fds[1]);
  EXPECT_FALSE(reporter.ReaderGone()) << "the launcher still reads";
  close(fds[0]);
  EXPECT_TRUE(reporter.ReaderGone());
  reporter.Close();
  EXPECT_FALSE(reporter.ReaderGone()) << "nothing pending any more";
}

TEST(AwaitReadyTest, CarriesTheDaemonsErrorMessage) {
  ReadyOutcome outcome = Launch(
      [](ReadyReporter& r) {
        r.ReportPid(getpid());
        r.ReportError("chdir /nowhere: No such file or directory");
      },
      absl::Seconds(30));
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kFailed);
  EXPECT_EQ(outcome.message, "chdir /nowhere: No such file or directory");
}

TEST(AwaitReadyTest, EndOfFileWithoutAWordIsADeath) {
  ReadyOutcome outcome = Launch([](ReadyReporter& r) { r.ReportPid(getpid()); },
                                absl::Seconds(30));
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kDied);
}

TEST(AwaitReadyTest, SilenceIsATimeout) {
  pid_t child = 0;
  ReadyOutcome outcome = Launch(
      [](ReadyReporter& r) {
        r.ReportPid(getpid());
        for (;;) pause();
      },
      absl::Milliseconds(100), &child);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kTimedOut);
  EXPECT_EQ(outcome.daemon_pid, child);
}

// The race: a ready timeout of 2 ms passed while the daemon's pid sat
// unread in the pipe, so only the first child was killed. What is in the
// pipe at the deadline counts.
TEST(AwaitReadyTest, WhatArrivedBeforeTheDeadlineIsReadFirst) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok());
  const std::string pid_message = absl::StrCat("P", getpid(), "\n");
  ASSERT_EQ(write(pipe->write_fd, pid_message.data(), pid_message.size()),
            static_cast<ssize_t>(pid_message.size()));
  ReadyOutcome outcome =
      AwaitReady(pipe->read_fd, Deadline::In(absl::ZeroDuration()));
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kTimedOut);
  EXPECT_EQ(outcome.daemon_pid, getpid());
  EXPECT_GE(outcome.daemon_pidfd, 0);
  if (outcome.daemon_pidfd >= 0) close(outcome.daemon_pidfd);

  ASSERT_EQ(write(pipe->write_fd, "R\n", 2), 2);
  outcome = AwaitReady(pipe->read_fd, Deadline::In(absl::ZeroDuration()));
  EXPECT_EQ(outcome.kind, ReadyOutcome::Kind::kReady);
  close(pipe->read_fd);
  close(pipe->write_fd);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
