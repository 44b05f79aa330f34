// Copyright 2026 The daemonkit Authors.
//
// Each action runs in a forked child whose stdout and stderr go to files:
// the lines an operator sees and the exit code are what is checked, against
// a missing pid file and against a real process holding one.

#include "daemon/internal/flags_control_action.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/control.h"
#include "daemon/internal/pidfile.h"
#include "daemon/options.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::MakeTempDir;

// Exit code of a RunControlAction that returned.
constexpr int kReturned = 100;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Outcome RunAction(ControlAction action, const Options& options,
                  const std::string& dir) {
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out_fd < 0 || err_fd < 0 || dup2(out_fd, 1) < 0 ||
        dup2(err_fd, 2) < 0) {
      _exit(99);
    }
    RunControlAction(action, options);
    std::fflush(nullptr);
    _exit(kReturned);
  }
  Outcome outcome;
  int status;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  outcome.out = Read(out);
  outcome.err = Read(err);
  return outcome;
}

class FlagsControlActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_.pidfile = dir_ + "/d.pid";
    options_.stop_timeout = absl::Seconds(5);
    options_.ready_timeout = absl::Seconds(5);
  }
  std::string Note() const {
    return absl::StrCat(" (pid file ", options_.pidfile, ")");
  }
  std::string dir_;
  Options options_;
};

TEST_F(FlagsControlActionTest, StartReturnsSayingNothing) {
  const Outcome outcome = RunAction(ControlAction::kStart, options_, dir_);
  EXPECT_EQ(outcome.exit_code, kReturned);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "");
}

TEST_F(FlagsControlActionTest, StatusOfNothingIsNotRunning) {
  const Outcome outcome = RunAction(ControlAction::kStatus, options_, dir_);
  EXPECT_EQ(outcome.exit_code, kExitStatusNotRunning);
  EXPECT_TRUE(absl::StartsWith(outcome.out, "not running")) << outcome.out;
  EXPECT_EQ(outcome.err, "");
}

TEST_F(FlagsControlActionTest, ReloadAndUpgradeOfNothingExit7OnStderr) {
  for (ControlAction action :
       {ControlAction::kReload, ControlAction::kUpgrade}) {
    const Outcome outcome = RunAction(action, options_, dir_);
    EXPECT_EQ(outcome.exit_code, kExitReloadNotRunning);
    EXPECT_EQ(outcome.out, "");
    EXPECT_TRUE(absl::EndsWith(outcome.err, ": not running" + Note() + "\n"))
        << outcome.err;
  }
}

TEST_F(FlagsControlActionTest, StopOfNothingSucceedsAndSaysSo) {
  const Outcome outcome = RunAction(ControlAction::kStop, options_, dir_);
  EXPECT_EQ(outcome.exit_code, kExitSuccess);
  EXPECT_EQ(outcome.out, "not running" + Note() + "\n");
  EXPECT_EQ(outcome.err, "");
}

TEST_F(FlagsControlActionTest, RestartOfNothingReturnsToStart) {
  const Outcome outcome = RunAction(ControlAction::kRestart, options_, dir_);
  EXPECT_EQ(outcome.exit_code, kReturned);
  EXPECT_EQ(outcome.out, "");
  EXPECT_EQ(outcome.err, "");
}

TEST_F(FlagsControlActionTest, StatusAndStopOfARealHolder) {
  int release[2];
  ASSERT_EQ(pipe(release), 0);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = fork();
  if (holder == 0) {
    close(release[1]);
    close(ready[0]);
    absl::StatusOr<PidFile> pidfile =
        PidFile::Acquire(options_.pidfile, absl::Seconds(1));
    const char byte =
        pidfile.ok() && pidfile->WritePid(getpid()).ok() ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    char ignored;
    (void)!read(release[0], &ignored, 1);  // SIGTERM ends it first
    _exit(0);
  }
  close(release[0]);
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  close(ready[0]);

  const Outcome status = RunAction(ControlAction::kStatus, options_, dir_);
  EXPECT_EQ(status.exit_code, kExitStatusRunning);
  EXPECT_TRUE(
      absl::StartsWith(status.out, absl::StrCat("running, pid ", holder)))
      << status.out;

  // The stop's runner is a sibling of the holder: this process reaps it
  // once it has ended, which the stop sees as its lock let go.
  const Outcome stop = RunAction(ControlAction::kStop, options_, dir_);
  EXPECT_EQ(stop.exit_code, kExitSuccess) << stop.err;
  EXPECT_EQ(stop.out, absl::StrCat("stopped, pid ", holder, Note(), "\n"));
  int wait_status;
  EXPECT_EQ(waitpid(holder, &wait_status, 0), holder);
  EXPECT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGTERM);
  close(release[1]);
}

TEST(ExitWithTest, ReportsTheStatusAndExitsWithItsCode) {
  EXPECT_EXIT(ExitWith(UsageError("daemon_nice", "--daemon_nice=x: bad")),
              ::testing::ExitedWithCode(kExitUsage), "--daemon_nice=x: bad");
  EXPECT_EXIT(ExitWith(absl::FailedPreconditionError("already running")),
              ::testing::ExitedWithCode(kExitFailure), "already running");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
