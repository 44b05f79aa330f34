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
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

TEST_F(CapabilitiesTest, RootWithoutADropKeepsExactlyTheNamedCapability) {
  RunResult start =
      Start({"--daemon_capabilities=cap_net_bind_service", "--bind_port=80"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(StatusField(pid, "Uid"), "0\t0\t0\t0");
  for (const char* set : {"CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(StatusField(pid, set), kNetBindService) << set;
  }
  // no_new_privs comes with a privilege drop only.
  EXPECT_EQ(StatusField(pid, "NoNewPrivs"),
            StatusField(getpid(), "NoNewPrivs"));
}

// Found by an attack: cap_setgid gave a child of the daemon gid 0, and
// cap_sys_ptrace let it ptrace the root path keeper. Every capability that
// leads back to root is refused with a drop, before anything starts.
TEST_F(CapabilitiesTest, ACapabilityThatUndoesTheDropFailsTheStart) {
  for (const char* cap : {"cap_setuid", "cap_setgid", "sys_ptrace",
                          "CAP_SYS_ADMIN", "cap_dac_override", "cap_setfcap"}) {
    RunResult start = Start(
        {"--daemon_user=nobody", absl::StrCat("--daemon_capabilities=", cap)});
    EXPECT_EQ(start.exit_code, 2) << cap;
    EXPECT_THAT(start.stderr_text, HasSubstr("could regain root")) << cap;
    EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_capabilities")) << cap;
    EXPECT_FALSE(FileExists(pidfile_));
  }
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
