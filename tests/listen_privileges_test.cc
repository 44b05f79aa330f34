// Copyright 2026 The daemonkit Authors.
//
// Listening sockets with --daemon_user (issue 14): bound while still root,
// so a daemon dropped to nobody serves a port below 1024 and a Unix socket
// in a directory only root may write; the socket file, owned by the
// daemon's user, is removed at the stop by the path keeper. Needs real root
// (setuid to another user), so it runs outside the user-namespace sandbox
// (tag no-sandbox) and cleans up its daemons itself.

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::Exchange;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::ContainsRegex;

TEST(ListenPrivilegesTest, ADroppedDaemonServesAPrivilegedPortAndItsSocket) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  test_support::ShortTempDir tmp;
  const std::string& dir = tmp.path();
  // Root's, and no one else may create files in it: /run, in short.
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const std::string pidfile = dir + "/echo.pid";
  const std::string path = dir + "/echo.sock";
  const std::vector<std::string> argv = {
      test_support::RunfilePath("examples/echo"), "--daemon_pidfile=" + pidfile,
      "--daemon_stderr=" + dir + "/echo.log", "--daemon_user=nobody"};
  int port = 0;
  RunResult start = test_support::RunOnFreeLoopbackPort(
      argv, "echo", "admin=unix:" + path, 600, 1000, &port);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = ReadPid(pidfile);
  ASSERT_GT(daemon, 0);
  EXPECT_THAT(ReadFileOrEmpty(absl::StrCat("/proc/", daemon, "/status")),
              ContainsRegex("Uid:\t65534\t65534\t65534\t65534\n"));
  EXPECT_EQ(Exchange(absl::StrCat("127.0.0.1:", port), "low port\n"),
            absl::StrCat(daemon, " low port\n"));
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_uid, 65534u);
  // Upgrades need the daemon's own privileges to start its successor.
  RunResult upgrade = RunProgram(
      {argv[0], "--daemon_pidfile=" + pidfile, "--daemon_control=upgrade"});
  EXPECT_EQ(upgrade.exit_code, 1);
  EXPECT_THAT(upgrade.stderr_text,
              ::testing::HasSubstr("not supported after a privilege drop"));
  EXPECT_EQ(ReadPid(pidfile), daemon);
  // The daemon, which may not write the directory, has it removed.
  RunResult stop = RunProgram(
      {argv[0], "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(daemon));
  EXPECT_FALSE(test_support::FileExists(path));
  test_support::KillPidFileHolder(pidfile);
}

}  // namespace
}  // namespace daemonkit
