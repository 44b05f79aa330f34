// Copyright 2026 The daemonkit Authors.
//
// The supervisor's pieces that need no daemon: which worker notifications
// reach systemd, and the worker pid file's lock,
// which each worker holds for its own life only although all of them share
// the one descriptor the launcher opened.

#include "daemon/internal/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

// Attack finding 5: the supervisor's own STATUS= must not overwrite the
// worker's; the state records that the worker has spoken.
TEST(RelayedNotificationTest, RecordsTheWorkersOwnStatus) {
  RelayState state;
  EXPECT_EQ(RelayedNotification("WATCHDOG=1", RestartMode::kAlways, &state),
            "WATCHDOG=1");
  EXPECT_FALSE(state.worker_status);
  EXPECT_EQ(RelayedNotification("ERRNO=5\nSTATUS=warming up",
                                RestartMode::kAlways, &state),
            "ERRNO=5\nSTATUS=warming up");
  EXPECT_TRUE(state.worker_status);
}

TEST(RelayedNotificationTest, PassesStatusAndWatchdogDropsMainPid) {
  RelayState state;
  EXPECT_EQ(RelayedNotification("STATUS=busy", RestartMode::kAlways, &state),
            "STATUS=busy");
  EXPECT_EQ(RelayedNotification("WATCHDOG=1", RestartMode::kAlways, &state),
            "WATCHDOG=1");
  // Issue 18.3: only whole documented assignments; nothing that changes how
  // systemd watches the service.
  EXPECT_EQ(RelayedNotification("WATCHDOG=trigger\nWATCHDOG_USEC=5000000\n"
                                "EXTEND_TIMEOUT_USEC=999999999",
                                RestartMode::kAlways, &state),
            "");
  EXPECT_EQ(RelayedNotification("WATCHDOG=1x\nREADY=1 \nRELOADING=10",
                                RestartMode::kAlways, &state),
            "");
  EXPECT_EQ(RelayedNotification("ERRNO=5x\nMONOTONIC_USEC=\nERRNO=5",
                                RestartMode::kAlways, &state),
            "ERRNO=5");
  EXPECT_EQ(RelayedNotification(absl::string_view("STATUS=a\0b\nSTATUS=c", 19),
                                RestartMode::kAlways, &state),
            "STATUS=c");
  // The supervisor is the main process; a worker cannot point systemd at
  // another one, nor hand it descriptors.
  EXPECT_EQ(RelayedNotification("MAINPID=1", RestartMode::kAlways, &state), "");
  EXPECT_EQ(RelayedNotification("FDSTORE=1\nFDNAME=x\nSTATUS=up",
                                RestartMode::kAlways, &state),
            "STATUS=up");
  EXPECT_EQ(RelayedNotification("STATUS=failed\nERRNO=98", RestartMode::kAlways,
                                &state),
            "STATUS=failed\nERRNO=98");
}

TEST(RelayedNotificationTest, ReadyOnlyEndsAReload) {
  RelayState state;
  // The first readiness is the supervisor's to announce.
  EXPECT_EQ(
      RelayedNotification("READY=1\nMAINPID=42", RestartMode::kAlways, &state),
      "");
  EXPECT_EQ(RelayedNotification("RELOADING=1\nMONOTONIC_USEC=123",
                                RestartMode::kAlways, &state),
            "RELOADING=1\nMONOTONIC_USEC=123");
  EXPECT_EQ(RelayedNotification("READY=1", RestartMode::kAlways, &state),
            "READY=1");
  EXPECT_EQ(RelayedNotification("READY=1", RestartMode::kAlways, &state), "");
}

TEST(RelayedNotificationTest, StoppingOnceAndNotWhenTheWorkerIsRestarted) {
  RelayState always;
  EXPECT_EQ(RelayedNotification("STOPPING=1", RestartMode::kAlways, &always),
            "");
  RelayState on_failure;
  EXPECT_EQ(
      RelayedNotification("STOPPING=1", RestartMode::kOnFailure, &on_failure),
      "STOPPING=1");
  EXPECT_EQ(
      RelayedNotification("STOPPING=1", RestartMode::kOnFailure, &on_failure),
      "");
}

// Forks a "worker" that takes the pid file and waits to be killed; returns
// its pid once it holds the lock.
pid_t ForkWorker(PidFile& file) {
  int ready[2];
  EXPECT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    if (!TakeWorkerPidFile(file).ok()) _exit(1);
    (void)!write(ready[1], "x", 1);
    for (;;) pause();
  }
  close(ready[1]);
  char byte;
  EXPECT_EQ(read(ready[0], &byte, 1), 1) << "the worker could not lock";
  close(ready[0]);
  return pid;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  int status;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
}

TEST(WorkerPidFileTest, EachWorkerHoldsTheLockForItsOwnLifeOnly) {
  const std::string path =
      test_support::MakeTempDir("worker_pidfile") + "/worker.pid";
  absl::StatusOr<PidFile> file = OpenWorkerPidFile(path, absl::ZeroDuration());
  ASSERT_TRUE(file.ok()) << file.status();
  // Opened, not locked: the supervisor's own descriptor holds no lock.
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(path);
  ASSERT_TRUE(probe.ok());
  EXPECT_NE(probe->state, PidFileProbe::State::kLocked);

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(absl::StrCat("worker ", round + 1));
    const pid_t worker = ForkWorker(*file);
    probe = ProbePidFile(path);
    ASSERT_TRUE(probe.ok());
    EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
    EXPECT_TRUE(probe->pid_verified);
    EXPECT_EQ(probe->pid, worker);
    // A second supervisor with the same worker pid file is refused.
    absl::StatusOr<PidFile> other =
        OpenWorkerPidFile(path, absl::ZeroDuration());
    EXPECT_TRUE(absl::IsAlreadyExists(other.status())) << other.status();
    EXPECT_THAT(other.status().message(),
                HasSubstr(absl::StrCat("already running, pid ", worker)));

    // The worker dies; the supervisor's still open descriptor (shared with
    // the worker) must not keep the lock alive.
    KillAndReap(worker);
    probe = ProbePidFile(path);
    ASSERT_TRUE(probe.ok());
    EXPECT_EQ(probe->state, PidFileProbe::State::kUnlocked);
  }
  file->Remove();
  EXPECT_FALSE(test_support::FileExists(path));
}

TEST(WorkerPidFileTest, LauncherRemovesTheFileOnceTheWorkerIsGone) {
  const std::string path =
      test_support::MakeTempDir("worker_pidfile") + "/worker.pid";
  absl::StatusOr<PidFile> file = OpenWorkerPidFile(path, absl::ZeroDuration());
  ASSERT_TRUE(file.ok()) << file.status();
  const pid_t worker = ForkWorker(*file);
  // Still held: waits, in vain, and leaves it.
  RemoveWorkerPidFile(path, absl::Milliseconds(50));
  EXPECT_TRUE(test_support::FileExists(path));
  KillAndReap(worker);
  RemoveWorkerPidFile(path, absl::Seconds(30));
  EXPECT_FALSE(test_support::FileExists(path));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
