// Copyright 2026 The daemonkit Authors.
//
// The successor's side of an upgrade (taking the handover from its
// variables) and the request's channel, on real descriptors and sockets.

#include "daemon/internal/upgrade.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/socket_address.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// A regular file (as the pid file), a ready pipe and a confirm pipe, all
// close-on-exec off, as a successor finds them after exec.
class TakeUpgradeHandoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    ASSERT_NE(tmp, nullptr);
    pidfile_ =
        open(absl::StrCat(tmp, "/x.pid").c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_GE(pidfile_, 3);
    ASSERT_EQ(pipe(ready_), 0);
    ASSERT_EQ(pipe(confirm_), 0);
  }
  void TearDown() override {
    unsetenv(kUpgradeVariable);
    unsetenv(kUpgradeConfirmVariable);
    for (int fd : {pidfile_, ready_[0], ready_[1], confirm_[0], confirm_[1]}) {
      close(fd);
    }
  }
  void Announce(pid_t pid, int pidfile_fd, int ready_fd) {
    ASSERT_EQ(
        setenv(kUpgradeVariable,
               absl::StrCat(pid, ":", pidfile_fd, ":", ready_fd).c_str(), 1),
        0);
  }

  int pidfile_ = -1;
  int ready_[2] = {-1, -1};
  int confirm_[2] = {-1, -1};
};

bool CloseOnExec(int fd) { return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

TEST_F(TakeUpgradeHandoverTest, TakesTheDescriptorsAndUnsetsTheVariables) {
  Announce(getpid(), pidfile_, ready_[1]);
  ASSERT_EQ(
      setenv(kUpgradeConfirmVariable, absl::StrCat(confirm_[0]).c_str(), 1), 0);
  EXPECT_TRUE(IsUpgradeSuccessor());
  const std::optional<UpgradeHandover> handover = TakeUpgradeHandover();
  ASSERT_TRUE(handover.has_value());
  EXPECT_EQ(handover->pidfile_fd, pidfile_);
  EXPECT_EQ(handover->ready_fd, ready_[1]);
  EXPECT_EQ(handover->confirm_fd, confirm_[0]);
  // Nothing the application starts inherits them.
  EXPECT_EQ(getenv(kUpgradeVariable), nullptr);
  EXPECT_EQ(getenv(kUpgradeConfirmVariable), nullptr);
  EXPECT_TRUE(CloseOnExec(pidfile_));
  EXPECT_TRUE(CloseOnExec(ready_[1]));
  EXPECT_TRUE(CloseOnExec(confirm_[0]));
  // The confirm pipe is read from the event loop: never blocking.
  EXPECT_NE(fcntl(confirm_[0], F_GETFL) & O_NONBLOCK, 0);
  EXPECT_FALSE(IsUpgradeSuccessor());
}

// An old daemon of an earlier release names no confirm pipe: the handover
// counts as confirmed at once.
TEST_F(TakeUpgradeHandoverTest, WithoutAConfirmPipeThereIsNone) {
  Announce(getpid(), pidfile_, ready_[1]);
  const std::optional<UpgradeHandover> handover = TakeUpgradeHandover();
  ASSERT_TRUE(handover.has_value());
  EXPECT_EQ(handover->confirm_fd, -1);
}

// A variable inherited from an ancestor names another pid: this process
// starts as usual.
TEST_F(TakeUpgradeHandoverTest, AnotherProcesssVariableIsNotAnUpgrade) {
  Announce(getppid(), pidfile_, ready_[1]);
  EXPECT_FALSE(IsUpgradeSuccessor());
  EXPECT_FALSE(TakeUpgradeHandover().has_value());
}

// The ready pipe's "R" must not land in somebody's file: a regular file
// where the pipe should be, or a pipe where the pid file should be, is
// not an upgrade.
TEST_F(TakeUpgradeHandoverTest, DescriptorsOfTheWrongKindAreNotAnUpgrade) {
  Announce(getpid(), pidfile_, pidfile_);
  EXPECT_FALSE(TakeUpgradeHandover().has_value());
  Announce(getpid(), ready_[0], ready_[1]);
  EXPECT_FALSE(TakeUpgradeHandover().has_value());
  Announce(getpid(), 1, ready_[1]);  // a standard stream is never one
  EXPECT_FALSE(TakeUpgradeHandover().has_value());
}

TEST(DescriptorHeadroomTest, RefusesBelowTheNeedAndNamesTheFlag) {
  const uint64_t needed = UpgradeDescriptorsNeeded(2);
  EXPECT_GT(needed, UpgradeDescriptorsNeeded(1));
  EXPECT_EQ(DescriptorHeadroomRefusal(needed, 2), "");
  const std::string refusal = DescriptorHeadroomRefusal(needed - 1, 2);
  EXPECT_TRUE(absl::StrContains(
      refusal, absl::StrCat("--daemon_rlimits=nofile=", needed)))
      << refusal;
}

TEST(UpgradeChannelTest, TokensAreRandomAndNeverZero) {
  const absl::StatusOr<uint64_t> first = NewUpgradeToken();
  const absl::StatusOr<uint64_t> second = NewUpgradeToken();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, 0u);
  EXPECT_NE(*first, *second);
  EXPECT_EQ(UpgradeChannelName(8, 42, 0xabc),
            "daemonkit-upgrade-8-42-0000000000000abc");
}

// The old daemon connects to whoever listens on the request's name (root
// or its own user: this test's), and to nothing without a request.
TEST(UpgradeChannelTest, ConnectsToTheListenerOfTheRequest) {
  const absl::StatusOr<uint64_t> token = NewUpgradeToken();
  ASSERT_TRUE(token.ok());
  const absl::StatusOr<SocketAddress> address =
      SocketAddress::UnixAbstract(UpgradeChannelName(8, 42, *token));
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(ConnectUpgradeChannel(8, 42, *token), -1) << "nobody listens";
  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(bind(listener, address->get(), address->length()), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  EXPECT_EQ(ConnectUpgradeChannel(8, 42, 0), -1) << "a stray SIGUSR2";
  EXPECT_EQ(ConnectUpgradeChannel(8, 0, *token), -1) << "no pid file";
  const int connected = ConnectUpgradeChannel(8, 42, *token);
  ASSERT_GE(connected, 0);
  EXPECT_TRUE(CloseOnExec(connected));
  const int accepted = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(accepted, 0);
  close(accepted);
  close(connected);
  close(listener);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
