// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/owned_descriptors.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) >= 0; }

// Forks a child that reports, in its exit code, which of `fds` are still
// open after the fork handler ran: bit i for fds[i].
int OpenInForkedChild(const int (&fds)[2]) {
  const pid_t pid = fork();
  if (pid == 0) {
    int open_bits = 0;
    for (int i = 0; i < 2; ++i) {
      if (IsOpen(fds[i])) open_bits |= 1 << i;
    }
    _exit(open_bits);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

TEST(OwnedDescriptorsTest, AForkedChildKeepsNoneOfWhatIsOwned) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ASSERT_TRUE(OwnedDescriptors::InstallForkHandler());
  OwnedDescriptors::Own(OwnedDescriptors::kPidFile, fds[0]);
  OwnedDescriptors::Own(OwnedDescriptors::kReadyPipe, fds[1]);
  EXPECT_EQ(OpenInForkedChild(fds), 0);
  // The parent's own descriptors stay open.
  EXPECT_TRUE(IsOpen(fds[0]));
  EXPECT_TRUE(IsOpen(fds[1]));

  // Released: no longer the library's, so a child keeps it.
  OwnedDescriptors::Release(OwnedDescriptors::kReadyPipe);
  EXPECT_EQ(OpenInForkedChild(fds), 0b10);
  OwnedDescriptors::ReleaseAll();
  EXPECT_EQ(OpenInForkedChild(fds), 0b11);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
