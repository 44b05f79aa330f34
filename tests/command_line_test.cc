// Copyright 2026 The daemonkit Authors.
//
// The command line as a user types it, run on the real binaries: what
// daemonkit::ParseCommandLine (daemon/command_line.h) adds to Abseil's parse
// (issues 22.1, 22.2, 22.8, 23.9). Every mistake is one line on stderr that
// names the word, the file or the line, and nothing is created.

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

int Lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class CommandLineTest : public test_support::TickerFixture {
 protected:
  // The ticker under a bound on its CPU time: before issue 23.9 a flag
  // file that includes itself grew it without bound (25 MB/s), and this
  // machine's OOM killer is no test harness; 5 s of CPU stops it at about
  // 125 MB. (Not `ulimit -v`: AddressSanitizer reserves terabytes of
  // address space for its shadow, and would fail to start.)
  RunResult BoundedTicker(std::vector<std::string> extra) const {
    return TickerInShell("ulimit -t 5;", std::move(extra));
  }
  void ExpectRefused(const RunResult& result, int exit_code,
                     const std::string& named) {
    EXPECT_EQ(result.exit_code, exit_code) << result.stderr_text;
    EXPECT_THAT(result.stderr_text, HasSubstr(named));
    EXPECT_EQ(Lines(result.stderr_text), 1) << result.stderr_text;
    EXPECT_EQ(result.stdout_text, "") << "nothing starts";
    EXPECT_FALSE(FileExists(pidfile_));
    EXPECT_FALSE(FileExists(log_));
  }
};

// Issue 23.9.
TEST_F(CommandLineTest, FlagFileThatIncludesItselfExitsTwoNamingIt) {
  const std::string self = dir_ + "/self.flags";
  ASSERT_TRUE(WriteFile(self, "--count=1\n--flagfile=" + self + "\n"));
  ExpectRefused(BoundedTicker({"--flagfile=" + self}), 2,
                "--flagfile=" + self + ": includes itself");

  // A cycle through another file, back to the first through another path.
  const std::string a = dir_ + "/a.flags";
  const std::string b = dir_ + "/b.flags";
  ASSERT_EQ(symlink(dir_.c_str(), (dir_ + "/link").c_str()), 0);
  ASSERT_TRUE(WriteFile(a, "# the first\n--flagfile=" + b + "\n"));
  ASSERT_TRUE(WriteFile(b, "  --flagfile=" + dir_ + "/link/./a.flags\n"));
  ExpectRefused(BoundedTicker({"--flagfile", a}), 2, "includes itself");

  // A chain without a cycle, but deeper than anyone writes.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(WriteFile(
        absl::StrCat(dir_, "/deep", i, ".flags"),
        absl::StrCat("--flagfile=", dir_, "/deep", i + 1, ".flags\n")));
  }
  ASSERT_TRUE(WriteFile(dir_ + "/deep20.flags", "--count=1\n"));
  ExpectRefused(BoundedTicker({"--flagfile=" + dir_ + "/deep0.flags"}), 2,
                "nested deeper than 8");

  // Nesting within the bound still works (the same file twice is no cycle).
  ASSERT_TRUE(WriteFile(dir_ + "/deep3.flags", "--daemon=false\n"));
  ASSERT_TRUE(WriteFile(dir_ + "/twice.flags",
                        "--flagfile=" + dir_ + "/deep0.flags\n--flagfile=" +
                            dir_ + "/deep0.flags\n--count=1\n"));
  RunResult nested =
      BoundedTicker({"--flagfile=" + dir_ + "/twice.flags", "--interval=1ms"});
  EXPECT_EQ(nested.exit_code, 0) << nested.stderr_text;
}

// Issue 22.1: a word the program does not take is an error naming it.
TEST_F(CommandLineTest, StrayWordsAreRefusedWithTheEqualsForm) {
  ExpectRefused(Ticker({"--daemon", "false", "--count=1"}), 2,
                "unexpected argument 'false' (did you mean --daemon=false?)");
  ExpectRefused(Ticker({"start"}), 2, "(did you mean --daemon_control=start?)");
  ExpectRefused(Ticker({"--daemon=false", "--", "extra"}), 2,
                "unexpected argument 'extra'");

  RunResult inspect =
      RunProgram({RunfilePath("tools/inspect"), "1", "--check"});
  EXPECT_EQ(inspect.exit_code, 2) << inspect.stderr_text;
  EXPECT_THAT(inspect.stderr_text,
              HasSubstr("unexpected argument '1' (did you mean --pid=1?)"));
  EXPECT_EQ(inspect.stdout_text, "");

  RunResult echo =
      RunProgram({RunfilePath("examples/echo"), "--daemon=false", "stop"});
  EXPECT_EQ(echo.exit_code, 2) << echo.stderr_text;
  EXPECT_THAT(echo.stderr_text, HasSubstr("unexpected argument 'stop'"));
}

// Issue 22.2: whitespace Abseil would keep in a name or a value.
TEST_F(CommandLineTest, FlagFileWhitespaceIsShownWithFileAndLine) {
  const std::string flags = dir_ + "/ws.flags";
  const std::string spaced = dir_ + "/t.pid";
  ASSERT_TRUE(WriteFile(
      flags, "# comment\n--daemon_pidfile=" + spaced + " \n--count=1\n"));
  ExpectRefused(
      Ticker({"--flagfile=" + flags}), 2,
      flags + ":2: '--daemon_pidfile=" + spaced + "\\x20' ends in whitespace");
  EXPECT_FALSE(FileExists(spaced + " "));
  EXPECT_FALSE(FileExists(spaced));

  ASSERT_TRUE(WriteFile(flags, "--count=1\r\n"));
  ExpectRefused(Ticker({"--flagfile=" + flags}), 2,
                flags + ":1: '--count=1\\r' ends in whitespace");

  ASSERT_TRUE(WriteFile(flags, "--daemon_pidfile = " + spaced + "\n"));
  ExpectRefused(Ticker({"--flagfile=" + flags}), 2,
                "'--daemon_pidfile\\x20=\\x20" + spaced +
                    "': whitespace around the flag's name; write "
                    "--daemon_pidfile=" +
                    spaced);
}

// Issue 22.8: -h is not a flag, but the user wants help.
TEST_F(CommandLineTest, ShortHelpPointsToHelp) {
  RunResult result = Ticker({"-h"});
  EXPECT_EQ(result.exit_code, 1) << result.stderr_text;
  EXPECT_THAT(result.stderr_text, HasSubstr("use --help"));
  EXPECT_EQ(Lines(result.stderr_text), 1) << result.stderr_text;
  EXPECT_FALSE(FileExists(pidfile_));
}

// Issue 22.3: the version, and the build mode this binary was built in (the
// test is compiled in the same mode), not Abseil's.
TEST_F(CommandLineTest, VersionNamesTheVersionAndTheTrueBuildMode) {
  std::string version = test_support::ReadFileOrEmpty(RunfilePath("VERSION"));
  version.erase(version.find_last_not_of(" \n") + 1);
  ASSERT_FALSE(version.empty());
#ifdef __OPTIMIZE__
  const std::string mode = "optimised build";
#else
  const std::string mode = "debug build (not optimised)";
#endif
#ifdef NDEBUG
  const std::string assertions = "assertions off";
#else
  const std::string assertions = "assertions on";
#endif
  for (const char* program : {"examples/ticker", "tools/inspect"}) {
    SCOPED_TRACE(program);
    RunResult result = RunProgram({RunfilePath(program), "--version"});
    EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
    const std::string name =
        std::string(program).substr(std::string(program).find('/') + 1);
    EXPECT_EQ(result.stdout_text,
              absl::StrCat(name, " (daemonkit ", version, ", ", mode, ", ",
                           assertions, ")\n"));
    EXPECT_THAT(result.stdout_text, Not(HasSubstr("NDEBUG")));
  }
  EXPECT_FALSE(FileExists(pidfile_));
}

// Issue 22.7: the ticker's durations take a bare number of seconds, as the
// --daemon_* durations do; a bad one says what a duration looks like.
TEST_F(CommandLineTest, IntervalTakesBareSecondsLikeTheDaemonDurations) {
  RunResult bare = Ticker({"--daemon=false", "--interval=0.01", "--count=3",
                           "--startup_delay=0", "--daemon_stop_timeout=5"});
  EXPECT_EQ(bare.exit_code, 0) << bare.stderr_text;
  // "Run daemon" and its identity (issue 22.6: the daemon's own output),
  // then the three ticks.
  EXPECT_EQ(Lines(test_support::ReadFileOrEmpty(log_)), 6)
      << test_support::ReadFileOrEmpty(log_);
  RunResult bad = Ticker({"--daemon=false", "--interval=5x", "--count=1"});
  EXPECT_EQ(bad.exit_code, 1) << bad.stderr_text;
  EXPECT_THAT(bad.stderr_text, HasSubstr("'5x'"));
  EXPECT_THAT(bad.stderr_text, HasSubstr("a bare 5 is seconds"));
  EXPECT_FALSE(FileExists(pidfile_));
}

}  // namespace
}  // namespace daemonkit
