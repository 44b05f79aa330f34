// Copyright 2026 The daemonkit Authors.

#include "daemon/options.h"

#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "daemon/internal/errors.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace {

TEST(ValidateOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateOptions(Options()).ok());
}

TEST(ValidateOptionsTest, EachBadValueIsAUsageErrorNamingItsField) {
  const struct {
    const char* field;
    void (*spoil)(Options&);
  } cases[] = {
      {"umask", [](Options& o) { o.umask = 01000; }},
      {"ready_timeout",
       [](Options& o) { o.ready_timeout = absl::ZeroDuration(); }},
      {"workdir", [](Options& o) { o.workdir = ""; }},
      {"stdout_path", [](Options& o) { o.stdout_path = ""; }},
      {"stderr_path", [](Options& o) { o.stderr_path = ""; }},
      {"pidfile", [](Options& o) { o.pidfile = "/run/"; }},
      {"keep_env", [](Options& o) { o.keep_env = {{"A=B"}}; }},
      {"restart_delay",
       [](Options& o) { o.restart_delay = -absl::Seconds(1); }},
      {"restart_max_delay",
       [](Options& o) { o.restart_max_delay = absl::Milliseconds(1); }},
      {"restart_reset_after",
       [](Options& o) { o.restart_reset_after = absl::ZeroDuration(); }},
      {"restart_limit", [](Options& o) { o.restart_limit = -1; }},
      {"child_pidfile", [](Options& o) { o.child_pidfile = "/run/w.pid"; }},
      {"stop_timeout", [](Options& o) { o.stop_timeout = -absl::Seconds(1); }},
      {"keep_fds", [](Options& o) { o.keep_fds = {-1}; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.field);
    Options options;
    c.spoil(options);
    absl::Status status = ValidateOptions(options);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_TRUE(IsUsageError(status));
    EXPECT_EQ(UsageErrorField(status), c.field);
    EXPECT_EQ(ExitCodeFor(status), kExitUsage);
  }
}

// ValidateOptions reports the first failure only, so its order is what a
// user with several mistakes sees: spoiling every value from the i-th on
// names the i-th, across the concerns it checks one after another.
TEST(ValidateOptionsTest, TheFirstBadValueInTheCheckOrderIsReported) {
  const struct {
    const char* field;
    void (*spoil)(Options&);
  } in_order[] = {
      {"umask", [](Options& o) { o.umask = 01000; }},
      {"ready_timeout",
       [](Options& o) { o.ready_timeout = absl::ZeroDuration(); }},
      {"workdir", [](Options& o) { o.workdir = ""; }},
      {"stdout_path", [](Options& o) { o.stdout_path = ""; }},
      {"stderr_path", [](Options& o) { o.stderr_path = ""; }},
      {"pidfile", [](Options& o) { o.pidfile = "/run/"; }},
      {"keep_env", [](Options& o) { o.keep_env = {{"A=B"}}; }},
      {"restart_delay",
       [](Options& o) { o.restart_delay = -absl::Seconds(1); }},
      {"restart_max_delay",
       [](Options& o) { o.restart_max_delay = -absl::Seconds(2); }},
      {"restart_reset_after",
       [](Options& o) { o.restart_reset_after = absl::ZeroDuration(); }},
      {"restart_limit", [](Options& o) { o.restart_limit = -1; }},
      {"child_pidfile", [](Options& o) { o.child_pidfile = "/run/w.pid"; }},
      {"stop_timeout", [](Options& o) { o.stop_timeout = -absl::Seconds(1); }},
      {"keep_fds", [](Options& o) { o.keep_fds = {-1}; }},
      {"watchdog", [](Options& o) { o.watchdog = -absl::Seconds(1); }},
  };
  const size_t n = sizeof(in_order) / sizeof(in_order[0]);
  for (size_t first = 0; first < n; ++first) {
    SCOPED_TRACE(in_order[first].field);
    Options options;
    for (size_t i = first; i < n; ++i) in_order[i].spoil(options);
    EXPECT_EQ(UsageErrorField(ValidateOptions(options)), in_order[first].field);
  }
}

// The flag and the Options field judge a variable's name by one rule
// (issue 20: the two copies disagreed on white space and NUL).
TEST(ValidateOptionsTest, KeepEnvNamesFollowTheFlagsRule) {
  for (const std::string& bad :
       {std::string("A=B"), std::string(""), std::string("MY VAR"),
        std::string("TAB\tX"), std::string("N\0UL", 4)}) {
    SCOPED_TRACE(absl::CEscape(bad));
    Options options;
    options.keep_env = {{bad}};
    EXPECT_EQ(UsageErrorField(ValidateOptions(options)), "keep_env");
    // (The flag's list skips an empty word: ",," is no name at all.)
    if (!bad.empty()) {
      EXPECT_FALSE(ParseVariableList("OK," + bad).ok());
    }
  }
  Options options;
  options.keep_env = {{"PATH", "LC_ALL", "my.var-1"}};
  EXPECT_TRUE(ValidateOptions(options).ok());
  absl::StatusOr<std::vector<std::string>> parsed =
      ParseVariableList("PATH, LC_ALL,,my.var-1");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::vector<std::string>{"PATH", "LC_ALL", "my.var-1"}));
}

// Issue 22.16: a zero restart delay is allowed, as runsv's.
TEST(ValidateOptionsTest, AZeroRestartDelayIsAllowed) {
  Options options;
  options.restart = RestartPolicy::kAlways;
  options.restart_delay = absl::ZeroDuration();
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(ValidateOptionsTest, AChildPidFileIsFineUnderSupervision) {
  Options options;
  options.child_pidfile = "/run/w.pid";
  options.restart = RestartPolicy::kOnFailure;
  EXPECT_TRUE(ValidateOptions(options).ok());
}

TEST(ExitCodeForTest, OnlyAUsageErrorIsExitTwo) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), kExitSuccess);
  EXPECT_EQ(ExitCodeFor(UsageError("daemon_umask", "bad")), kExitUsage);
  // A system call's EINVAL, or any kInvalidArgument the request did not
  // cause, is a failed request, not a bad command line.
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("setrlimit: EINVAL")),
            kExitFailure);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("no such user")), kExitFailure);
}

// A system call's EINVAL keeps its code: nothing needs to bend it into
// kInternal to keep it away from exit code 2 any more.
TEST(ExitCodeForTest, ASystemCallsEinvalIsAFailureWithItsOwnCode) {
  absl::Status status = internal::ErrnoError(EINVAL, "setrlimit RLIMIT_NOFILE");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_FALSE(IsUsageError(status));
  EXPECT_EQ(ExitCodeFor(status), kExitFailure);
}

TEST(UsageErrorTest, CarriesItsFieldAndMessage) {
  absl::Status status = UsageError("umask", "umask 512 is above 0777");
  EXPECT_EQ(status.message(), "umask 512 is above 0777");
  EXPECT_EQ(UsageErrorField(status), "umask");
  EXPECT_EQ(UsageErrorField(absl::InvalidArgumentError("x")), "");
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("x")));
}

}  // namespace
}  // namespace daemonkit
