// Copyright 2026 The daemonkit Authors.

#include "daemon/flags.h"

#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace {

using ::testing::HasSubstr;

class RequestFromFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("BUILD_WORKING_DIRECTORY"); }
  absl::FlagSaver saver_;
};

TEST_F(RequestFromFlagsTest, DefaultsFollowDaemon7) {
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->action, ControlAction::kStart);
  EXPECT_TRUE(request->options.detach);
  EXPECT_EQ(request->options.pidfile, "");
  EXPECT_EQ(request->options.workdir, "/");
  EXPECT_EQ(request->options.umask, 0u);
  EXPECT_EQ(request->options.stdout_path, "/dev/null");
  EXPECT_EQ(request->options.stderr_path, "/dev/null");
  EXPECT_EQ(request->options.ready_timeout, absl::Seconds(30));
  EXPECT_EQ(request->stop_timeout, absl::Seconds(10));
}

TEST_F(RequestFromFlagsTest, ParsesGoodValues) {
  absl::SetFlag(&FLAGS_daemon_umask, FlagText("027"));
  absl::SetFlag(&FLAGS_daemon_ready_timeout, FlagText("1m30s"));
  absl::SetFlag(&FLAGS_daemon_stop_timeout, FlagText("2.5"));
  absl::SetFlag(&FLAGS_daemon_control, FlagText("reload"));
  absl::SetFlag(&FLAGS_daemon_pidfile, FlagText("/run/x.pid"));
  absl::SetFlag(&FLAGS_daemon_stdout, FlagText("inherit"));
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->options.umask, 027u);
  EXPECT_EQ(request->options.ready_timeout, absl::Seconds(90));
  EXPECT_EQ(request->stop_timeout, absl::Milliseconds(2500));
  EXPECT_EQ(request->action, ControlAction::kReload);
  EXPECT_EQ(request->options.stdout_path, "inherit");
}

TEST_F(RequestFromFlagsTest, EveryBadValueIsAnInvalidArgumentNamingTheFlag) {
  const struct {
    absl::Flag<FlagText>* flag;
    std::string value;
    std::string named;
  } cases[] = {
      {&FLAGS_daemon_umask, "999", "--daemon_umask=999"},
      {&FLAGS_daemon_umask, "abc", "--daemon_umask=abc"},
      {&FLAGS_daemon_umask, "", "--daemon_umask="},
      {&FLAGS_daemon_umask, "01000", "--daemon_umask=01000"},
      {&FLAGS_daemon_ready_timeout, "-5s", "--daemon_ready_timeout=-5s"},
      {&FLAGS_daemon_ready_timeout, "0s", "--daemon_ready_timeout=0s"},
      {&FLAGS_daemon_ready_timeout, "inf", "--daemon_ready_timeout=inf"},
      {&FLAGS_daemon_ready_timeout, "1e308", "--daemon_ready_timeout=1e308"},
      {&FLAGS_daemon_umask, "99999999999999999999", "--daemon_umask=9999"},
      {&FLAGS_daemon_ready_timeout, "soon", "--daemon_ready_timeout=soon"},
      {&FLAGS_daemon_stop_timeout, "-1", "--daemon_stop_timeout=-1"},
      // Past int64 microseconds: cut to its largest in silence before.
      {&FLAGS_daemon_stop_timeout, "99999999999h",
       "--daemon_stop_timeout=99999999999h"},
      {&FLAGS_daemon_watchdog, "99999999999h",
       "--daemon_watchdog=99999999999h"},
      {&FLAGS_daemon_watchdog, "1e13", "--daemon_watchdog=1e13"},
      {&FLAGS_daemon_control, "bogus", "--daemon_control=bogus"},
      {&FLAGS_daemon_workdir, "", "--daemon_workdir="},
      {&FLAGS_daemon_stdout, "", "--daemon_stdout="},
      {&FLAGS_daemon_stderr, "", "--daemon_stderr="},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.named);
    absl::FlagSaver case_saver;
    absl::SetFlag(c.flag, FlagText(c.value));
    absl::StatusOr<FlagRequest> request = RequestFromFlags();
    ASSERT_FALSE(request.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(request.status())) << request.status();
    EXPECT_THAT(request.status().message(), HasSubstr(c.named));
    EXPECT_EQ(ExitCodeFor(request.status()), kExitUsage);
  }
}

TEST_F(RequestFromFlagsTest, ControlActionsNeedAPidFile) {
  for (const char* action : {"stop", "restart", "reload", "status"}) {
    absl::FlagSaver case_saver;
    absl::SetFlag(&FLAGS_daemon_control, FlagText(action));
    absl::StatusOr<FlagRequest> request = RequestFromFlags();
    EXPECT_TRUE(absl::IsInvalidArgument(request.status())) << action;
    EXPECT_THAT(request.status().message(), HasSubstr("--daemon_pidfile"));
  }
}

TEST_F(RequestFromFlagsTest, ForegroundAppliesOnlyWhatWasGiven) {
  absl::SetFlag(&FLAGS_daemon, false);
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->options.workdir.has_value());
  EXPECT_FALSE(request->options.umask.has_value());
  EXPECT_FALSE(request->options.stdout_path.has_value());
  EXPECT_FALSE(request->options.stderr_path.has_value());

  // Given explicitly, even with the default's value, it applies.
  absl::SetFlag(&FLAGS_daemon_workdir, FlagText("/"));
  absl::SetFlag(&FLAGS_daemon_umask, FlagText("0"));
  request = RequestFromFlags();
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->options.workdir, "/");
  EXPECT_EQ(request->options.umask, 0u);
}

TEST_F(RequestFromFlagsTest, RelativePathsFollowBazelRunsWorkingDirectory) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me/project", 1);
  absl::SetFlag(&FLAGS_daemon_pidfile, FlagText("run/x.pid"));
  absl::SetFlag(&FLAGS_daemon_stdout, FlagText("x.log"));
  absl::SetFlag(&FLAGS_daemon_stderr, FlagText("/var/log/x.err"));
  absl::StatusOr<FlagRequest> request = RequestFromFlags();
  unsetenv("BUILD_WORKING_DIRECTORY");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->options.pidfile, "/home/me/project/run/x.pid");
  EXPECT_EQ(request->options.stdout_path, "/home/me/project/x.log");
  EXPECT_EQ(request->options.stderr_path, "/var/log/x.err");
}

TEST(FlagTextTest, ParsingNeverFailsAndRemembersItWasGiven) {
  FlagText flag = FlagText::Default("x");
  EXPECT_FALSE(flag.given());
  std::string error;
  EXPECT_TRUE(AbslParseFlag("not-a-number", &flag, &error));
  EXPECT_TRUE(flag.given());
  EXPECT_EQ(AbslUnparseFlag(flag), "not-a-number");
}

}  // namespace
}  // namespace daemonkit
