// Copyright 2026 The daemonkit Authors.
//
// Service-manager controls (issue 15), the journal: glog lines carry
// sd-daemon(3) priority prefixes when $JOURNAL_STREAM names stderr (as
// systemd sets it for a service whose stderr is the journal's stream) or
// with --daemon_log=journal, and not otherwise; and stdout that is not a
// terminal is line-buffered, so each printf line reaches the file (or the
// journal's pipe) while the daemon runs.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::KillAndWait;
using ::daemonkit::test_support::KillPidFileHolder;
using ::daemonkit::test_support::LiveProcessesSpawnedByThisTest;
using ::daemonkit::test_support::MakeTempDir;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::Spawned;
using ::daemonkit::test_support::SpawnProgram;
using ::daemonkit::test_support::WaitProgram;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("journal");
    pidfile_ = dir_ + "/app.pid";
    out_ = dir_ + "/app.out";
    err_ = dir_ + "/app.err";
    // The "journal stream": a file made beforehand, so that its device and
    // inode can go into $JOURNAL_STREAM.
    std::ofstream(err_).flush();
    struct stat st;
    ASSERT_EQ(stat(err_.c_str(), &st), 0);
    err_stream_ = absl::StrCat(st.st_dev, ":", st.st_ino);
  }
  void TearDown() override {
    KillPidFileHolder(pidfile_);
    for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
  }

  std::vector<std::string> App(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        RunfilePath("tests/controls_app"), "--daemon_pidfile=" + pidfile_,
        "--daemon_stdout=" + out_, "--daemon_stderr=" + err_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  // Waits until the error line is in the stderr file; its text.
  std::string LoggedLines() const {
    EXPECT_TRUE(test_support::WaitFor([&] {
      return absl::StrContains(ReadFileOrEmpty(err_), "an error line");
    })) << ReadFileOrEmpty(err_);
    return ReadFileOrEmpty(err_);
  }

  std::string dir_, pidfile_, out_, err_, err_stream_;
};

TEST_F(JournalTest, ForegroundStderrThatJournalStreamNamesGetsPriorities) {
  Spawned app = SpawnProgram(App({"--daemon=false", "--log"}),
                             {{"JOURNAL_STREAM", err_stream_}});
  const std::string lines = LoggedLines();
  EXPECT_THAT(lines, ContainsRegex("(^|\n)<6>I[0-9][^\n]*an info line\n"));
  EXPECT_THAT(lines, ContainsRegex("(^|\n)<4>W[0-9][^\n]*a warning line\n"));
  EXPECT_THAT(lines, ContainsRegex("(^|\n)<3>E[0-9][^\n]*an error line\n"));
  ASSERT_EQ(kill(app.pid, SIGTERM), 0);
  EXPECT_EQ(WaitProgram(app).exit_code, 0);
}

TEST_F(JournalTest, DaemonLogJournalForcesPriorities) {
  RunResult start = RunProgram(App({"--daemon_log=journal", "--log"}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const std::string lines = LoggedLines();
  EXPECT_THAT(lines, ContainsRegex("(^|\n)<6>I[0-9][^\n]*an info line\n"));
  EXPECT_THAT(lines, ContainsRegex("(^|\n)<3>E[0-9][^\n]*an error line\n"));
}

// Issue 18.4: journald ends a line at a NUL and reads a "<0>" after it as
// the priority emergency (a broadcast to every terminal). A NUL in a
// message starts a new line with the message's own prefix instead.
TEST_F(JournalTest, NulInAMessageCannotForgeAPriority) {
  RunResult start =
      RunProgram(App({"--daemon_log=journal", "--log", "--log_nul"}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const std::string lines = LoggedLines();
  EXPECT_EQ(lines.find('\0'), std::string::npos);
  EXPECT_THAT(lines, ContainsRegex("(^|\n)<4>W[0-9][^\n]*a warning line a nul\n"
                                   "<4><0>forged\n"));
  for (absl::string_view line : absl::StrSplit(lines, '\n')) {
    if (line.empty()) continue;
    EXPECT_THAT(std::string(line), ContainsRegex("^<[346]>")) << line;
  }
}

TEST_F(JournalTest, NoPrioritiesWhenStderrIsNotTheJournalStream) {
  // The stream names another file: the detached daemon's stderr is its
  // --daemon_stderr file, not the stream its launcher was started with.
  const std::string other = dir_ + "/other";
  std::ofstream(other).flush();
  struct stat st;
  ASSERT_EQ(stat(other.c_str(), &st), 0);
  RunResult start =
      RunProgram(App({"--log"}),
                 {{"JOURNAL_STREAM", absl::StrCat(st.st_dev, ":", st.st_ino)}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const std::string lines = LoggedLines();
  EXPECT_THAT(lines, ContainsRegex("(^|\n)I[0-9][^\n]*an info line\n"));
  EXPECT_THAT(lines, Not(HasSubstr("<6>")));
  EXPECT_THAT(lines, Not(HasSubstr("<3>")));
}

TEST_F(JournalTest, WithoutJournalStreamTheLogIsAsBefore) {
  RunResult start = RunProgram(App({"--log"}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const std::string lines = LoggedLines();
  EXPECT_THAT(lines, ContainsRegex("(^|\n)E[0-9][^\n]*an error line\n"));
  EXPECT_THAT(lines, Not(HasSubstr("<3>")));
}

TEST_F(JournalTest, UnknownLogTargetIsAUsageError) {
  RunResult start = RunProgram(App({"--daemon_log=journald"}));
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_THAT(
      start.stderr_text,
      HasSubstr("--daemon_log=journald: not stderr, syslog or journal"));
}

TEST_F(JournalTest, DetachedStdoutFileGetsEachLineWhileRunning) {
  // The application prints with printf and never flushes: fully buffered,
  // 4 KiB of ticks would take some 40 s, beyond the wait's 30 s deadline.
  RunResult start = RunProgram(App({"--print_every=100ms"}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(out_), "tick 3\n");
  })) << "stdout still buffered: "
      << ReadFileOrEmpty(out_);
  // Line by line: not a block of hundreds of ticks at once.
  EXPECT_THAT(ReadFileOrEmpty(out_), Not(HasSubstr("tick 300\n")));
  EXPECT_TRUE(IsAlive(pid));
}

TEST_F(JournalTest, ForegroundStdoutPipeOrFileGetsEachLineWhileRunning) {
  // The foreground process's stdout is what it was started with (here the
  // file the test captures, as a journal's pipe would be).
  Spawned app =
      SpawnProgram({RunfilePath("tests/controls_app"), "--daemon=false",
                    "--daemon_pidfile=" + pidfile_, "--print_every=100ms"});
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(app.out_path), "tick 3\n");
  })) << "stdout still buffered: "
      << ReadFileOrEmpty(app.out_path);
  // Line by line: not a block of hundreds of ticks at once.
  EXPECT_THAT(ReadFileOrEmpty(app.out_path), Not(HasSubstr("tick 300\n")));
  EXPECT_TRUE(IsAlive(app.pid));
  ASSERT_EQ(kill(app.pid, SIGTERM), 0);
  EXPECT_EQ(WaitProgram(app).exit_code, 0);
}

}  // namespace
}  // namespace daemonkit
