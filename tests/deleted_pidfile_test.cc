// Copyright 2026 The daemonkit Authors.
//
// Issue 18.18: a pid file removed behind a running daemon's back (a
// tmpfiles cleaner in /tmp, an operator's rm) made `stop` exit 0 with the
// daemon running on, and let `start` run a second daemon beside it. The
// daemon recreates the file, locked, within kPidFileCheckPeriod, and never
// replaces a file another start put there meanwhile.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::WaitFor;
using ::testing::HasSubstr;

class DeletedPidFileTest : public test_support::TickerFixture {};

TEST_F(DeletedPidFileTest, ARemovedPidFileComesBackAndTheDaemonIsFound) {
  // An hour-long interval: only the daemon's own timer can notice.
  const pid_t pid = StartTicker({"--interval=1h"});
  ASSERT_GT(pid, 0);
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] {
    return ReadPid(pidfile_) == pid && test_support::IsWriteLocked(pidfile_);
  })) << "the pid file did not come back";
  EXPECT_TRUE(WaitFor([&] {
    return ReadFileOrEmpty(err_).find("recreated it") != std::string::npos;
  })) << ReadFileOrEmpty(err_);

  RunResult second = Ticker({"--interval=1h"});
  EXPECT_EQ(second.exit_code, 1) << second.stderr_text;
  EXPECT_THAT(second.stderr_text,
              HasSubstr(absl::StrCat("already running, pid ", pid)));

  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));

  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(DeletedPidFileTest, AFileAnotherStartPutThereIsNeverReplaced) {
  const pid_t first = StartTicker({"--interval=1h"});
  ASSERT_GT(first, 0);
  // Frozen, the first daemon cannot recreate its file before the second
  // start makes its own.
  ASSERT_EQ(kill(first, SIGSTOP), 0);
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  const pid_t second = StartTicker({"--interval=1h"});
  ASSERT_GT(second, 0);
  ASSERT_EQ(kill(first, SIGCONT), 0);
  ASSERT_TRUE(WaitFor([&] {
    return ReadFileOrEmpty(err_).find("another process has put its own file") !=
           std::string::npos;
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(ReadPid(pidfile_), second);
  EXPECT_TRUE(test_support::IsWriteLocked(pidfile_));
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", second,
                                             " (pid file ", pidfile_, ")\n"));
}

// The same under supervision: the supervisor holds the file.
TEST_F(DeletedPidFileTest, ASupervisorRecreatesItsRemovedPidFile) {
  const pid_t pid = StartTicker({"--daemon_restart=always", "--interval=1h"});
  ASSERT_GT(pid, 0);
  ASSERT_EQ(unlink(pidfile_.c_str()), 0);
  ASSERT_TRUE(WaitFor([&] {
    return ReadPid(pidfile_) == pid && test_support::IsWriteLocked(pidfile_);
  })) << "the pid file did not come back";
  RunResult status = Ticker({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

}  // namespace
}  // namespace daemonkit
