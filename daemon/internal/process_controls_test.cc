// Copyright 2026 The daemonkit Authors.
//
// The process controls applied in a real forked process, as the daemon
// applies them: limits, niceness and the OOM score read back from the
// kernel.

#include "daemon/internal/process_controls.h"

#include <sys/resource.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::ExitCodeInChild;
using ::daemonkit::test_support::ReadFileOrEmpty;

TEST(ProcessControlsTest, KnowsTheNamesOfTheFlags) {
  EXPECT_EQ(ResourceByName("nofile"), RLIMIT_NOFILE);
  EXPECT_EQ(ResourceByName("locks"), RLIMIT_LOCKS);
  EXPECT_EQ(ResourceByName("NOFILE"), std::nullopt);
  EXPECT_EQ(ResourceByName("files"), std::nullopt);
  EXPECT_EQ(CapabilityByName("cap_net_bind_service"), 10);
  EXPECT_EQ(CapabilityByName("NET_BIND_SERVICE"), 10);
  EXPECT_EQ(CapabilityByName("cap_chown"), 0);
  EXPECT_EQ(CapabilityByName("cap_checkpoint_restore"), 40);
  EXPECT_EQ(CapabilityByName("cap_net_bind"), std::nullopt);
  EXPECT_EQ(CapabilityByName(""), std::nullopt);
}

TEST(ProcessControlsTest, SetsLimitsInOrderAndKeepsAnUnnamedHardLimit) {
  EXPECT_EQ(ExitCodeInChild([] {
              struct rlimit before;
              if (getrlimit(RLIMIT_NOFILE, &before) != 0) return 10;
              if (!ApplyResourceLimits({{"nofile", 64, std::nullopt},
                                        {"core", 0, 0},
                                        {"nofile", 100, std::nullopt}})
                       .ok()) {
                return 11;
              }
              struct rlimit nofile, core;
              if (getrlimit(RLIMIT_NOFILE, &nofile) != 0 ||
                  getrlimit(RLIMIT_CORE, &core) != 0) {
                return 12;
              }
              if (nofile.rlim_cur != 100) return 13;
              if (nofile.rlim_max != before.rlim_max) return 14;
              if (core.rlim_cur != 0 || core.rlim_max != 0) return 15;
              return 0;
            }),
            0);
}

TEST(ProcessControlsTest, ASoftLimitAboveTheHardOneIsRefusedNamingTheFlag) {
  EXPECT_EQ(ExitCodeInChild([] {
              struct rlimit limit;
              if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 10;
              if (limit.rlim_max == RLIM_INFINITY) return 0;  // nothing above
              absl::Status status = ApplyResourceLimits(
                  {{"nofile", limit.rlim_max + 1, std::nullopt}});
              if (status.ok()) return 11;
              if (!absl::StrContains(status.message(), "--daemon_rlimits")) {
                return 12;
              }
              if (!absl::StrContains(status.message(), "nofile=")) return 13;
              return 0;
            }),
            0);
}

TEST(ProcessControlsTest, SetsNicenessAndOomScoreAdjustment) {
  EXPECT_EQ(ExitCodeInChild([] {
              // Raising both needs no privilege.
              if (!ApplyScheduling(7, 321).ok()) return 10;
              errno = 0;
              if (getpriority(PRIO_PROCESS, 0) != 7 || errno != 0) return 11;
              int adj;
              if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFileOrEmpty(
                                        "/proc/self/oom_score_adj")),
                                    &adj) ||
                  adj != 321) {
                return 12;
              }
              return 0;
            }),
            0);
}

TEST(ProcessControlsTest, NothingAskedChangesNothing) {
  EXPECT_EQ(ExitCodeInChild([] {
              errno = 0;
              const int nice = getpriority(PRIO_PROCESS, 0);
              if (!ApplyScheduling(std::nullopt, std::nullopt).ok()) return 10;
              if (!ApplyResourceLimits({}).ok()) return 11;
              CapabilityKeeper keeper({}, false);
              if (!keeper.Prepare().ok() || !keeper.Finish().ok()) return 12;
              if (getpriority(PRIO_PROCESS, 0) != nice) return 13;
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
