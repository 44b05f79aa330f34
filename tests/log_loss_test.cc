// Copyright 2026 The daemonkit Authors.
//
// Issue 23.11: on a full file system a log line was torn and the next one
// glued to it. The file system filling up is played by //tests:fault_shim.so
// (DAEMONKIT_FAULT_WRITE_FILE): the daemon's writes to its --daemon_stderr
// file get a budget of bytes, a write past it is cut short, then refused
// with ENOSPC, until the test removes the budget (space freed). A daemon
// that logs a line every 2 ms runs through several such spells; its log must
// then hold only whole lines, markers of what was lost, and lines cut by the
// disk that a marker follows at once: never two lines glued together.

#include <unistd.h>

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::WaitFor;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

int CountMarkers(const std::string& text) {
  int count = 0;
  for (const std::string& line : Lines(text)) {
    if (absl::StartsWith(line, "[daemonkit: ")) ++count;
  }
  return count;
}

// The cuts and refusals the shim counted ("B R"), 0 when unreadable.
int64_t Cuts(const std::string& control) {
  std::vector<std::string> fields = absl::StrSplit(
      ReadFileOrEmpty(control), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  int64_t cuts = 0;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &cuts)) return 0;
  return cuts;
}

TEST(LogLossTest, AFullFileSystemLeavesWholeLinesOrAMarkedLoss) {
  const std::string dir = test_support::MakeTempDir("log_loss");
  const std::string log = dir + "/daemon.log";
  const std::string pidfile = dir + "/daemon.pid";
  const std::string control = dir + "/budget";
  const std::vector<std::string> argv = {
      RunfilePath("tests/fake_daemon"), "--behavior=log_lines",
      "--daemon_pidfile=" + pidfile, "--daemon_stderr=" + log};
  RunResult start =
      RunProgram(argv, test_support::FaultShimEnvironment(
                           {{"DAEMONKIT_FAULT_WRITE_FILE", control}}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = ReadPid(pidfile);
  ASSERT_GT(daemon, 0);
  // Budgets that cut a line at different places, 0 refusing the first
  // write outright; each spell lasts until the shim has cut or refused 20
  // writes (some 40 ms of lines lost), then the space comes back.
  int spells = 0;
  for (const char* budget : {"23", "0", "61", "1", "150"}) {
    SCOPED_TRACE(budget);
    const size_t lines_before = Lines(ReadFileOrEmpty(log)).size();
    ASSERT_TRUE(WaitFor([&] {
      return Lines(ReadFileOrEmpty(log)).size() >= lines_before + 5;
    })) << "the daemon logs nothing";
    ASSERT_TRUE(test_support::WriteFile(control, std::string(budget) + " 0\n"));
    ASSERT_TRUE(WaitFor([&] { return Cuts(control) >= 20; }))
        << ReadFileOrEmpty(control);
    ASSERT_EQ(unlink(control.c_str()), 0);
    ++spells;
    // The loss is marked with the next line that gets through.
    ASSERT_TRUE(WaitFor([&] {
      return CountMarkers(ReadFileOrEmpty(log)) >= spells;
    })) << ReadFileOrEmpty(log);
  }
  RunResult stop = RunProgram(
      {argv[0], "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(daemon));

  // glog's line, as the fake daemon logs it; any other daemon line (the
  // library's own INFO lines) is a whole glog line too.
  const std::regex whole(
      R"([IWEF]\d{8} \d\d:\d\d:\d\d\.\d{6} +\d+ [^ \]]+:\d+\] .*)");
  const std::regex ours(
      R"([IWEF]\d{8} \d\d:\d\d:\d\d\.\d{6} +\d+ fake_daemon\.cc:\d+\] )"
      R"(line \d+ x{40})");
  const std::regex marker(R"(\[daemonkit: \d+ bytes of log lost \([^)]*\)\])");
  const std::vector<std::string> lines = Lines(ReadFileOrEmpty(log));
  int markers = 0, torn = 0, ours_whole = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    SCOPED_TRACE(line);
    if (std::regex_match(line, marker)) {
      ++markers;
      continue;
    }
    // Two lines glued: a second glog header, or a marker, inside a line.
    EXPECT_FALSE(std::regex_search(line.substr(1),
                                   std::regex(R"([IWEF]\d{8} \d\d:\d\d)")));
    EXPECT_EQ(line.find("[daemonkit:", 1), std::string::npos);
    if (std::regex_match(line, ours)) {
      ++ours_whole;
      continue;
    }
    if (absl::StrContains(line, "fake_daemon.cc") &&
        absl::StrContains(line, "] line ")) {
      // Ours and not whole: cut by the disk, and the marker follows.
      ++torn;
      ASSERT_LT(i + 1, lines.size());
      EXPECT_TRUE(std::regex_match(lines[i + 1], marker)) << lines[i + 1];
      continue;
    }
    // The library's own lines (or the start of a line cut by the disk:
    // then a marker follows).
    if (!std::regex_match(line, whole) || line.size() < 40) {
      ++torn;
      ASSERT_LT(i + 1, lines.size());
      EXPECT_TRUE(std::regex_match(lines[i + 1], marker)) << lines[i + 1];
    }
  }
  EXPECT_GE(markers, spells);
  EXPECT_GE(ours_whole, 25);
  // Budgets 23, 61, 1 and 150 each cut a line.
  EXPECT_GE(torn, 4);
  test_support::KillPidFileHolder(pidfile);
}

}  // namespace
}  // namespace daemonkit
