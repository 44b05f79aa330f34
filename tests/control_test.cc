// Copyright 2026 The daemonkit Authors.
//
// The control actions as an operator meets them, against a real ticker: a
// read lock that any user can take on the 0644 pid file neither fakes a
// running daemon nor blocks a start; only the process that holds the write
// lock gets a signal; relative pid files work for every action and the
// printed "stop it" line runs in a shell; a stale pid file that cannot be
// removed does not fail a stop.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
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
using ::testing::StartsWith;

std::string Ticker() { return test_support::RunfilePath("examples/ticker"); }

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

// A child process standing in for another user's process: it opens the pid
// file and, as asked, takes a lock on it or writes its own pid into it, then
// waits until the test kills it.
class Holder {
 public:
  enum Mode {
    kReadLock,      // opens read-only, F_OFD_SETLK F_RDLCK
    kWriteLock,     // opens read-write, F_OFD_SETLK F_WRLCK
    kOpenWritePid,  // `sleep 300 9<>x.pid; echo $$ >x.pid`: open, no lock
    kNothing,       // just lives: an unrelated process
  };
  Holder(const std::string& path, Mode mode) {
    int ready[2];
    EXPECT_EQ(pipe2(ready, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = -1;
      if (mode != kNothing) {
        fd = open(path.c_str(), mode == kReadLock ? O_RDONLY : O_RDWR);
        if (fd < 0) _exit(1);
      }
      struct flock lock = {};
      lock.l_whence = SEEK_SET;
      if (mode == kReadLock || mode == kWriteLock) {
        lock.l_type = mode == kReadLock ? F_RDLCK : F_WRLCK;
        if (fcntl(fd, F_OFD_SETLK, &lock) != 0) _exit(1);
      }
      if (mode == kOpenWritePid) {
        char text[32];
        int n = snprintf(text, sizeof(text), "%d\n", getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, text, n, 0) != n) _exit(1);
      }
      if (write(ready[1], "x", 1) != 1) _exit(1);
      for (;;) pause();
    }
    close(ready[1]);
    char byte;
    EXPECT_EQ(read(ready[0], &byte, 1), 1) << "holder failed to start";
    close(ready[0]);
  }
  ~Holder() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  // Whether it still runs (it is our child: reaped only by ~Holder).
  bool Alive() const {
    int status;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
};

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("control");
    pidfile_ = dir_ + "/ticker.pid";
  }
  void TearDown() override {
    for (pid_t pid : started_) test_support::KillAndWait(pid);
  }

  RunResult Control(const std::string& action) {
    return RunProgram({Ticker(), "--daemon_pidfile=" + pidfile_,
                       "--daemon_control=" + action,
                       "--daemon_stop_timeout=20s"});
  }
  // Starts a ticker on `pidfile_`; its pid.
  pid_t Start() {
    RunResult start =
        RunProgram({Ticker(), "--daemon_pidfile=" + pidfile_,
                    "--daemon_stdout=" + dir_ + "/log", "--interval=1h",
                    "--daemon_ready_timeout=10s"});
    EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
    const pid_t pid = test_support::ReadPid(pidfile_);
    if (pid > 0) started_.push_back(pid);
    return pid;
  }
  // A pid file left by a daemon killed with SIGKILL.
  pid_t LeaveStalePidFile() {
    const pid_t pid = Start();
    EXPECT_GT(pid, 0);
    kill(pid, SIGKILL);
    EXPECT_TRUE(test_support::WaitUntilGone(pid));
    EXPECT_TRUE(FileExists(pidfile_));
    return pid;
  }

  std::string dir_, pidfile_;
  std::vector<pid_t> started_;
};

TEST_F(ControlTest, ReadLockOnAStaleFileFakesNothingAndBlocksNoStart) {
  const pid_t dead = LeaveStalePidFile();
  Holder reader(pidfile_, Holder::kReadLock);

  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 1) << status.stdout_text;
  EXPECT_THAT(status.stdout_text, StartsWith("dead, pid file "));
  EXPECT_THAT(status.stdout_text, HasSubstr(absl::StrCat("(pid ", dead, ")")));

  // The start wins at once (no wait for a pid that never comes).
  const pid_t pid = Start();
  ASSERT_GT(pid, 0);
  EXPECT_NE(pid, dead);
  EXPECT_TRUE(IsAlive(pid));
  struct stat st;
  ASSERT_EQ(stat(pidfile_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_FALSE(FileExists(dir_ + "/.ticker.pid.claim"));
  status = Control("status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", pidfile_, ")\n"));
  // A second start sees the real daemon.
  RunResult again = RunProgram({Ticker(), "--daemon_pidfile=" + pidfile_,
                                "--daemon_stdout=" + dir_ + "/log"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.stderr_text,
              HasSubstr(absl::StrCat("already running, pid ", pid)));

  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_TRUE(reader.Alive());
}

TEST_F(ControlTest, ReadLockedFileNamingALiveProcessDoesNotMakeItTheDaemon) {
  Holder stranger(pidfile_, Holder::kNothing);
  WriteFile(pidfile_, absl::StrCat(stranger.pid(), "\n"));
  Holder reader(pidfile_, Holder::kReadLock);

  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 1) << status.stdout_text;
  EXPECT_THAT(status.stdout_text, StartsWith("dead, pid file "));

  RunResult inspect = RunProgram(
      {test_support::RunfilePath("tools/inspect"), "--pidfile=" + pidfile_});
  EXPECT_EQ(inspect.exit_code, 2) << inspect.stdout_text;
  EXPECT_THAT(inspect.stdout_text,
              Not(HasSubstr(absl::StrCat("pid             ", stranger.pid()))));

  EXPECT_EQ(Control("reload").exit_code, 7);
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(stranger.Alive());
}

TEST_F(ControlTest, ProcessThatOnlyHasTheFileOpenIsNeverSignalled) {
  // `sleep 300 9<>c.pid` that wrote its own pid, and someone's read lock.
  LeaveStalePidFile();
  Holder opener(pidfile_, Holder::kOpenWritePid);
  Holder reader(pidfile_, Holder::kReadLock);
  ASSERT_EQ(test_support::ReadPid(pidfile_), opener.pid());

  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(opener.Alive()) << "stop signalled a process holding no lock";
  EXPECT_EQ(Control("reload").exit_code, 7);
  EXPECT_TRUE(opener.Alive());
}

TEST_F(ControlTest, WriteLockHeldByAnotherProcessIsNotCreditedToTheOpener) {
  // A write lock is held, but the pid in the file is of a process that only
  // has the file open: that process is not the daemon. The one process
  // holding the write lock is.
  WriteFile(pidfile_, "");
  Holder locker(pidfile_, Holder::kWriteLock);
  Holder opener(pidfile_, Holder::kOpenWritePid);

  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", locker.pid(), " (the pid file ",
                         pidfile_, " says ", opener.pid(), ")\n"));
  RunResult inspect = RunProgram(
      {test_support::RunfilePath("tools/inspect"), "--pidfile=" + pidfile_});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.stderr_text;
  EXPECT_THAT(inspect.stdout_text,
              StartsWith(absl::StrCat("pid             ", locker.pid(), "\n")));
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(opener.Alive()) << "stop signalled a process holding no lock";
  EXPECT_FALSE(locker.Alive());
}

// Setup for a PausedChild that takes the write lock and forks a grandchild
// sharing it (the same open file description): two processes hold the lock,
// and neither can be told to be the daemon. The grandchild's pid goes to
// `report_fd`.
std::function<bool()> SharedLockSetup(const std::string& path, int report_fd) {
  return [path, report_fd] {
    const int fd = open(path.c_str(), O_RDWR);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    if (fd < 0 || fcntl(fd, F_OFD_SETLK, &lock) != 0) return false;
    const pid_t pid = fork();
    if (pid == 0) {
      // Dies with the child, which the test kills.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(1);
      for (;;) pause();
    }
    return pid > 0 && write(report_fd, &pid, sizeof(pid)) == sizeof(pid);
  };
}

// Whether `pid` (not our child) still runs code.
bool Running(pid_t pid) {
  return ::daemonkit::ReadProcStat(pid).ok() &&
         ::daemonkit::ReadProcStat(pid)->running();
}

TEST_F(ControlTest, RewrittenPidFileStillLeadsToTheDaemon) {
  // A compromised daemon keeps a writable descriptor on its pid file and
  // writes any number into it: the daemon is still the one process holding
  // the write lock. Pid 1 is never signalled (status does not signal; the
  // test below shows stop signals only the holder).
  for (const char* number : {"1", "99999"}) {
    SCOPED_TRACE(number);
    const pid_t pid = Start();
    ASSERT_GT(pid, 0);
    struct stat before, after;
    ASSERT_EQ(stat(pidfile_.c_str(), &before), 0);
    WriteFile(pidfile_, absl::StrCat(number, "\n"));
    ASSERT_EQ(stat(pidfile_.c_str(), &after), 0);
    ASSERT_EQ(before.st_ino, after.st_ino) << "not rewritten in place";

    RunResult status = Control("status");
    EXPECT_EQ(status.exit_code, 0) << status.stderr_text;
    EXPECT_EQ(status.stdout_text,
              absl::StrCat("running, pid ", pid, " (the pid file ", pidfile_,
                           " says ", number, ")\n"));
    RunResult inspect = RunProgram(
        {test_support::RunfilePath("tools/inspect"), "--pidfile=" + pidfile_});
    EXPECT_EQ(inspect.exit_code, 0) << inspect.stderr_text;
    EXPECT_THAT(inspect.stdout_text,
                StartsWith(absl::StrCat("pid             ", pid, "\n")));
    RunResult stop = Control("stop");
    EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
    EXPECT_TRUE(test_support::WaitUntilGone(pid));
    EXPECT_FALSE(FileExists(pidfile_));
  }
}

TEST_F(ControlTest, RewrittenPidFileNamingAnotherProcessNeverGetsItSignalled) {
  const pid_t pid = Start();
  ASSERT_GT(pid, 0);
  // Standing in for pid 1: SIGHUP or SIGTERM would end it.
  Holder victim(pidfile_, Holder::kNothing);
  WriteFile(pidfile_, absl::StrCat(victim.pid(), "\n"));

  RunResult reload = Control("reload");
  EXPECT_EQ(reload.exit_code, 0) << reload.stderr_text;
  EXPECT_TRUE(Running(pid));
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_TRUE(victim.Alive()) << "a process holding no lock was signalled";
}

TEST_F(ControlTest, SeveralProcessesSharingTheLockAreNoOneToSignal) {
  WriteFile(pidfile_, "");
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  test_support::PausedChild locker(SharedLockSetup(pidfile_, report[1]));
  close(report[1]);
  pid_t grandchild = 0;
  ASSERT_EQ(read(report[0], &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));
  close(report[0]);
  ASSERT_GT(grandchild, 0);
  WriteFile(pidfile_, "99999\n");

  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.stdout_text, StartsWith("running, pid unknown"));
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 1);
  EXPECT_THAT(stop.stderr_text, HasSubstr("not signalling"));
  EXPECT_EQ(Control("reload").exit_code, 1);
  EXPECT_TRUE(Running(locker.pid()));
  EXPECT_TRUE(Running(grandchild));
  RunResult inspect = RunProgram(
      {test_support::RunfilePath("tools/inspect"), "--pidfile=" + pidfile_});
  EXPECT_EQ(inspect.exit_code, 2) << inspect.stdout_text;
  EXPECT_EQ(inspect.stderr_text,
            absl::StrCat("inspect: --pidfile=", pidfile_,
                         ": its lock is held, but not by one process that can "
                         "be named (the file names 99999, which does not hold "
                         "the lock)\n"));
  locker.Reap();
  EXPECT_TRUE(test_support::WaitUntilGone(grandchild));
}

// Runs `command` with /bin/sh in `dir`.
RunResult Shell(const std::string& dir, const std::string& command) {
  return RunProgram(
      {"/bin/sh", "-c", absl::StrCat("cd '", dir, "' && ", command)});
}

// The command after "stop it:" in the launcher's farewell.
std::string StopLine(const std::string& output) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (absl::ConsumePrefix(&line, "  stop it:")) {
      return std::string(absl::StripLeadingAsciiWhitespace(line));
    }
  }
  return "";
}

TEST_F(ControlTest, RelativePidFileWorksForEveryActionAndTheStopLineRuns) {
  const std::string sub = dir_ + "/sub";
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  const std::string ticker = Ticker();
  const std::string flags = " --daemon_pidfile=r.pid --daemon_stop_timeout=20s";
  RunResult start =
      Shell(sub, ticker + flags + " --daemon_stdout=log --interval=1h");
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = test_support::ReadPid(sub + "/r.pid");
  ASSERT_GT(pid, 0);
  started_.push_back(pid);

  RunResult status = Shell(sub, ticker + flags + " --daemon_control=status");
  EXPECT_EQ(status.exit_code, 0) << status.stderr_text;
  // The file named is the absolute path the action used (issue 22.4).
  char* real_sub = realpath(sub.c_str(), nullptr);
  ASSERT_NE(real_sub, nullptr);
  const std::string shown = absl::StrCat(real_sub, "/r.pid");
  free(real_sub);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", pid, " (pid file ", shown, ")\n"));
  RunResult reload = Shell(sub, ticker + flags + " --daemon_control=reload");
  EXPECT_EQ(reload.exit_code, 0) << reload.stderr_text;
  EXPECT_EQ(reload.stdout_text,
            absl::StrCat("SIGHUP sent (pid file ", shown, ")\n"));
  // From another directory the same relative name is another file, and
  // the answer says which one it looked at.
  RunResult elsewhere =
      Shell(dir_, ticker + flags + " --daemon_control=status");
  EXPECT_EQ(elsewhere.exit_code, 3) << elsewhere.stderr_text;
  char* real_dir = realpath(dir_.c_str(), nullptr);
  ASSERT_NE(real_dir, nullptr);
  EXPECT_EQ(elsewhere.stdout_text,
            absl::StrCat("not running (pid file ", real_dir, "/r.pid)\n"));
  free(real_dir);
  RunResult restart = Shell(
      sub, ticker + flags + " --daemon_control=restart --daemon_stdout=log");
  EXPECT_EQ(restart.exit_code, 0) << restart.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  const pid_t second = test_support::ReadPid(sub + "/r.pid");
  ASSERT_GT(second, 0);
  started_.push_back(second);

  const std::string stop_line = StopLine(restart.stdout_text);
  ASSERT_THAT(stop_line, HasSubstr("--daemon_control=stop"))
      << restart.stdout_text;
  RunResult stop = Shell(sub, stop_line);
  EXPECT_EQ(stop.exit_code, 0) << stop_line << "\n" << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(second));
  EXPECT_FALSE(FileExists(sub + "/r.pid"));
}

TEST_F(ControlTest, StopLineQuotesAPidFileThatAShellWouldSplit) {
  const std::string name = "my pid;$(touch injected) 'x'.pid";
  RunResult start =
      Shell(dir_, absl::StrCat(Ticker(),
                               " --daemon_pidfile=\"my pid;\\$(touch "
                               "injected) 'x'.pid\" --daemon_stdout=log "
                               "--interval=1h"));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = test_support::ReadPid(dir_ + "/" + name);
  ASSERT_GT(pid, 0);
  started_.push_back(pid);
  const std::string stop_line = StopLine(start.stdout_text);
  ASSERT_FALSE(stop_line.empty()) << start.stdout_text;

  RunResult stop = Shell(dir_, stop_line);
  EXPECT_EQ(stop.exit_code, 0) << stop_line << "\n" << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
  EXPECT_FALSE(FileExists(dir_ + "/injected")) << stop_line;
  EXPECT_FALSE(FileExists(dir_ + "/" + name));
}

// Runs `argv` in a child with `dir` made read-only in a private mount
// namespace. Returns the exit code, or -2 when this machine cannot make a
// mount namespace (no root, no user namespaces).
int RunWithReadOnlyDirectory(const std::string& dir,
                             const std::vector<std::string>& argv,
                             std::string* output) {
  const std::string out_path = dir + ".out";
  pid_t child = fork();
  if (child == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(120);
    struct statvfs vfs;
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        statvfs(dir.c_str(), &vfs) != 0 ||
        mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      _exit(121);
    }
    // A remount inside a user namespace must keep the locked flags.
    // mount(2) takes its flags as an unsigned long.
    unsigned long flags =  // NOLINT(google-runtime-int)
        MS_BIND | MS_REMOUNT | MS_RDONLY;
    if (vfs.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (vfs.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (vfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (mount(nullptr, dir.c_str(), nullptr, flags, nullptr) != 0) _exit(121);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(122);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  *output = ReadFileOrEmpty(out_path);
  if (WEXITSTATUS(status) == 121) return -2;
  return WEXITSTATUS(status);
}

TEST_F(ControlTest, StopOnAStaleFileThatCannotBeRemovedSucceeds) {
  const std::string ro = dir_ + "/ro";
  ASSERT_EQ(mkdir(ro.c_str(), 0755), 0);
  for (const char* content : {"4194304\n", ""}) {
    SCOPED_TRACE(absl::StrCat("content '", content, "'"));
    WriteFile(ro + "/x.pid", content);
    std::string output;
    const int code =
        RunWithReadOnlyDirectory(ro,
                                 {Ticker(), "--daemon_pidfile=" + ro + "/x.pid",
                                  "--daemon_control=stop"},
                                 &output);
    if (code == -2) GTEST_SKIP() << "no mount namespace here";
    EXPECT_EQ(code, 0) << output;
    EXPECT_THAT(output, HasSubstr("Read-only file system"));
    EXPECT_TRUE(FileExists(ro + "/x.pid"));
  }
}

TEST_F(ControlTest, StatusOfAPidFileThatIsNoFileIsUnknown) {
  ASSERT_EQ(mkdir(pidfile_.c_str(), 0755), 0);
  RunResult status = Control("status");
  EXPECT_EQ(status.exit_code, 4) << status.stderr_text;
  EXPECT_THAT(status.stderr_text, HasSubstr(pidfile_));
  // The state line on stdout, as for every state (SPEC).
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("unknown (pid file ", pidfile_, ")\n"));
  ASSERT_EQ(rmdir(pidfile_.c_str()), 0);
  ASSERT_EQ(mkfifo(pidfile_.c_str(), 0644), 0);
  status = Control("status");
  EXPECT_EQ(status.exit_code, 4) << status.stderr_text;
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("unknown (pid file ", pidfile_, ")\n"));
}

TEST_F(ControlTest, BooleanFlagsAbseilRejectsExitOneWithItsMessage) {
  for (const char* flag : {"--daemon=maybe", "--daemon_core_dumps=maybe"}) {
    SCOPED_TRACE(flag);
    RunResult result =
        RunProgram({Ticker(), "--daemon_pidfile=" + pidfile_, flag});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_THAT(result.stderr_text, HasSubstr("Illegal value 'maybe'"));
    EXPECT_FALSE(FileExists(pidfile_));
  }
}

// Issue 22.10: a stop with nothing to stop says so, naming the file it
// looked at (exit 0, as LSB wants); a stop that ends a daemon says which.
TEST_F(ControlTest, StopSaysWhatItStoppedOrThatNothingRuns) {
  RunResult idle = Control("stop");
  EXPECT_EQ(idle.exit_code, 0) << idle.stderr_text;
  EXPECT_EQ(idle.stdout_text,
            absl::StrCat("not running (pid file ", pidfile_, ")\n"));

  const pid_t pid = Start();
  ASSERT_GT(pid, 0);
  RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_EQ(stop.stdout_text,
            absl::StrCat("stopped, pid ", pid, " (pid file ", pidfile_, ")\n"));

  RunResult reload = Control("reload");
  EXPECT_EQ(reload.exit_code, 7);
  EXPECT_THAT(reload.stderr_text,
              HasSubstr(absl::StrCat("not running (pid file ", pidfile_, ")")));
}

// Whether `pid` has `signal_number` pending (/proc/PID/status SigPnd or
// ShdPnd): a stopped process keeps it there.
bool HasPending(pid_t pid, int signal_number) {
  const std::string status =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, "SigPnd:") &&
        !absl::ConsumePrefix(&line, "ShdPnd:")) {
      continue;
    }
    const uint64_t mask = std::strtoull(
        std::string(absl::StripAsciiWhitespace(line)).c_str(), nullptr, 16);
    if (mask & (uint64_t{1} << (signal_number - 1))) return true;
  }
  return false;
}

// Issue 22.10: Ctrl-C while `stop` waits for the daemon says that it may
// still be running, then the stop dies of the SIGINT (the shell shows 130).
TEST_F(ControlTest, InterruptedStopSaysTheDaemonMayStillRun) {
  const pid_t pid = Start();
  ASSERT_GT(pid, 0);
  // Stopped, the daemon keeps the SIGTERM pending: the stop waits. Stopped
  // in fact, not only sent SIGSTOP: a daemon not yet scheduled since takes
  // a SIGTERM that comes meanwhile first (the lower number), in its wait
  // where SIGTERM is unblocked, and stops only then, with nothing pending
  // (the gate's plain runs under load: 6 in 30).
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::StatOf(pid).state() == 'T'; }));
  test_support::Spawned stop = test_support::SpawnProgram(
      {Ticker(), "--daemon_pidfile=" + pidfile_, "--daemon_control=stop",
       "--daemon_stop_timeout=1h"});
  // The SIGTERM is sent after the message's handler is in place; then the
  // stop sleeps in its wait (poll; where the kernel hides wchan, asleep).
  // Under ThreadSanitizer a SIGINT that came between the two (outside a
  // blocking call, where its runtime defers a handler) was lost now and
  // then: the stop hung, 1 run in 20 and 1 in 60; 0 in 120 since the test
  // waits for the poll. A plain build never hung.
  EXPECT_TRUE(test_support::WaitFor([&] {
    return HasPending(pid, SIGTERM) && test_support::SleepsInPoll(stop.pid);
  })) << "SIGTERM pending: "
      << HasPending(pid, SIGTERM) << "; the stop's wchan '"
      << ReadFileOrEmpty(absl::StrCat("/proc/", stop.pid, "/wchan"))
      << "', state " << test_support::StatOf(stop.pid).state() << ", threads "
      << test_support::StatOf(stop.pid).field(20) << ", syscall "
      << ReadFileOrEmpty(absl::StrCat("/proc/", stop.pid, "/syscall"))
      << "; the daemon's state " << test_support::StatOf(pid).state()
      << ", status:\n"
      << ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  ASSERT_EQ(kill(stop.pid, SIGINT), 0);
  RunResult result = test_support::WaitProgram(stop);
  EXPECT_EQ(result.term_signal, SIGINT) << result.stderr_text;
  EXPECT_THAT(result.stderr_text,
              HasSubstr(absl::StrCat("stop interrupted: the daemon, pid ", pid,
                                     ", may still be running (pid file ",
                                     pidfile_, ")")));
  EXPECT_TRUE(IsAlive(pid));
  // Resumed, it takes the pending SIGTERM.
  ASSERT_EQ(kill(pid, SIGCONT), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(pid));
}

}  // namespace
}  // namespace daemonkit
