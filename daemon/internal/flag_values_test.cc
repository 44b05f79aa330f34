// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/flag_values.h"

#include <stdlib.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/options.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(BadFlagTest, IsAUsageErrorNamingTheFlagAndItsText) {
  const absl::Status status = BadFlag("daemon_nice", "high", "not a number");
  EXPECT_TRUE(IsUsageError(status));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UsageErrorField(status), "daemon_nice");
  EXPECT_EQ(status.message(), "--daemon_nice=high: not a number");
  EXPECT_EQ(ExitCodeFor(status), kExitUsage);
}

TEST(ParseDurationFlagTest, AbseilsFormOrBareSeconds) {
  EXPECT_EQ(*ParseDurationFlag("d", "30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseDurationFlag("d", "1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDurationFlag("d", "250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDurationFlag("d", "2.5"), absl::Milliseconds(2500));
  EXPECT_EQ(*ParseDurationFlag("d", "0"), absl::ZeroDuration());
  // The sign is ValidateOptions' to judge.
  EXPECT_EQ(*ParseDurationFlag("d", "-5s"), absl::Seconds(-5));
}

TEST(ParseDurationFlagTest, NoDurationOrOutOfRangeNamesTheFlag) {
  absl::StatusOr<absl::Duration> soon =
      ParseDurationFlag("daemon_ready_timeout", "soon");
  ASSERT_FALSE(soon.ok());
  EXPECT_EQ(soon.status().message(),
            "--daemon_ready_timeout=soon: not a duration (examples: 30s, "
            "1m30s, 250ms)");
  for (const char* text : {"inf", "-inf", "99999999999h", "1e13", "1e308"}) {
    absl::StatusOr<absl::Duration> huge =
        ParseDurationFlag("daemon_watchdog", text);
    ASSERT_FALSE(huge.ok()) << text;
    EXPECT_EQ(huge.status().message(),
              std::string("--daemon_watchdog=") + text +
                  ": out of range (over about 292,000 years)");
  }
}

TEST(ReadDurationFlagTest, WritesOnlyAValue) {
  absl::Duration out = absl::Seconds(7);
  EXPECT_TRUE(ReadDurationFlag("d", "1s", &out).ok());
  EXPECT_EQ(out, absl::Seconds(1));
  EXPECT_FALSE(ReadDurationFlag("d", "later", &out).ok());
  EXPECT_EQ(out, absl::Seconds(1));
}

TEST(ParseUmaskFlagTest, OneToFourOctalDigits) {
  EXPECT_EQ(*ParseUmaskFlag("0"), 0u);
  EXPECT_EQ(*ParseUmaskFlag("022"), 022u);
  EXPECT_EQ(*ParseUmaskFlag("0777"), 0777u);
  // Four digits parse; ValidateOptions refuses more than 0777.
  EXPECT_EQ(*ParseUmaskFlag("1000"), 01000u);
  for (const char* text : {"", "8", "abc", "0x1f", "01000x", "99999"}) {
    absl::StatusOr<mode_t> mask = ParseUmaskFlag(text);
    ASSERT_FALSE(mask.ok()) << text;
    EXPECT_EQ(mask.status().message(),
              std::string("--daemon_umask=") + text +
                  ": not an octal mode from 0 to 0777 (example: 022)");
  }
}

TEST(ParseRestartFlagTest, ThreePolicies) {
  EXPECT_EQ(*ParseRestartFlag("no"), RestartPolicy::kNo);
  EXPECT_EQ(*ParseRestartFlag("on-failure"), RestartPolicy::kOnFailure);
  EXPECT_EQ(*ParseRestartFlag("always"), RestartPolicy::kAlways);
  absl::StatusOr<RestartPolicy> bad = ParseRestartFlag("sometimes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--daemon_restart=sometimes: not no, on-failure or always");
  EXPECT_EQ(UsageErrorField(bad.status()), "daemon_restart");
}

TEST(FromUserDirectoryTest, RelativeToWhereBazelRunWasTyped) {
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(FromUserDirectory("x.pid"), "x.pid");
  setenv("BUILD_WORKING_DIRECTORY", "", 1);
  EXPECT_EQ(FromUserDirectory("x.pid"), "x.pid");
  setenv("BUILD_WORKING_DIRECTORY", "/home/me", 1);
  EXPECT_EQ(FromUserDirectory("x.pid"), "/home/me/x.pid");
  EXPECT_EQ(FromUserDirectory("/run/x.pid"), "/run/x.pid");
  EXPECT_EQ(FromUserDirectory(""), "");
  EXPECT_EQ(StreamPath("inherit"), "inherit");
  EXPECT_EQ(StreamPath("out.log"), "/home/me/out.log");
  unsetenv("BUILD_WORKING_DIRECTORY");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
