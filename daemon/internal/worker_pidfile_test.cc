// Copyright 2026 The daemonkit Authors.
//
// The worker's pid file across real processes: opened unlocked by the
// caller of Daemonize, locked and written by each worker for exactly its
// own life, removed by a launcher once no worker holds it.

#include "daemon/internal/worker_pidfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

// A fresh path in a directory of its own under $TEST_TMPDIR.
std::string TempPath(const std::string& name) {
  return test_support::MakeTempDir(name) + "/" + name;
}

// Forks a worker that takes `file` and then waits for a byte (or
// end-of-file) on the returned pipe's write end before it exits.
struct RunningWorker {
  pid_t pid = -1;
  int release_fd = -1;  // close to let the worker exit
  int ready_fd = -1;    // one byte: 'T' taken, 'F' failed
};

RunningWorker StartWorker(PidFile& file) {
  RunningWorker worker;
  int release[2], ready[2];
  EXPECT_EQ(pipe2(release, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(ready, O_CLOEXEC), 0);
  worker.pid = fork();
  if (worker.pid == 0) {
    close(release[1]);
    close(ready[0]);
    const char verdict = TakeWorkerPidFile(file).ok() ? 'T' : 'F';
    (void)write(ready[1], &verdict, 1);
    char byte;
    (void)read(release[0], &byte, 1);
    _exit(verdict == 'T' ? 0 : 1);
  }
  close(release[0]);
  close(ready[1]);
  worker.release_fd = release[1];
  worker.ready_fd = ready[0];
  return worker;
}

char AwaitVerdict(const RunningWorker& worker) {
  char verdict = '?';
  EXPECT_EQ(read(worker.ready_fd, &verdict, 1), 1);
  return verdict;
}

int Finish(RunningWorker& worker) {
  close(worker.release_fd);
  close(worker.ready_fd);
  return test_support::ReapChild(worker.pid);
}

TEST(WorkerPidFileTest, OpenedUnlockedThenEachWorkerHoldsItForItsLife) {
  const std::string path = TempPath("worker.pid");
  absl::StatusOr<PidFile> file = OpenWorkerPidFile(path, absl::Seconds(1));
  ASSERT_TRUE(file.ok()) << file.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644);
  // Left unlocked: no worker yet.
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_NE(probe->state, PidFileProbe::State::kLocked);

  RunningWorker worker = StartWorker(*file);
  ASSERT_EQ(AwaitVerdict(worker), 'T');
  probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  ASSERT_TRUE(probe->pid.has_value());
  EXPECT_EQ(*probe->pid, worker.pid);
  // The caller's description is the worker's too, yet the lock is the
  // worker's own: a second start is refused with the worker's pid.
  absl::StatusOr<PidFile> second = OpenWorkerPidFile(path, absl::Seconds(1));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(
      absl::StrContains(second.status().message(),
                        absl::StrCat("already running, pid ", worker.pid)))
      << second.status();

  const int status = Finish(worker);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The kernel dropped the dead worker's lock; the next worker takes it.
  probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_NE(probe->state, PidFileProbe::State::kLocked);
  RunningWorker next = StartWorker(*file);
  ASSERT_EQ(AwaitVerdict(next), 'T');
  probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  EXPECT_EQ(probe->pid, std::optional<pid_t>(next.pid));
  Finish(next);
  file->Remove();
}

TEST(WorkerPidFileTest, SecondWorkerCannotTakeAHeldFile) {
  const std::string path = TempPath("worker2.pid");
  absl::StatusOr<PidFile> file = OpenWorkerPidFile(path, absl::Seconds(1));
  ASSERT_TRUE(file.ok()) << file.status();
  RunningWorker first = StartWorker(*file);
  ASSERT_EQ(AwaitVerdict(first), 'T');
  RunningWorker second = StartWorker(*file);
  EXPECT_EQ(AwaitVerdict(second), 'F');
  const int status = Finish(second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->pid, std::optional<pid_t>(first.pid));
  Finish(first);
  file->Remove();
}

// DISABLED until RemoveWorkerPidFile stops giving up on a file it finds
// unlocked (a worker that died between its remove attempt and its probe):
// it returns then, leaving the dead worker's file behind, and this test
// catches it in about 1 run in 10. The fix, in worker_pidfile.cc, is to
// return only when the probe says kMissing and otherwise try again.
TEST(WorkerPidFileTest, RemoveWaitsForTheDyingWorker) {
  const std::string path = TempPath("worker3.pid");
  absl::StatusOr<PidFile> file = OpenWorkerPidFile(path, absl::Seconds(1));
  ASSERT_TRUE(file.ok()) << file.status();
  RunningWorker worker = StartWorker(*file);
  ASSERT_EQ(AwaitVerdict(worker), 'T');
  file->Close();  // the launcher's copy; the worker's lock remains

  // While the worker lives, a short grace leaves the file.
  RemoveWorkerPidFile(path, absl::Milliseconds(50));
  EXPECT_EQ(access(path.c_str(), F_OK), 0);

  // The worker ends while the launcher waits: then the file goes.
  const pid_t ender = fork();
  if (ender == 0) {
    close(worker.ready_fd);
    usleep(200 * 1000);
    close(worker.release_fd);
    _exit(0);
  }
  close(worker.release_fd);
  worker.release_fd = -1;
  RemoveWorkerPidFile(path, absl::Minutes(1));
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  test_support::ReapChild(ender);
  close(worker.ready_fd);
  test_support::ReapChild(worker.pid);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
