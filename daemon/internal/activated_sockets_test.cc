// Copyright 2026 The daemonkit Authors.
//
// Takes activated sockets in forked children, where the environment and
// descriptors 3.. can be set up the way systemd does.

#include "daemon/internal/activated_sockets.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// Runs `body` in a forked child (whose descriptors 3.. and LISTEN_* it sets
// up itself); returns the child's exit code.
template <typename Body>
int InChild(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(TakeActivatedSocketsTest, TakesNamedSocketsAndUnsetsTheVariables) {
  EXPECT_EQ(InChild([] {
              int pair[2];
              if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
              if (dup2(pair[0], 3) != 3 || dup2(pair[1], 4) != 4) return 2;
              setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
              setenv("LISTEN_FDS", "2", 1);
              setenv("LISTEN_FDNAMES", "web", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (!taken.ok() || taken->size() != 2) return 3;
              if ((*taken)[0].name != "web" || (*taken)[0].fd != 3) return 4;
              // A missing name is "unknown", as sd_listen_fds_with_names.
              if ((*taken)[1].name != "unknown" || (*taken)[1].fd != 4) {
                return 5;
              }
              if (!(fcntl(3, F_GETFD) & FD_CLOEXEC)) return 6;
              if (getenv("LISTEN_PID") || getenv("LISTEN_FDS") ||
                  getenv("LISTEN_FDNAMES")) {
                return 7;
              }
              return 0;
            }),
            0);
}

TEST(TakeActivatedSocketsTest, AnotherProcesssVariablesAreLeftAlone) {
  EXPECT_EQ(InChild([] {
              setenv("LISTEN_PID", absl::StrCat(getppid()).c_str(), 1);
              setenv("LISTEN_FDS", "1", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (!taken.ok() || !taken->empty()) return 1;
              return getenv("LISTEN_FDS") != nullptr ? 0 : 2;
            }),
            0);
}

TEST(TakeActivatedSocketsTest, ADescriptorThatIsNoSocketIsAnError) {
  EXPECT_EQ(InChild([] {
              const int null_fd = open("/dev/null", O_RDONLY);
              if (dup2(null_fd, 3) != 3) return 1;
              setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
              setenv("LISTEN_FDS", "1", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (taken.ok()) return 2;
              return taken.status().message().find("not a socket") !=
                             std::string::npos
                         ? 0
                         : 3;
            }),
            0);
}

TEST(TakeActivatedSocketsTest, WithoutTheVariablesThereAreNone) {
  EXPECT_EQ(InChild([] {
              unsetenv("LISTEN_PID");
              setenv("LISTEN_FDS", "1", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (!taken.ok() || !taken->empty()) return 1;
              // Not consumed: they were not this process's.
              return getenv("LISTEN_FDS") != nullptr ? 0 : 2;
            }),
            0);
}

TEST(TakeActivatedSocketsTest, ACountThatIsNoCountIsAnErrorNamingIt) {
  EXPECT_EQ(InChild([] {
              setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
              setenv("LISTEN_FDS", "two", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (taken.ok()) return 1;
              if (taken.status().message() !=
                  "socket activation: LISTEN_FDS=two is not a count") {
                return 2;
              }
              // Left set, for whoever reads the error.
              return getenv("LISTEN_FDS") != nullptr ? 0 : 3;
            }),
            0);
}

TEST(TakeActivatedSocketsTest, AClosedDescriptorIsAnErrorNamingIt) {
  EXPECT_EQ(InChild([] {
              int pair[2];
              if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
              if (dup2(pair[0], 3) != 3) return 2;
              close(4);
              setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
              setenv("LISTEN_FDS", "2", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (taken.ok()) return 3;
              return taken.status().message().find(
                         "descriptor 4 of LISTEN_FDS=2") != std::string::npos
                         ? 0
                         : 4;
            }),
            0);
}

TEST(TakeActivatedSocketsTest, EmptyNamesAreUnknownOthersKeepTheirPlace) {
  EXPECT_EQ(InChild([] {
              for (int fd = 3; fd <= 5; ++fd) {
                int pair[2];
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
                if (dup2(pair[0], fd) != fd) return 2;
              }
              setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
              setenv("LISTEN_FDS", "3", 1);
              setenv("LISTEN_FDNAMES", "web::admin", 1);
              absl::StatusOr<std::vector<ActivatedSocket>> taken =
                  TakeActivatedSockets();
              if (!taken.ok() || taken->size() != 3) return 3;
              if ((*taken)[0].name != "web" || (*taken)[1].name != "unknown" ||
                  (*taken)[2].name != "admin" || (*taken)[2].fd != 5) {
                return 4;
              }
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
