// Copyright 2026 The daemonkit Authors.
//
// The program's process between fork and exec, run for real: the test
// forks, the child calls ExecInChild, and what the program found (its
// signal state, its descriptors) or what the child reported is checked.

#include "daemon/internal/program_child.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::HasSubstr;

// Reads `fd` to its end.
std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

// A start of `argv` through ExecInChild: the program's standard output, the
// child's report as ReadChildFailure reads it, and its wait status.
struct Outcome {
  absl::Status started;
  bool failed = false;
  std::string output;
  int wait_status = 0;
};

class ExecInChildTest : public ::testing::Test {
 protected:
  Outcome Run(std::vector<std::string> args,
              const std::vector<ActivatedSocket>& sockets = {},
              int cgroup_procs = -1) {
    Outcome outcome;
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int output[2];
    int report[2];
    EXPECT_EQ(pipe2(output, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(report, O_CLOEXEC), 0);
    ChildSetup setup;
    setup.argv = argv.data();
    setup.envp = environ;
    setup.ready = &ready_;
    setup.sockets = &sockets;
    setup.identity = &identity_;
    setup.cgroup_procs = cgroup_procs;
    setup.outputs.stdout_fd = output[1];
    setup.floor = 20;
    setup.report = fcntl(report[1], F_DUPFD_CLOEXEC, setup.floor);
    setup.ready_write = ready_write_;
    setup.monitor = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      // What the program must not inherit: an ignored SIGTERM, a blocked
      // SIGUSR1.
      signal(SIGTERM, SIG_IGN);
      sigset_t usr1;
      sigemptyset(&usr1);
      sigaddset(&usr1, SIGUSR1);
      sigprocmask(SIG_BLOCK, &usr1, nullptr);
      ExecInChild(setup);
    }
    close(output[1]);
    close(report[1]);
    close(setup.report);
    outcome.started = ReadChildFailure(report[0], args[0], identity_,
                                       "/sys/fs/cgroup/x", &outcome.failed);
    close(report[0]);
    outcome.output = ReadAll(output[0]);
    close(output[0]);
    EXPECT_EQ(waitpid(pid, &outcome.wait_status, 0), pid);
    return outcome;
  }

  std::string TempDir() const { return getenv("TEST_TMPDIR"); }

  ReadyMode ready_;
  int ready_write_ = -1;
  ProgramIdentity identity_;
};

TEST_F(ExecInChildTest, TheProgramStartsWithDefaultSignalsAndAnEmptyMask) {
  const Outcome outcome =
      Run({"/bin/sh", "-c", "grep -E '^Sig(Ign|Blk):' /proc/self/status"});
  ASSERT_TRUE(outcome.started.ok()) << outcome.started;
  EXPECT_FALSE(outcome.failed);
  EXPECT_THAT(outcome.output, HasSubstr("SigBlk:\t0000000000000000"));
  // SIGTERM is not ignored any more. (Signals 32 and 33, glibc's own,
  // which its sigaction refuses to touch, keep what the monitor inherited.)
  const size_t at = outcome.output.find("SigIgn:\t");
  ASSERT_NE(at, std::string::npos);
  uint64_t ignored = ~uint64_t{0};
  ASSERT_TRUE(absl::SimpleHexAtoi(outcome.output.substr(at + 8, 16), &ignored));
  EXPECT_EQ(ignored & ((uint64_t{1} << 31) - 1), 0u) << outcome.output;
  EXPECT_TRUE(WIFEXITED(outcome.wait_status) &&
              WEXITSTATUS(outcome.wait_status) == 0);
}

// Sockets land on 3.. (as sd_listen_fds() finds them), the ready pipe on
// --ready=fd:N.
TEST_F(ExecInChildTest, SocketsAndTheReadyPipeLandOnTheirNumbers) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ready_.kind = ReadyMode::Kind::kFd;
  ready_.fd = 7;
  ready_write_ = fcntl(ready[1], F_DUPFD_CLOEXEC, 20);
  const Outcome outcome =
      Run({"/bin/sh", "-c",
           "readlink /proc/self/fd/3; readlink /proc/self/fd/7; echo x >&7"},
          {{"web", pair[0]}});
  ASSERT_TRUE(outcome.started.ok()) << outcome.started;
  EXPECT_THAT(outcome.output, HasSubstr("socket:["));
  EXPECT_THAT(outcome.output, HasSubstr("pipe:["));
  close(ready[1]);
  close(ready_write_);
  char byte = 0;
  EXPECT_EQ(read(ready[0], &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
  close(ready[0]);
  close(pair[0]);
  close(pair[1]);
}

TEST_F(ExecInChildTest, AMissingProgramIsNamed) {
  const Outcome outcome = Run({"/nonexistent/program"});
  EXPECT_TRUE(outcome.failed);
  EXPECT_EQ(outcome.started.message(),
            "/nonexistent/program: No such file or directory");
  EXPECT_TRUE(WIFEXITED(outcome.wait_status) &&
              WEXITSTATUS(outcome.wait_status) == 127);
}

// ENOENT for a file that is there: what is missing is its interpreter.
TEST_F(ExecInChildTest, AMissingInterpreterIsNamedAsSuch) {
  const std::string script = TempDir() + "/script";
  const int fd = open(script.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  ASSERT_GE(fd, 0);
  const std::string text = "#!/nonexistent/interpreter\n";
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  close(fd);
  const Outcome outcome = Run({script});
  EXPECT_TRUE(outcome.failed);
  EXPECT_THAT(std::string(outcome.started.message()),
              HasSubstr("its interpreter (the ELF loader, or the program on "
                        "its #! line) was not found"));
}

TEST_F(ExecInChildTest, ACgroupThatRefusesTheMoveIsNamed) {
  const int read_only = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(read_only, 0);
  const Outcome outcome = Run({"/bin/true"}, {}, read_only);
  close(read_only);
  EXPECT_TRUE(outcome.failed);
  EXPECT_THAT(std::string(outcome.started.message()),
              HasSubstr("move the program into cgroup /sys/fs/cgroup/x"));
}

TEST_F(ExecInChildTest, AMissingChrootIsNamedByItsFlag) {
  identity_.root = TempDir() + "/no-such-root";
  const Outcome outcome = Run({"/bin/true"});
  EXPECT_TRUE(outcome.failed);
  EXPECT_EQ(outcome.started.message(),
            absl::StrCat("--daemon_chroot=", identity_.root,
                         ": chroot: No such file or directory"));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
