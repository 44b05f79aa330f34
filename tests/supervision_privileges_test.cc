// Copyright 2026 The daemonkit Authors.
//
// Supervision with --daemon_user: the worker's pid file lives in a root-owned
// directory the dropped worker cannot create files in, like the main pid
// file. Needs real root (setuid to another user), so it runs outside the
// user-namespace sandbox (tag no-sandbox) and cleans up its daemons itself.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::ContainsRegex;
using ::testing::IsEmpty;

class SupervisionPrivilegesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("supervision_privileges");
    // Root's, and no one else may create files in it: /run, in short.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    pidfile_ = dir_ + "/supervisor.pid";
    child_pidfile_ = dir_ + "/worker.pid";
  }
  void TearDown() override {
    test_support::KillPidFileHolder(pidfile_);
    for (pid_t worker : workers_) test_support::KillAndWait(worker);
  }
  RunResult Ticker(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        test_support::RunfilePath("examples/ticker"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_child_pidfile=" + child_pidfile_,
        "--daemon_stdout=" + dir_ + "/ticks",
        "--daemon_stderr=" + dir_ + "/stderr"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }
  std::string Status() const {
    return Ticker({"--daemon_control=status"}).stdout_text;
  }
  // The descriptors of `pid` open on the file at `path`.
  static std::vector<int> DescriptorsOn(pid_t pid, const std::string& path) {
    std::vector<int> found;
    struct stat file;
    if (stat(path.c_str(), &file) != 0) return found;
    for (const auto& [fd, target] : test_support::OpenDescriptors(pid)) {
      struct stat st;
      if (stat(absl::StrCat("/proc/", pid, "/fd/", fd).c_str(), &st) == 0 &&
          st.st_dev == file.st_dev && st.st_ino == file.st_ino) {
        found.push_back(fd);
      }
    }
    return found;
  }

  std::string dir_, pidfile_, child_pidfile_;
  std::vector<pid_t> workers_;
};

TEST_F(SupervisionPrivilegesTest,
       DroppedWorkerHoldsItsPidFileInARootDirectory) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  RunResult start =
      Ticker({"--daemon_user=nobody", "--interval=1h",
              "--daemon_restart=always", "--daemon_restart_delay=10ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);
  workers_.push_back(worker);
  EXPECT_THAT(ReadFileOrEmpty(absl::StrCat("/proc/", worker, "/status")),
              ContainsRegex("Uid:\t65534\t65534\t65534\t65534\n"));
  EXPECT_EQ(Status(), absl::StrCat("running, pid ", supervisor, ", worker ",
                                   worker, " (pid file ", pidfile_, ")\n"));
  // Root's file, locked and written for the worker by the root path keeper:
  // the worker, which runs the application, could otherwise write another
  // pid into a file that root's tools trust.
  EXPECT_THAT(DescriptorsOn(worker, child_pidfile_), IsEmpty());
  EXPECT_THAT(DescriptorsOn(worker, pidfile_), IsEmpty());
  EXPECT_THAT(DescriptorsOn(supervisor, pidfile_), IsEmpty());
  // Found by an attack: the dropped supervisor still held it read-write.
  EXPECT_THAT(DescriptorsOn(supervisor, child_pidfile_), IsEmpty());
  struct stat st;
  ASSERT_EQ(stat(child_pidfile_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  // The next worker takes the same file and its own lock.
  kill(worker, SIGKILL);
  ASSERT_TRUE(test_support::WaitFor([&] {
    const pid_t next = ReadPid(child_pidfile_);
    return next > 0 && next != worker;
  }));
  const pid_t next = ReadPid(child_pidfile_);
  workers_.push_back(next);
  EXPECT_THAT(DescriptorsOn(next, child_pidfile_), IsEmpty());
  EXPECT_TRUE(test_support::WaitFor([&] {
    return Status() == absl::StrCat("running, pid ", supervisor, ", worker ",
                                    next, " (pid file ", pidfile_, ")\n");
  }));

  EXPECT_EQ(Ticker({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_TRUE(test_support::WaitUntilGone(next));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  EXPECT_EQ(ReadFileOrEmpty(child_pidfile_), "");
  EXPECT_EQ(Ticker({"--daemon_control=status"}).exit_code, 3);
}

TEST_F(SupervisionPrivilegesTest, CleanStopRemovesTheDroppedWorkersPidFile) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  RunResult start = Ticker(
      {"--daemon_user=nobody", "--interval=1h", "--daemon_restart=always"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);
  workers_.push_back(worker);

  RunResult stop = Ticker({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(worker));
  // The dropped supervisor may not unlink in root's directory: the path
  // keeper removes both pid files for it.
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  EXPECT_FALSE(test_support::FileExists(child_pidfile_))
      << "left: '" << ReadFileOrEmpty(child_pidfile_) << "'";
}

}  // namespace
}  // namespace daemonkit
