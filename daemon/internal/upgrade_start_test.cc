// Copyright 2026 The daemonkit Authors.
//
// The old daemon's side of an upgrade against real successors: /bin/sh
// scripts that speak the ready pipe ("R\n", "E<text>") on the descriptors
// the handover variable names, checked through /proc.

#include "daemon/internal/upgrade_start.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "daemon/internal/listen_sockets.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/upgrade.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

class StartSuccessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    ASSERT_NE(tmp, nullptr);
    dir_ = tmp;
    pidfile_fd_ = open(absl::StrCat(dir_, "/x.pid").c_str(),
                       O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(pidfile_fd_, 0);
  }
  void TearDown() override {
    close(pidfile_fd_);
    // No successor may be left: every path reaps it.
    EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
  }

  // A successor running `script` under /bin/sh. With no sockets its pid
  // file is descriptor 3, its ready pipe 4, its confirm pipe 5.
  UpgradeSource Script(const std::string& script) const {
    UpgradeSource source;
    source.exe = "/bin/sh";
    source.argv = {"sh", "-c", script};
    source.cwd = dir_;
    return source;
  }

  absl::StatusOr<Successor> Start(
      const UpgradeSource& source,
      absl::Duration ready_timeout = absl::Seconds(60)) {
    return StartSuccessor(source, pidfile_fd_, sockets_, ready_timeout,
                          /*interrupt_fd=*/-1, [] { return false; });
  }

  std::string dir_;
  int pidfile_fd_ = -1;
  ListenSockets sockets_;
};

// The variables the successor reads, from its own /proc/PID/environ.
std::vector<std::string> EnvironOf(pid_t pid) {
  absl::StatusOr<std::string> environ =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/environ"));
  if (!environ.ok()) return {};
  return absl::StrSplit(*environ, '\0', absl::SkipEmpty());
}

TEST_F(StartSuccessorTest, AReadySuccessorHasItsOwnPidAndThePidFile) {
  absl::StatusOr<Successor> successor =
      Start(Script("printf 'R\\n' >&4; read -r h <&5"));
  ASSERT_TRUE(successor.ok()) << successor.status();
  const pid_t pid = successor->pid;
  EXPECT_GE(successor->confirm_fd, 0);
  // The shell waits for the confirm byte: no exec replaces its environment
  // (which /proc shows empty while one is under way).
  const std::vector<std::string> environ = EnvironOf(pid);
  const std::vector<std::string> expected = {
      absl::StrCat("LISTEN_PID=", pid), "LISTEN_FDS=0",
      "LISTEN_FDNAMES=", absl::StrCat(kUpgradeVariable, "=", pid, ":3:4"),
      absl::StrCat(kUpgradeConfirmVariable, "=5")};
  for (const std::string& variable : expected) {
    EXPECT_NE(std::find(environ.begin(), environ.end(), variable),
              environ.end())
        << variable;
  }
  // Descriptor 3 is the old daemon's pid file: the same open file, so the
  // same lock.
  struct stat theirs, ours;
  ASSERT_EQ(stat(absl::StrCat("/proc/", pid, "/fd/3").c_str(), &theirs), 0);
  ASSERT_EQ(fstat(pidfile_fd_, &ours), 0);
  EXPECT_EQ(theirs.st_ino, ours.st_ino);
  // A process group of its own, so that what it starts can be ended.
  EXPECT_EQ(getpgid(pid), pid);
  AbandonSuccessor(*successor);
  EXPECT_EQ(successor->confirm_fd, -1);
  EXPECT_FALSE(IsRunning(pid));
}

TEST_F(StartSuccessorTest, ConfirmHandoverSendsH) {
  absl::StatusOr<Successor> successor = Start(Script(
      "printf 'R\\n' >&4; read -r h <&5; [ \"$h\" = H ] && exit 7; exit 8"));
  ASSERT_TRUE(successor.ok()) << successor.status();
  const pid_t pid = successor->pid;
  ASSERT_TRUE(ConfirmHandover(*successor).ok());
  EXPECT_EQ(successor->confirm_fd, -1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
}

TEST_F(StartSuccessorTest, ConfirmHandoverToADeadSuccessorFails) {
  absl::StatusOr<Successor> successor =
      Start(Script("printf 'R\\n' >&4; exec sleep 600"));
  ASSERT_TRUE(successor.ok()) << successor.status();
  ASSERT_EQ(kill(successor->pid, SIGKILL), 0);
  siginfo_t info = {};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(successor->pid), &info,
                   WEXITED | WNOWAIT),
            0);
  EXPECT_FALSE(SuccessorAlive(successor->pid));
  const absl::Status handed = ConfirmHandover(*successor);
  EXPECT_THAT(std::string(handed.message()),
              HasSubstr("died before the handover"));
  EXPECT_EQ(successor->confirm_fd, -1);
}

TEST_F(StartSuccessorTest, TheSuccessorsErrorIsTheAnswer) {
  const absl::StatusOr<Successor> successor =
      Start(Script("printf 'Eport 80 is taken' >&4; exit 1"));
  ASSERT_FALSE(successor.ok());
  EXPECT_EQ(successor.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(successor.status().message(), "port 80 is taken");
}

TEST_F(StartSuccessorTest, ASuccessorThatExitsBeforeReadyIsReported) {
  const absl::StatusOr<Successor> successor = Start(Script("exit 0"));
  ASSERT_FALSE(successor.ok());
  EXPECT_EQ(successor.status().message(),
            "the new daemon exited before it was ready");
}

// Not ready in time: it and what it started (its process group) are ended.
TEST_F(StartSuccessorTest, ASuccessorNotReadyInTimeIsKilledWithItsGroup) {
  const std::string marker = absl::StrCat(dir_, "/grandchild");
  const absl::StatusOr<Successor> successor =
      Start(Script(absl::StrCat("sleep 600 & echo $! > ", marker, ".tmp && mv ",
                                marker, ".tmp ", marker, "; exec sleep 600")),
            absl::Seconds(3));
  ASSERT_FALSE(successor.ok());
  EXPECT_EQ(successor.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(successor.status().message()),
              HasSubstr("not ready within 3s"));
  absl::StatusOr<std::string> grandchild = ReadSmallFile(marker);
  ASSERT_TRUE(grandchild.ok()) << grandchild.status();
  pid_t pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*grandchild), &pid));
  // SIGKILLed with the group; the kernel finishes it shortly.
  for (int i = 0; i < 30000 && IsRunning(pid); ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_FALSE(IsRunning(pid));
}

TEST_F(StartSuccessorTest, AMissingDirectoryIsNamed) {
  UpgradeSource source = Script("printf 'R\\n' >&4");
  source.cwd = absl::StrCat(dir_, "/gone");
  const absl::StatusOr<Successor> successor = Start(source);
  ASSERT_FALSE(successor.ok());
  EXPECT_EQ(successor.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      std::string(successor.status().message()),
      HasSubstr(absl::StrCat("cannot enter the directory of ", dir_, "/gone")));
}

TEST_F(StartSuccessorTest, AStopWhileWaitingAbortsTheStart) {
  int interrupt[2];
  ASSERT_EQ(pipe2(interrupt, O_CLOEXEC), 0);
  ASSERT_EQ(write(interrupt[1], "x", 1), 1);
  int asked = 0;
  const absl::StatusOr<Successor> successor = StartSuccessor(
      Script("exec sleep 600"), pidfile_fd_, sockets_, absl::Seconds(60),
      interrupt[0], [&] { return ++asked > 0; });
  close(interrupt[0]);
  close(interrupt[1]);
  ASSERT_FALSE(successor.ok());
  EXPECT_EQ(successor.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(asked, 1);
}

// Issue 18.19: a binary in a directory anybody may write is not run.
TEST_F(StartSuccessorTest, ABinaryOthersCouldReplaceIsRefused) {
  const std::string open_dir = absl::StrCat(dir_, "/open");
  ASSERT_EQ(mkdir(open_dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(open_dir.c_str(), 0777), 0);
  UpgradeSource source = Script("printf 'R\\n' >&4");
  source.exe = absl::StrCat(open_dir, "/daemon");
  ASSERT_EQ(symlink("/bin/sh", source.exe.c_str()), 0);
  const absl::StatusOr<Successor> successor = Start(source);
  ASSERT_FALSE(successor.ok());
  EXPECT_THAT(std::string(successor.status().message()),
              HasSubstr("refusing to run binary"));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
