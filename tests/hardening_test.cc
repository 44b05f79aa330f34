// Copyright 2026 The daemonkit Authors.
//
// Attacks on the start-up and on what the daemon ends up with: environment,
// descriptors, hostile files and limits, signals during start-up, a kill
// between the forks (privileges and chroot: privileges_test.cc). Each test
// runs the real ticker (or the misbehaving fake daemon) and reads /proc.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

class HardeningTest : public ::daemonkit::test_support::TickerFixture {};

TEST_F(HardeningTest, UnknownUserOrGroupIsOneLineAndNothingIsCreated) {
  for (const std::string flag :
       {"--daemon_user=no-such-user", "--daemon_group=no-such-group"}) {
    SCOPED_TRACE(flag);
    RunResult result = Ticker({flag});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_THAT(result.stderr_text, HasSubstr(flag.substr(flag.find('=') + 1)));
    EXPECT_FALSE(FileExists(pidfile_));
    EXPECT_FALSE(FileExists(log_));
  }
}

TEST_F(HardeningTest, MissingChrootOrWorkdirInsideItFailsBeforeForking) {
  RunResult result =
      Ticker({"--daemon_user=nobody", "--daemon_chroot=" + dir_ + "/nowhere"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("chroot " + dir_ + "/nowhere"));
  result = Ticker({"--daemon_user=nobody", "--daemon_chroot=" + dir_,
                   "--daemon_workdir=/missing"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr(dir_ + "/missing"));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(HardeningTest, KeepEnvRemovesAllButTheListAndTheSupervisorsVariables) {
  RunResult start = Ticker(
      {"--daemon_keep_env=KEPT, LANG", "--interval=1h"},
      {{"KEPT", "yes"}, {"SECRET_TOKEN", "hunter2"}, {"LISTEN_FDS", "0"}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  std::string environ =
      ReadFileOrEmpty(absl::StrCat("/proc/", ReadPid(pidfile_), "/environ"));
  std::vector<std::string> variables =
      absl::StrSplit(environ, '\0', absl::SkipEmpty());
  EXPECT_THAT(variables, ::testing::Contains("KEPT=yes"));
  EXPECT_THAT(variables, ::testing::Contains("LISTEN_FDS=0"));
  for (const std::string& variable : variables) {
    EXPECT_TRUE(absl::StartsWith(variable, "KEPT=") ||
                absl::StartsWith(variable, "LANG=") ||
                absl::StartsWith(variable, "LISTEN_FDS="))
        << variable;
  }
}

TEST_F(HardeningTest, BadKeepEnvIsAUsageError) {
  RunResult result = Ticker({"--daemon_keep_env=A=B"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.stderr_text, HasSubstr("--daemon_keep_env=A=B"));
}

TEST_F(HardeningTest, KeepsTheDescriptorsTheApplicationAskedFor) {
  const std::string kept_path = dir_ + "/kept";
  const std::string leaked_path = dir_ + "/leaked";
  int kept = open(kept_path.c_str(), O_WRONLY | O_CREAT, 0600);
  int leaked = open(leaked_path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(kept, 3);
  ASSERT_GE(leaked, 3);
  const std::string report = dir_ + "/report";
  RunResult start =
      RunProgram({test_support::RunfilePath("tests/fake_daemon"),
                  "--daemon_pidfile=" + pidfile_, "--report=" + report,
                  absl::StrCat("--keep_fd=", kept)});
  close(kept);
  close(leaked);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  std::map<int, std::string> fds =
      test_support::OpenDescriptors(test_support::FirstReportedPid(report));
  EXPECT_EQ(fds[kept], kept_path);
  for (const auto& [fd, target] : fds) EXPECT_NE(target, leaked_path) << fd;
  test_support::KillAndWait(test_support::FirstReportedPid(report));
}

TEST_F(HardeningTest, WorldWritableDirectoryWarns) {
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
  RunResult start = Ticker({"--interval=1h"});
  EXPECT_EQ(start.exit_code, 0);
  EXPECT_THAT(start.stderr_text, HasSubstr("writable by anyone"));
  ASSERT_EQ(chmod(dir_.c_str(), 01777), 0);
  EXPECT_EQ(Ticker({"--daemon_control=restart"}).exit_code, 0);
}

TEST_F(HardeningTest, WriteErrorsOnDevFullAreLoggedOnceAndTheDaemonGoesOn) {
  // /dev/full is the launcher's stdout, inherited: an output file given by
  // path must be a regular file (or /dev/null).
  RunResult start = TickerInShell(
      "exec 1>/dev/full;", {"--daemon_stdout=inherit", "--interval=5ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_), "No space left");
  }));
  absl::SleepFor(absl::Milliseconds(50));  // more failing ticks
  EXPECT_TRUE(IsAlive(pid));
  const std::string err = ReadFileOrEmpty(err_);
  EXPECT_EQ(err.find("writing to stdout failed"),
            err.rfind("writing to stdout failed"));
}

TEST_F(HardeningTest, LauncherWithClosedStandardStreamsStillWorks) {
  RunResult start = TickerInShell("exec 0<&- 1>&- 2>&-;", {"--interval=1h"});
  EXPECT_EQ(start.exit_code, 0);
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(IsAlive(pid));
  std::map<int, std::string> fds = test_support::OpenDescriptors(pid);
  EXPECT_EQ(fds[0], "/dev/null");
  EXPECT_EQ(fds[1], log_);
  EXPECT_EQ(fds[2], err_);
}

TEST_F(HardeningTest, LauncherWithClosedStdoutLogsNoFalseWriteError) {
  // The launcher's farewell fails to print on the closed stdout; the
  // daemon's own output, to its log file, works and must not be reported as
  // failing.
  RunResult start = TickerInShell("exec 1>&-;", {"--interval=5ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  // The identity lines and a few ticks.
  ASSERT_TRUE(test_support::WaitFor([&] {
    std::vector<std::string> lines =
        absl::StrSplit(ReadFileOrEmpty(log_), '\n', absl::SkipEmpty());
    return lines.size() >= 5;
  }));
  EXPECT_THAT(ReadFileOrEmpty(err_),
              Not(HasSubstr("writing to stdout failed")));
}

TEST_F(HardeningTest, TinyDescriptorLimitIsEnough) {
  RunResult start = TickerInShell("ulimit -n 16;", {"--interval=1h"});
  EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
  EXPECT_TRUE(IsAlive(ReadPid(pidfile_)));
}

// Every limit too small to start in gets the start's one error line, no
// more: out of descriptors, the failed start's cleanup could not look at
// the pid file and said "the pid file is left" of one never made (the
// attack of stop 33, at 8).
TEST_F(HardeningTest, EveryTooSmallDescriptorLimitIsOneErrorLine) {
  // (From 5: at 4 UndefinedBehaviorSanitizer's own checks fail before
  // main's first flag is read, which says nothing about the start.)
  for (int limit = 5; limit < 16; ++limit) {
    SCOPED_TRACE(absl::StrCat("ulimit -n ", limit));
    RunResult start = TickerInShell(absl::StrCat("ulimit -n ", limit, ";"),
                                    {"--interval=1h"});
    if (start.exit_code == 0) {
      EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
      continue;
    }
    EXPECT_EQ(start.exit_code, 1) << start.stderr_text;
    EXPECT_EQ(
        std::count(start.stderr_text.begin(), start.stderr_text.end(), '\n'), 1)
        << start.stderr_text;
    EXPECT_FALSE(test_support::FileExists(pidfile_));
  }
}

TEST_F(HardeningTest, HardDescriptorLimitLeaksNothingFromTheTop) {
  // A descriptor at the very top of the hard limit, left open by the
  // launcher, must not reach the daemon.
  RunResult start = TickerInShell(
      "ulimit -n $(ulimit -Hn); top=$(( $(ulimit -Hn) - 1 )); eval \"exec "
      "${top}>/dev/zero\";",
      {"--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  std::map<int, std::string> fds =
      test_support::OpenDescriptors(ReadPid(pidfile_));
  for (const auto& [fd, target] : fds) EXPECT_NE(target, "/dev/zero") << fd;
}

TEST_F(HardeningTest, SignalsDuringStartUpNeverKillIt) {
  test_support::Spawned launcher =
      test_support::SpawnProgram(TickerArgs({"--interval=1h"}));
  // As soon as the daemon has a pid, bombard it with 500 SIGHUPs: some land
  // while its handlers are still being set up.
  pid_t pid = 0;
  ASSERT_TRUE(
      test_support::WaitFor([&] { return (pid = ReadPid(pidfile_)) > 0; }));
  for (int i = 0; i < 500; ++i) kill(pid, SIGHUP);
  RunResult result = test_support::WaitProgram(launcher);
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  EXPECT_TRUE(IsAlive(pid));
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_), "reloading on SIGHUP");
  }));
  // And a SIGTERM in the same window stops it cleanly.
  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  launcher = test_support::SpawnProgram(TickerArgs({"--interval=1h"}));
  ASSERT_TRUE(
      test_support::WaitFor([&] { return (pid = ReadPid(pidfile_)) > 0; }));
  kill(pid, SIGTERM);
  result = test_support::WaitProgram(launcher);
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(HardeningTest, KillBetweenTheForksIsAFailedStartWithNothingLeft) {
  const std::string report = dir_ + "/report";
  RunResult start =
      RunProgram({test_support::RunfilePath("tests/fake_daemon"),
                  "--behavior=kill_between_forks",
                  "--daemon_pidfile=" + pidfile_, "--report=" + report});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("exited before it was ready"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(report)) << "a daemon got forked after all";
}

}  // namespace
}  // namespace daemonkit
