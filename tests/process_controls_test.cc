// Copyright 2026 The daemonkit Authors.
//
// Service-manager controls (issue 15) on real daemons: resource limits,
// niceness and the OOM score adjustment of a started ticker, read from
// /proc/PID/limits, /proc/PID/stat and /proc/PID/oom_score_adj; values the
// kernel refuses fail the start and leave nothing running; malformed values
// are usage errors naming the flag.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::LiveProcessesSpawnedByThisTest;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::StatOf;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ProcessControlsTest : public ::daemonkit::test_support::TickerFixture {};

// The line of /proc/PID/limits that starts with `name`, with its runs of
// spaces folded into one ("Max open files 1000 2000 files").
std::string LimitLine(pid_t pid, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(
           ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/limits")), '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    return absl::StrJoin(words, " ");
  }
  return "";
}

std::string OomScoreAdj(pid_t pid) {
  return std::string(absl::StripAsciiWhitespace(
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/oom_score_adj"))));
}

TEST_F(ProcessControlsTest, DaemonRunsWithTheLimitsNicenessAndOomScoreAsked) {
  const pid_t pid = StartTicker(
      {"--daemon_rlimits=nofile=1000:2000, memlock=4096:8192,msgqueue=4096",
       "--daemon_nice=5", "--daemon_oom_score_adj=500", "--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(LimitLine(pid, "Max open files"), "Max open files 1000 2000 files");
  EXPECT_EQ(LimitLine(pid, "Max locked memory"),
            "Max locked memory 4096 8192 bytes");
  EXPECT_THAT(LimitLine(pid, "Max msgqueue size"),
              ContainsRegex("^Max msgqueue size 4096 "));
  EXPECT_EQ(StatOf(pid).field(19), "5");
  EXPECT_EQ(OomScoreAdj(pid), "500");
}

// Found by an attack: a small fsize limit meant for the application also
// bound the supervisor, which died writing its log past it. The limits are
// each worker's; the supervisor keeps its own (hard limits raised for the
// workers' sake aside).
TEST_F(ProcessControlsTest, UnderSupervisionTheLimitsAreTheWorkersOnly) {
  const std::string worker_pidfile = dir_ + "/worker.pid";
  const pid_t supervisor = StartTicker(
      {"--daemon_restart=always", "--daemon_child_pidfile=" + worker_pidfile,
       "--daemon_rlimits=fsize=3000,nofile=500:4000", "--interval=1h"});
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::ReadPid(worker_pidfile) > 0; }));
  const pid_t worker = test_support::ReadPid(worker_pidfile);
  EXPECT_THAT(LimitLine(worker, "Max file size"),
              ContainsRegex("^Max file size 3000 "));
  EXPECT_EQ(LimitLine(worker, "Max open files"),
            "Max open files 500 4000 files");
  EXPECT_EQ(LimitLine(supervisor, "Max file size"),
            LimitLine(getpid(), "Max file size"));
  EXPECT_THAT(LimitLine(supervisor, "Max open files"),
              Not(HasSubstr("Max open files 500 ")));
}

TEST_F(ProcessControlsTest, WithoutTheFlagsTheDaemonInheritsTheLauncher) {
  const pid_t pid = StartTicker({"--interval=1h"});
  ASSERT_GT(pid, 0);
  struct rlimit nofile;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &nofile), 0);
  EXPECT_EQ(LimitLine(pid, "Max open files"),
            absl::StrCat("Max open files ", nofile.rlim_cur, " ",
                         nofile.rlim_max, " files"));
  EXPECT_EQ(StatOf(pid).field(19), StatOf(getpid()).field(19));
  EXPECT_EQ(OomScoreAdj(pid), OomScoreAdj(getpid()));
}

TEST_F(ProcessControlsTest, AnExplicitCoreLimitWinsOverTheCoreDumpsDefault) {
  // Detached, --daemon_core_dumps=false sets RLIMIT_CORE to 0; a core
  // entry of --daemon_rlimits is applied after it.
  const pid_t pid =
      StartTicker({"--daemon_rlimits=core=4096:4096", "--interval=1h"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(LimitLine(pid, "Max core file size"),
            "Max core file size 4096 4096 bytes");
}

TEST_F(ProcessControlsTest, ForegroundProcessGetsThemToo) {
  test_support::Spawned spawned = test_support::SpawnProgram(
      {test_support::RunfilePath("examples/ticker"), "--daemon=false",
       "--daemon_pidfile=" + pidfile_, "--daemon_rlimits=nofile=900",
       "--daemon_nice=3", "--daemon_oom_score_adj=200", "--interval=1h"});
  ASSERT_TRUE(test_support::WaitFor([&] { return ReadPid(pidfile_) > 0; }))
      << ReadFileOrEmpty(spawned.err_path);
  const pid_t pid = ReadPid(pidfile_);
  EXPECT_EQ(pid, spawned.pid);
  // The pid is written first, the controls applied a moment later (there
  // is no launcher to wait for readiness in the foreground).
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StartsWith(LimitLine(pid, "Max open files"),
                            "Max open files 900 ") &&
           StatOf(pid).field(19) == "3" && OomScoreAdj(pid) == "200";
  })) << LimitLine(pid, "Max open files")
      << ", nice " << StatOf(pid).field(19) << ", oom_score_adj "
      << OomScoreAdj(pid);
  ASSERT_EQ(kill(spawned.pid, SIGTERM), 0);
  EXPECT_EQ(test_support::WaitProgram(spawned).exit_code, 0);
}

TEST_F(ProcessControlsTest, ALimitTheKernelRefusesFailsTheStartNamingTheFlag) {
  struct rlimit nofile;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &nofile), 0);
  if (nofile.rlim_max == RLIM_INFINITY) {
    GTEST_SKIP() << "SKIP: the hard limit of nofile is unlimited here, so no "
                    "soft limit can exceed it";
  }
  // A soft limit above the hard one: EINVAL, whatever the privileges.
  const std::string too_many = absl::StrCat(nofile.rlim_max + 1);
  for (bool detach : {true, false}) {
    SCOPED_TRACE(detach ? "detached" : "foreground");
    // Without --daemon_stderr: in the foreground stderr would already be
    // that file (removed again by the failed start) when the error comes.
    RunResult start = test_support::RunProgram(
        {test_support::RunfilePath("examples/ticker"),
         absl::StrCat("--daemon=", detach), "--daemon_pidfile=" + pidfile_,
         "--daemon_stdout=" + log_, "--daemon_rlimits=nofile=" + too_many,
         "--interval=1h"});
    EXPECT_EQ(start.exit_code, 1);
    EXPECT_THAT(start.stderr_text,
                HasSubstr("--daemon_rlimits nofile=" + too_many));
    EXPECT_THAT(start.stderr_text, HasSubstr("Invalid argument"));
    EXPECT_FALSE(FileExists(pidfile_));
    EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
  }
}

TEST_F(ProcessControlsTest, MalformedValuesAreUsageErrorsNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--daemon_rlimits=nofile", "--daemon_rlimits=nofile: "},
      {"--daemon_rlimits=nofile=", "--daemon_rlimits=nofile=: "},
      {"--daemon_rlimits=nofile=-1", "--daemon_rlimits=nofile=-1: "},
      {"--daemon_rlimits=nofile=10:x", "--daemon_rlimits=nofile=10:x: "},
      {"--daemon_rlimits=files=10", "unknown resource 'files'"},
      {"--daemon_rlimits=nofile=10:5", "--daemon_rlimits=nofile=10:5: "},
      // Issue 23.11: one of the two would win silently.
      {"--daemon_rlimits=nofile=100,core=0,nofile=200",
       "--daemon_rlimits=nofile=100,core=0,nofile=200: the resource 'nofile' "
       "is given twice"},
      {"--daemon_nice=20", "--daemon_nice=20: "},
      {"--daemon_nice=-21", "--daemon_nice=-21: "},
      {"--daemon_nice=low", "--daemon_nice=low: "},
      {"--daemon_oom_score_adj=1001", "--daemon_oom_score_adj=1001: "},
      {"--daemon_oom_score_adj=-1001", "--daemon_oom_score_adj=-1001: "},
      {"--daemon_oom_score_adj=1e3", "--daemon_oom_score_adj=1e3: "},
  };
  for (const auto& [flag, message] : cases) {
    SCOPED_TRACE(flag);
    RunResult start = Ticker({flag});
    EXPECT_EQ(start.exit_code, 2);
    EXPECT_THAT(start.stderr_text, HasSubstr(message));
    EXPECT_EQ(
        std::count(start.stderr_text.begin(), start.stderr_text.end(), '\n'), 1)
        << start.stderr_text;
    EXPECT_FALSE(FileExists(pidfile_));
  }
}

}  // namespace
}  // namespace daemonkit
