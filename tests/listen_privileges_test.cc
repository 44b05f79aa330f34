// Copyright 2026 The daemonkit Authors.
//
// Listening sockets with --daemon_user (issue 14): bound while still root,
// so a daemon dropped to nobody serves a port below 1024 and a Unix socket
// in a directory only root may write; the socket file, owned by the
// daemon's user, is removed at the stop by the path keeper. Needs real root
// (setuid to another user), so it runs outside the user-namespace sandbox
// (tag no-sandbox) and cleans up its daemons itself.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
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

// Issue 18.5, found by an attack: the daemon's user planted dir/sub ->
// /root-only-dir in a directory it owns; root then made a socket file of
// nobody's inside the root-only directory, which the clean stop left, and
// every later start failed "Address already in use". A socket directory
// the dropped user may write, and a link of a user other than root on the
// path (one planted in a sticky /tmp), are refused before anything starts.
TEST(ListenPrivilegesTest, ASocketPathTheDroppedUserCouldRedirectIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  test_support::ShortTempDir tmp;
  const std::string& dir = tmp.path();
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const std::string root_only = dir + "/root-only";
  ASSERT_EQ(mkdir(root_only.c_str(), 0700), 0);
  // The attacker's recipe: nobody's directory, nobody's link in it.
  const std::string owned = dir + "/nobodys";
  ASSERT_EQ(mkdir(owned.c_str(), 0755), 0);
  ASSERT_EQ(chown(owned.c_str(), 65534, 65534), 0);
  ASSERT_EQ(symlink(root_only.c_str(), (owned + "/sub").c_str()), 0);
  ASSERT_EQ(lchown((owned + "/sub").c_str(), 65534, 65534), 0);
  // Another user's link in a sticky directory of root's, as in /tmp.
  const std::string sticky = dir + "/sticky";
  ASSERT_EQ(mkdir(sticky.c_str(), 0755), 0);
  ASSERT_EQ(chmod(sticky.c_str(), 01777), 0);
  ASSERT_EQ(symlink(root_only.c_str(), (sticky + "/link").c_str()), 0);
  ASSERT_EQ(lchown((sticky + "/link").c_str(), 12345, 12345), 0);
  const std::string pidfile = dir + "/echo.pid";
  for (const auto& [path, refusal] :
       std::vector<std::pair<std::string, std::string>>{
           {owned + "/sub/app.sock", "directory " + owned + " is owned by"},
           {owned + "/app.sock", "directory " + owned + " is owned by"},
           {sticky + "/link/app.sock",
            sticky + "/link is a symbolic link of uid 12345"}}) {
    SCOPED_TRACE(path);
    const std::string listen = "--daemon_listen=echo=unix:" + path;
    RunResult start = RunProgram({test_support::RunfilePath("examples/echo"),
                                  "--daemon_pidfile=" + pidfile,
                                  "--daemon_user=nobody", listen});
    EXPECT_EQ(start.exit_code, 1) << start.stderr_text;
    EXPECT_THAT(start.stderr_text, ::testing::HasSubstr(listen));
    EXPECT_THAT(start.stderr_text, ::testing::HasSubstr(refusal));
    EXPECT_FALSE(test_support::FileExists(pidfile));
    EXPECT_FALSE(test_support::FileExists(root_only + "/app.sock"));
    EXPECT_FALSE(test_support::FileExists(owned + "/app.sock"));
    test_support::KillPidFileHolder(pidfile);
  }
}

// Issue 18.5: the socket file is removed relative to a descriptor of the
// directory it was bound in, not by path. After the start, the socket's
// directory is renamed away and a fresh one, holding a file of the same
// name, is put at the old path (root swapping directories, say a
// deployment's switch): the clean stop removes the socket it bound, in the
// renamed directory, and leaves the planted file alone. Before, the stop
// went by path: it left the planted file (another inode) and the socket
// file both, for good. With --daemon_user the path keeper removes it
// (through its own descriptor of the directory: the daemon holds none);
// without, the daemon; under supervision, the supervisor.
TEST(ListenPrivilegesTest, TheStopRemovesTheSocketInTheDirectoryItBoundIn) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  for (const std::vector<std::string>& extra :
       std::vector<std::vector<std::string>>{
           {"--daemon_user=nobody"}, {"--daemon_restart=always"}, {}}) {
    SCOPED_TRACE(extra.empty() ? "as root" : extra[0]);
    test_support::ShortTempDir tmp;
    const std::string& dir = tmp.path();
    ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
    const std::string sockets = dir + "/s";
    ASSERT_EQ(mkdir(sockets.c_str(), 0755), 0);
    const std::string path = sockets + "/app.sock";
    const std::string pidfile = dir + "/echo.pid";
    std::vector<std::string> argv = {test_support::RunfilePath("examples/echo"),
                                     "--daemon_pidfile=" + pidfile,
                                     "--daemon_stderr=" + dir + "/echo.log",
                                     "--daemon_listen=echo=unix:" + path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunResult start = RunProgram(argv);
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    const pid_t daemon = ReadPid(pidfile);
    ASSERT_GT(daemon, 0);
    EXPECT_THAT(Exchange(path, "bound\n"), ::testing::EndsWith(" bound\n"));
    // The swap: the directory goes, a new one with a file of the socket's
    // name takes its path.
    const std::string moved = dir + "/s.old";
    ASSERT_EQ(rename(sockets.c_str(), moved.c_str()), 0);
    ASSERT_EQ(mkdir(sockets.c_str(), 0755), 0);
    const int planted =
        open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(planted, 0);
    close(planted);
    EXPECT_THAT(Exchange(moved + "/app.sock", "moved\n"),
                ::testing::EndsWith(" moved\n"));
    RunResult stop = RunProgram(
        {argv[0], "--daemon_pidfile=" + pidfile, "--daemon_control=stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
    EXPECT_TRUE(test_support::WaitUntilGone(daemon));
    EXPECT_FALSE(test_support::FileExists(moved + "/app.sock"))
        << ReadFileOrEmpty(dir + "/echo.log");
    struct stat st;
    ASSERT_EQ(lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    test_support::KillPidFileHolder(pidfile);
  }
}

}  // namespace
}  // namespace daemonkit
