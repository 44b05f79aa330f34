// Copyright 2026 The daemonkit Authors.
//
// Each readiness mode against a real program (/bin/sh) started by
// Program::Start: the program's own word (a newline on its descriptor,
// READY=1 on its $NOTIFY_SOCKET) and the monitor's probes (a connection, a
// command that exits 0).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/internal/program.h"
#include "daemon/internal/socket_address.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// How long a test waits for what must happen (a bound, not a measure).
constexpr absl::Duration kPatience = absl::Seconds(30);

std::unique_ptr<Program> StartShell(const std::string& script,
                                    const ReadyMode& ready) {
  absl::StatusOr<std::unique_ptr<Program>> program =
      Program::Start({"/bin/sh", "-c", script}, ready, {});
  EXPECT_TRUE(program.ok()) << program.status();
  return program.ok() ? std::move(*program) : nullptr;
}

void KillAndReap(Program& program) {
  program.Kill();
  int status = 0;
  EXPECT_EQ(waitpid(program.pid(), &status, 0), program.pid());
}

// Waits until `fd` is readable.
bool Readable(int fd) {
  struct pollfd pfd = {fd, POLLIN, 0};
  return poll(&pfd, 1,
              static_cast<int>(absl::ToInt64Milliseconds(kPatience))) == 1;
}

TEST(ProgramReadinessTest, ANewlineOnItsDescriptorIsReady) {
  ReadyMode ready;
  ready.kind = ReadyMode::Kind::kFd;
  ready.fd = 5;
  std::unique_ptr<Program> program =
      StartShell("printf 'ready\\n' >&5; exec sleep 600", ready);
  ASSERT_NE(program, nullptr);
  ASSERT_TRUE(Readable(program->ready_fd()));
  const ReadinessInput input = program->ReadReadiness();
  EXPECT_TRUE(input.ready);
  EXPECT_FALSE(input.closed);
  EXPECT_EQ(program->ready_fd(), -1) << "the pipe is done with";
  KillAndReap(*program);
}

TEST(ProgramReadinessTest, ClosingTheDescriptorFirstIsNotReady) {
  ReadyMode ready;
  ready.kind = ReadyMode::Kind::kFd;
  ready.fd = 5;
  std::unique_ptr<Program> program =
      StartShell("exec 5>&-; exec sleep 600", ready);
  ASSERT_NE(program, nullptr);
  ASSERT_TRUE(Readable(program->ready_fd()));
  const ReadinessInput input = program->ReadReadiness();
  EXPECT_FALSE(input.ready);
  EXPECT_TRUE(input.closed);
  KillAndReap(*program);
}

// The program's NOTIFY_SOCKET, from its own environment: READY=1 says
// ready; STATUS= goes on to an outer manager, MAINPID= (the service's, the
// monitor's) does not.
TEST(ProgramReadinessTest, ReadyOnItsNotifySocketAndWhatIsRelayed) {
  ReadyMode ready;
  ready.kind = ReadyMode::Kind::kNotify;
  std::unique_ptr<Program> program = StartShell("exec sleep 600", ready);
  ASSERT_NE(program, nullptr);
  std::string name;
  absl::StatusOr<std::string> environ =
      ReadProcFile(absl::StrCat("/proc/", program->pid(), "/environ"));
  // Empty, or unreadable, while an exec is under way.
  for (int i = 0;
       i < 30000 &&
       !(environ.ok() && absl::StrContains(*environ, "NOTIFY_SOCKET=@"));
       ++i) {
    absl::SleepFor(absl::Milliseconds(1));
    environ = ReadProcFile(absl::StrCat("/proc/", program->pid(), "/environ"));
  }
  ASSERT_TRUE(environ.ok()) << environ.status();
  for (absl::string_view entry : absl::StrSplit(*environ, '\0')) {
    if (absl::ConsumePrefix(&entry, "NOTIFY_SOCKET=@")) {
      name = std::string(entry);
    }
  }
  ASSERT_FALSE(name.empty()) << *environ;
  const absl::StatusOr<SocketAddress> address =
      SocketAddress::UnixAbstract(name);
  ASSERT_TRUE(address.ok());
  const int sender = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sender, 0);
  const std::string message = "STATUS=serving\nMAINPID=1\nREADY=1\n";
  ASSERT_EQ(sendto(sender, message.data(), message.size(), 0, address->get(),
                   address->length()),
            static_cast<ssize_t>(message.size()));
  close(sender);
  ASSERT_TRUE(Readable(program->ready_fd()));
  const ReadinessInput input = program->ReadReadiness();
  EXPECT_TRUE(input.ready);
  EXPECT_EQ(input.relay, "STATUS=serving");
  KillAndReap(*program);
}

TEST(ProgramReadinessTest, AConnectionProbeIsReadyOnceSomethingListens) {
  const std::string name = absl::StrCat("daemonkit-test-ready-", getpid());
  absl::StatusOr<ReadyMode> ready =
      ParseReadyMode(absl::StrCat("connect:unix:@", name));
  ASSERT_TRUE(ready.ok()) << ready.status();
  std::unique_ptr<Program> program = StartShell("exec sleep 600", *ready);
  ASSERT_NE(program, nullptr);
  EXPECT_TRUE(program->polled());
  EXPECT_FALSE(program->PollReady()) << "nothing listens yet";
  const absl::StatusOr<SocketAddress> address =
      SocketAddress::UnixAbstract(name);
  ASSERT_TRUE(address.ok());
  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(bind(listener, address->get(), address->length()), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  EXPECT_TRUE(program->PollReady());
  close(listener);
  KillAndReap(*program);
}

// The command runs again until it exits 0.
TEST(ProgramReadinessTest, ACommandProbeIsReadyOnceItExitsZero) {
  const std::string flag = absl::StrCat(getenv("TEST_TMPDIR"), "/up");
  absl::StatusOr<ReadyMode> ready =
      ParseReadyMode("command", absl::StrCat("test -e ", flag));
  ASSERT_TRUE(ready.ok());
  std::unique_ptr<Program> program = StartShell("exec sleep 600", *ready);
  ASSERT_NE(program, nullptr);
  // The first run fails (no file yet); then the file appears.
  bool ready_seen = false;
  const absl::Time give_up = absl::Now() + kPatience;
  while (!ready_seen && absl::Now() < give_up && program->command_pid() <= 0) {
    ready_seen = program->PollReady();
    absl::SleepFor(absl::Milliseconds(1));
  }
  while (!ready_seen && absl::Now() < give_up && program->command_pid() > 0) {
    ready_seen = program->PollReady();
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_FALSE(ready_seen) << "ready before the file existed";
  const int fd = open(flag.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  close(fd);
  while (!ready_seen && absl::Now() < give_up) {
    ready_seen = program->PollReady();
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(ready_seen);
  if (program->command_pid() > 0) waitpid(program->command_pid(), nullptr, 0);
  KillAndReap(*program);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
