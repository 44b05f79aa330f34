// Copyright 2026 The daemonkit Authors.
//
// The keeper protocol's codec, and its messages through a real
// SOCK_SEQPACKET socketpair as the daemon and the keeper use it.

#include "daemon/internal/keeper_protocol.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/unique_fd.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(KeeperRequestTest, RoundTrips) {
  const KeeperRequest sent = MakeKeeperRequest(kKeeperNameWorker, 7, 4242);
  std::optional<KeeperRequest> received = DecodeKeeperRequest(AsBytes(sent));
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(received->magic, kKeeperMagic);
  EXPECT_EQ(received->op, kKeeperNameWorker);
  EXPECT_EQ(received->index, 7);
  EXPECT_EQ(received->padding[0], 0);
  EXPECT_EQ(received->padding[1], 0);
  EXPECT_EQ(received->pid, 4242);
}

TEST(KeeperRequestTest, RejectsAWrongSizeOrMagic) {
  const KeeperRequest request = MakeKeeperRequest(kKeeperOpenOutput, 0, 0);
  const std::string bytes(AsBytes(request));
  EXPECT_FALSE(DecodeKeeperRequest("").has_value());
  EXPECT_FALSE(
      DecodeKeeperRequest(absl::string_view(bytes).substr(0, bytes.size() - 1))
          .has_value());
  EXPECT_FALSE(DecodeKeeperRequest(bytes + "x").has_value());
  KeeperRequest foreign = request;
  foreign.magic = 0x6b656571;
  EXPECT_FALSE(DecodeKeeperRequest(AsBytes(foreign)).has_value());
}

TEST(KeeperReplyTest, RoundTripsAnError) {
  std::optional<KeeperReply> reply = DecodeKeeperReply(EncodeKeeperReply(
      absl::PermissionDeniedError("only the supervisor may name its worker"),
      false));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, absl::PermissionDeniedError(
                               "only the supervisor may name its worker"));
  EXPECT_FALSE(reply->removed);
}

TEST(KeeperReplyTest, RoundTripsSuccessWithAndWithoutRemoval) {
  std::optional<KeeperReply> removed =
      DecodeKeeperReply(EncodeKeeperReply(absl::OkStatus(), true));
  ASSERT_TRUE(removed.has_value());
  EXPECT_TRUE(removed->status.ok());
  EXPECT_TRUE(removed->removed);
  std::optional<KeeperReply> kept =
      DecodeKeeperReply(EncodeKeeperReply(absl::OkStatus(), false));
  ASSERT_TRUE(kept.has_value());
  EXPECT_TRUE(kept->status.ok());
  EXPECT_FALSE(kept->removed);
  EXPECT_EQ(EncodeKeeperReply(absl::OkStatus(), true).size(), 2u);
}

TEST(KeeperReplyTest, CutsALongMessageToTheLargestReply) {
  const std::string long_text(2 * kMaxKeeperReply, 'x');
  const std::string bytes =
      EncodeKeeperReply(absl::NotFoundError(long_text), false);
  EXPECT_EQ(bytes.size(), kMaxKeeperReply);
  std::optional<KeeperReply> reply = DecodeKeeperReply(bytes);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reply->status.message(), long_text.substr(0, kMaxKeeperReply - 2));
}

TEST(KeeperReplyTest, RejectsAReplyWithoutCodeAndFlag) {
  EXPECT_FALSE(DecodeKeeperReply("").has_value());
  EXPECT_FALSE(DecodeKeeperReply(absl::string_view("\0", 1)).has_value());
}

class KeeperSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    daemon_end_.reset(sv[0]);
    keeper_end_.reset(sv[1]);
    const int on = 1;
    ASSERT_EQ(
        setsockopt(keeper_end_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)),
        0);
  }

  UniqueFd daemon_end_;
  UniqueFd keeper_end_;
};

TEST_F(KeeperSocketTest, CarriesARequestItsReplySocketAndTheSender) {
  int reply[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, reply), 0);
  UniqueFd reply_read(reply[0]);
  UniqueFd reply_write(reply[1]);
  const KeeperRequest request = MakeKeeperRequest(kKeeperRemovePidFile, 1, 0);
  ASSERT_TRUE(
      SendKeeperMessage(daemon_end_.get(), AsBytes(request), reply_write.get())
          .ok());

  char buffer[sizeof(KeeperRequest)];
  int fd;
  bool extra;
  pid_t sender;
  absl::StatusOr<size_t> n = ReceiveKeeperMessage(
      keeper_end_.get(), buffer, sizeof(buffer), &fd, &extra, &sender);
  ASSERT_TRUE(n.ok()) << n.status();
  UniqueFd received(fd);
  EXPECT_FALSE(extra);
  EXPECT_EQ(sender, getpid());
  std::optional<KeeperRequest> decoded =
      DecodeKeeperRequest(absl::string_view(buffer, *n));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->op, kKeeperRemovePidFile);
  EXPECT_EQ(decoded->index, 1);

  // The descriptor that came is the reply socket that was sent, close-on-exec.
  ASSERT_TRUE(received.valid());
  struct stat sent_stat, received_stat;
  ASSERT_EQ(fstat(reply_write.get(), &sent_stat), 0);
  ASSERT_EQ(fstat(received.get(), &received_stat), 0);
  EXPECT_EQ(sent_stat.st_ino, received_stat.st_ino);
  EXPECT_NE(fcntl(received.get(), F_GETFD) & FD_CLOEXEC, 0);

  // The keeper's reply, through that socket, reaches the reply's reader.
  ASSERT_TRUE(SendKeeperMessage(received.get(),
                                EncodeKeeperReply(absl::OkStatus(), true), -1,
                                MSG_DONTWAIT)
                  .ok());
  char reply_buffer[kMaxKeeperReply];
  n = ReceiveKeeperMessage(reply_read.get(), reply_buffer, sizeof(reply_buffer),
                           &fd, &extra);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(fd, -1);
  EXPECT_FALSE(extra);
  std::optional<KeeperReply> answer =
      DecodeKeeperReply(absl::string_view(reply_buffer, *n));
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->status.ok());
  EXPECT_TRUE(answer->removed);
}

TEST_F(KeeperSocketTest, FlagsTwoDescriptorsAndClosesTheSecond) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  char byte = kKeeperPidfdNote;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), pipe_fds, 2 * sizeof(int));
  ASSERT_EQ(sendmsg(daemon_end_.get(), &msg, MSG_NOSIGNAL), 1);

  char note = 0;
  int fd;
  bool extra;
  absl::StatusOr<size_t> n =
      ReceiveKeeperMessage(keeper_end_.get(), &note, 1, &fd, &extra);
  ASSERT_TRUE(n.ok()) << n.status();
  UniqueFd first(fd);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(note, kKeeperPidfdNote);
  EXPECT_TRUE(extra);
  EXPECT_TRUE(first.valid());
  // The second copy of the write end was closed: once ours goes too, the
  // pipe's reader sees end-of-file.
  write_end.reset();
  char unused;
  EXPECT_EQ(read(read_end.get(), &unused, 1), 0);
}

TEST_F(KeeperSocketTest, FlagsATruncatedMessage) {
  const KeeperRequest request = MakeKeeperRequest(kKeeperOpenOutput, 0, 0);
  const std::string longer = std::string(AsBytes(request)) + "more";
  ASSERT_TRUE(SendKeeperMessage(daemon_end_.get(), longer, -1).ok());
  char buffer[sizeof(KeeperRequest)];
  int fd;
  bool extra;
  absl::StatusOr<size_t> n = ReceiveKeeperMessage(keeper_end_.get(), buffer,
                                                  sizeof(buffer), &fd, &extra);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, sizeof(buffer));
  EXPECT_TRUE(extra);
  EXPECT_EQ(fd, -1);
}

TEST_F(KeeperSocketTest, ReadsEndOfFileAsAnEmptyMessage) {
  daemon_end_.reset();
  char buffer[sizeof(KeeperRequest)];
  int fd;
  bool extra;
  pid_t sender = -1;
  absl::StatusOr<size_t> n = ReceiveKeeperMessage(
      keeper_end_.get(), buffer, sizeof(buffer), &fd, &extra, &sender);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(fd, -1);
  EXPECT_FALSE(extra);
  EXPECT_EQ(sender, 0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
