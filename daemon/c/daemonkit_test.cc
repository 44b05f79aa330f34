// Copyright 2026 The daemonkit Authors.
//
// The C API (issue 21) against real processes: each start runs the C test
// daemon (daemon/c/daemonkit_test_app.c), which becomes the launcher, and
// the daemon it makes is read through /proc and operated with the C API's
// own control actions.

#include "daemon/c/daemonkit.h"

#include <errno.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using test_support::IsWriteLocked;
using test_support::MakeTempDir;
using test_support::ReadFileOrEmpty;
using test_support::ReadPid;
using test_support::RunfilePath;
using test_support::RunProgram;
using test_support::RunResult;
using test_support::StatOf;
using test_support::WaitFor;
using test_support::WaitUntilGone;
using test_support::WriteFile;

// Runs the C API's test daemon (daemon/c/daemonkit_test_app.c) with
// `args`, its stderr into `err`; the launcher's exit code (or the one
// daemonize returned), -1 when it died of a signal.
int Daemonize(const std::vector<std::string>& args, const std::string& err) {
  std::vector<std::string> argv = {RunfilePath("daemon/c_test_app")};
  argv.insert(argv.end(), args.begin(), args.end());
  const RunResult result = RunProgram(argv);
  WriteFile(err, result.stderr_text);
  return result.exit_code;
}

// The value of "Umask:" in /proc/PID/status, or "".
std::string UmaskOf(pid_t pid) {
  for (absl::string_view line : absl::StrSplit(
           ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status")), '\n')) {
    if (absl::ConsumePrefix(&line, "Umask:")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

TEST(CApiTest, DaemonizesReloadsAndStopsWithTheLibraryFlags) {
  const std::string dir = MakeTempDir("capi_start");
  const std::string pidfile = dir + "/d.pid";
  const std::string log = dir + "/out.log";
  const std::string pidfile_flag = "--daemon_pidfile=" + pidfile;
  // The program's own words around the library's; a flag's value as the
  // next word.
  ASSERT_EQ(
      Daemonize({"--verbose", "input.txt", pidfile_flag, "--daemon_stdout", log,
                 "--daemon_umask=027", "--daemon_workdir=" + dir},
                dir + "/start.err"),
      0)
      << ReadFileOrEmpty(dir + "/start.err");

  const pid_t pid = ReadPid(pidfile);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(IsWriteLocked(pidfile));
  ASSERT_TRUE(WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(log), "daemon "); }));
  EXPECT_TRUE(absl::StartsWith(ReadFileOrEmpty(log),
                               absl::StrCat("daemon ", pid, " signal_fd ")))
      << ReadFileOrEmpty(log);
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(log), " detached 1"));

  // daemon(7), read from /proc: not a session leader, in a session that is
  // not the test's, no controlling terminal, stdin on /dev/null, the
  // flags' umask and directory.
  const ProcStat stat = StatOf(pid);
  pid_t sid = 0;
  int tty = -1;
  ASSERT_TRUE(stat.ParseField(ProcStat::kSession, &sid));
  ASSERT_TRUE(stat.ParseField(ProcStat::kTtyNr, &tty));
  EXPECT_NE(sid, pid);
  EXPECT_NE(sid, getsid(0));
  EXPECT_EQ(tty, 0);
  char target[256] = {};
  ASSERT_GT(readlink(absl::StrCat("/proc/", pid, "/fd/0").c_str(), target,
                     sizeof(target) - 1),
            0);
  EXPECT_STREQ(target, "/dev/null");
  EXPECT_EQ(UmaskOf(pid), "0027");
  char cwd[4096] = {};
  ASSERT_GT(readlink(absl::StrCat("/proc/", pid, "/cwd").c_str(), cwd,
                     sizeof(cwd) - 1),
            0);
  EXPECT_EQ(std::string(cwd), dir);

  // The control actions through the C API, with their exit codes.
  EXPECT_EQ(
      Daemonize({pidfile_flag, "--daemon_control=status"}, dir + "/status.err"),
      0);
  EXPECT_EQ(
      Daemonize({pidfile_flag, "--daemon_control=reload"}, dir + "/reload.err"),
      0)
      << ReadFileOrEmpty(dir + "/reload.err");
  EXPECT_TRUE(WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(log), "reload\n"); }));
  EXPECT_EQ(
      Daemonize({pidfile_flag, "--daemon_control=stop"}, dir + "/stop.err"), 0)
      << ReadFileOrEmpty(dir + "/stop.err");
  EXPECT_TRUE(WaitUntilGone(pid));
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(log), "stop 1\n"))
      << ReadFileOrEmpty(log);
  EXPECT_FALSE(test_support::FileExists(pidfile));
  EXPECT_EQ(Daemonize({pidfile_flag, "--daemon_control=status"},
                      dir + "/status2.err"),
            3);  // LSB: not running
}

// A C program's --help is its own; the C API gives it the library's part.
TEST(CApiTest, FlagsHelpListsTheLibrarysFlagsOnly) {
  const std::string help = daemonkit_flags_help();
  for (const char* name :
       {"  --daemon (", "  --daemon_pidfile (", "  --daemon_stdout (",
        "  --daemon_control (", "  --daemon_user (", "  --daemon_listen ("}) {
    EXPECT_TRUE(absl::StrContains(help, name)) << name << " in\n" << help;
  }
  EXPECT_TRUE(absl::StrContains(help, "); default: \"start\"\n") &&
              absl::EndsWith(help, "\n"))
      << help;
  // Not glog's, gflags' or gtest's flags.
  EXPECT_FALSE(absl::StrContains(help, "--log_dir")) << help;
  EXPECT_FALSE(absl::StrContains(help, "--gtest")) << help;
  EXPECT_EQ(daemonkit_flags_help(), daemonkit_flags_help());
}

TEST(CApiTest, BadFlagsReturnTheUsageCodeAndForkNothing) {
  const std::string dir = MakeTempDir("capi_usage");
  const std::string err = dir + "/err";
  EXPECT_EQ(
      Daemonize({"--daemon_pidfile=" + dir + "/p.pid", "--daemon_umask=abc"},
                err),
      DAEMONKIT_EXIT_USAGE);
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(err), "--daemon_umask=abc"))
      << ReadFileOrEmpty(err);
  EXPECT_EQ(Daemonize({"--daemon_pidfiel=x"}, err), DAEMONKIT_EXIT_USAGE);
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(err), "--daemon_pidfiel"))
      << ReadFileOrEmpty(err);
  EXPECT_EQ(Daemonize({"--daemon_stdout"}, err), DAEMONKIT_EXIT_USAGE);
  EXPECT_EQ(Daemonize({"--nodaemon=true"}, err), DAEMONKIT_EXIT_USAGE);
  EXPECT_FALSE(test_support::FileExists(dir + "/p.pid"));
}

TEST(CApiTest, AlreadyRunningReturnsTheFailureCode) {
  const std::string dir = MakeTempDir("capi_twice");
  const std::string pidfile = dir + "/d.pid";
  const std::string pidfile_flag = "--daemon_pidfile=" + pidfile;
  ASSERT_EQ(Daemonize({pidfile_flag}, dir + "/first.err"), 0)
      << ReadFileOrEmpty(dir + "/first.err");
  const pid_t pid = ReadPid(pidfile);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Daemonize({pidfile_flag}, dir + "/second.err"),
            DAEMONKIT_EXIT_FAILURE);
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(dir + "/second.err"),
                                "already running"))
      << ReadFileOrEmpty(dir + "/second.err");
  EXPECT_EQ(ReadPid(pidfile), pid);
  EXPECT_EQ(
      Daemonize({pidfile_flag, "--daemon_control=stop"}, dir + "/stop.err"), 0);
  EXPECT_TRUE(WaitUntilGone(pid));
}

TEST(CApiTest, FailStartupReachesTheLaunchersStderr) {
  const std::string dir = MakeTempDir("capi_fail");
  const std::string pidfile = dir + "/d.pid";
  const std::string log = dir + "/out.log";
  EXPECT_EQ(Daemonize({"--daemon_pidfile=" + pidfile, "--daemon_stdout=" + log,
                       "--fail=no configuration at /etc/c_test.conf"},
                      dir + "/err"),
            1);
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(dir + "/err"),
                                "no configuration at /etc/c_test.conf"))
      << ReadFileOrEmpty(dir + "/err");
  EXPECT_FALSE(test_support::FileExists(pidfile));
  // The daemon it forked is gone too (the launcher returns only then).
  pid_t pid = 0;
  const std::string text = ReadFileOrEmpty(log);
  ASSERT_TRUE(absl::StartsWith(text, "daemon ")) << text;
  ASSERT_TRUE(absl::SimpleAtoi(
      std::string(absl::StrSplit(text.substr(7), ' ').begin()->data(),
                  text.substr(7).find(' ')),
      &pid));
  EXPECT_TRUE(WaitUntilGone(pid));

  // The daemon's words reach the terminal as text, never as control
  // sequences or a second line (the attack of 2026-12-06).
  EXPECT_EQ(Daemonize({"--daemon_pidfile=" + pidfile, "--daemon_stdout=" + log,
                       "--fail=bad \x1b]0;pwned\x07 config\nforged"},
                      dir + "/err"),
            1);
  const std::string err = ReadFileOrEmpty(dir + "/err");
  EXPECT_TRUE(
      absl::StrContains(err, "bad \\x1b]0;pwned\\x07 config\\nforged\n"))
      << err;
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
}

// Found by the attack of 2026-12-06: a failure reported after the ready
// removed the pid file and its lock while the daemon ran on, and a second
// one then started beside it.
TEST(CApiTest, AFailureReportedAfterTheReadyKeepsThePidFile) {
  const std::string dir = MakeTempDir("capi_late");
  const std::string pidfile = dir + "/d.pid";
  const std::string log = dir + "/out.log";
  ASSERT_EQ(Daemonize({"--daemon_pidfile=" + pidfile, "--daemon_stdout=" + log,
                       "--fail_after_ready=too late"},
                      dir + "/err"),
            0)
      << ReadFileOrEmpty(dir + "/err");
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(log), "late failure 0\n");
  })) << ReadFileOrEmpty(log);
  const pid_t pid = ReadPid(pidfile);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Daemonize({"--daemon_pidfile=" + pidfile, "--daemon_stdout=" + log},
                      dir + "/second.err"),
            1)
      << ReadFileOrEmpty(dir + "/second.err");
  EXPECT_EQ(Daemonize({"--daemon_pidfile=" + pidfile, "--daemon_control=stop"},
                      dir + "/stop.err"),
            0);
  EXPECT_TRUE(WaitUntilGone(pid));
  EXPECT_FALSE(test_support::FileExists(pidfile));
}

TEST(CApiTest, NullHandlesAreRefused) {
  EXPECT_EQ(daemonkit_notify_ready(nullptr), -EINVAL);
  EXPECT_EQ(daemonkit_fail_startup(nullptr, "x"), -EINVAL);
  EXPECT_EQ(daemonkit_wait(nullptr, 0), -EINVAL);
  EXPECT_EQ(daemonkit_signal_fd(nullptr), -EINVAL);
  EXPECT_EQ(daemonkit_stop_requested(nullptr), -EINVAL);
  EXPECT_EQ(daemonkit_notify_status(nullptr, "x"), -EINVAL);
  EXPECT_EQ(daemonkit_set_reload_hook(nullptr, nullptr, nullptr), -EINVAL);
  EXPECT_EQ(daemonkit_listen_socket(nullptr, "x"), -EINVAL);
  EXPECT_EQ(daemonkit_detached(nullptr), -EINVAL);
  daemonkit_close(nullptr);
  EXPECT_EQ(daemonkit_daemonize(0, nullptr, nullptr), DAEMONKIT_EXIT_USAGE);
}

}  // namespace
}  // namespace daemonkit
