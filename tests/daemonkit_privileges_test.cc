// Copyright 2026 The daemonkit Authors.
//
// Issue 21: --daemon_user for a program run by //tools:daemonkit. The
// program runs as the user (all four ids, no_new_privs); the monitor keeps
// root, so the root-owned pid file stays locked and names the program.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsWriteLocked;
using ::daemonkit::test_support::KillAndWait;
using ::daemonkit::test_support::KillPidFileHolder;
using ::daemonkit::test_support::LiveProcessesSpawnedByThisTest;
using ::daemonkit::test_support::MakeTempDir;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RemoveProgramCgroups;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::StatOf;
using ::daemonkit::test_support::WaitFor;
using ::daemonkit::test_support::WaitUntilGone;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The value of `key` ("Uid:") in /proc/PID/status, tabs made spaces.
std::string StatusField(pid_t pid, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(
           ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status")), '\n')) {
    if (absl::ConsumePrefix(&line, key)) {
      std::string value(absl::StripAsciiWhitespace(line));
      std::replace(value.begin(), value.end(), '\t', ' ');
      return value;
    }
  }
  return "";
}

// Stops the program by its pid file: exit 0, nothing of it left, no pid
// file. Then ends whatever a failed expectation left, so that the next test
// starts clean.
void StopLeavingNothing(const std::string& daemonkit,
                        const std::string& pidfile) {
  const RunResult stop = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
  EXPECT_FALSE(FileExists(pidfile));
  KillPidFileHolder(pidfile);
  for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
  RemoveProgramCgroups(pidfile);
}

// Runs a start that must be refused: `exit_code`, words that match `said`,
// no pid file, nothing of it running.
void ExpectStartRefused(const std::vector<std::string>& argv,
                        const std::string& pidfile, int exit_code,
                        const ::testing::Matcher<const std::string&>& said) {
  const RunResult start = RunProgram(argv);
  EXPECT_EQ(start.exit_code, exit_code) << start.stderr_text;
  EXPECT_THAT(start.stderr_text, said);
  EXPECT_FALSE(FileExists(pidfile));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
  RemoveProgramCgroups(pidfile);
}

TEST(DaemonkitPrivilegesTest, ProgramRunsAsTheUserMonitorKeepsThePidFile) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_privileges");
  const std::string pidfile = dir + "/program.pid";
  const std::string daemonkit = RunfilePath("tools/daemonkit");
  // Closes every descriptor it inherited, then sleeps.
  const std::string script =
      "exec 0<&- 1>&- 2>&-; "
      "for fd in 3 4 5 6 7 8 9; do eval \"exec $fd>&-\"; done; "
      "exec sleep 1000";
  const RunResult start =
      RunProgram({daemonkit, "--daemon_pidfile=" + pidfile,
                  "--daemon_user=nobody", "--", "/bin/sh", "-c", script});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t program = ReadPid(pidfile);
  ASSERT_GT(program, 0);
  ASSERT_TRUE(WaitFor(
      [&] { return StatOf(program).field(ProcStat::kComm) == "sleep"; }));
  EXPECT_EQ(StatusField(program, "Uid:"), "65534 65534 65534 65534");
  EXPECT_EQ(StatusField(program, "NoNewPrivs:"), "1");
  EXPECT_EQ(StatusField(program, "CapEff:"), "0000000000000000");
  EXPECT_TRUE(IsWriteLocked(pidfile));
  const RunResult status = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=status"});
  EXPECT_EQ(status.stdout_text, absl::StrCat("running, pid ", program,
                                             " (pid file ", pidfile, ")\n"));
  StopLeavingNothing(daemonkit, pidfile);
}

// --daemon_capabilities for a program (issue 21.1; refused with exit 2
// before): the program, dropped to nobody, keeps exactly the capability
// asked, in every set and the ambient one too, so that it survives the
// program's own exec (sh execs sleep), and binds a privileged port with
// it, which the same program without the flag cannot.
TEST(DaemonkitPrivilegesTest, AProgramKeepsTheCapabilitiesAskedAcrossItsDrop) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_capabilities");
  const std::string pidfile = dir + "/program.pid";
  const std::string daemonkit = RunfilePath("tools/daemonkit");
  const RunResult start = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_user=nobody",
       "--daemon_capabilities=cap_net_bind_service", "--", "/bin/sh", "-c",
       "exec sleep 1000"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t program = ReadPid(pidfile);
  ASSERT_GT(program, 0);
  ASSERT_TRUE(WaitFor(
      [&] { return StatOf(program).field(ProcStat::kComm) == "sleep"; }));
  EXPECT_EQ(StatusField(program, "Uid:"), "65534 65534 65534 65534");
  EXPECT_EQ(StatusField(program, "NoNewPrivs:"), "1");
  // cap_net_bind_service is bit 10.
  for (const char* set :
       {"CapInh:", "CapPrm:", "CapEff:", "CapAmb:", "CapBnd:"}) {
    EXPECT_EQ(StatusField(program, set), "0000000000000400") << set;
  }
  const RunResult stop = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;

  // At work: the first free port of 600-699 on the loopback, in the
  // foreground; 13 when refused (EACCES).
  constexpr char kBindLowPort[] =
      "import socket, sys\n"
      "for port in range(600, 700):\n"
      "    s = socket.socket()\n"
      "    try:\n"
      "        s.bind(('127.0.0.1', port))\n"
      "        sys.exit(0)\n"
      "    except PermissionError:\n"
      "        sys.exit(13)\n"
      "    except OSError:\n"
      "        pass\n"
      "sys.exit(1)\n";
  const RunResult with =
      RunProgram({daemonkit, "--daemon=false", "--daemon_user=nobody",
                  "--daemon_capabilities=cap_net_bind_service", "--",
                  "/usr/bin/python3", "-c", kBindLowPort});
  EXPECT_EQ(with.exit_code, 0) << with.stderr_text;
  const RunResult without =
      RunProgram({daemonkit, "--daemon=false", "--daemon_user=nobody", "--",
                  "/usr/bin/python3", "-c", kBindLowPort});
  EXPECT_EQ(without.exit_code, 13) << without.stderr_text;
  // As for a library daemon: root under another name confines nothing.
  const RunResult root = RunProgram(
      {daemonkit, "--daemon=false", "--daemon_user=root",
       "--daemon_capabilities=cap_net_bind_service", "--", "/bin/true"});
  EXPECT_EQ(root.exit_code, 2);
  EXPECT_EQ(root.stderr_text,
            "daemonkit: --daemon_capabilities: user root (0), group 0 (0) "
            "is root: kept "
            "capabilities confine only a program dropped to another user; "
            "make --daemon_user a user other than root\n");
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
  KillPidFileHolder(pidfile);
  for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
  RemoveProgramCgroups(pidfile);
}

// The second attack of 2026-12-06: a change of credentials clears the
// parent-death signal, so a program dropped to --daemon_user (or only
// --daemon_group) outlived a SIGKILLed monitor, holding no lock, and a
// second start ran beside it. It dies with its monitor.
TEST(DaemonkitPrivilegesTest, AKilledMonitorTakesTheDroppedProgramWithIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  for (const std::string drop :
       {"--daemon_user=nobody", "--daemon_group=nogroup"}) {
    SCOPED_TRACE(drop);
    const std::string dir = MakeTempDir("daemonkit_monitor_killed");
    const std::string pidfile = dir + "/program.pid";
    const RunResult start = RunProgram({RunfilePath("tools/daemonkit"),
                                        "--daemon_pidfile=" + pidfile, drop,
                                        "--", "/bin/sleep", "1000"});
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    const pid_t program = ReadPid(pidfile);
    ASSERT_GT(program, 0);
    int monitor = 0;
    ASSERT_TRUE(StatOf(program).ParseField(ProcStat::kPpid, &monitor));
    ASSERT_GT(monitor, 1);
    ASSERT_EQ(StatOf(monitor).field(ProcStat::kComm), "daemonkit");
    ASSERT_EQ(kill(monitor, SIGKILL), 0);
    EXPECT_TRUE(WaitUntilGone(program)) << "the program outlived its monitor";
    if (!WaitUntilGone(program, absl::ZeroDuration())) KillAndWait(program);
    // The killed monitor's cgroup (issue 21.3), empty by now.
    RemoveProgramCgroups(pidfile);
  }
  for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
}

// A root for --daemon_chroot holding /bin/sh (dash), /bin/sleep and the
// libraries they load, copied from this machine where ldd finds them.
std::string MakeJail(const std::string& dir) {
  std::string jail = dir + "/jail";
  for (const std::string binary : {"/bin/sh", "/bin/sleep"}) {
    std::vector<std::string> files = {binary};
    const RunResult ldd = RunProgram({"/usr/bin/ldd", binary});
    EXPECT_EQ(ldd.exit_code, 0) << ldd.stderr_text;
    for (absl::string_view word :
         absl::StrSplit(ldd.stdout_text, absl::ByAnyChar(" \t\n"))) {
      if (absl::StartsWith(word, "/")) files.emplace_back(word);
    }
    for (const std::string& file : files) {
      const std::string copy = jail + file;
      std::filesystem::create_directories(
          std::filesystem::path(copy).parent_path());
      std::filesystem::copy_file(
          file, copy, std::filesystem::copy_options::overwrite_existing);
      EXPECT_EQ(chmod(copy.c_str(), 0755), 0) << copy;
    }
  }
  std::filesystem::create_directories(jail + "/work");
  return jail;
}

// Issue 21.1: --daemon_chroot for a program. The program runs in the new
// root, in --daemon_workdir there, as --daemon_user; the monitor stays
// outside with the pid file and writes the program's output into the log
// outside; an upgrade finds the binary inside the root too.
TEST(DaemonkitPrivilegesTest, AProgramInAChrootRunsThereTheMonitorOutside) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_chroot");
  const std::string jail = MakeJail(dir);
  const std::string pidfile = dir + "/program.pid";
  const std::string log = dir + "/program.log";
  const std::string daemonkit = RunfilePath("tools/daemonkit");
  const RunResult start =
      RunProgram({daemonkit, "--daemon_pidfile=" + pidfile,
                  "--daemon_stdout=" + log, "--daemon_chroot=" + jail,
                  "--daemon_workdir=/work", "--daemon_user=nobody", "--",
                  "/bin/sh", "-c", "echo \"in $PWD\"; exec sleep 1000"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  pid_t program = ReadPid(pidfile);
  ASSERT_GT(program, 0);
  EXPECT_EQ(
      std::filesystem::read_symlink(absl::StrCat("/proc/", program, "/root")),
      jail);
  EXPECT_EQ(
      std::filesystem::read_symlink(absl::StrCat("/proc/", program, "/cwd")),
      jail + "/work");
  EXPECT_EQ(StatusField(program, "Uid:"), "65534 65534 65534 65534");
  int monitor = 0;
  ASSERT_TRUE(StatOf(program).ParseField(ProcStat::kPpid, &monitor));
  EXPECT_EQ(
      std::filesystem::read_symlink(absl::StrCat("/proc/", monitor, "/root")),
      "/");
  EXPECT_TRUE(WaitFor([&] { return ReadFileOrEmpty(log) == "in /work\n"; }))
      << ReadFileOrEmpty(log);

  const RunResult upgrade = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=upgrade"});
  EXPECT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  program = ReadPid(pidfile);
  EXPECT_EQ(
      std::filesystem::read_symlink(absl::StrCat("/proc/", program, "/root")),
      jail);
  StopLeavingNothing(daemonkit, pidfile);
}

// An upgrade checks the binary as the exec will find it: inside the root,
// where an absolute symbolic link names a file of the root. The model
// test's chroot rows found every upgrade refused ("No such file or
// directory"): the monitor followed the link from outside, to its own "/".
TEST(DaemonkitPrivilegesTest, AnUpgradeInAChrootFollowsTheRootsOwnLinks) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_chroot_link");
  const std::string jail = MakeJail(dir);
  // /opt/daemonkit-test/sleep exists in the root only; /bin/app leads to it.
  std::filesystem::create_directories(jail + "/opt/daemonkit-test");
  std::filesystem::copy_file("/bin/sleep", jail + "/opt/daemonkit-test/sleep");
  ASSERT_EQ(chmod((jail + "/opt/daemonkit-test/sleep").c_str(), 0755), 0);
  ASSERT_FALSE(FileExists("/opt/daemonkit-test/sleep"));
  std::filesystem::create_symlink("/opt/daemonkit-test/sleep",
                                  jail + "/bin/app");
  const std::string pidfile = dir + "/program.pid";
  const std::string daemonkit = RunfilePath("tools/daemonkit");
  const RunResult start = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_chroot=" + jail,
       "--daemon_user=nobody", "--", "/bin/app", "1000"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t first = ReadPid(pidfile);
  const RunResult upgrade = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=upgrade"});
  EXPECT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t second = ReadPid(pidfile);
  EXPECT_NE(second, first);
  EXPECT_EQ(
      std::filesystem::read_symlink(absl::StrCat("/proc/", second, "/root")),
      jail);
  // A binary the dropped user could have put there is refused, as outside
  // a root (issue 18.19), and the running program stays.
  ASSERT_EQ(chown((jail + "/opt/daemonkit-test/sleep").c_str(), 65534, 65534),
            0);
  const RunResult refused = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=upgrade"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.stderr_text, HasSubstr("inside --daemon_chroot=" + jail));
  EXPECT_EQ(ReadPid(pidfile), second);
  StopLeavingNothing(daemonkit, pidfile);
}

// What the chroot lacks fails the start with one line naming it (exit 1),
// and leaves nothing behind.
TEST(DaemonkitPrivilegesTest, WhatTheChrootLacksFailsTheStartNamingIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_chroot_lacks");
  const std::string jail = MakeJail(dir);
  const std::string pidfile = dir + "/program.pid";
  const struct {
    std::vector<std::string> flags;
    std::string said;
  } cases[] = {
      {{"--", "/usr/bin/env"},
       "daemonkit: /usr/bin/env (inside --daemon_chroot=" + jail +
           "): No such file or directory\n"},
      {{"--daemon_workdir=/nowhere", "--", "/bin/sleep", "1000"},
       "daemonkit: --daemon_workdir=/nowhere inside --daemon_chroot=" + jail +
           ": No such file or directory\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {
        RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + pidfile,
        "--daemon_chroot=" + jail, "--daemon_user=nobody"};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    ExpectStartRefused(argv, pidfile, 1, ::testing::Eq(c.said));
  }
}

// The attack of 2026-12-07 on the chroot: what must be refused before
// anything starts, and how (exit 2 for a combination that cannot confine,
// 1 for a path the program's user could change). Nothing runs after any.
TEST(DaemonkitPrivilegesTest, AChrootThatCannotConfineIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_chroot_refused");
  const std::string jail = MakeJail(dir);
  const std::string pidfile = dir + "/program.pid";
  // A directory the program's user owns, for the root and for a socket
  // (short: a socket's path is at most 107 bytes).
  const test_support::ShortTempDir short_dir;
  const std::string users = short_dir.path() + "/users";
  std::filesystem::create_directories(users + "/jail");
  ASSERT_EQ(chown(users.c_str(), 65534, 65534), 0);
  const struct {
    std::vector<std::string> flags;
    int exit_code;
    std::string said;
  } cases[] = {
      {{"--daemon_chroot=" + jail, "--daemon_user=root"},
       2,
       "--daemon_chroot=" + jail + ": user root (0), group"},
      {{"--daemon_chroot=" + jail, "--daemon_user=0"},
       2,
       "is root, who can leave a chroot"},
      {{"--daemon_chroot=" + jail, "--daemon_user=nobody",
        "--daemon_no_new_privs=false"},
       2,
       "a set-user-ID program inside the root could make the daemon root"},
      {{"--daemon_chroot=" + users + "/jail", "--daemon_user=nobody"},
       1,
       "--daemon_chroot=" + users + "/jail: directory " + users +
           " is owned by user nobody"},
      {{"--daemon_chroot=" + jail, "--daemon_user=nobody",
        "--daemon_listen=app=unix:" + users + "/app.sock"},
       1,
       "--daemon_listen=app=unix:" + users + "/app.sock: directory " + users +
           " is owned by user nobody"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.flags, " "));
    std::vector<std::string> argv = {RunfilePath("tools/daemonkit"),
                                     "--daemon_pidfile=" + pidfile};
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    argv.insert(argv.end(), {"--", "/bin/sleep", "1000"});
    ExpectStartRefused(argv, pidfile, c.exit_code, HasSubstr(c.said));
  }
}

// In the foreground the caller's descriptors are handed down, but not a
// directory into a chroot: through one the jailed program listed the
// host's "/" (the attack of 2026-12-07). The same for a library daemon
// that chroots itself.
TEST(DaemonkitPrivilegesTest, NoDirectoryDescriptorFollowsIntoTheChroot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_chroot_fds");
  const std::string jail = MakeJail(dir);
  const std::string pidfile = dir + "/program.pid";
  const std::string daemonkit = RunfilePath("tools/daemonkit");
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{
            daemonkit, "--daemon=false", "--daemon_pidfile=" + pidfile,
            "--daemon_chroot=" + jail, "--daemon_user=nobody", "--",
            "/bin/sleep", "1000"},
        std::vector<std::string>{
            RunfilePath("examples/ticker"), "--daemon=false",
            "--daemon_pidfile=" + pidfile, "--daemon_chroot=" + jail,
            "--daemon_user=nobody", "--interval=1h"}}) {
    SCOPED_TRACE(command[0]);
    std::string shell = "exec 7</ 8<" + dir + "; exec";
    for (const std::string& word : command) {
      absl::StrAppend(&shell, " '", word, "'");
    }
    test_support::Spawned foreground =
        test_support::SpawnProgram({"/bin/bash", "-c", shell});
    pid_t jailed = 0;
    ASSERT_TRUE(WaitFor([&] {
      jailed = ReadPid(pidfile);
      return jailed > 0 && std::filesystem::read_symlink(
                               absl::StrCat("/proc/", jailed, "/root")) == jail;
    })) << ReadFileOrEmpty(foreground.err_path);
    // Judged by what a descriptor reaches, not by its number: the daemon's
    // own descriptors may take the numbers 7 and 8 once the inherited ones
    // are closed (check_fresh saw its descriptor of the jail at 7).
    for (const auto& [fd, target] : test_support::OpenDescriptors(jailed)) {
      EXPECT_NE(target, "/") << fd;
      EXPECT_NE(target, dir);
    }
    ASSERT_EQ(kill(foreground.pid, SIGTERM), 0);
    test_support::WaitProgram(foreground);
    EXPECT_TRUE(WaitUntilGone(jailed));
    for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
    RemoveProgramCgroups(pidfile);
  }
}

// A restart whose start cannot succeed stops nothing: the chroot is
// judged before the stop (the attack of 2026-12-07: a mistyped root
// stopped the service and started nothing). And a root without the
// program's ELF loader says so, not that the program is missing.
TEST(DaemonkitPrivilegesTest, ARestartIntoABadRootStopsNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = MakeTempDir("daemonkit_chroot_restart");
  const std::string jail = MakeJail(dir);
  const std::string pidfile = dir + "/program.pid";
  const std::string daemonkit = RunfilePath("tools/daemonkit");
  const RunResult start = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_chroot=" + jail,
       "--daemon_user=nobody", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t program = ReadPid(pidfile);
  const RunResult restart = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_control=restart",
       "--daemon_chroot=" + dir + "/no-such-root", "--daemon_user=nobody", "--",
       "/bin/sleep", "1000"});
  EXPECT_NE(restart.exit_code, 0);
  EXPECT_THAT(restart.stderr_text, HasSubstr(dir + "/no-such-root"));
  EXPECT_EQ(ReadPid(pidfile), program);
  EXPECT_TRUE(test_support::IsAlive(program));
  StopLeavingNothing(daemonkit, pidfile);

  const std::string bare = dir + "/bare";
  std::filesystem::create_directories(bare + "/bin");
  std::filesystem::copy_file("/bin/sleep", bare + "/bin/sleep");
  ASSERT_EQ(chmod((bare + "/bin/sleep").c_str(), 0755), 0);
  const RunResult no_loader = RunProgram(
      {daemonkit, "--daemon_pidfile=" + pidfile, "--daemon_chroot=" + bare,
       "--daemon_user=nobody", "--", "/bin/sleep", "1000"});
  EXPECT_EQ(no_loader.exit_code, 1);
  EXPECT_EQ(no_loader.stderr_text,
            "daemonkit: /bin/sleep: its interpreter (the ELF loader, or the "
            "program on its #! line) was not found inside --daemon_chroot=" +
                bare + "\n");
  EXPECT_FALSE(FileExists(pidfile));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
  RemoveProgramCgroups(pidfile);
}

TEST(DaemonkitPrivilegesTest, UnknownUserIsAStartError) {
  const std::string dir = MakeTempDir("daemonkit_unknown_user");
  const RunResult start = RunProgram(
      {RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + dir + "/p.pid",
       "--daemon_user=no-such-user-here", "--", "/bin/true"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("no-such-user-here"));
  EXPECT_FALSE(FileExists(dir + "/p.pid"));
}

}  // namespace
}  // namespace daemonkit
