// Copyright 2026 The daemonkit Authors.
//
// The files a start makes and touches: the pid files and the output files
// must be different files, and a start that fails after the fork leaves
// none of the files it created. Both found by the independent attack: a log
// that was also the pid file lost its content at the start and was deleted
// at the exit, and a timed-out start left empty logs.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOldLog[] = "OLD LOG LINE 1\nOLD LOG LINE 2\n";

class StartFilesTest : public test_support::TickerFixture {
 protected:
  void WriteOldLog(const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, kOldLog, sizeof(kOldLog) - 1),
              static_cast<ssize_t>(sizeof(kOldLog) - 1));
    close(fd);
  }
};

TEST_F(StartFilesTest, ThePidFileCannotBeTheLog) {
  WriteOldLog(log_);
  RunResult start = Ticker({"--daemon_pidfile=" + log_});
  EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_stdout"));
  EXPECT_THAT(start.stderr_text, HasSubstr("same file as --daemon_pidfile"));
  EXPECT_EQ(ReadFileOrEmpty(log_), kOldLog);
}

TEST_F(StartFilesTest, TheWorkersPidFileCannotBeTheLogNorTheMainOne) {
  WriteOldLog(log_);
  RunResult start =
      Ticker({"--daemon_child_pidfile=" + log_, "--daemon_restart=always"});
  EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
  EXPECT_EQ(ReadFileOrEmpty(log_), kOldLog);
  // The same path spelled differently is still the same path.
  const std::string slash = pidfile_.substr(pidfile_.rfind('/'));
  start = Ticker({"--daemon_child_pidfile=" + dir_ + "/." + slash,
                  "--daemon_restart=always"});
  EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_child_pidfile"));
  EXPECT_FALSE(FileExists(pidfile_));
}

// Two paths, one file: through a directory link an administrator made. A
// usage error (exit 2) like the same path twice.
TEST_F(StartFilesTest, TwoPathsToOneExistingFileAreRefused) {
  ASSERT_EQ(mkdir((dir_ + "/real").c_str(), 0755), 0);
  ASSERT_EQ(symlink((dir_ + "/real").c_str(), (dir_ + "/alias").c_str()), 0);
  log_ = dir_ + "/real/app.log";
  WriteOldLog(log_);
  RunResult start = Ticker({"--daemon_pidfile=" + dir_ + "/alias/app.log"});
  EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, HasSubstr("are the same file, given twice"));
  EXPECT_EQ(ReadFileOrEmpty(log_), kOldLog);
}

// Issue 23.11: the worker's pid file as an alias of the main one, neither
// existing yet, is the same file twice, not "already running".
TEST_F(StartFilesTest, AnAliasOfThePidFileAsTheWorkersIsTheSameFileTwice) {
  ASSERT_EQ(symlink(dir_.c_str(), (dir_ + "/alias").c_str()), 0);
  const std::string name = pidfile_.substr(pidfile_.rfind('/'));
  for (const std::string& alias :
       {dir_ + "/alias" + name, dir_ + "/alias/." + name}) {
    SCOPED_TRACE(alias);
    RunResult start = Ticker({"--daemon_child_pidfile=" + alias,
                              "--daemon_restart=always", "--interval=1h"});
    EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
    EXPECT_THAT(start.stderr_text, HasSubstr("are the same file, given twice"));
    EXPECT_THAT(start.stderr_text, Not(HasSubstr("already running")));
    EXPECT_EQ(
        std::count(start.stderr_text.begin(), start.stderr_text.end(), '\n'), 1)
        << start.stderr_text;
    EXPECT_FALSE(FileExists(pidfile_));
  }
  // Relative against absolute, from the pid file's directory.
  const std::string script =
      "cd \"$0\" && exec \"$1\" --daemon_pidfile=x.pid "
      "--daemon_child_pidfile=\"$0/x.pid\" --daemon_restart=always "
      "--daemon_stdout=out.log --interval=1h";
  RunResult start =
      test_support::RunProgram({"/bin/sh", "-c", script, dir_,
                                test_support::RunfilePath("examples/ticker")});
  EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, HasSubstr("are the same file, given twice"));
  EXPECT_FALSE(FileExists(dir_ + "/x.pid"));
}

TEST_F(StartFilesTest, StdoutAndStderrMayShareAFile) {
  const pid_t pid = StartTicker({"--daemon_stderr=" + log_, "--interval=1h"});
  EXPECT_GT(pid, 0);
}

TEST_F(StartFilesTest, AStartThatFailsAfterTheForkLeavesNoFileItCreated) {
  // A daemon that never becomes ready (and writes nothing): the launcher's
  // timeout fails the start after the fork.
  auto hang = [&] {
    return test_support::RunProgram(
        {test_support::RunfilePath("tests/fake_daemon"), "--behavior=hang",
         "--daemon_pidfile=" + pidfile_, "--daemon_stdout=" + log_,
         "--daemon_stderr=" + err_, "--daemon_ready_timeout=100ms"});
  };
  RunResult start = hang();
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("killed it"));
  EXPECT_FALSE(FileExists(log_));
  EXPECT_FALSE(FileExists(err_));
  EXPECT_FALSE(FileExists(pidfile_));
  // A file that was there before stays, with what it held.
  WriteOldLog(log_);
  start = hang();
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_EQ(ReadFileOrEmpty(log_), kOldLog);
}

}  // namespace
}  // namespace daemonkit
