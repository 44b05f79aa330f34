// Copyright 2026 The daemonkit Authors.
//
// BecomeWorker in real processes: a stand-in supervisor forks the worker,
// which must die with its supervisor, refuse to run for a supervisor that
// is not its parent, hold its pid file, and get a self-pipe of its own.

#include "daemon/internal/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/worker_pidfile.h"
#include "daemon/options.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

// A fresh path in a directory of its own under $TEST_TMPDIR.
std::string TempPath(const std::string& name) {
  return test_support::MakeTempDir(name) + "/" + name;
}

class WorkerTest : public ::testing::Test {
 protected:
  // A worker outlives its stand-in supervisor: the test inherits and reaps
  // it.
  void SetUp() override { ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); }
};

TEST_F(WorkerTest, HoldsItsPidFileAndDiesWithItsSupervisor) {
  const std::string path = TempPath("worker.pid");
  absl::StatusOr<PidFile> opened = OpenWorkerPidFile(path, absl::Seconds(1));
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::optional<PidFile> worker_pidfile(std::move(*opened));
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();

  const pid_t supervisor = fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    const pid_t self = getpid();
    const pid_t worker = fork();
    if (worker == 0) {
      close(pipe->read_fd);
      Worker w =
          BecomeWorker(self, pipe->write_fd, -1, std::nullopt, worker_pidfile);
      if (w.pidfile_fd < 0 || worker_pidfile.has_value()) _exit(6);
      if (!w.to_supervisor.ReportReady()) _exit(7);
      for (;;) pause();
    }
    for (;;) pause();
  }
  close(pipe->write_fd);
  worker_pidfile->Close();
  ReadyOutcome outcome = AwaitReady(pipe->read_fd, absl::Minutes(1));
  close(pipe->read_fd);
  ASSERT_EQ(outcome.kind, ReadyOutcome::Kind::kReady) << outcome.message;

  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  ASSERT_TRUE(probe->pid.has_value());
  const pid_t worker = *probe->pid;
  absl::StatusOr<ProcStat> stat = ReadProcStat(worker);
  ASSERT_TRUE(stat.ok()) << stat.status();
  pid_t parent = 0;
  ASSERT_TRUE(stat->ParseField(ProcStat::kPpid, &parent));
  ASSERT_EQ(parent, supervisor);

  kill(supervisor, SIGKILL);
  test_support::ReapChild(supervisor);
  // PR_SET_PDEATHSIG: the orphan is killed, and the test, its new parent,
  // reaps it. One that lives on is killed here, after a generous wait.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (;;) {
    absl::StatusOr<ProcStat> now = ReadProcStat(worker);
    if (!now.ok() || !now->running()) break;
    if (absl::Now() >= deadline) {
      ADD_FAILURE() << "the worker outlived its supervisor";
      kill(worker, SIGKILL);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  const int status = test_support::ReapChild(worker);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_NE(probe->state, PidFileProbe::State::kLocked);
  unlink(path.c_str());
}

TEST_F(WorkerTest, RefusesASupervisorThatIsNotItsParent) {
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  std::optional<PidFile> none;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe->read_fd);
    // Its own pid is never its parent's.
    BecomeWorker(getpid(), pipe->write_fd, -1, std::nullopt, none);
    _exit(0);
  }
  close(pipe->write_fd);
  close(pipe->read_fd);
  const int status = test_support::ReapChild(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == kExitFailure)
      << status;
}

TEST_F(WorkerTest, SignalsGoToTheWorkersOwnPipe) {
  // The supervisor's self-pipe, inherited by the worker.
  absl::StatusOr<int> inherited = SignalPipe::Install();
  ASSERT_TRUE(inherited.ok()) << inherited.status();
  absl::StatusOr<ReadyPipe> pipe = CreateReadyPipe();
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  std::optional<PidFile> none;
  const int parent_pipe = *inherited;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe->read_fd);
    Worker w = BecomeWorker(getppid(), pipe->write_fd, -1, std::nullopt, none);
    if (w.signal_fd < 0) _exit(8);
    raise(SIGTERM);  // routed, not fatal
    struct pollfd p = {w.signal_fd, POLLIN, 0};
    if (poll(&p, 1, 60 * 1000) != 1) _exit(9);
    // The inherited pipe is closed in the worker: the parent's stays quiet.
    if (fcntl(parent_pipe, F_GETFD) >= 0 && parent_pipe != w.signal_fd) {
      _exit(10);
    }
    _exit(0);
  }
  close(pipe->write_fd);
  close(pipe->read_fd);
  const int status = test_support::ReapChild(child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  struct pollfd p = {parent_pipe, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
