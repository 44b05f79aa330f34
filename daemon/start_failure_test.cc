// Copyright 2026 The daemonkit Authors.
//
// ReportStartFailure(), the core's one way to report a start that ends
// before the fork (the flags layer's exit 1 and exit 2 go through it): one
// line on stderr, and the failure over sd_notify when $NOTIFY_SOCKET is set.

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "daemon/daemon.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

// Runs ReportStartFailure(status) in a child whose stderr goes to a file;
// returns what it printed.
std::string ReportInChild(const absl::Status& status) {
  const std::string err =
      test_support::MakeTempDir("start_failure") + "/stderr";
  const int code = test_support::ExitCodeInChild([&] {
    const int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || dup2(fd, 2) != 2) return 100;
    ReportStartFailure(status);
    return 0;
  });
  EXPECT_EQ(code, 0);
  return test_support::ReadFileOrEmpty(err);
}

TEST(StartFailureTest, PrintsOneLineAndTellsSystemdWithAnErrno) {
  test_support::NotifyReceiver receiver;
  ASSERT_EQ(setenv("NOTIFY_SOCKET", receiver.address().c_str(), 1), 0);
  const std::string printed =
      ReportInChild(absl::NotFoundError("workdir /srv/x: No such file"));
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(printed, std::string(program_invocation_short_name) +
                         ": workdir /srv/x: No such file\n");
  EXPECT_EQ(receiver.Receive(), "STATUS=workdir /srv/x: No such file\nERRNO=2");
}

TEST(StartFailureTest, WithoutNotifySocketOnlyPrints) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(
      ReportInChild(UsageError("daemon_umask", "--daemon_umask=9: bad")),
      std::string(program_invocation_short_name) + ": --daemon_umask=9: bad\n");
}

// The message may be the application's own (FailStartup) or hold a path
// another user chose: it stays one line, and no escape sequence reaches
// the terminal (the attack of 2026-12-06 cleared the screen with one).
TEST(StartFailureTest, PrintsWhatATerminalWouldObeyAsEscapes) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(ReportInChild(absl::FailedPreconditionError(
                "cannot load \x1b[2J/etc/app.conf\nforged line\xe2\x80\xae")),
            std::string(program_invocation_short_name) +
                ": cannot load \\x1b[2J/etc/app.conf\\nforged "
                "line\\xe2\\x80\\xae\n");
}

}  // namespace
}  // namespace daemonkit
