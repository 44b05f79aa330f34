// Copyright 2026 The daemonkit Authors.
//
// pid 1 in a container, in a real pid namespace (`unshare --pid --fork
// --mount-proc`): the application, run in the foreground, leaves orphans
// that land on the namespace's pid 1, which reaps them (none stays a zombie
// in the namespace's /proc), while the application's own waitpid() on its
// child still gets that child's status; SIGTERM or SIGINT to pid 1 stops
// the container with the application's exit status, and an application
// deaf to it is killed after the stop timeout.
//
// Needs a pid namespace: as root outside Bazel's sandboxes, in the
// processwrapper sandbox, and in the linux-sandbox. Where none can be made,
// the tests fail, saying so, rather than pass without having run.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;

constexpr char kUnshare[] = "/usr/bin/unshare";

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("container");
    report_ = dir_ + "/report";
    // Whether this place lets us make a pid namespace at all.
    const std::string why_not = test_support::WhyNoContainerHere();
    if (absl::StrContains(why_not,
                          "cannot change root filesystem propagation")) {
      GTEST_SKIP() << "in a chroot: pid 1 is NOT tested here: " << why_not;
    }
    ASSERT_EQ(why_not, "")
        << "cannot create a pid namespace here (not root, or a sandbox "
           "that forbids it), so pid 1 is NOT tested";
  }
  void TearDown() override { container_.Kill(); }

  // Starts the container: unshare, whose child is the namespace's pid 1,
  // which runs //tests:container_app in the foreground.
  void Start(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        test_support::RunfilePath("tests/container_app"), "--daemon=false",
        "--report=" + report_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    container_.Start(argv);
    ASSERT_TRUE(test_support::WaitFor([&] {
      return absl::StrContains(ReadFileOrEmpty(report_), "\nready\n") ||
             !test_support::IsAlive(container_.unshare_pid());
    }));
    ASSERT_THAT(ReadFileOrEmpty(report_), HasSubstr("\nready\n"))
        << ReadFileOrEmpty(container_.stderr_path());
    init_ = container_.Init();
    ASSERT_GT(init_, 0) << "no pid 1 under unshare";
  }

  // Waits for the container to end; its processes are no longer ours to
  // kill.
  RunResult Wait() {
    init_ = 0;
    return container_.Wait();
  }

  // The namespace's own /proc, as mounted by --mount-proc inside it.
  std::string NamespaceProc() const {
    return absl::StrCat("/proc/", init_, "/root/proc");
  }

  // Processes of the namespace in state Z.
  std::vector<std::string> Zombies() const {
    std::vector<std::string> zombies;
    const std::string proc = NamespaceProc();
    for (int pid = 1; pid < 4096; ++pid) {
      const std::string stat =
          ReadFileOrEmpty(absl::StrCat(proc, "/", pid, "/stat"));
      const size_t paren = stat.rfind(')');
      if (paren != std::string::npos && paren + 2 < stat.size() &&
          stat[paren + 2] == 'Z') {
        zombies.push_back(stat);
      }
    }
    return zombies;
  }

  std::vector<std::string> ReportLines(absl::string_view prefix) const {
    std::vector<std::string> lines;
    for (absl::string_view line :
         absl::StrSplit(ReadFileOrEmpty(report_), '\n')) {
      if (absl::StartsWith(line, prefix)) lines.emplace_back(line);
    }
    return lines;
  }

  std::string dir_, report_;
  test_support::PidNamespace container_;
  // The namespace's pid 1 as this test sees it, pinned by container_.
  pid_t init_ = 0;
};

// Issue 18.11, found by an attack: a container entrypoint without
// --daemon=false detached, the launcher (pid 1) said "Run daemon ..." and
// exited 0, the kernel killed the namespace, the pid file stayed. As pid 1
// a detach is refused before anything starts.
TEST_F(ContainerTest, DetachingAsPidOneIsRefused) {
  const std::string pidfile = dir_ + "/app.pid";
  container_.Start({test_support::RunfilePath("tests/container_app"),
                    "--daemon_pidfile=" + pidfile, "--report=" + report_});
  RunResult result = container_.Wait();
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("pid 1"));
  EXPECT_THAT(result.stderr_text, HasSubstr("--daemon=false"));
  EXPECT_EQ(
      std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'), 1)
      << result.stderr_text;
  EXPECT_FALSE(FileExists(pidfile));
  EXPECT_THAT(ReportLines("app "), ::testing::IsEmpty());
}

TEST_F(ContainerTest, OrphansAreReapedAndTheApplicationsWaitpidWorks) {
  ASSERT_NO_FATAL_FAILURE(Start({"--orphans=20"}));
  // The application runs as pid 2, the child of the namespace's init.
  EXPECT_EQ(ReportLines("app "), std::vector<std::string>{"app 2 1"});
  // Its own waitpid got its child's status: nobody stole it.
  EXPECT_EQ(ReportLines("child "), std::vector<std::string>{"child exit 7"});
  const std::vector<std::string> orphans = ReportLines("orphan ");
  ASSERT_EQ(orphans.size(), 20u);
  // Every orphan exited on pid 1, which reaped it: gone from the
  // namespace's /proc, no zombie left.
  const std::string proc = NamespaceProc();
  ASSERT_TRUE(FileExists(proc + "/1/stat")) << "no namespace /proc at " << proc;
  EXPECT_TRUE(test_support::WaitFor([&] {
    for (const std::string& orphan : orphans) {
      if (FileExists(absl::StrCat(proc, "/", orphan.substr(7)))) return false;
    }
    return Zombies().empty();
  })) << absl::StrJoin(Zombies(), "\n");

  // SIGTERM to pid 1 reaches the application, whose exit code is the
  // container's.
  ASSERT_EQ(kill(init_, SIGTERM), 0);
  EXPECT_TRUE(test_support::WaitUntilGone(init_));
  RunResult result = Wait();
  EXPECT_EQ(result.exit_code, 42) << result.stderr_text;
  EXPECT_EQ(ReportLines("stopping").size(), 1u);
}

TEST_F(ContainerTest, SigintToPidOneStopsTheApplication) {
  ASSERT_NO_FATAL_FAILURE(Start({"--orphans=0", "--exit_code=5"}));
  ASSERT_EQ(kill(init_, SIGINT), 0);
  RunResult result = Wait();
  EXPECT_EQ(result.exit_code, 5) << result.stderr_text;
  EXPECT_EQ(ReportLines("stopping").size(), 1u);
}

TEST_F(ContainerTest, AnApplicationDeafToSigtermIsKilledAfterTheStopTimeout) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"--orphans=0", "--deaf_to_stop", "--daemon_stop_timeout=500ms"}));
  ASSERT_EQ(kill(init_, SIGTERM), 0);
  RunResult result = Wait();
  // 128 + SIGKILL: the application's end, as pid 1 reports it.
  EXPECT_EQ(result.exit_code, 128 + SIGKILL) << result.stderr_text;
  EXPECT_EQ(ReportLines("deaf").size(), 1u);
  EXPECT_TRUE(ReportLines("stopping").empty());
}

// Issue 22.17: started as a non-interactive shell starts `cmd &` (SIGINT
// and SIGQUIT ignored, inherited through exec by unshare and pid 1), the
// application still gets their default actions, as under dumb-init: a
// SIGQUIT forwarded by pid 1 ends it (128 + SIGQUIT).
TEST_F(ContainerTest, AnInheritedIgnoreDoesNotSwallowAForwardedQuit) {
  struct sigaction ignore = {}, old_int = {}, old_quit = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ASSERT_EQ(sigaction(SIGINT, &ignore, &old_int), 0);
  ASSERT_EQ(sigaction(SIGQUIT, &ignore, &old_quit), 0);
  Start({"--orphans=0"});
  ASSERT_EQ(sigaction(SIGINT, &old_int, nullptr), 0);
  ASSERT_EQ(sigaction(SIGQUIT, &old_quit, nullptr), 0);
  if (HasFatalFailure()) return;
  const auto ignored = [&](int pid) {
    const std::string status =
        ReadFileOrEmpty(absl::StrCat(NamespaceProc(), "/", pid, "/status"));
    const size_t at = status.find("SigIgn:\t");
    uint64_t mask = 0;
    if (at == std::string::npos ||
        !absl::SimpleHexAtoi(status.substr(at + 8, 16), &mask)) {
      ADD_FAILURE() << "no SigIgn in " << status;
    }
    return mask;
  };
  const uint64_t quit_bit = uint64_t{1} << (SIGQUIT - 1);
  const uint64_t int_bit = uint64_t{1} << (SIGINT - 1);
  EXPECT_EQ(ReportLines("app "), std::vector<std::string>{"app 2 1"});
  EXPECT_EQ(ignored(2) & (quit_bit | int_bit), 0u)
      << "the application still ignores SIGINT or SIGQUIT";
  ASSERT_EQ(kill(init_, SIGQUIT), 0);
  RunResult result = Wait();
  EXPECT_EQ(result.exit_code, 128 + SIGQUIT) << result.stderr_text;
  EXPECT_TRUE(ReportLines("stopping").empty());
}

TEST_F(ContainerTest, ThreadsBeforeDaemonizeAsPidOneAreAStartError) {
  RunResult result = test_support::RunProgram(
      {kUnshare, "--pid", "--fork", "--mount-proc",
       test_support::RunfilePath("tests/container_app"), "--daemon=false",
       "--thread", "--report=" + report_});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.stderr_text, HasSubstr("cannot run as pid 1 with "));
  EXPECT_FALSE(FileExists(report_));
}

}  // namespace
}  // namespace daemonkit
