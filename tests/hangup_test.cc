// Copyright 2026 The daemonkit Authors.
//
// The launcher runs in a pseudo-terminal that is then closed, as when an
// operator's SSH session drops right after starting the daemon. The daemon,
// in a session of its own without a controlling terminal, keeps ticking.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"
#include "tests/ticker_fixture.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;

size_t CountLines(const std::string& path) {
  std::vector<std::string> lines =
      absl::StrSplit(ReadFileOrEmpty(path), '\n', absl::SkipEmpty());
  return lines.size();
}

class HangupTest : public ::daemonkit::test_support::TickerFixture {
 protected:
  // Runs the ticker's launcher with a pseudo-terminal as its controlling
  // terminal and stdio, waits for it to exit, then hangs the terminal up.
  // Returns what the launcher printed on it.
  std::string LaunchInTerminalThenHangUp(
      const std::vector<std::string>& flags) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(master, 0);
    EXPECT_EQ(grantpt(master), 0);
    EXPECT_EQ(unlockpt(master), 0);
    const std::string slave = ptsname(master);
    std::vector<std::string> argv = {
        test_support::RunfilePath("examples/ticker"),
        "--daemon_pidfile=" + pidfile_, "--daemon_stderr=" + err_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);

    pid_t launcher = fork();
    if (launcher == 0) {
      // A session leader opening a terminal acquires it as controlling one.
      if (setsid() < 0) _exit(120);
      int tty = open(slave.c_str(), O_RDWR);
      if (tty < 0) _exit(121);
      dup2(tty, 0);
      dup2(tty, 1);
      dup2(tty, 2);
      if (tty > 2) close(tty);
      execv(args[0], args.data());
      _exit(127);
    }
    int status = 0;
    EXPECT_EQ(waitpid(launcher, &status, 0), launcher);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    std::string printed;
    char buffer[4096];
    fcntl(master, F_SETFL, O_NONBLOCK);
    for (ssize_t n; (n = read(master, buffer, sizeof(buffer))) > 0;) {
      printed.append(buffer, n);
    }
    close(master);  // the hang-up
    return printed;
  }
};

TEST_F(HangupTest, DaemonKeepsTickingAfterTheTerminalIsGone) {
  const std::string printed = LaunchInTerminalThenHangUp(
      {"--daemon_stdout=" + log_, "--interval=10ms"});
  // The launcher's farewell, once the daemon is ready (issue 22.6: "Run
  // daemon" is the daemon's own first line, in its log).
  EXPECT_THAT(printed, ::testing::HasSubstr("ticker: writing to"));
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  const ProcStat stat = test_support::StatOf(pid);
  ASSERT_TRUE(stat.has(ProcStat::kTtyNr));
  EXPECT_EQ(stat.field(ProcStat::kTtyNr), "0")
      << "the daemon has a controlling terminal";
  const size_t lines = CountLines(log_);
  EXPECT_TRUE(
      test_support::WaitFor([&] { return CountLines(log_) >= lines + 5; }));
  EXPECT_TRUE(IsAlive(pid));
}

TEST_F(HangupTest, DaemonWritingToTheDeadTerminalSurvivesAndSaysSoOnce) {
  // The original Go demo's way: ticks on the launcher's terminal.
  LaunchInTerminalThenHangUp({"--daemon_stdout=inherit", "--interval=10ms"});
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return ReadFileOrEmpty(err_).find("writing to stdout failed") !=
           std::string::npos;
  }));
  // Still alive and still ticking into the void; the failure was logged once.
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_TRUE(IsAlive(pid));
  const std::string err = ReadFileOrEmpty(err_);
  EXPECT_EQ(err.find("writing to stdout failed"),
            err.rfind("writing to stdout failed"));
}

}  // namespace
}  // namespace daemonkit
