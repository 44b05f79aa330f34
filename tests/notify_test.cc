// Copyright 2026 The daemonkit Authors.
//
// The ticker talking sd_notify to a receiver of ours, as systemd would be:
// STATUS=, READY=1 (with MAINPID= when detached), RELOADING=1/READY=1 around
// SIGHUP, STOPPING=1, and WATCHDOG=1 keep-alives.

#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

using ::daemonkit::test_support::NotifyReceiver;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::MatchesRegex;

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("notify");
    pidfile_ = dir_ + "/ticker.pid";
  }
  std::vector<std::string> Ticker(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        test_support::RunfilePath("examples/ticker"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_stdout=" + dir_ + "/ticker.log"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::string dir_, pidfile_;
  NotifyReceiver receiver_;
};

TEST_F(NotifyTest, DetachedDaemonNamesItsMainPidAndReportsItsLife) {
  RunResult start = RunProgram(Ticker({"--interval=1h"}),
                               {{"NOTIFY_SOCKET", receiver_.address()}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(receiver_.Receive(), "STATUS=ticking every 1h");
  EXPECT_EQ(receiver_.Receive(), absl::StrCat("READY=1\nMAINPID=", pid));

  ASSERT_EQ(RunProgram(Ticker({"--daemon_control=reload"})).exit_code, 0);
  EXPECT_THAT(receiver_.Receive(),
              MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  EXPECT_EQ(receiver_.Receive(), "READY=1");

  ASSERT_EQ(RunProgram(Ticker({"--daemon_control=stop"})).exit_code, 0);
  EXPECT_EQ(receiver_.Receive(), "STOPPING=1");
  test_support::KillAndWait(pid);
}

TEST_F(NotifyTest, ForegroundDaemonSendsReadyWatchdogAndStopping) {
  test_support::Spawned ticker = test_support::SpawnProgram(
      Ticker({"--daemon=false", "--interval=1h"}),
      {{"NOTIFY_SOCKET", receiver_.address()}, {"WATCHDOG_USEC", "20000"}});
  EXPECT_EQ(receiver_.Receive(), "STATUS=ticking every 1h");
  EXPECT_EQ(receiver_.Receive(), "READY=1");
  // Keep-alives every 10 ms while the ticker waits out its hour.
  EXPECT_EQ(receiver_.Receive(), "WATCHDOG=1");
  EXPECT_EQ(receiver_.Receive(), "WATCHDOG=1");
  kill(ticker.pid, SIGTERM);
  std::string message;
  do {
    message = receiver_.Receive();
  } while (message == "WATCHDOG=1");
  EXPECT_EQ(message, "STOPPING=1");
  RunResult result = test_support::WaitProgram(ticker);
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
}

// Issue 23.10: whoever sets the environment cannot fail every start: a
// NOTIFY_SOCKET that is no socket address is named once, and the daemon
// runs without notifications.
TEST_F(NotifyTest, MalformedNotifySocketWarnsOnceAndStarts) {
  for (const std::string& bad :
       {std::string("relative/socket"), std::string("x"), std::string("@"),
        "/" + std::string(200, 'x')}) {
    SCOPED_TRACE(bad);
    RunResult start = RunProgram(Ticker({}), {{"NOTIFY_SOCKET", bad}});
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    EXPECT_THAT(start.stderr_text, ::testing::HasSubstr("NOTIFY_SOCKET"));
    EXPECT_EQ(start.stderr_text.find("NOTIFY_SOCKET"),
              start.stderr_text.rfind("NOTIFY_SOCKET"))
        << start.stderr_text;
    EXPECT_EQ(RunProgram(Ticker({"--daemon_control=status"})).exit_code, 0);
    EXPECT_EQ(RunProgram(Ticker({"--daemon_control=stop"})).exit_code, 0);
    EXPECT_FALSE(test_support::FileExists(pidfile_));
  }
}

// A service manager that stops reading: its queue fills with keep-alives,
// and the daemon drops what finds no room (one warning), waiting at most
// once. A wait per message (the attack of 2026-12-06) slowed the ticker to
// a message a second and its stop past a short stop timeout; now the stop
// is clean within 2 s.
TEST_F(NotifyTest, AManagerThatStopsReadingSlowsNothing) {
  // A socket with a kernel-chosen abstract name, never read.
  const int manager = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(manager, 0);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  ASSERT_EQ(bind(manager, reinterpret_cast<struct sockaddr*>(&address),
                 sizeof(sa_family_t)),
            0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(manager, reinterpret_cast<struct sockaddr*>(&address),
                        &length),
            0);
  const std::string name =
      "@" + std::string(address.sun_path + 1,
                        length - offsetof(struct sockaddr_un, sun_path) - 1);
  const std::string err = dir_ + "/ticker.err";
  RunResult start =
      RunProgram(Ticker({"--interval=100ms", "--daemon_stderr=" + err}),
                 {{"NOTIFY_SOCKET", name}, {"WATCHDOG_USEC", "20000"}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(test_support::ReadFileOrEmpty(err),
                             "(its queue is full)");
  })) << test_support::ReadFileOrEmpty(err);
  RunResult stop =
      RunProgram(Ticker({"--daemon_control=stop", "--daemon_stop_timeout=2s"}));
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(stop.stderr_text,
              ::testing::Not(::testing::HasSubstr("SIGKILL")));
  const std::string log = test_support::ReadFileOrEmpty(err);
  EXPECT_THAT(log, ::testing::HasSubstr("stopping on Terminated"));
  // One warning for the whole streak.
  EXPECT_EQ(log.find("(its queue is full)"), log.rfind("(its queue is full)"))
      << log;
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  close(manager);
}

// An application that puts a client's text in its status (issue 18.3): a
// newline or NUL in it must not become an assignment of its own, neither
// sent directly nor relayed by a supervisor.
class StatusInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("status");
    pidfile_ = dir_ + "/fake.pid";
    report_ = dir_ + "/report";
  }
  void TearDown() override {
    RunProgram({test_support::RunfilePath("tests/fake_daemon"),
                "--daemon_pidfile=" + pidfile_, "--daemon_control=stop"});
    test_support::KillPidFileHolder(pidfile_);
    for (const test_support::ReportedStart& start :
         test_support::ReportedStarts(report_)) {
      test_support::KillAndWait(start.pid);
    }
  }
  // Starts the fake daemon with --status=`status` (C escapes) and returns
  // every message up to and including the first STATUS= that starts with
  // "STATUS=x" (the application's), failing the test if none comes.
  std::vector<std::string> StartAndCollect(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        test_support::RunfilePath("tests/fake_daemon"), "--behavior=ready",
        "--daemon_pidfile=" + pidfile_, "--report=" + report_,
        "--status=x\\nWATCHDOG_USEC=1\\nREADY=1\\0<0>tail"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunResult start =
        RunProgram(argv, {{"NOTIFY_SOCKET", receiver_.address()}});
    EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
    std::vector<std::string> messages;
    for (;;) {
      std::string message = receiver_.Receive();
      if (message.empty()) {
        ADD_FAILURE() << "no STATUS=x... message";
        break;
      }
      messages.push_back(message);
      if (absl::StartsWith(message, "STATUS=x")) break;
    }
    return messages;
  }
  std::string dir_, pidfile_, report_;
  NotifyReceiver receiver_;
};

// The assignments a message may carry, each a whole line.
void ExpectOnlyDocumentedLines(const std::vector<std::string>& messages) {
  for (const std::string& message : messages) {
    EXPECT_EQ(message.find('\0'), std::string::npos) << message;
    for (absl::string_view line : absl::StrSplit(message, '\n')) {
      EXPECT_THAT(std::string(line),
                  MatchesRegex("STATUS=.*|READY=1|MAINPID=[0-9]+|WATCHDOG=1|"
                               "RELOADING=1|STOPPING=1|ERRNO=[0-9]+|"
                               "MONOTONIC_USEC=[0-9]+"))
          << "in " << message;
      EXPECT_FALSE(absl::StartsWith(line, "WATCHDOG_USEC")) << message;
    }
  }
}

TEST_F(StatusInjectionTest, NewlineAndNulInStatusStayInsideStatus) {
  std::vector<std::string> messages = StartAndCollect({});
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.back(), "STATUS=x WATCHDOG_USEC=1 READY=1 <0>tail");
  ExpectOnlyDocumentedLines(messages);
}

TEST_F(StatusInjectionTest, SupervisorRelaysNoInjectedAssignment) {
  std::vector<std::string> messages =
      StartAndCollect({"--daemon_restart=on-failure"});
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.back(), "STATUS=x WATCHDOG_USEC=1 READY=1 <0>tail");
  ExpectOnlyDocumentedLines(messages);
  // The supervisor's own READY=1 (with its MAINPID=) is the only one.
  for (const std::string& message : messages) {
    for (absl::string_view line : absl::StrSplit(message, '\n')) {
      if (line == "READY=1") {
        EXPECT_TRUE(absl::StartsWith(message, "READY=1\nMAINPID=")) << message;
      }
    }
  }
}

}  // namespace
}  // namespace daemonkit
