// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/descriptors.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Runs `body` in a child process (closing descriptors in the test process
// itself would pull gtest's own out from under it) and returns its exit code.
template <typename Body>
int InChild(Body body) {
  pid_t child = fork();
  if (child == 0) _exit(body());
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(CloseInheritedDescriptorsTest, ClosesAllButStdioAndTheKeptOnes) {
  const int exit_code = InChild([] {
    int a = open("/dev/null", O_RDONLY);  // no O_CLOEXEC: an inherited one
    int b = open("/dev/null", O_RDONLY);
    int c = open("/dev/null", O_RDONLY);
    if (a < 3 || b < 3 || c < 3) return 10;
    if (!CloseInheritedDescriptors({b}).ok()) return 11;
    if (IsOpen(a) || IsOpen(c)) return 12;
    if (!IsOpen(b)) return 13;
    for (int fd = 0; fd <= 2; ++fd) {
      if (!IsOpen(fd)) return 14;
    }
    return 0;
  });
  EXPECT_EQ(exit_code, 0);
}

TEST(CloseInheritedDescriptorsTest, ReachesTheHardDescriptorLimit) {
  const int exit_code = InChild([] {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 10;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 11;
    const int highest =
        static_cast<int>(limit.rlim_max > 1 << 20 ? 1 << 20 : limit.rlim_max) -
        1;
    const int kept = highest - 1;
    if (dup2(0, highest) != highest || dup2(0, kept) != kept) return 12;
    if (!CloseInheritedDescriptors({kept, 1, -3}).ok()) return 13;
    if (IsOpen(highest)) return 14;
    if (!IsOpen(kept)) return 15;
    return 0;
  });
  EXPECT_EQ(exit_code, 0);
}

// Before a chroot: every directory, O_PATH ones too, and nothing else.
TEST(CloseDirectoryDescriptorsTest, ClosesDirectoriesAndKeepsTheRest) {
  const int exit_code = InChild([] {
    const int directory = open("/", O_RDONLY | O_DIRECTORY);
    const int path = open("/tmp", O_PATH);
    const int file = open("/dev/null", O_RDONLY);
    int pipe_ends[2];
    if (directory < 3 || path < 3 || file < 3 || pipe(pipe_ends) != 0) {
      return 10;
    }
    if (!CloseDirectoryDescriptors().ok()) return 11;
    if (IsOpen(directory) || IsOpen(path)) return 12;
    if (!IsOpen(file) || !IsOpen(pipe_ends[0]) || !IsOpen(pipe_ends[1])) {
      return 13;
    }
    return 0;
  });
  EXPECT_EQ(exit_code, 0);
}

TEST(EnsureStandardStreamsOpenTest, FillsAClosedStreamWithDevNull) {
  const int exit_code = InChild([] {
    close(1);
    if (!EnsureStandardStreamsOpen().ok()) return 10;
    if (!IsOpen(1)) return 11;
    char target[64] = {};
    if (readlink("/proc/self/fd/1", target, sizeof(target) - 1) < 0) return 12;
    return std::string(target) == "/dev/null" ? 0 : 13;
  });
  EXPECT_EQ(exit_code, 0);
}

// A pipe whose reader is gone: the write fails with EPIPE, and this
// process neither dies of SIGPIPE nor keeps one pending; a SIGPIPE that was
// pending before stays.
TEST(WriteWithoutSigpipeTest, AGoneReaderIsAnErrorNotASignal) {
  const int exit_code = InChild([] {
    int ends[2];
    if (pipe(ends) != 0) return 10;
    if (!WriteWithoutSigpipe(ends[1], 'H')) return 11;
    char byte = 0;
    if (read(ends[0], &byte, 1) != 1 || byte != 'H') return 12;
    close(ends[0]);
    if (WriteWithoutSigpipe(ends[1], 'H') || errno != EPIPE) return 13;
    sigset_t pending;
    if (sigpending(&pending) != 0 || sigismember(&pending, SIGPIPE)) return 14;
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    if (sigprocmask(SIG_BLOCK, &pipe_only, nullptr) != 0) return 15;
    if (raise(SIGPIPE) != 0) return 16;
    if (WriteWithoutSigpipe(ends[1], 'H')) return 17;
    if (sigpending(&pending) != 0 || !sigismember(&pending, SIGPIPE)) {
      return 18;
    }
    return 0;
  });
  EXPECT_EQ(exit_code, 0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
