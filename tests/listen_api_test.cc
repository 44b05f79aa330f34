// Copyright 2026 The daemonkit Authors.
//
// The application's side of listening sockets (issue 14): daemon.h's
// example, compiled as tests/listen_api_example.cc, serves its socket in
// its own poll loop while SIGHUP and SIGTERM keep working through
// `signal_fd()` beside it.

#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::Exchange;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;

TEST(ListenApiTest, TheHeaderExampleIsTheCompiledOne) {
  const std::string header =
      ReadFileOrEmpty(test_support::RunfilePath("daemon/daemon.h"));
  const std::string example =
      ReadFileOrEmpty(test_support::RunfilePath("tests/listen_api_example.cc"));
  // The header's lines from `ListenSocket("web")` to the loop's end.
  std::string from_header;
  bool on = false;
  for (absl::string_view line : absl::StrSplit(header, '\n')) {
    if (absl::StrContains(line, "daemon->ListenSocket(\"web\")")) on = true;
    if (!on) continue;
    if (!absl::ConsumePrefix(&line, "  //   ")) break;
    absl::StrAppend(&from_header, "  ", line, "\n");
  }
  std::string from_example;
  on = false;
  for (absl::string_view line : absl::StrSplit(example, '\n')) {
    if (absl::StrContains(line, "END daemon.h example")) break;
    if (on) absl::StrAppend(&from_example, line, "\n");
    if (absl::StrContains(line, "BEGIN daemon.h example")) on = true;
  }
  ASSERT_FALSE(from_header.empty());
  EXPECT_EQ(from_header, from_example);
}

TEST(ListenApiTest, SignalsWorkBesideTheSocketsInTheApplicationsPollLoop) {
  test_support::ShortTempDir tmp;
  const std::string pidfile = tmp.path() + "/api.pid";
  const std::string out = tmp.path() + "/out";
  const std::string web = tmp.path() + "/web.sock";
  RunResult start =
      RunProgram({test_support::RunfilePath("tests/listen_api_example"),
                  "--daemon_pidfile=" + pidfile, "--daemon_stdout=" + out,
                  "--daemon_listen=web=unix:" + web + ",admin=unix:@" +
                      tmp.path().substr(5)});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = ReadPid(pidfile);
  ASSERT_GT(daemon, 0);
  EXPECT_THAT(ReadFileOrEmpty(out), HasSubstr("names: web,admin\n"));
  EXPECT_EQ(Exchange(web, ""), "hello\n");
  // SIGHUP reaches the reload hook through signal_fd() in the app's poll.
  ASSERT_EQ(kill(daemon, SIGHUP), 0);
  EXPECT_TRUE(test_support::WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(out), "reloaded\n"); }));
  EXPECT_EQ(Exchange(web, ""), "hello\n");
  // SIGTERM ends the loop: the daemon exits, its pid and socket files go.
  ASSERT_EQ(kill(daemon, SIGTERM), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(daemon));
  EXPECT_TRUE(test_support::WaitFor(
      [&] { return !test_support::FileExists(pidfile); }));
  EXPECT_FALSE(test_support::FileExists(web));
  test_support::KillAndWait(daemon);
}

TEST(ListenApiTest, AnUnknownNameIsNotFoundAndFailsTheStart) {
  test_support::ShortTempDir tmp;
  RunResult start =
      RunProgram({test_support::RunfilePath("tests/listen_api_example"),
                  "--daemon_pidfile=" + tmp.path() + "/api.pid",
                  "--daemon_listen=other=unix:" + tmp.path() + "/other.sock"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("no listening socket named 'web'"));
  EXPECT_FALSE(test_support::FileExists(tmp.path() + "/other.sock"));
}

}  // namespace
}  // namespace daemonkit
