// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/program_ready_mode.h"

#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/options.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

TEST(ParseReadyModeTest, TheWordModes) {
  absl::StatusOr<ReadyMode> mode = ParseReadyMode("started");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->kind, ReadyMode::Kind::kStarted);
  mode = ParseReadyMode("notify");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->kind, ReadyMode::Kind::kNotify);
  mode = ParseReadyMode("command", "test -e /run/app.sock");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->kind, ReadyMode::Kind::kCommand);
  EXPECT_EQ(mode->command, "test -e /run/app.sock");
}

TEST(ParseReadyModeTest, CommandNeedsItsCommand) {
  const absl::StatusOr<ReadyMode> mode = ParseReadyMode("command");
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(UsageErrorField(mode.status()), "ready");
  EXPECT_THAT(std::string(mode.status().message()),
              HasSubstr("needs --ready_command"));
}

TEST(ParseReadyModeTest, FdTakesPlainDecimalFromThreeTo1023) {
  absl::StatusOr<ReadyMode> mode = ParseReadyMode("fd:3");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->kind, ReadyMode::Kind::kFd);
  EXPECT_EQ(mode->fd, 3);
  for (const char* bad : {"fd:2", "fd:03", "fd:+3", "fd:1024", "fd:", "fd:x"}) {
    mode = ParseReadyMode(bad);
    ASSERT_FALSE(mode.ok()) << bad;
    EXPECT_EQ(UsageErrorField(mode.status()), "ready") << bad;
    EXPECT_THAT(std::string(mode.status().message()),
                HasSubstr(absl::StrCat("--ready=", bad,
                                       ": the descriptor must be a number")))
        << bad;
  }
}

TEST(ParseReadyModeTest, ConnectTakesAListenAddress) {
  absl::StatusOr<ReadyMode> mode = ParseReadyMode("connect:tcp:localhost:8080");
  ASSERT_TRUE(mode.ok()) << mode.status();
  EXPECT_EQ(mode->kind, ReadyMode::Kind::kConnect);
  // localhost, the one name every machine has, without a resolver.
  EXPECT_EQ(mode->address.host, "127.0.0.1");
  EXPECT_EQ(mode->address.port, 8080);
  // A relative path is taken from where daemonkit was started (here "/":
  // the sandbox's own directory is too long for a socket's path).
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(chdir("/"), 0);
  mode = ParseReadyMode("connect:unix:app.sock");
  ASSERT_EQ(chdir(cwd), 0);
  ASSERT_TRUE(mode.ok()) << mode.status();
  EXPECT_EQ(mode->address.path, "//app.sock");
  // From the sandbox's directory it is too long, and said so.
  mode = ParseReadyMode("connect:unix:app.sock");
  if (std::string(cwd).size() + 9 > 107) {
    ASSERT_FALSE(mode.ok());
    EXPECT_THAT(std::string(mode.status().message()),
                HasSubstr("the absolute path is too long for a socket"));
  }
  mode = ParseReadyMode("connect:tcp:example.com:80");
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(UsageErrorField(mode.status()), "ready");
  EXPECT_THAT(std::string(mode.status().message()),
              HasSubstr("--ready=connect:tcp:example.com:80: "));
}

TEST(ParseReadyModeTest, AnUnknownModeListsTheModes) {
  const absl::StatusOr<ReadyMode> mode = ParseReadyMode("soon");
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.status().message(),
            "--ready=soon: unknown --ready mode (takes started, notify, fd:N, "
            "connect:tcp:HOST:PORT, connect:unix:PATH or command)");
}

TEST(ParseSignalTest, NamesWithOrWithoutSigAndNumbers) {
  EXPECT_EQ(ParseSignal("stop_signal", "TERM").value_or(0), SIGTERM);
  EXPECT_EQ(ParseSignal("stop_signal", "SIGQUIT").value_or(0), SIGQUIT);
  EXPECT_EQ(ParseSignal("reload_signal", "usr1").value_or(0), SIGUSR1);
  EXPECT_EQ(ParseSignal("stop_signal", "2").value_or(0), SIGINT);
  for (const char* bad : {"0", "65", "BOGUS", ""}) {
    const absl::StatusOr<int> signo = ParseSignal("stop_signal", bad);
    ASSERT_FALSE(signo.ok()) << bad;
    EXPECT_EQ(UsageErrorField(signo.status()), "stop_signal") << bad;
    EXPECT_THAT(
        std::string(signo.status().message()),
        HasSubstr(absl::StrCat("--stop_signal=", bad, ": not a signal")));
  }
}

TEST(CheckReadyFdIsFreeTest, TheSocketsDescriptorsAreTaken) {
  ReadyMode ready;
  ready.kind = ReadyMode::Kind::kFd;
  ready.fd = 4;
  EXPECT_TRUE(CheckReadyFdIsFree(ready, 1).ok());
  const absl::Status taken = CheckReadyFdIsFree(ready, 2);
  EXPECT_EQ(taken.message(),
            "--ready=fd:4: descriptor 4 is a listening socket's (the 2 sockets "
            "of --daemon_listen take 3 to 4); use fd:5 or above");
}

// daemonkit binds --daemon_listen itself, so a connection to it succeeds
// before the program even runs: such a probe would say ready at once.
TEST(CheckReadyIsNotAListenSocketTest, OwnSocketsAndWildcardsAreRefused) {
  const absl::StatusOr<ReadyMode> ready =
      ParseReadyMode("connect:tcp:127.0.0.1:8080");
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(
      CheckReadyIsNotAListenSocket(*ready, {"web=tcp:127.0.0.1:9090"}).ok());
  for (const char* listen :
       {"web=tcp:127.0.0.1:8080", "any=tcp:0.0.0.0:8080"}) {
    const absl::Status refused = CheckReadyIsNotAListenSocket(*ready, {listen});
    EXPECT_EQ(UsageErrorField(refused), "ready") << listen;
    EXPECT_THAT(std::string(refused.message()),
                HasSubstr(absl::StrCat("--daemon_listen=", listen,
                                       " is daemonkit's own socket")));
  }
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
