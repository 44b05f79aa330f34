// Copyright 2026 The daemonkit Authors.
//
// //tools:inspect as a user runs it: JSON about a known process, and --check
// on a real daemon and on a process that is not one.

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::testing::RunProgram;
using ::daemonkit::testing::RunResult;
using ::testing::HasSubstr;

std::string Inspect() { return testing::RunfilePath("tools/inspect"); }

TEST(InspectTest, JsonDescribesTheGivenProcess) {
  RunResult result = RunProgram(
      {Inspect(), absl::StrCat("--pid=", getpid()), "--format=json"});
  ASSERT_EQ(result.exit_code, 0) << result.stderr_text;
  const std::string& json = result.stdout_text;
  EXPECT_THAT(json, HasSubstr(absl::StrCat(
                        "{\"pid\":", getpid(), ",\"ppid\":", getppid(),
                        ",\"pgid\":", getpgrp(), ",\"sid\":", getsid(0))));
  EXPECT_THAT(json, HasSubstr(absl::StrCat(
                        "\"uid\":", getuid(), ",\"euid\":", geteuid(),
                        ",\"gid\":", getgid(), ",\"egid\":", getegid())));
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"cwd\":\"", cwd, "\"")));
  EXPECT_THAT(json, HasSubstr("inspect_test\"}"));
}

TEST(InspectTest, CheckPassesARealDaemon) {
  const std::string dir = testing::MakeTempDir("inspect");
  const std::string pidfile = dir + "/ticker.pid";
  const std::string ticker = testing::RunfilePath("examples/ticker");
  RunResult start =
      RunProgram({ticker, "--daemon_pidfile=" + pidfile,
                  "--daemon_stdout=" + dir + "/log", "--interval=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = testing::ReadPid(pidfile);

  RunResult check = RunProgram({Inspect(), "--pidfile=" + pidfile, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.stdout_text;
  EXPECT_THAT(check.stdout_text,
              HasSubstr(absl::StrCat("pid             ", pid, "\n")));
  EXPECT_THAT(check.stdout_text, HasSubstr("PASS  stdin on /dev/null"));
  EXPECT_THAT(check.stdout_text, ::testing::Not(HasSubstr("FAIL")));

  RunResult stop = RunProgram(
      {ticker, "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  testing::KillAndWait(pid);
}

TEST(InspectTest, CheckFailsAProcessThatIsNoDaemon) {
  // inspect inspecting itself: a child of this test, in its session, with
  // stdin on a regular file.
  const std::string input = testing::MakeTempDir("inspect") + "/input";
  {
    int fd = open(input.c_str(), O_WRONLY | O_CREAT, 0600);
    close(fd);
  }
  RunResult check = RunProgram({Inspect(), "--check"}, {}, input);
  EXPECT_EQ(check.exit_code, 1) << check.stdout_text;
  EXPECT_THAT(check.stdout_text, HasSubstr("FAIL  stdin on /dev/null"));
  EXPECT_THAT(check.stdout_text,
              HasSubstr("FAIL  not a child of an interactive shell"));
}

TEST(InspectTest, UnreadableTargetsExitTwo) {
  RunResult missing = RunProgram({Inspect(), "--pid=4194305"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.stderr_text, HasSubstr("cannot read process 4194305"));

  RunResult no_daemon =
      RunProgram({Inspect(), "--pidfile=" + testing::MakeTempDir("inspect") +
                                 "/none.pid"});
  EXPECT_EQ(no_daemon.exit_code, 2);
  EXPECT_THAT(no_daemon.stderr_text, HasSubstr("no process holds it"));

  RunResult bad_format = RunProgram({Inspect(), "--format=xml"});
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_THAT(bad_format.stderr_text, HasSubstr("--format=xml"));
}

}  // namespace
}  // namespace daemonkit
