// Copyright 2026 The daemonkit Authors.
//
// Service-manager controls (issue 15): --daemon_ready_fd, the readiness
// protocol of s6 (`notification-fd`) and dinit (`pipefd:N`), against a
// reader in the test (a pipe whose write end the daemon inherits) and, when
// it is installed, against s6-supervise itself.
//
// The reader reads until end-of-file, which comes only when every copy of
// the write end is closed: so "\n" then end-of-file proves both the line
// and that no process kept the manager's pipe.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
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

using ::daemonkit::test_support::FileExists;
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
using ::daemonkit::test_support::TickerPidFromLog;
using ::daemonkit::test_support::WaitProgram;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// What a reader got: the bytes, and whether end-of-file came.
struct ReadBack {
  std::string data;
  bool eof = false;
};

// Reads `fd` until end-of-file or `timeout`.
ReadBack ReadUntilEof(int fd, absl::Duration timeout = absl::Seconds(30)) {
  ReadBack back;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return back;
    struct pollfd pfd = {fd, POLLIN, 0};
    const int ready = poll(&pfd, 1, absl::ToInt64Milliseconds(left) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return back;
    char buffer[64];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      back.eof = n == 0;
      return back;
    }
    back.data.append(buffer, n);
  }
}

class ReadyFdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("ready_fd");
    pidfile_ = dir_ + "/app.pid";
    child_pidfile_ = dir_ + "/worker.pid";
    log_ = dir_ + "/app.log";
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read_fd_ = fds[0];
    // The daemon's end: not close-on-exec, at a number no test helper uses.
    write_fd_ = fcntl(fds[1], F_DUPFD, 50);
    ASSERT_GE(write_fd_, 50);
    close(fds[1]);
  }
  void TearDown() override {
    CloseWriteEnd();
    close(read_fd_);
    KillPidFileHolder(child_pidfile_);
    KillPidFileHolder(pidfile_);
    for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
  }

  // The test keeps no copy of the daemon's end once the daemon has one.
  void CloseWriteEnd() {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = -1;
  }

  std::vector<std::string> Args(const std::string& binary,
                                std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        RunfilePath(binary), "--daemon_pidfile=" + pidfile_,
        "--daemon_stdout=" + log_, "--daemon_stderr=" + log_,
        absl::StrCat("--daemon_ready_fd=", write_fd_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  std::string dir_, pidfile_, child_pidfile_, log_;
  int read_fd_ = -1;
  int write_fd_ = -1;
};

TEST_F(ReadyFdTest, DetachedDaemonWritesOneNewlineWhenReady) {
  const int ready_fd = write_fd_;
  Spawned launcher = SpawnProgram(Args("examples/ticker", {"--interval=1h"}));
  CloseWriteEnd();
  const ReadBack back = ReadUntilEof(read_fd_);
  EXPECT_EQ(back.data, "\n");
  EXPECT_TRUE(back.eof) << "a process kept the ready descriptor open";
  // The line came once the daemon was ready: it had written its identity,
  // which the ticker does before NotifyReady().
  EXPECT_GT(TickerPidFromLog(log_), 0);
  RunResult start = WaitProgram(launcher);
  EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  // The daemon closed its copy.
  EXPECT_EQ(test_support::OpenDescriptors(pid).count(ready_fd), 0u);
}

TEST_F(ReadyFdTest, ForegroundProcessWritesOneNewlineWhenReady) {
  Spawned foreground = SpawnProgram(
      Args("examples/ticker", {"--daemon=false", "--interval=1h"}));
  CloseWriteEnd();
  const ReadBack back = ReadUntilEof(read_fd_);
  EXPECT_EQ(back.data, "\n");
  EXPECT_TRUE(back.eof);
  EXPECT_EQ(ReadPid(pidfile_), foreground.pid);
  ASSERT_EQ(kill(foreground.pid, SIGTERM), 0);
  EXPECT_EQ(WaitProgram(foreground).exit_code, 0);
}

TEST_F(ReadyFdTest, UnderSupervisionOnlyTheFirstReadinessIsTold) {
  Spawned launcher = SpawnProgram(Args(
      "examples/ticker",
      {"--daemon_restart=on-failure",
       "--daemon_child_pidfile=" + child_pidfile_,
       "--daemon_restart_delay=10ms", "--interval=20ms", "--crash_after=2"}));
  CloseWriteEnd();
  // End-of-file right after the line: neither the supervisor nor any
  // worker, first or restarted, keeps the pipe to write again.
  const ReadBack back = ReadUntilEof(read_fd_);
  EXPECT_EQ(back.data, "\n");
  EXPECT_TRUE(back.eof);
  RunResult start = WaitProgram(launcher);
  EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
  // Workers were restarted meanwhile (each logs its identity).
  ASSERT_TRUE(test_support::WaitFor([&] {
    const std::string log = ReadFileOrEmpty(log_);
    return std::vector<absl::string_view>(absl::StrSplit(log, "Process id:"))
               .size() >= 3;
  })) << ReadFileOrEmpty(log_);
}

// Whether a line of the glog-formatted `log` comes from process `pid` and
// holds `text`.
bool LoggedBy(const std::string& log, pid_t pid, absl::string_view text) {
  const std::string tag = absl::StrCat(" ", pid, " ");
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(log), '\n')) {
    if (absl::StrContains(line, tag) && absl::StrContains(line, text)) {
      return true;
    }
  }
  return false;
}

// Issue 18.6: the README's s6 recipe (--daemon_ready_fd=3, --daemon_restart)
// with a crash. The supervisor closed descriptor 3 once it told readiness;
// a restarted worker's own signal pipe then lands on 3, and it must not
// close it as if it were the manager's: the new worker still hears SIGHUP
// and SIGTERM, and stops without a SIGKILL.
class ReadyFdRestartTest : public ReadyFdTest,
                           public ::testing::WithParamInterface<bool> {};

TEST_P(ReadyFdRestartTest, RestartedWorkerStillHearsReloadAndStop) {
  const bool detach = GetParam();
  const std::string report = dir_ + "/starts";
  // Descriptor 3, as s6's notification-fd: bash moves the pipe there (dash
  // takes no descriptor above 9).
  std::vector<std::string> argv = {
      "/bin/bash",
      "-c",
      absl::StrCat("exec \"$0\" \"$@\" 3>&", write_fd_, " ", write_fd_, ">&-"),
      RunfilePath("tests/fake_daemon"),
      "--daemon_pidfile=" + pidfile_,
      "--daemon_child_pidfile=" + child_pidfile_,
      "--daemon_stdout=" + log_,
      "--daemon_stderr=" + log_,
      "--daemon_ready_fd=3",
      "--daemon_restart=on-failure",
      "--daemon_restart_delay=10ms",
      "--daemon_stop_timeout=4s",
      "--behavior=crash_times",
      "--crash_times=1",
      "--report=" + report};
  if (!detach) argv.push_back("--daemon=false");
  Spawned started = SpawnProgram(argv);
  CloseWriteEnd();
  const ReadBack back = ReadUntilEof(read_fd_);
  EXPECT_EQ(back.data, "\n");
  EXPECT_TRUE(back.eof);
  if (detach) {
    RunResult start = WaitProgram(started);
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  }
  // The first worker crashed after its readiness; the second one serves.
  pid_t worker = 0;
  ASSERT_TRUE(test_support::WaitFor([&] {
    const std::vector<test_support::ReportedStart> starts =
        test_support::ReportedStarts(report);
    if (starts.size() != 2) return false;
    worker = starts[1].pid;
    return ReadPid(child_pidfile_) == worker;
  })) << ReadFileOrEmpty(log_);
  const std::vector<std::string> control = {
      RunfilePath("tests/fake_daemon"), "--daemon_pidfile=" + pidfile_,
      "--daemon_child_pidfile=" + child_pidfile_};
  std::vector<std::string> reload = control;
  reload.push_back("--daemon_control=reload");
  RunResult reloaded = RunProgram(reload);
  EXPECT_EQ(reloaded.exit_code, 0) << reloaded.stderr_text;
  EXPECT_TRUE(test_support::WaitFor([&] {
    return LoggedBy(log_, worker, "reloading on SIGHUP");
  })) << "the restarted worker never heard SIGHUP:\n"
      << ReadFileOrEmpty(log_);
  std::vector<std::string> stop = control;
  stop.push_back("--daemon_control=stop");
  RunResult stopped = RunProgram(stop);
  EXPECT_EQ(stopped.exit_code, 0) << stopped.stderr_text;
  if (!detach) {
    EXPECT_EQ(WaitProgram(started).exit_code, 0);
  }
  EXPECT_TRUE(LoggedBy(log_, worker, "stopping on Terminated"))
      << ReadFileOrEmpty(log_);
  EXPECT_THAT(ReadFileOrEmpty(log_), Not(HasSubstr("ignored SIGTERM")));
  EXPECT_FALSE(FileExists(pidfile_));
}

INSTANTIATE_TEST_SUITE_P(ForegroundAndDetached, ReadyFdRestartTest,
                         ::testing::Bool(), [](const auto& info) {
                           return info.param ? "Detached" : "Foreground";
                         });

TEST_F(ReadyFdTest, AFailedStartClosesWithoutANewline) {
  Spawned launcher =
      SpawnProgram(Args("tests/fake_daemon", {"--behavior=fail"}));
  CloseWriteEnd();
  const ReadBack back = ReadUntilEof(read_fd_);
  EXPECT_EQ(back.data, "");
  EXPECT_TRUE(back.eof);
  EXPECT_EQ(WaitProgram(launcher).exit_code, 1);
}

TEST_F(ReadyFdTest, ADescriptorThatIsNotOpenIsAStartError) {
  CloseWriteEnd();
  RunResult start = RunProgram(
      {RunfilePath("examples/ticker"), "--daemon_pidfile=" + pidfile_,
       "--daemon_stdout=" + log_, "--daemon_ready_fd=57"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("--daemon_ready_fd=57: descriptor 57 is not open"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(log_));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

// A descriptor the readiness line cannot be written to, or one that is the
// daemon's own pid file: refused at start rather than a warning in a log.
TEST_F(ReadyFdTest, ADescriptorNotTheManagersToWriteIsAStartError) {
  CloseWriteEnd();
  const int read_only = fcntl(read_fd_, F_DUPFD, 58);  // inherited
  ASSERT_EQ(read_only, 58);
  RunResult start = RunProgram(
      {RunfilePath("examples/ticker"), "--daemon_pidfile=" + pidfile_,
       "--daemon_stdout=" + log_, "--daemon_ready_fd=58"});
  close(read_only);
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("--daemon_ready_fd=58: descriptor 58 is not open for "
                        "writing"));
  EXPECT_FALSE(FileExists(pidfile_));

  const int pid_file = open(pidfile_.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(pid_file, 0);
  ASSERT_EQ(dup2(pid_file, 59), 59);  // inherited
  close(pid_file);
  start = RunProgram({RunfilePath("examples/ticker"),
                      "--daemon_pidfile=" + pidfile_, "--daemon_stdout=" + log_,
                      "--daemon_ready_fd=59"});
  close(59);
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("--daemon_ready_fd=59 is the pid file " + pidfile_));
  EXPECT_EQ(ReadFileOrEmpty(pidfile_), "");
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

TEST_F(ReadyFdTest, MalformedValuesAreUsageErrors) {
  for (const char* value : {"abc", "-2", "1", "2.5", ""}) {
    SCOPED_TRACE(value);
    RunResult start = RunProgram({RunfilePath("examples/ticker"),
                                  "--daemon_pidfile=" + pidfile_,
                                  absl::StrCat("--daemon_ready_fd=", value)});
    EXPECT_EQ(start.exit_code, 2);
    EXPECT_THAT(start.stderr_text,
                HasSubstr(absl::StrCat("--daemon_ready_fd=", value, ": ")));
    EXPECT_FALSE(FileExists(pidfile_));
  }
}

// s6-supervise runs the ticker in the foreground with notification-fd 3:
// s6 itself must see the service up and ready.
TEST_F(ReadyFdTest, S6SuperviseSeesTheServiceReady) {
  if (access("/usr/bin/s6-supervise", X_OK) != 0) {
    std::printf(
        "SKIP: s6-supervise is not installed "
        "(apt-get install --no-install-recommends s6)\n");
    GTEST_SKIP() << "s6-supervise is not installed";
  }
  CloseWriteEnd();
  const std::string service = dir_ + "/service";
  ASSERT_EQ(mkdir(service.c_str(), 0755), 0);
  {
    const std::string run = service + "/run";
    const std::string script =
        absl::StrCat("#!/bin/sh\nexec ", RunfilePath("examples/ticker"),
                     " --daemon=false --daemon_ready_fd=3 --interval=1h",
                     " --daemon_pidfile=", pidfile_, " 2>>", log_, "\n");
    FILE* file = fopen(run.c_str(), "we");
    ASSERT_NE(file, nullptr);
    fputs(script.c_str(), file);
    fclose(file);
    ASSERT_EQ(chmod(run.c_str(), 0755), 0);
    FILE* fd_file = fopen((service + "/notification-fd").c_str(), "we");
    ASSERT_NE(fd_file, nullptr);
    fputs("3\n", fd_file);
    fclose(fd_file);
  }
  Spawned supervise = SpawnProgram({"/usr/bin/s6-supervise", service});
  // s6-svwait needs what s6-supervise creates first.
  ASSERT_TRUE(test_support::WaitFor([&] {
    return FileExists(service + "/supervise/status") &&
           FileExists(service + "/event");
  })) << ReadFileOrEmpty(supervise.err_path);
  RunResult wait =
      RunProgram({"/usr/bin/s6-svwait", "-U", "-t", "30000", service});
  EXPECT_EQ(wait.exit_code, 0) << wait.stderr_text << ReadFileOrEmpty(log_);
  RunResult status = RunProgram({"/usr/bin/s6-svstat", service});
  EXPECT_THAT(status.stdout_text, HasSubstr("ready")) << status.stdout_text;
  EXPECT_GT(ReadPid(pidfile_), 0);
  // Down, then supervise exits.
  EXPECT_EQ(RunProgram({"/usr/bin/s6-svc", "-wD", "-T", "30000", "-d", service})
                .exit_code,
            0);
  EXPECT_EQ(RunProgram({"/usr/bin/s6-svc", "-x", service}).exit_code, 0);
  EXPECT_EQ(WaitProgram(supervise).exit_code, 0);
}

}  // namespace
}  // namespace daemonkit
