// Copyright 2026 The daemonkit Authors.
//
// The lives of the processes around a daemon: what the application's own
// children inherit (signal dispositions, mask, descriptors, the pid-file
// lock), what a failed or timed-out start leaves behind (nothing: not the
// daemon, not what it started), and what a caller keeps when Daemonize
// fails before it could fork. Each test runs //tests:fake_daemon and reads
// /proc.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

// The value of "<prefix><number>" in the report, or 0.
pid_t ReportedNumber(const std::string& report, absl::string_view prefix) {
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(report), '\n')) {
    pid_t value;
    if (absl::ConsumePrefix(&line, prefix) && absl::SimpleAtoi(line, &value)) {
      return value;
    }
  }
  return 0;
}

// A field of /proc/PID/status ("SigCgt"), as a number (hex for Sig*).
uint64_t StatusMask(pid_t pid, absl::string_view field) {
  const std::string status =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, field) && absl::ConsumePrefix(&line, ":")) {
      uint64_t mask = 0;
      EXPECT_TRUE(absl::SimpleHexAtoi(absl::StripAsciiWhitespace(line), &mask))
          << line;
      return mask;
    }
  }
  ADD_FAILURE() << "no " << field << " in /proc/" << pid << "/status";
  return 0;
}

uint64_t Bit(int signo) { return uint64_t{1} << (signo - 1); }

// Live processes whose environment holds `marker` (NAME=value): everything
// one test started and everything that inherited its environment, and
// nothing else on the machine.
std::vector<pid_t> LiveProcessesWithMarker(const std::string& marker) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == getpid()) continue;
    const std::string environ =
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/environ"));
    std::vector<absl::string_view> variables = absl::StrSplit(environ, '\0');
    for (absl::string_view variable : variables) {
      if (variable == marker && IsAlive(pid)) found.push_back(pid);
    }
  }
  closedir(proc);
  return found;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("lifecycle");
    pidfile_ = dir_ + "/fake.pid";
    report_ = dir_ + "/report";
  }
  void TearDown() override {
    test_support::KillAndWait(ReportedNumber(report_, "helper "));
    test_support::KillAndWait(test_support::FirstReportedPid(report_));
  }

  std::vector<std::string> Args(const std::string& behavior,
                                std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {
        test_support::RunfilePath("tests/fake_daemon"),
        "--behavior=" + behavior, "--daemon_pidfile=" + pidfile_,
        "--report=" + report_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  RunResult Launch(const std::string& behavior,
                   std::vector<std::string> extra = {},
                   const std::map<std::string, std::string>& env = {}) const {
    return RunProgram(Args(behavior, std::move(extra)), env);
  }
  RunResult Status() const {
    return RunProgram({test_support::RunfilePath("tests/fake_daemon"),
                       "--daemon_pidfile=" + pidfile_,
                       "--daemon_control=status"});
  }

  std::string dir_, pidfile_, report_;
};

TEST_F(LifecycleTest, ForkedChildrenGetDefaultSignalsAndNoLibraryDescriptors) {
  RunResult start = Launch("children");
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = test_support::FirstReportedPid(report_);
  const pid_t helper = ReportedNumber(report_, "helper ");
  ASSERT_GT(daemon, 0);
  ASSERT_GT(helper, 0);

  const uint64_t library_signals =
      Bit(SIGTERM) | Bit(SIGINT) | Bit(SIGHUP) | Bit(SIGPIPE);
  EXPECT_EQ(StatusMask(helper, "SigCgt") & library_signals, 0u);
  EXPECT_EQ(StatusMask(helper, "SigIgn") & library_signals, 0u);
  EXPECT_EQ(StatusMask(helper, "SigBlk"), 0u);
  // The fake daemon opens nothing of its own: all above 2 is the library's
  // (pid file and its directory, the self-pipe, output directories).
  for (const auto& [fd, target] : test_support::OpenDescriptors(helper)) {
    EXPECT_LE(fd, 2) << target;
  }

  // SIGTERM to the helper alone ends the helper, not the daemon.
  ASSERT_EQ(kill(helper, SIGTERM), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(helper, absl::Seconds(10)))
      << "the helper survived SIGTERM";
  ASSERT_EQ(kill(daemon, SIGHUP), 0);
  ASSERT_TRUE(test_support::WaitFor(
      [&] {
        const std::string report = ReadFileOrEmpty(report_);
        return absl::StrContains(report, "event reload") ||
               absl::StrContains(report, "event stop");
      },
      absl::Seconds(10)));
  EXPECT_THAT(ReadFileOrEmpty(report_), Not(HasSubstr("event stop")));
  EXPECT_TRUE(IsAlive(daemon));
}

TEST_F(LifecycleTest, AForkedChildDoesNotKeepTheDaemonRunning) {
  RunResult start = Launch("children");
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = test_support::FirstReportedPid(report_);
  const pid_t helper = ReportedNumber(report_, "helper ");
  ASSERT_GT(helper, 0);
  ASSERT_EQ(kill(daemon, SIGKILL), 0);
  ASSERT_TRUE(test_support::WaitUntilGone(daemon));
  ASSERT_TRUE(IsAlive(helper));
  // The pid file is left, but its lock went with the daemon.
  EXPECT_EQ(Status().exit_code, 1) << "the helper holds the pid-file lock";
}

// Issue 23.7, found by an attack: the fork handler closes the self-pipe in
// a child, but the handle the child inherited kept polling that number
// (POLLNVAL at once, or the application's own file that took it): every
// WaitUntil spun at 100% CPU. The child waits on a descriptor of its own.
TEST_F(LifecycleTest, AForkedChildWaitingOnTheHandleSleepsUntilItsTimeout) {
  RunResult start = Launch("fork_waits");
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(report_), "child exited");
  })) << ReadFileOrEmpty(report_);
  const std::string report = ReadFileOrEmpty(report_);
  std::string line;
  for (absl::string_view l : absl::StrSplit(report, '\n')) {
    if (absl::StartsWith(l, "child ") && !absl::StartsWith(l, "child exited")) {
      line = std::string(l);
    }
  }
  // "child PID event E ms N cpu_ticks T signal_fd R REVENTS"
  std::vector<std::string> words = absl::StrSplit(line, ' ');
  ASSERT_EQ(words.size(), 11u) << report;
  EXPECT_EQ(words[3], "timeout") << line;
  int64_t waited_ms = 0, cpu_ticks = 0;
  ASSERT_TRUE(absl::SimpleAtoi(words[5], &waited_ms)) << line;
  ASSERT_TRUE(absl::SimpleAtoi(words[7], &cpu_ticks)) << line;
  // It woke on its timeout, not before (nor long after).
  EXPECT_GE(waited_ms, 1000) << line;
  EXPECT_LT(waited_ms, 10000) << line;
  // Near zero: a spinning wait burns about a second of CPU here.
  EXPECT_LE(cpu_ticks, sysconf(_SC_CLK_TCK) / 10) << line;
  // Its signal_fd() is quiet: nothing pending, nothing invalid.
  EXPECT_EQ(words[9], "0") << line;
  EXPECT_THAT(report, HasSubstr("child exited 0"));
  EXPECT_TRUE(IsAlive(test_support::FirstReportedPid(report_)));
}

TEST_F(LifecycleTest, ExecutedProgramsDieOfSigpipe) {
  RunResult start = Launch("children");
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  EXPECT_THAT(ReadFileOrEmpty(report_),
              HasSubstr(absl::StrCat("yes: signal ", SIGPIPE)));
  // What any exec'd program inherits: SIGPIPE is not ignored.
  EXPECT_EQ(StatusMask(test_support::FirstReportedPid(report_), "SigIgn") &
                Bit(SIGPIPE),
            0u);
}

TEST_F(LifecycleTest, FailStartupLeavesTimeToCleanUp) {
  RunResult result = Launch("fail", {"--cleanup_delay=100ms"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("cannot bind 127.0.0.1:80"));
  EXPECT_THAT(ReadFileOrEmpty(report_), HasSubstr("cleaned up"))
      << "the daemon was killed before it could clean up";
  // And the launcher waited for it.
  EXPECT_FALSE(IsAlive(test_support::FirstReportedPid(report_)));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(LifecycleTest, FailedStartEndsWhatTheDaemonStarted) {
  for (const std::string behavior : {"fail", "die"}) {
    SCOPED_TRACE(behavior);
    ASSERT_EQ(unlink(report_.c_str()) == 0 || errno == ENOENT, true);
    RunResult result = Launch(behavior, {"--helper"});
    EXPECT_EQ(result.exit_code, 1);
    const pid_t helper = ReportedNumber(report_, "helper ");
    ASSERT_GT(helper, 0);
    EXPECT_FALSE(IsAlive(helper)) << "a helper of the failed start still runs";
    test_support::KillAndWait(helper);
    EXPECT_FALSE(FileExists(pidfile_));
  }
}

TEST_F(LifecycleTest, ReadyTimeoutEndsTheDaemonAndWhatItStarted) {
  RunResult result =
      Launch("hang", {"--helper", "--daemon_ready_timeout=500ms"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("not ready within"));
  const pid_t helper = ReportedNumber(report_, "helper ");
  ASSERT_GT(helper, 0);
  // The launcher returned only once they were gone.
  EXPECT_FALSE(IsAlive(helper)) << "a helper of the timed-out start runs";
  EXPECT_FALSE(IsAlive(test_support::FirstReportedPid(report_)));
  EXPECT_FALSE(FileExists(pidfile_));
}

// The reproduction, condensed: ready timeouts of a few milliseconds
// land anywhere in the start-up (before the first fork returns, between the
// forks, before the daemon's pid reached the launcher, during the
// application's start). Every time, the launcher says "killed it", and
// nothing of that start is left running and no pid file remains.
TEST_F(LifecycleTest, TinyReadyTimeoutsNeverLeaveAnythingRunning) {
  const std::string marker = absl::StrCat("DAEMONKIT_LIFECYCLE_MARK=", dir_);
  const std::map<std::string, std::string> env = {
      {"DAEMONKIT_LIFECYCLE_MARK", dir_}};
  for (int start = 0; start < 50; ++start) {
    const std::string timeout = absl::StrCat(1 + start % 4, "ms");
    SCOPED_TRACE(absl::StrCat("start ", start, ", timeout ", timeout));
    RunResult result =
        Launch("hang", {"--helper", "--daemon_ready_timeout=" + timeout}, env);
    ASSERT_EQ(result.exit_code, 1) << result.stderr_text;
    ASSERT_THAT(result.stderr_text, HasSubstr("killed it"));
    std::vector<pid_t> left = LiveProcessesWithMarker(marker);
    for (pid_t pid : left) test_support::KillAndWait(pid);
    ASSERT_THAT(left, ::testing::IsEmpty());
    // Once in ten processwrapper runs of the gate of 2026-12-07 (start 23,
    // 4 ms) the pid file was left with nothing running: what it held and
    // whether anyone still locked it tell who left it.
    ASSERT_FALSE(FileExists(pidfile_))
        << "pid file '" << ReadFileOrEmpty(pidfile_)
        << "', write-locked: " << test_support::IsWriteLocked(pidfile_)
        << "; the launcher said: " << result.stderr_text;
    ASSERT_EQ(Status().exit_code, 3);
  }
}

// The launcher reaps the first child as soon as it exits, instead of
// leaving it a zombie for the whole start-up.
TEST_F(LifecycleTest, TheFirstChildIsReapedAtOnce) {
  test_support::Spawned launcher = test_support::SpawnProgram(Args("hang"));
  pid_t daemon = 0;
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return (daemon = test_support::FirstReportedPid(report_)) > 0; }));
  auto zombie_children = [&] {
    int zombies = 0;
    DIR* proc = opendir("/proc");
    while (struct dirent* entry = proc ? readdir(proc) : nullptr) {
      pid_t pid;
      if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
      const ProcStat stat = test_support::StatOf(pid);
      if (stat.field(ProcStat::kPpid) == absl::StrCat(launcher.pid) &&
          stat.state() == 'Z') {
        ++zombies;
      }
    }
    if (proc) closedir(proc);
    return zombies;
  };
  EXPECT_TRUE(test_support::WaitFor([&] { return zombie_children() == 0; },
                                    absl::Seconds(5)))
      << "the first child is still a zombie of the launcher";
  ASSERT_EQ(kill(daemon, SIGKILL), 0);
  RunResult result = test_support::WaitProgram(launcher);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("exited before it was ready"));
}

TEST_F(LifecycleTest, AFailedForkLeavesTheCallerAsItWas) {
  RunResult result = Launch("fork_fails");
  EXPECT_THAT(result.stdout_text, HasSubstr("error: fork"));
  EXPECT_THAT(result.stdout_text, HasSubstr("intact"));
  EXPECT_EQ(result.exit_code, 0) << result.stdout_text << result.stderr_text;
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(LifecycleTest, KeepEnvLeavesGetenvPointersOfKeptVariablesValid) {
  RunResult start = Launch(
      "keep_env", {"--daemon_keep_env=KEPT"},
      {{"AAA_DROPPED", "x"}, {"KEPT", "the value"}, {"ZZZ_DROPPED", "y"}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  EXPECT_THAT(ReadFileOrEmpty(report_), HasSubstr("kept pointer intact"));
  const std::string environ = ReadFileOrEmpty(absl::StrCat(
      "/proc/", test_support::FirstReportedPid(report_), "/environ"));
  EXPECT_THAT(environ, HasSubstr("KEPT=the value"));
  EXPECT_THAT(environ, Not(HasSubstr("_DROPPED")));
}

// Issue 23.3, found by an attack: entries without '=' ("NOEQUALS", "=x",
// an empty one) survived --daemon_keep_env, and KEEP=2 and KEEP=3 both
// reached the daemon and every program it ran (getenv saw one, a shell the
// other). Exactly one NAME=value per kept name is left, the one getenv
// answered (the first), in environ and in /proc/PID/environ alike.
TEST_F(LifecycleTest, KeepEnvLeavesExactlyOneWellFormedEntryPerKeptName) {
  const std::vector<std::string> args =
      Args("keep_env", {"--daemon_keep_env=KEEP,KEPT"});
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  std::string env_strings[] = {"NOEQUALS", "=x",     "",       "KEEP=2",
                               "KEPT=k",   "KEEP=3", "KEPT=l", "DROPPED=y"};
  std::vector<char*> envp;
  envp.reserve(std::size(env_strings) + 1);
  for (std::string& variable : env_strings) envp.push_back(variable.data());
  envp.push_back(nullptr);
  const pid_t launcher = fork();
  ASSERT_GE(launcher, 0) << std::strerror(errno);
  if (launcher == 0) {
    const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
        dup2(null, 2) < 0) {
      _exit(126);
    }
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  EXPECT_EQ(test_support::ReapChild(launcher), 0);
  const pid_t daemon = test_support::FirstReportedPid(report_);
  ASSERT_GT(daemon, 0);
  std::vector<std::string> block = absl::StrSplit(
      ReadFileOrEmpty(absl::StrCat("/proc/", daemon, "/environ")), '\0',
      absl::SkipEmpty());
  EXPECT_THAT(block, ::testing::UnorderedElementsAre("KEEP=2", "KEPT=k"));
  std::vector<std::string> environ;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrEmpty(report_), '\n')) {
    if (absl::ConsumePrefix(&line, "environ [") &&
        absl::ConsumeSuffix(&line, "]")) {
      environ.emplace_back(line);
    }
  }
  EXPECT_THAT(environ, ::testing::UnorderedElementsAre("KEEP=2", "KEPT=k"));
  EXPECT_THAT(ReadFileOrEmpty(report_), HasSubstr("kept pointer intact"));
}

TEST_F(LifecycleTest, UnknownNotifySocketFormWarnsOnceAndStarts) {
  RunResult start = Launch("ready", {}, {{"NOTIFY_SOCKET", "vsock:2:1234"}});
  EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, HasSubstr("NOTIFY_SOCKET"));
  EXPECT_EQ(start.stderr_text.find("NOTIFY_SOCKET"),
            start.stderr_text.rfind("NOTIFY_SOCKET"))
      << start.stderr_text;
  EXPECT_TRUE(IsAlive(test_support::FirstReportedPid(report_)));
}

}  // namespace
}  // namespace daemonkit
