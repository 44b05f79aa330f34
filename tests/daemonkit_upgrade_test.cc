// Copyright 2026 The daemonkit Authors.
//
// Issue 21.4: `daemonkit --daemon_control=upgrade` replaces a program that
// does not link the library (here Python's socketserver on an activated
// TCP socket) without refusing a connection: its monitor starts the program
// anew with the same listening sockets, waits for its readiness, names it
// in the pid file, then stops the old one. A new program that fails, or is
// not ready in time, leaves the old one serving. Real processes
// throughout; a client thread connects again and again during the
// upgrades and counts every connection that failed or got no answer.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>  // NOLINT(build/c++11): the test's load generator
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "daemon/internal/program_cgroup.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::Exchange;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::KillAndWait;
using ::daemonkit::test_support::KillPidFileHolder;
using ::daemonkit::test_support::LiveProcessesSpawnedByThisTest;
using ::daemonkit::test_support::MakeTempDir;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RemoveProgramCgroups;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::WaitUntilGone;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A server that speaks socket activation and readiness as Go and Python
// web servers do: it serves descriptor 3 (LISTEN_FDS, LISTEN_PID checked),
// says READY=1 on $NOTIFY_SOCKET, answers each connection with its pid,
// and on SIGTERM finishes the connection at hand and exits. When the file
// named by $BROKEN exists it exits 3 at once instead (a bad release); when
// $STUCK exists it never says READY=1.
constexpr char kServer[] = R"(
import os, signal, socket, socketserver, sys
if os.path.exists(os.environ["BROKEN"]):
    sys.exit(3)
assert os.environ["LISTEN_FDS"] == "1"
assert os.environ["LISTEN_PID"] == str(os.getpid())
listener = socket.socket(fileno=3)
class Answer(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"%d\n" % os.getpid())
class Server(socketserver.TCPServer):
    def __init__(self):
        super().__init__(None, Answer, bind_and_activate=False)
        self.socket = listener
server = Server()
def stop(*_):
    # serve_forever() ends after the connection at hand: a drain.
    server._BaseServer__shutdown_request = True
signal.signal(signal.SIGTERM, stop)
if not os.path.exists(os.environ["STUCK"]):
    address = os.environ["NOTIFY_SOCKET"]
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.sendto(b"READY=1", "\0" + address[1:] if address[0] == "@"
                  else address)
server.serve_forever(poll_interval=0.05)
)";

class DaemonkitUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("daemonkit_upgrade");
    pidfile_ = dir_ + "/server.pid";
    broken_ = dir_ + "/broken";
    stuck_ = dir_ + "/stuck";
  }
  void TearDown() override {
    KillPidFileHolder(pidfile_);
    for (pid_t pid : LiveProcessesSpawnedByThisTest()) KillAndWait(pid);
    RemoveProgramCgroups(pidfile_);
  }

  // Starts the server under daemonkit, with `flags`, on a loopback port
  // not in use; false when none worked.
  bool StartServer(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> argv = {RunfilePath("tools/daemonkit"),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--daemon_stdout=" + dir_ + "/server.log",
                                     "--daemon_stderr=" + dir_ + "/server.log",
                                     "--ready=notify",
                                     "--daemon_stop_timeout=5s"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    // The program's environment through env(1).
    const std::vector<std::string> program = {"--",
                                              "/usr/bin/env",
                                              "BROKEN=" + broken_,
                                              "STUCK=" + stuck_,
                                              "/usr/bin/python3",
                                              "-c",
                                              kServer};
    RunResult start;
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int port =
          20000 +
          static_cast<int>((getpid() * 7919L + attempt * 104729L) % 20000);
      std::vector<std::string> full = argv;
      full.push_back(absl::StrCat("--daemon_listen=web=tcp:127.0.0.1:", port));
      full.insert(full.end(), program.begin(), program.end());
      start = RunProgram(full);
      if (start.exit_code == 0) {
        port_ = port;
        return true;
      }
      if (!absl::StrContains(start.stderr_text, "in use")) break;
    }
    ADD_FAILURE() << start.stderr_text;
    return false;
  }

  RunResult Control(const std::string& action) {
    return RunProgram(
        {RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + pidfile_,
         "--daemon_control=" + action, "--daemon_stop_timeout=5s"});
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  // The pid that answered one connection, 0 when it failed.
  pid_t Ask() const {
    pid_t pid = 0;
    const std::string answer =
        Exchange(Address(), "", nullptr, absl::Seconds(10));
    return absl::SimpleAtoi(absl::StripTrailingAsciiWhitespace(answer), &pid)
               ? pid
               : 0;
  }

  // "upgraded, pid NEW (was OLD)": NEW and OLD, or {0, 0}.
  static std::pair<pid_t, pid_t> Pids(const std::string& said) {
    absl::string_view text = said;
    pid_t next = 0, old = 0;
    if (!absl::ConsumePrefix(&text, "upgraded, pid ")) return {0, 0};
    const size_t space = text.find(' ');
    if (!absl::SimpleAtoi(text.substr(0, space), &next)) return {0, 0};
    text.remove_prefix(space);
    if (!absl::ConsumePrefix(&text, " (was ")) return {0, 0};
    if (!absl::SimpleAtoi(text.substr(0, text.find(')')), &old)) return {0, 0};
    return {next, old};
  }

  std::string dir_, pidfile_, broken_, stuck_;
  int port_ = 0;
};

TEST_F(DaemonkitUpgradeTest, TwentyUpgradesUnderLoadRefuseNoConnection) {
  ASSERT_TRUE(StartServer());
  pid_t serving = ReadPid(pidfile_);
  ASSERT_EQ(Ask(), serving);

  std::atomic<bool> done{false};
  std::atomic<int> answered{0}, failed{0};
  std::thread client([&] {
    while (!done.load()) {
      if (Ask() > 0) {
        answered.fetch_add(1);
      } else {
        failed.fetch_add(1);
      }
    }
  });
  std::set<pid_t> programs = {serving};
  for (int i = 0; i < 20; ++i) {
    const RunResult upgrade = Control("upgrade");
    ASSERT_EQ(upgrade.exit_code, 0) << i << ": " << upgrade.stderr_text;
    const auto [next, old] = Pids(upgrade.stdout_text);
    EXPECT_EQ(old, serving) << upgrade.stdout_text;
    ASSERT_GT(next, 0) << upgrade.stdout_text;
    EXPECT_THAT(upgrade.stdout_text, HasSubstr("old gone"));
    EXPECT_EQ(ReadPid(pidfile_), next);
    EXPECT_FALSE(IsAlive(old)) << "the old program still runs";
    programs.insert(next);
    serving = next;
  }
  done.store(true);
  client.join();
  EXPECT_EQ(failed.load(), 0) << "of " << answered.load() + failed.load();
  EXPECT_GT(answered.load(), 20);
  EXPECT_EQ(programs.size(), 21u);
  EXPECT_EQ(Ask(), serving);

  const RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

TEST_F(DaemonkitUpgradeTest, ANewProgramThatFailsLeavesTheOldOneServing) {
  ASSERT_TRUE(StartServer());
  const pid_t serving = ReadPid(pidfile_);
  // A bad release: the new program exits at once.
  ASSERT_TRUE(test_support::WriteFile(broken_, ""));
  const RunResult upgrade = Control("upgrade");
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("exited with status 3 before it was ready"));
  EXPECT_EQ(ReadPid(pidfile_), serving);
  EXPECT_EQ(Ask(), serving);
  EXPECT_EQ(Control("status").stdout_text.rfind("running, pid ", 0), 0u);
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), ::testing::SizeIs(2))
      << "the monitor and the old program, nothing of the new one";
}

TEST_F(DaemonkitUpgradeTest, ANewProgramNotReadyInTimeIsEndedAndRefused) {
  ASSERT_TRUE(StartServer({"--daemon_ready_timeout=1s"}));
  const pid_t serving = ReadPid(pidfile_);
  ASSERT_TRUE(test_support::WriteFile(stuck_, ""));
  const RunResult upgrade = Control("upgrade");
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("was not ready within 1s"));
  EXPECT_EQ(ReadPid(pidfile_), serving);
  EXPECT_EQ(Ask(), serving);
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), ::testing::SizeIs(2));
  // The next upgrade, of a release that works, goes through.
  ASSERT_EQ(unlink(stuck_.c_str()), 0);
  const RunResult again = Control("upgrade");
  EXPECT_EQ(again.exit_code, 0) << again.stderr_text;
  EXPECT_TRUE(WaitUntilGone(serving));
}

// Whether daemonkit, started from here, gets a cgroup of the program's own
// (daemonkit_cgroup_test.cc asks the same way).
bool CgroupsHere() {
  absl::StatusOr<std::unique_ptr<internal::ProgramCgroup>> probe =
      internal::ProgramCgroup::Create(
          absl::StrCat("daemonkit-upgrade-test-probe.", getpid()));
  if (!probe.ok()) return false;
  EXPECT_TRUE((*probe)->Remove().ok());
  return true;
}

TEST_F(DaemonkitUpgradeTest, TheOldProgramsTreeGoesWithItWhereItHasACgroup) {
  // Each run leaves a grandchild in a session of its own, as a program
  // that daemonizes a helper does, and notes its pid.
  const std::string noted = dir_ + "/grandchildren";
  const RunResult start = RunProgram(
      {RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + pidfile_,
       "--daemon_stop_timeout=5s", "--", "/bin/sh", "-c",
       absl::StrCat("setsid sleep 1002 & echo $! >> ", noted,
                    "; exec sleep 1001")});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t first = ReadPid(pidfile_);
  auto grandchild = [&](size_t run) {
    pid_t pid = 0;
    test_support::WaitFor([&] {
      const std::vector<std::string> lines = absl::StrSplit(
          test_support::ReadFileOrEmpty(noted), '\n', absl::SkipEmpty());
      return lines.size() > run && absl::SimpleAtoi(lines[run], &pid);
    });
    return pid;
  };
  const pid_t first_grandchild = grandchild(0);
  ASSERT_GT(first_grandchild, 0);
  const RunResult upgrade = Control("upgrade");
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  EXPECT_FALSE(IsAlive(first));
  const pid_t second_grandchild = grandchild(1);
  ASSERT_GT(second_grandchild, 0);
  EXPECT_TRUE(IsAlive(second_grandchild)) << "the new program's own";
  if (CgroupsHere()) {
    // Ended with the old program's cgroup, by the time upgrade returned.
    EXPECT_FALSE(IsAlive(first_grandchild));
  } else {
    // The fallback (README, "Any program"): a subreaper cannot tell whose
    // orphan it is; it lives until the stop.
    EXPECT_TRUE(IsAlive(first_grandchild));
  }
  const RunResult stop = Control("stop");
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

// A shell program ready on descriptor 5 after the seconds in file `delay`,
// which logs its start, its readiness and each SIGHUP with its pid, and
// ignores SIGTERM while file `deaf` exists.
class ShellProgramUpgradeTest : public DaemonkitUpgradeTest {
 protected:
  void SetUp() override {
    DaemonkitUpgradeTest::SetUp();
    log_ = dir_ + "/app.log";
    delay_ = dir_ + "/delay";
    deaf_ = dir_ + "/deaf";
    ASSERT_TRUE(test_support::WriteFile(delay_, "0"));
    script_ = dir_ + "/app.sh";
    ASSERT_TRUE(test_support::WriteFile(
        script_,
        absl::StrCat("#!/bin/sh\n", "echo \"started $$\" >> ", log_, "\n",
                     "trap 'echo \"HUP $$\" >> ", log_, "' HUP\n", "[ -e ",
                     deaf_, " ] && trap '' TERM\n", "sleep $(cat ", delay_,
                     ")\n", "echo >&5\n", "echo \"ready $$\" >> ", log_, "\n",
                     "while :; do sleep 0.1; done\n")));
    ASSERT_EQ(chmod(script_.c_str(), 0755), 0);
  }

  RunResult StartApp(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> argv = {RunfilePath("tools/daemonkit"),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--ready=fd:5"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("--");
    argv.push_back(script_);
    return RunProgram(argv);
  }

  test_support::Spawned SpawnUpgrade() {
    return test_support::SpawnProgram({RunfilePath("tools/daemonkit"),
                                       "--daemon_pidfile=" + pidfile_,
                                       "--daemon_control=upgrade"});
  }

  // Whether the log has `count` lines starting with `what`.
  bool Logged(absl::string_view what, size_t count) const {
    size_t seen = 0;
    for (absl::string_view line :
         absl::StrSplit(test_support::ReadFileOrEmpty(log_), '\n')) {
      if (absl::StartsWith(line, what)) ++seen;
    }
    return seen >= count;
  }

  pid_t Monitor(pid_t program) const {
    pid_t parent = 0;
    test_support::StatOf(program).ParseField(ProcStat::kPpid, &parent);
    return parent;
  }

  std::string log_, delay_, deaf_, script_;
};

TEST_F(ShellProgramUpgradeTest, AReloadDuringTheUpgradeReachesTheNewProgram) {
  ASSERT_EQ(StartApp().exit_code, 0);
  ASSERT_TRUE(test_support::WriteFile(delay_, "1"));
  const test_support::Spawned upgrade = SpawnUpgrade();
  // The new program has started, and is not ready yet: a log rotation.
  ASSERT_TRUE(test_support::WaitFor([&] { return Logged("started", 2); }));
  const RunResult reload = Control("reload");
  EXPECT_EQ(reload.exit_code, 0) << reload.stderr_text;
  const RunResult upgraded = test_support::WaitProgram(upgrade);
  ASSERT_EQ(upgraded.exit_code, 0) << upgraded.stderr_text;
  const pid_t next = Pids(upgraded.stdout_text).first;
  ASSERT_GT(next, 0);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return Logged(absl::StrCat("HUP ", next), 1);
  })) << test_support::ReadFileOrEmpty(log_);
}

TEST_F(ShellProgramUpgradeTest, AMonitorKilledAfterTheHandoverIsNoSuccess) {
  // The old program ignores SIGTERM: the monitor waits 20 s to SIGKILL it.
  ASSERT_TRUE(test_support::WriteFile(deaf_, ""));
  ASSERT_EQ(StartApp({"--daemon_stop_timeout=20s"}).exit_code, 0);
  const pid_t old = ReadPid(pidfile_);
  const pid_t monitor = Monitor(old);
  ASSERT_GT(monitor, 0);
  const test_support::Spawned upgrade = SpawnUpgrade();
  ASSERT_TRUE(test_support::WaitFor([&] {
    const pid_t named = ReadPid(pidfile_);
    return named > 0 && named != old;
  }));
  ASSERT_EQ(kill(monitor, SIGKILL), 0);
  const RunResult upgraded = test_support::WaitProgram(upgrade);
  // Never "upgraded": killed before it answered (it names the new program
  // in the pid file first), the monitor closed the channel without an
  // answer; after, the new program went with it. Both say to check status.
  EXPECT_EQ(upgraded.exit_code, 1) << upgraded.stdout_text;
  EXPECT_THAT(upgraded.stderr_text,
              ::testing::AnyOf(HasSubstr("ended after the handover"),
                               HasSubstr("closed the upgrade channel without "
                                         "an answer")));
  EXPECT_THAT(upgraded.stderr_text, HasSubstr("check status"));
  EXPECT_THAT(upgraded.stdout_text, ::testing::Not(HasSubstr("upgraded")));
}

TEST_F(ShellProgramUpgradeTest,
       ANewProgramThatDiesWhileTheOldDrainsIsNoSuccess) {
  // The old program ignores SIGTERM: it drains for the 4 s stop timeout.
  ASSERT_TRUE(test_support::WriteFile(deaf_, ""));
  ASSERT_EQ(StartApp({"--daemon_stop_timeout=4s"}).exit_code, 0);
  const pid_t old = ReadPid(pidfile_);
  ASSERT_EQ(unlink(deaf_.c_str()), 0);
  const test_support::Spawned upgrade = SpawnUpgrade();
  pid_t next = 0;
  ASSERT_TRUE(test_support::WaitFor([&] {
    next = ReadPid(pidfile_);
    return next > 0 && next != old;
  }));
  ASSERT_EQ(kill(next, SIGKILL), 0);
  const RunResult upgraded = test_support::WaitProgram(upgrade);
  EXPECT_EQ(upgraded.exit_code, 1) << upgraded.stdout_text;
  EXPECT_THAT(upgraded.stderr_text,
              HasSubstr(absl::StrCat("the new program (pid ", next,
                                     ") no longer runs")));
}

TEST_F(DaemonkitUpgradeTest, TheNewProgramsStatusReachesTheOuterManager) {
  test_support::NotifyReceiver manager;
  constexpr char kNotifying[] = R"(
import os, socket, time
address = os.environ["NOTIFY_SOCKET"]
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.sendto(b"READY=1\nSTATUS=serving %d" % os.getpid(),
              "\0" + address[1:] if address[0] == "@" else address)
time.sleep(1000)
)";
  const RunResult start = RunProgram(
      {RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + pidfile_,
       "--ready=notify", "--", "/usr/bin/python3", "-c", kNotifying},
      {{"NOTIFY_SOCKET", manager.address()}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const RunResult upgrade = Control("upgrade");
  ASSERT_EQ(upgrade.exit_code, 0) << upgrade.stderr_text;
  const pid_t next = Pids(upgrade.stdout_text).first;
  ASSERT_GT(next, 0);
  const std::string wanted = absl::StrCat("STATUS=serving ", next);
  std::string seen;
  for (std::string message = manager.Receive(absl::Seconds(10));
       !message.empty(); message = manager.Receive(absl::Seconds(10))) {
    seen += message + "|";
    if (absl::StrContains(message, wanted)) break;
  }
  EXPECT_THAT(seen, HasSubstr(wanted));
}

TEST_F(ShellProgramUpgradeTest, AFrozenMonitorStillHandsOverToAReadyProgram) {
  ASSERT_EQ(StartApp({"--daemon_ready_timeout=2s"}).exit_code, 0);
  const pid_t old = ReadPid(pidfile_);
  const pid_t monitor = Monitor(old);
  ASSERT_GT(monitor, 0);
  ASSERT_TRUE(test_support::WriteFile(delay_, "0.5"));
  const test_support::Spawned upgrade = SpawnUpgrade();
  ASSERT_TRUE(test_support::WaitFor([&] { return Logged("started", 2); }));
  ASSERT_EQ(kill(monitor, SIGSTOP), 0);
  // Stopped in fact: until then, a signal sent meanwhile may be taken first.
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::StatOf(monitor).state() == 'T'; }));
  // Ready within the timeout, while its monitor cannot look; thawed once
  // the timeout has passed.
  ASSERT_TRUE(test_support::WaitFor([&] { return Logged("ready", 2); }));
  absl::SleepFor(absl::Seconds(2.5));
  // A signal pending at the thaw interrupts the monitor's poll (EINTR),
  // which then reports nothing readable: the attack of 2026-12-07 saw the
  // ready program called late that way (there, a second upgrade's
  // SIGUSR2; here a reload's SIGHUP).
  ASSERT_EQ(kill(monitor, SIGHUP), 0);
  ASSERT_EQ(kill(monitor, SIGCONT), 0);
  const RunResult upgraded = test_support::WaitProgram(upgrade);
  EXPECT_EQ(upgraded.exit_code, 0) << upgraded.stderr_text;
  EXPECT_NE(ReadPid(pidfile_), old);
  EXPECT_TRUE(WaitUntilGone(old));
}

TEST_F(ShellProgramUpgradeTest, PolledReadinessCannotJudgeAnUpgrade) {
  // A connection or a command would reach the old program, which serves.
  const RunResult start = RunProgram(
      {RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + pidfile_,
       "--ready=command", "--ready_command=true", "--", "/bin/sleep", "1000"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t serving = ReadPid(pidfile_);
  const RunResult upgrade = Control("upgrade");
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              HasSubstr("cannot tell the new program from the old one"));
  EXPECT_EQ(ReadPid(pidfile_), serving);
  EXPECT_TRUE(IsAlive(serving));
}

TEST_F(ShellProgramUpgradeTest, ABinaryOthersMayReplaceIsNotUpgradedTo) {
  // Anyone may write the directory: the binary the upgrade would run as
  // root is anyone's choice.
  const std::string open_dir = dir_ + "/anyones";
  ASSERT_EQ(mkdir(open_dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  const std::string binary = open_dir + "/app.sh";
  ASSERT_EQ(link(script_.c_str(), binary.c_str()), 0);
  const RunResult start = RunProgram({RunfilePath("tools/daemonkit"),
                                      "--daemon_pidfile=" + pidfile_,
                                      "--ready=fd:5", "--", binary});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t serving = ReadPid(pidfile_);
  const RunResult upgrade = Control("upgrade");
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr(open_dir));
  EXPECT_EQ(ReadPid(pidfile_), serving);
  EXPECT_TRUE(Logged("started", 1) && !Logged("started", 2));
}

TEST_F(ShellProgramUpgradeTest, AProgramGivenToUpgradeIsAUsageError) {
  ASSERT_EQ(StartApp().exit_code, 0);
  const RunResult upgrade = RunProgram(
      {RunfilePath("tools/daemonkit"), "--daemon_pidfile=" + pidfile_,
       "--daemon_control=upgrade", "--", "/bin/false"});
  EXPECT_EQ(upgrade.exit_code, 2);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("takes no program"));
  EXPECT_TRUE(Logged("started", 1) && !Logged("started", 2));
}

TEST_F(DaemonkitUpgradeTest, NotRunningExitsSeven) {
  const RunResult upgrade = Control("upgrade");
  EXPECT_EQ(upgrade.exit_code, 7);
  EXPECT_THAT(upgrade.stderr_text, HasSubstr("not running"));
}

}  // namespace
}  // namespace daemonkit
