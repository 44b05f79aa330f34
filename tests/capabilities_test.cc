// Copyright 2026 The daemonkit Authors.
//
// Service-manager controls (issue 15): --daemon_capabilities and
// --daemon_no_new_privs on real daemons dropped to nobody, read from
// /proc/PID/status, and a kept capability in use: binding port 80 as
// nobody. Each daemon runs in a network namespace of its own (unshare
// --net), so port 80 is free whatever runs on the machine, and the
// namespace's fresh net.ipv4.ip_unprivileged_port_start (1024) makes the
// capability necessary. Needs real root: outside the sandbox (no-sandbox).

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::KillPidFileHolder;
using ::daemonkit::test_support::LiveProcessesSpawnedByThisTest;
using ::daemonkit::test_support::MakeTempDir;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunfilePath;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::daemonkit::test_support::WaitUntilGone;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The bit of CAP_NET_BIND_SERVICE (10), as /proc/PID/status prints a set.
constexpr char kNetBindService[] = "0000000000000400";

class CapabilitiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("capabilities");
    pidfile_ = dir_ + "/app.pid";
    log_ = dir_ + "/app.log";
  }
  void TearDown() override { KillPidFileHolder(pidfile_); }

  // Starts //tests:controls_app in a new network namespace.
  RunResult Start(std::vector<std::string> extra) {
    std::vector<std::string> argv = {"/usr/bin/unshare",
                                     "--net",
                                     "--",
                                     RunfilePath("tests/controls_app"),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--daemon_stdout=" + log_,
                                     "--daemon_stderr=" + log_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }

  // The value of `field` in /proc/PID/status ("CapEff" -> "0000...0400").
  static std::string StatusField(pid_t pid, absl::string_view field) {
    for (absl::string_view line : absl::StrSplit(
             ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status")), '\n')) {
      if (absl::ConsumePrefix(&line, field) &&
          absl::ConsumePrefix(&line, ":")) {
        return std::string(absl::StripAsciiWhitespace(line));
      }
    }
    return "";
  }

  std::string dir_, pidfile_, log_;
};

TEST_F(CapabilitiesTest, NobodyKeepsExactlyTheNamedCapabilityAndUsesIt) {
  RunResult start =
      Start({"--daemon_user=nobody",
             "--daemon_capabilities=cap_net_bind_service", "--bind_port=80"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(StatusField(pid, "Uid"), "65534\t65534\t65534\t65534");
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(StatusField(pid, set), kNetBindService) << set;
  }
  EXPECT_EQ(StatusField(pid, "NoNewPrivs"), "1");
  EXPECT_THAT(ReadFileOrEmpty(log_), HasSubstr("bound port 80"));
}

TEST_F(CapabilitiesTest, WithoutTheCapabilityNobodyCannotBindPort80) {
  // The control: the same start without the capability fails to bind,
  // so the test above proves the capability, not a lax namespace.
  RunResult start = Start({"--daemon_user=nobody", "--bind_port=80"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("bind port 80: Permission denied"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

TEST_F(CapabilitiesTest, ADropWithoutCapabilitiesKeepsNoneAndSetsNoNewPrivs) {
  RunResult start = Start({"--daemon_user=nobody"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
    EXPECT_EQ(StatusField(pid, set), "0000000000000000") << set;
  }
  // Without --daemon_capabilities the bounding set is left as it was.
  EXPECT_EQ(StatusField(pid, "CapBnd"), StatusField(getpid(), "CapBnd"));
  EXPECT_EQ(StatusField(pid, "NoNewPrivs"), "1");
}

TEST_F(CapabilitiesTest, NoNewPrivsCanBeTurnedOff) {
  RunResult start =
      Start({"--daemon_user=nobody", "--daemon_capabilities=NET_BIND_SERVICE",
             "--daemon_no_new_privs=false", "--bind_port=80"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(StatusField(pid, "CapAmb"), kNetBindService);
  EXPECT_EQ(StatusField(pid, "NoNewPrivs"), "0");
}

// Issue 18.2, found by an attack: with capabilities but no drop the daemon
// was uid 0, and its child read and appended to a root-only file; root in
// a chroot leaves it. Both confine only a daemon dropped to another user.
TEST_F(CapabilitiesTest, CapabilitiesOrAChrootWithoutADropAreRefused) {
  const std::string jail = dir_ + "/jail";
  ASSERT_EQ(mkdir(jail.c_str(), 0755), 0);
  const std::vector<std::vector<std::string>> refused = {
      {"--daemon_capabilities=cap_net_bind_service"},
      {"--daemon_chroot=" + jail},
      {"--daemon_group=nogroup", "--daemon_capabilities=cap_net_bind_service"},
      {"--daemon_user=root", "--daemon_capabilities=cap_net_bind_service"},
      {"--daemon_user=0", "--daemon_chroot=" + jail},
  };
  for (const std::vector<std::string>& flags : refused) {
    const std::string trace = absl::StrJoin(flags, " ");
    RunResult start = Start(flags);
    EXPECT_EQ(start.exit_code, 2) << trace;
    EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_user")) << trace;
    EXPECT_THAT(start.stderr_text, HasSubstr(absl::StrContains(trace, "chroot")
                                                 ? "--daemon_chroot"
                                                 : "--daemon_capabilities"))
        << trace;
    EXPECT_EQ(
        std::count(start.stderr_text.begin(), start.stderr_text.end(), '\n'), 1)
        << start.stderr_text;
    EXPECT_FALSE(FileExists(pidfile_)) << trace;
  }
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

// Found by an attack (issue 18.1): cap_setgid gave a child of the daemon
// gid 0, cap_sys_ptrace let it ptrace the root path keeper, cap_sys_chroot
// left the chroot, cap_dac_read_search opened /etc/shadow through
// open_by_handle_at, cap_kill could SIGKILL any root process. Every
// capability not on the allow-list is refused, before anything starts.
TEST_F(CapabilitiesTest, ACapabilityThatUndoesTheDropFailsTheStart) {
  for (const char* cap :
       {"cap_setuid", "cap_setgid", "sys_ptrace", "CAP_SYS_ADMIN",
        "cap_dac_override", "cap_setfcap", "cap_sys_chroot",
        "cap_dac_read_search", "cap_kill"}) {
    RunResult start = Start(
        {"--daemon_user=nobody", absl::StrCat("--daemon_capabilities=", cap)});
    EXPECT_EQ(start.exit_code, 2) << cap;
    EXPECT_THAT(start.stderr_text, HasSubstr("is refused after a drop")) << cap;
    EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_capabilities")) << cap;
    EXPECT_FALSE(FileExists(pidfile_));
  }
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

// Issue 18.1: docs/security.md's table of all 41 capabilities is what the
// binary does. Each row is started as nobody, with and without a chroot:
// a refused one exits 2 naming the flag and the capability, before
// anything starts; a kept one starts and holds it in every set (or, when
// this process's own bounding set lacks it, fails the start naming that).
TEST_F(CapabilitiesTest, EveryRowOfTheCapabilityTableIsWhatTheBinaryDoes) {
  struct Row {
    std::string cap;
    bool kept;
    bool kept_in_chroot;
  };
  std::vector<Row> rows;
  bool in_section = false;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrEmpty(RunfilePath("docs/security.md")), '\n')) {
    if (absl::StartsWith(line, "## ")) {
      in_section = line == "## Capabilities a dropped daemon may keep";
      continue;
    }
    if (!in_section || !absl::StartsWith(line, "| `cap_")) continue;
    const std::vector<std::string> cells = absl::StrSplit(line, " | ");
    ASSERT_GE(cells.size(), 4u) << line;
    const std::string cap(
        absl::StripSuffix(absl::StripPrefix(cells[0], "| `"), "`"));
    for (const std::string& verdict : {cells[1], cells[2]}) {
      ASSERT_TRUE(verdict == "kept" || verdict == "refused") << line;
    }
    rows.push_back({cap, cells[1] == "kept", cells[2] == "kept"});
  }
  ASSERT_EQ(rows.size(), 41u) << "capabilities(7) names 41";
  const uint64_t own_bounding_set =
      std::stoull(StatusField(getpid(), "CapBnd"), nullptr, 16);
  const std::string jail = dir_ + "/jail";
  ASSERT_EQ(mkdir(jail.c_str(), 0755), 0);
  std::set<std::string> seen;
  for (int number = 0; number < static_cast<int>(rows.size()); ++number) {
    const Row& row = rows[number];
    EXPECT_TRUE(seen.insert(row.cap).second) << row.cap << " twice";
    for (const bool chroot : {false, true}) {
      SCOPED_TRACE(absl::StrCat(row.cap, chroot ? " with a chroot" : ""));
      const std::string pidfile =
          absl::StrCat(dir_, "/", row.cap, chroot ? "-jail" : "", ".pid");
      std::vector<std::string> flags = {"--daemon_user=nobody",
                                        "--daemon_pidfile=" + pidfile,
                                        "--daemon_capabilities=" + row.cap};
      if (chroot) flags.push_back("--daemon_chroot=" + jail);
      RunResult start = Start(flags);
      if (!(chroot ? row.kept_in_chroot : row.kept)) {
        EXPECT_EQ(start.exit_code, 2) << start.stderr_text;
        EXPECT_THAT(start.stderr_text,
                    HasSubstr(absl::StrCat("--daemon_capabilities=", row.cap,
                                           ": ", row.cap, " is refused")));
        EXPECT_EQ(std::count(start.stderr_text.begin(), start.stderr_text.end(),
                             '\n'),
                  1)
            << start.stderr_text;
        EXPECT_FALSE(FileExists(pidfile));
        continue;
      }
      // The table is in CAP_* order, so a row's number is its bit.
      if (!(own_bounding_set & (uint64_t{1} << number))) {
        EXPECT_EQ(start.exit_code, 1) << start.stderr_text;
        EXPECT_THAT(start.stderr_text,
                    HasSubstr(absl::StrCat(
                        row.cap, " is not in this process's bounding set")));
        continue;
      }
      ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
      const pid_t pid = ReadPid(pidfile);
      ASSERT_GT(pid, 0);
      EXPECT_EQ(std::stoull(StatusField(pid, "CapAmb"), nullptr, 16),
                uint64_t{1} << number);
      EXPECT_EQ(StatusField(pid, "Uid"), "65534\t65534\t65534\t65534");
      RunResult stop =
          RunProgram({RunfilePath("tests/controls_app"),
                      "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
      EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
      KillPidFileHolder(pidfile);
      EXPECT_TRUE(WaitUntilGone(pid));
    }
  }
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

// A kept capability that whatever started the launcher took away (a
// container, a unit's CapabilityBoundingSet=) fails the start naming it,
// not with capset's bare "Operation not permitted".
TEST_F(CapabilitiesTest, AKeptCapabilityOutsideTheOwnBoundingSetIsNamed) {
  RunResult start = RunProgram(
      {"/usr/bin/setpriv", "--bounding-set=-net_raw", "--",
       RunfilePath("tests/controls_app"), "--daemon_pidfile=" + pidfile_,
       "--daemon_user=nobody", "--daemon_capabilities=cap_net_raw"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("--daemon_capabilities: cap_net_raw is not in this "
                        "process's bounding set"));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_THAT(LiveProcessesSpawnedByThisTest(), IsEmpty());
}

TEST_F(CapabilitiesTest, UnknownCapabilityIsAUsageError) {
  RunResult start =
      Start({"--daemon_user=nobody", "--daemon_capabilities=cap_net_bind"});
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_THAT(start.stderr_text,
              HasSubstr("--daemon_capabilities=cap_net_bind: unknown "
                        "capability 'cap_net_bind'"));
  EXPECT_FALSE(FileExists(pidfile_));
}

}  // namespace
}  // namespace daemonkit
