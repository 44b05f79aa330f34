// Copyright 2026 The daemonkit Authors.
//
// The daemon's side of the path keeper: what PathKeeperClient sends and how
// it reads each kind of answer, against a stand-in keeper in a forked child
// that answers as scripted; and Start(), against the real keeper.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/keeper_protocol.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

// What the stand-in keeper does with the one request it reads.
enum class Script {
  kAnswer,  // sends `reply` (and `attach`, if valid), then exits
  kHangUp,  // closes the reply socket unanswered, then exits
  kSilent,  // holds the reply socket unanswered until killed
};

// Exit codes of the stand-in: 0 when the request was the expected one.
constexpr int kWrongRequest = 10;
constexpr int kNoRequest = 11;

class PathKeeperClientTest : public ::testing::Test {
 protected:
  void TearDown() override {
    client_.reset();
    if (keeper_ > 0) {
      KillNow(keeper_);
      waitpid(keeper_, nullptr, 0);
    }
  }

  // Forks the stand-in keeper (one child per test), which expects a
  // request for `op` and `index` (and `pid`) and then follows `script`.
  void StartStandIn(uint8_t op, uint8_t index, pid_t pid, Script script,
                    const std::string& reply = "", int attach = -1) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    keeper_ = fork();
    ASSERT_GE(keeper_, 0);
    if (keeper_ == 0) {
      close(sv[0]);
      char buffer[sizeof(KeeperRequest)];
      int reply_fd;
      bool extra;
      absl::StatusOr<size_t> n = ReceiveKeeperMessage(
          sv[1], buffer, sizeof(buffer), &reply_fd, &extra);
      if (!n.ok() || extra || reply_fd < 0) _exit(kNoRequest);
      const std::optional<KeeperRequest> request =
          DecodeKeeperRequest(absl::string_view(buffer, *n));
      if (!request || request->op != op || request->index != index ||
          request->pid != pid) {
        _exit(kWrongRequest);
      }
      if (script == Script::kSilent) {
        for (;;) pause();
      }
      if (script == Script::kAnswer &&
          !SendKeeperMessage(reply_fd, reply, attach).ok()) {
        _exit(kNoRequest);
      }
      _exit(0);
    }
    close(sv[1]);
    client_ = std::make_unique<PathKeeperClient>(sv[0]);
  }

  // The stand-in's exit code once it has ended.
  int StandInExit() {
    int status;
    EXPECT_EQ(waitpid(keeper_, &status, 0), keeper_);
    keeper_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  pid_t keeper_ = 0;
  std::unique_ptr<PathKeeperClient> client_;
};

TEST_F(PathKeeperClientTest, OpenOutputReturnsTheDescriptorTheKeeperSent) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  StartStandIn(kKeeperOpenOutput, 2, 0, Script::kAnswer,
               EncodeKeeperReply(absl::OkStatus(), false), write_end.get());
  absl::StatusOr<int> fd = client_->OpenOutput(2);
  ASSERT_TRUE(fd.ok()) << fd.status();
  UniqueFd opened(*fd);
  EXPECT_EQ(StandInExit(), 0);
  // It is the keeper's descriptor: what is written to it comes out here.
  ASSERT_EQ(write(opened.get(), "x", 1), 1);
  char byte = 0;
  ASSERT_EQ(read(read_end.get(), &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
}

TEST_F(PathKeeperClientTest, OpenOutputWithoutADescriptorIsAnError) {
  StartStandIn(kKeeperOpenOutput, 0, 0, Script::kAnswer,
               EncodeKeeperReply(absl::OkStatus(), false));
  absl::StatusOr<int> fd = client_->OpenOutput(0);
  EXPECT_EQ(fd.status(),
            absl::InternalError("the path keeper sent no descriptor"));
  EXPECT_EQ(StandInExit(), 0);
}

TEST_F(PathKeeperClientTest, TheKeepersRefusalReachesTheCaller) {
  StartStandIn(kKeeperNameWorker, 0, 4321, Script::kAnswer,
               EncodeKeeperReply(absl::PermissionDeniedError(
                                     "only the supervisor may name its worker"),
                                 false));
  EXPECT_EQ(
      client_->NameWorker(4321),
      absl::PermissionDeniedError("only the supervisor may name its worker"));
  EXPECT_EQ(StandInExit(), 0);
}

TEST_F(PathKeeperClientTest, RemovePidFileSaysWhetherTheKeeperRemovedIt) {
  StartStandIn(kKeeperRemovePidFile, 1, 0, Script::kAnswer,
               EncodeKeeperReply(absl::OkStatus(), true));
  absl::StatusOr<bool> removed =
      client_->RemovePidFile(KeeperPidFileId::kWorker);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_TRUE(*removed);
  EXPECT_EQ(StandInExit(), 0);
}

TEST_F(PathKeeperClientTest, RemoveSocketFileSaysWhenThePathNamesAnother) {
  StartStandIn(kKeeperRemoveSocket, 3, 0, Script::kAnswer,
               EncodeKeeperReply(absl::OkStatus(), false));
  absl::StatusOr<bool> removed = client_->RemoveSocketFile(3);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_FALSE(*removed);
  EXPECT_EQ(StandInExit(), 0);
}

TEST_F(PathKeeperClientTest, AKeeperGoneMidAnswerIsUnavailable) {
  StartStandIn(kKeeperRemovePidFile, 0, 0, Script::kHangUp);
  EXPECT_EQ(client_->RemovePidFile().status(),
            absl::UnavailableError("the path keeper is gone"));
  EXPECT_EQ(StandInExit(), 0);
}

TEST_F(PathKeeperClientTest, AShortAnswerIsUnavailable) {
  StartStandIn(kKeeperRemovePidFile, 0, 0, Script::kAnswer, std::string(1, 0));
  EXPECT_EQ(client_->RemovePidFile().status(),
            absl::UnavailableError("the path keeper is gone"));
  EXPECT_EQ(StandInExit(), 0);
}

TEST_F(PathKeeperClientTest, ASilentKeeperTimesOut) {
  StartStandIn(kKeeperRemovePidFile, 0, 0, Script::kSilent);
  const absl::Time start = absl::Now();
  EXPECT_EQ(client_->RemovePidFile().status(),
            absl::DeadlineExceededError("the path keeper did not answer"));
  EXPECT_GE(absl::Now() - start, absl::Seconds(2));
}

TEST(PathKeeperClientLocalTest, RefusesWhatCannotBeAsked) {
  PathKeeperClient none(-1);
  EXPECT_EQ(none.RemovePidFile().status(),
            absl::UnavailableError("no path keeper"));
  EXPECT_EQ(none.OpenOutput(256).status(),
            absl::InvalidArgumentError("no such output"));
  EXPECT_EQ(none.RemoveSocketFile(256).status(),
            absl::InvalidArgumentError("no such socket file"));
  EXPECT_FALSE(none.Exited());
  KeeperTargets targets;
  targets.outputs.resize(256);
  EXPECT_EQ(PathKeeperClient::Start(targets).status(),
            absl::InvalidArgumentError("too many output files for the keeper"));
}

TEST(PathKeeperClientStartTest, StartsAKeeperThatServesAndSeesItGo) {
  KeeperTargets targets;  // nothing to hold: it serves until end-of-file
  absl::StatusOr<std::shared_ptr<PathKeeperClient>> client =
      PathKeeperClient::Start(targets);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_GE((*client)->keeper_pidfd(), 0);
  EXPECT_FALSE((*client)->Exited());
  // It answers: a pid file it was not given is a malformed request, which
  // ends its serving, and with nothing to hold, the keeper.
  EXPECT_FALSE((*client)->RemovePidFile().ok());
  EXPECT_TRUE(test_support::WaitFor([&] { return (*client)->Exited(); }));
}

TEST(PathKeeperClientStartTest, ExitedOnceTheKeeperIsKilled) {
  KeeperTargets targets;
  absl::StatusOr<std::shared_ptr<PathKeeperClient>> client =
      PathKeeperClient::Start(targets);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_FALSE((*client)->Exited());
  ASSERT_EQ(KillThroughPidfd((*client)->keeper_pidfd()), 0);
  EXPECT_TRUE(test_support::WaitFor([&] { return (*client)->Exited(); }));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
