// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/environment.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::ElementsAre;

TEST(ParseVariableListTest, SplitsOnCommasAndTrimsSpaces) {
  absl::StatusOr<std::vector<std::string>> names =
      ParseVariableList(" PATH, HOME,,LANG ,");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("PATH", "HOME", "LANG"));
  names = ParseVariableList("");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST(ParseVariableListTest, RefusesWhatCannotBeAName) {
  for (const char* list : {"A=B", "PATH,MY VAR", "X\tY"}) {
    absl::StatusOr<std::vector<std::string>> names = ParseVariableList(list);
    EXPECT_EQ(names.status().code(), absl::StatusCode::kInvalidArgument)
        << list;
  }
  const std::string with_nul("A\0B", 3);
  EXPECT_FALSE(ParseVariableList(with_nul).ok());
}

// The death test's child is this binary executed again, so the variables set
// here are in the block it starts with: the one /proc/PID/environ shows.
class KeepOnlyVariablesDeathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // Not overwriting: SetUp runs again in the child, whose values must
    // stay the ones in its start block.
    ASSERT_EQ(setenv("DAEMONKIT_SECRET", "hunter2-secret-value", 0), 0);
    ASSERT_EQ(setenv("DAEMONKIT_KEPT", "kept-value", 0), 0);
    ASSERT_EQ(setenv("NOTIFY_SOCKET", "/run/notify-test", 0), 0);
  }
  void TearDown() override {
    unsetenv("DAEMONKIT_SECRET");
    unsetenv("DAEMONKIT_KEPT");
    unsetenv("NOTIFY_SOCKET");
  }
};

// Exits 0 when the secret is gone from getenv and from /proc/self/environ,
// and the kept and supervisor variables stay; a distinct code otherwise.
void KeepAndCheck() {
  const char* kept_before = getenv("DAEMONKIT_KEPT");
  if (!KeepOnlyVariables({"DAEMONKIT_KEPT"}).ok()) _Exit(9);
  if (getenv("DAEMONKIT_SECRET") != nullptr) _Exit(10);
  if (getenv("DAEMONKIT_KEPT") != kept_before) _Exit(11);  // did not move
  if (std::string(getenv("DAEMONKIT_KEPT")) != "kept-value") _Exit(12);
  if (getenv("NOTIFY_SOCKET") == nullptr) _Exit(13);
  if (getenv("PATH") != nullptr) _Exit(14);
  absl::StatusOr<std::string> environ_block =
      ReadProcFile("/proc/self/environ");
  if (!environ_block.ok()) _Exit(15);
  if (absl::StrContains(*environ_block, "hunter2-secret-value")) _Exit(16);
  if (!absl::StrContains(*environ_block, "kept-value")) _Exit(17);
  _Exit(0);
}

TEST_F(KeepOnlyVariablesDeathTest, RemovedSecretIsGoneFromProcToo) {
  EXPECT_EXIT(KeepAndCheck(), ::testing::ExitedWithCode(0), "");
}

// The application replaced the secret before the removal: libc's environ
// then points at a new string, and the old value still sat in the start
// block, readable in /proc/PID/environ.
TEST_F(KeepOnlyVariablesDeathTest, ReplacedSecretIsGoneFromTheStartBlockToo) {
  EXPECT_EXIT(
      {
        setenv("DAEMONKIT_SECRET", "replaced", 1);
        KeepAndCheck();
      },
      ::testing::ExitedWithCode(0), "");
}

// Without /proc/self (inside a chroot) the start block cannot be found: the
// removal fails, naming the flag, rather than leave the secret in
// /proc/PID/environ (a chrooted daemon once did, silently).
TEST_F(KeepOnlyVariablesDeathTest, FailsWithoutProcRatherThanLeaveTheSecret) {
  if (geteuid() != 0) GTEST_SKIP() << "chroot(2) needs root";
  const std::string empty = std::string(getenv("TEST_TMPDIR")) + "/no-proc";
  // (The death test's child runs this again: the directory is there.)
  ASSERT_TRUE(mkdir(empty.c_str(), 0755) == 0 || errno == EEXIST)
      << std::strerror(errno);
  EXPECT_EXIT(
      {
        if (chroot(empty.c_str()) != 0 || chdir("/") != 0) _Exit(20);
        const absl::Status status = KeepOnlyVariables({"DAEMONKIT_KEPT"});
        if (status.ok()) _Exit(21);
        if (!absl::StrContains(status.message(), "--daemon_keep_env")) {
          _Exit(22);
        }
        _Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
