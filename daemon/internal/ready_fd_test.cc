// Copyright 2026 The daemonkit Authors.
//
// Readiness on a descriptor, in real forked processes against a real pipe.

#include "daemon/internal/ready_fd.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::ExitCodeInChild;

TEST(ReadyFdTest, NoneIsNothing) {
  EXPECT_TRUE(PrepareReadyFd(-1).ok());
  SignalReadyFd(-1);
}

TEST(ReadyFdTest, AClosedDescriptorIsAStartErrorNamingTheFlag) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  close(fds[0]);
  close(fds[1]);
  absl::Status status = PrepareReadyFd(fds[1]);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(status.message()).find("--daemon_ready_fd="),
            std::string::npos)
      << status;
}

TEST(ReadyFdTest, WritesOneNewlineAndClosesSoTheReaderSeesEndOfFile) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);  // not close-on-exec, as a manager passes it
  const int write_fd = fds[1];
  EXPECT_EQ(ExitCodeInChild([write_fd] {
              if (!PrepareReadyFd(write_fd).ok()) return 10;
              if ((fcntl(write_fd, F_GETFD) & FD_CLOEXEC) == 0) return 11;
              SignalReadyFd(write_fd);
              if (fcntl(write_fd, F_GETFD) >= 0) return 12;  // closed
              return 0;
            }),
            0);
  close(fds[1]);
  std::string read_back;
  char buffer[16];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) {
    read_back.append(buffer, n);
  }
  EXPECT_EQ(n, 0);
  EXPECT_EQ(read_back, "\n");
  close(fds[0]);
}

TEST(ReadyFdTest, AReaderThatIsGoneDoesNotKillTheWriter) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  const int write_fd = fds[1];
  // SIGPIPE as the daemon has it: caught by a handler, so the write fails.
  EXPECT_EQ(ExitCodeInChild([write_fd] {
              signal(SIGPIPE, [](int) {});
              SignalReadyFd(write_fd);
              return 0;
            }),
            0);
  close(fds[1]);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
