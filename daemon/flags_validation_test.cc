// Copyright 2026 The daemonkit Authors.
//
// The flags layer translates text; ValidateOptions judges. These tests pin
// the seam: the core's verdict comes back in the command line's words, as a
// usage error, and a rule applies only where the core says it does.

#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "daemon/flags.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace {

using ::testing::HasSubstr;

class FlagsValidationTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;
};

TEST_F(FlagsValidationTest, TheCoresVerdictNamesTheFlagAndItsText) {
  absl::SetFlag(&FLAGS_daemon_restart, FlagText("always"));
  absl::SetFlag(&FLAGS_daemon_restart_max_delay, FlagText("1ms"));
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_FALSE(request.ok());
  EXPECT_TRUE(IsUsageError(request.status()));
  EXPECT_EQ(UsageErrorField(request.status()), "daemon_restart_max_delay");
  EXPECT_EQ(request.status().message(),
            "--daemon_restart_max_delay=1ms: restart max delay is below "
            "--daemon_restart_delay");
  EXPECT_EQ(ExitCodeFor(request.status()), kExitUsage);
}

TEST_F(FlagsValidationTest, TextThatDoesNotParseIsAUsageErrorOfTheFlag) {
  absl::SetFlag(&FLAGS_daemon_restart_limit, FlagText("many"));
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(UsageErrorField(request.status()), "daemon_restart_limit");
  EXPECT_EQ(ExitCodeFor(request.status()), kExitUsage);
}

TEST_F(FlagsValidationTest, AChildPidFileNeedsSupervisionOnlyToStart) {
  absl::SetFlag(&FLAGS_daemon_pidfile, FlagText("/run/x.pid"));
  absl::SetFlag(&FLAGS_daemon_child_pidfile, FlagText("/run/w.pid"));
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_FALSE(request.ok());
  EXPECT_THAT(request.status().message(), HasSubstr("needs --daemon_restart"));

  // `status` only reads the worker's pid file.
  absl::SetFlag(&FLAGS_daemon_control, FlagText("status"));
  request = RequestFromFlags();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->options.child_pidfile, "/run/w.pid");
}

TEST_F(FlagsValidationTest, TheStopTimeoutHasOneHome) {
  absl::SetFlag(&FLAGS_daemon_stop_timeout, FlagText("3s"));
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->options.stop_timeout, absl::Seconds(3));
  EXPECT_EQ(request->stop_timeout, request->options.stop_timeout);
}

}  // namespace
}  // namespace daemonkit
