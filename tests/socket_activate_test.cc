// Copyright 2026 The daemonkit Authors.
//
// Socket activation by a real activator (issue 14): Debian's systemd package
// ships systemd-socket-activate, which binds a socket, waits for the first
// connection and execs the service with LISTEN_FDS, LISTEN_PID and
// LISTEN_FDNAMES set exactly as systemd's PID 1 does. //examples:echo must
// answer that first connection itself, in the foreground and detached under
// supervision. Skipped (with a clear message) where the tool is missing.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

constexpr char kActivator[] = "/usr/bin/systemd-socket-activate";

class SocketActivateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kActivator, X_OK) != 0) {
      GTEST_SKIP() << "SKIP: " << kActivator
                   << " is not installed (Debian package systemd)";
    }
    dir_ = tmp_.path();
    socket_ = dir_ + "/echo.sock";
    pidfile_ = dir_ + "/echo.pid";
  }
  void TearDown() override {
    test_support::KillPidFileHolder(dir_ + "/worker.pid");
    test_support::KillPidFileHolder(pidfile_);
    if (activator_.pid > 0) test_support::KillAndWait(activator_.pid);
  }
  // Starts the activator on the socket file with `echo_flags`.
  void Activate(std::vector<std::string> echo_flags) {
    std::vector<std::string> argv = {kActivator,
                                     "-l",
                                     socket_,
                                     "--fdname=echo",
                                     test_support::RunfilePath("examples/echo"),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--daemon_stderr=" + dir_ + "/echo.log"};
    argv.insert(argv.end(), echo_flags.begin(), echo_flags.end());
    activator_ = test_support::SpawnProgram(argv);
    // It binds before it waits for the first connection.
    ASSERT_TRUE(test_support::WaitFor(
        [&] { return test_support::FileExists(socket_); }));
  }

  // Exchange() once the activator listens: it binds (the file appears)
  // before it calls listen(), and a connection in between is refused.
  std::string FirstExchange(const std::string& text, std::string* error) {
    std::string reply;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    do {
      error->clear();
      reply = Exchange(socket_, text, error);
      if (*error != std::strerror(ECONNREFUSED)) break;
      absl::SleepFor(absl::Milliseconds(5));
    } while (absl::Now() < deadline);
    return reply;
  }

  test_support::ShortTempDir tmp_;
  std::string dir_, socket_, pidfile_;
  test_support::Spawned activator_;
};

TEST_F(SocketActivateTest, TheFirstConnectionIsAnsweredInTheForeground) {
  Activate({"--daemon=false"});
  std::string error;
  // The connection that starts the service is answered by it: the
  // activator execs echo in its own process, which takes descriptor 3.
  EXPECT_EQ(FirstExchange("first\n", &error),
            absl::StrCat(activator_.pid, " first\n"))
      << error << ReadFileOrEmpty(activator_.err_path);
  EXPECT_EQ(Exchange(socket_, "second\n"),
            absl::StrCat(activator_.pid, " second\n"));
  ASSERT_EQ(kill(activator_.pid, SIGTERM), 0);
  RunResult result = test_support::WaitProgram(activator_);
  activator_.pid = -1;
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
  // The socket is the activator's: left where it was.
  EXPECT_TRUE(test_support::FileExists(socket_));
}

TEST_F(SocketActivateTest, DetachedWorkersServeTheActivatedSocket) {
  Activate({"--daemon_restart=always", "--daemon_restart_delay=10ms",
            "--daemon_child_pidfile=" + dir_ + "/worker.pid"});
  std::string error;
  const std::string reply = FirstExchange("one\n", &error);
  RunResult launcher = test_support::WaitProgram(activator_);
  activator_.pid = -1;
  ASSERT_EQ(launcher.exit_code, 0) << launcher.stderr_text;
  const pid_t worker = ReadPid(dir_ + "/worker.pid");
  ASSERT_GT(worker, 0);
  EXPECT_EQ(reply, absl::StrCat(worker, " one\n")) << error;
  RunResult stop =
      RunProgram({test_support::RunfilePath("examples/echo"),
                  "--daemon_pidfile=" + pidfile_, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
}

}  // namespace
}  // namespace daemonkit
