// Copyright 2026 The daemonkit Authors.
//
// UpgradeRequest against a real stand-in daemon: a forked child that waits
// for SIGUSR2, takes the token from the signal and connects as a daemon
// does (upgrade.h ConnectUpgradeChannel), then answers or does not. Each
// test forks one stand-in (and at most one process of its own), and kills
// and reaps it at the end.

#include "daemon/internal/upgrade_request.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/upgrade.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

// A pid file stand-in: the channel is named after its device and inode.
struct PidFileName {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
};

PidFileName MakePidFile(const std::string& name) {
  PidFileName file;
  file.path = test_support::MakeTempDir(name) + "/" + name + ".pid";
  const UniqueFd fd(
      open(file.path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  struct stat st;
  if (fd.valid() && fstat(fd.get(), &st) == 0) {
    file.dev = st.st_dev;
    file.ino = st.st_ino;
  }
  return file;
}

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// Waits for the next SIGUSR2 (blocked since the fork); its token.
uint64_t AwaitRequest() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  siginfo_t info;
  while (sigwaitinfo(&set, &info) < 0 && errno == EINTR) {
  }
  uint64_t token = 0;
  std::memcpy(&token, &info.si_value, sizeof(token));
  return token;
}

// The forked stand-in daemon: runs `body` with SIGUSR2 blocked, then
// exits. Killed and reaped when the test is done with it.
class StandIn {
 public:
  explicit StandIn(const std::function<void()>& body) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_ = fork();
    if (pid_ == 0) {
      body();
      _exit(0);
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (pid_ > 0) pidfd_.reset(PidfdOpen(pid_));
  }
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;
  ~StandIn() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

// A stand-in that connects on the request and writes `pieces` one by one,
// then holds the connection until killed.
std::function<void()> Answering(const PidFileName& file,
                                const std::vector<std::string>& pieces) {
  return [file, pieces] {
    const UniqueFd channel(
        ConnectUpgradeChannel(file.dev, file.ino, AwaitRequest()));
    if (!channel.valid()) _exit(3);
    for (const std::string& piece : pieces) {
      WriteAll(channel.get(), piece);
      absl::SleepFor(absl::Milliseconds(50));
    }
    pause();
  };
}

// Runs a request to `stand_in` through to its answer.
absl::StatusOr<pid_t> Ask(const PidFileName& file, const StandIn& stand_in,
                          absl::Duration patience) {
  absl::StatusOr<UpgradeRequest> request = UpgradeRequest::ListenAndSignal(
      file.path, stand_in.pidfd(), stand_in.pid(), patience);
  if (!request.ok()) return request.status();
  absl::StatusOr<UniqueFd> channel = request->AwaitDaemonConnection();
  if (!channel.ok()) return channel.status();
  return request->ReadAnswer(channel->get());
}

TEST(UpgradeRequestTest, ReadsTheNewPidFromTheDaemonsAnswer) {
  const PidFileName file = MakePidFile("answer");
  ASSERT_NE(file.ino, 0u);
  const StandIn daemon(Answering(file, {"OK 4242\n"}));
  ASSERT_GT(daemon.pid(), 0);
  ASSERT_GE(daemon.pidfd(), 0);
  const absl::Time before = MonotonicNow();
  absl::StatusOr<UpgradeRequest> request = UpgradeRequest::ListenAndSignal(
      file.path, daemon.pidfd(), daemon.pid(), absl::Seconds(30));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_GE(request->asked_at(), before);
  EXPECT_LE(request->asked_at(), MonotonicNow());
  absl::StatusOr<UniqueFd> channel = request->AwaitDaemonConnection();
  ASSERT_TRUE(channel.ok()) << channel.status();
  const absl::StatusOr<pid_t> new_pid = request->ReadAnswer(channel->get());
  ASSERT_TRUE(new_pid.ok()) << new_pid.status();
  EXPECT_EQ(*new_pid, 4242);
}

// The line may come in several reads; only the first line counts.
TEST(UpgradeRequestTest, AnAnswerInPiecesIsOneLine) {
  const PidFileName file = MakePidFile("pieces");
  const StandIn daemon(Answering(file, {"OK 4", "24", "2\nOK 7\n"}));
  const absl::StatusOr<pid_t> new_pid = Ask(file, daemon, absl::Seconds(30));
  ASSERT_TRUE(new_pid.ok()) << new_pid.status();
  EXPECT_EQ(*new_pid, 4242);
}

TEST(UpgradeRequestTest, TheDaemonsErrorIsAFailedPreconditionWithItsText) {
  const PidFileName file = MakePidFile("error");
  const StandIn daemon(Answering(file, {"ERR the new daemon exited\n"}));
  const absl::StatusOr<pid_t> new_pid = Ask(file, daemon, absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(new_pid.status())) << new_pid.status();
  EXPECT_EQ(new_pid.status().message(), "the new daemon exited");
}

// Closed without a line, or with one that is neither OK nor ERR: the
// upgrade's outcome is unknown.
TEST(UpgradeRequestTest, AChannelClosedWithoutAnAnswerIsUnknown) {
  for (const char* said : {"", "OK\n", "OK many\n", "HELLO 12\n"}) {
    SCOPED_TRACE(said);
    const PidFileName file = MakePidFile("closed");
    const StandIn daemon([&file, said] {
      const UniqueFd channel(
          ConnectUpgradeChannel(file.dev, file.ino, AwaitRequest()));
      if (!channel.valid()) _exit(3);
      WriteAll(channel.get(), said);
      _exit(0);
    });
    const absl::StatusOr<pid_t> new_pid = Ask(file, daemon, absl::Seconds(30));
    EXPECT_TRUE(absl::IsUnknown(new_pid.status())) << new_pid.status();
    EXPECT_TRUE(absl::StrContains(
        new_pid.status().message(),
        absl::StrCat("the old daemon (pid ", daemon.pid(),
                     ") closed the upgrade channel without an answer")))
        << new_pid.status();
  }
}

// Attack 3: a daemon that took the request and stays silent may still
// complete the upgrade.
TEST(UpgradeRequestTest, NoAnswerWithinThePatienceIsUnknown) {
  const PidFileName file = MakePidFile("silent");
  const StandIn daemon(Answering(file, {}));
  const absl::Time start = absl::Now();
  const absl::StatusOr<pid_t> new_pid =
      Ask(file, daemon, absl::Milliseconds(600));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(550));
  EXPECT_TRUE(absl::IsUnknown(new_pid.status())) << new_pid.status();
  EXPECT_EQ(new_pid.status().message(),
            absl::StrCat("no answer from the old daemon (pid ", daemon.pid(),
                         ") within 600ms; the upgrade may still complete: "
                         "check status"));
}

// Anybody may connect to the bound name: only the signalled process's
// connection is the answer channel. Here the stand-in's own child connects
// first and says "OK 1"; it is closed, and the stand-in's answer counts.
TEST(UpgradeRequestTest, AnotherProcesssConnectionIsIgnored) {
  const PidFileName file = MakePidFile("stranger");
  const StandIn daemon([&file] {
    const uint64_t token = AwaitRequest();
    const pid_t stranger = fork();
    if (stranger == 0) {
      const UniqueFd channel(ConnectUpgradeChannel(file.dev, file.ino, token));
      if (!channel.valid()) _exit(3);
      // The request may have closed the connection already: no SIGPIPE.
      const char kFalseAnswer[] = "OK 1\n";
      (void)send(channel.get(), kFalseAnswer, sizeof(kFalseAnswer) - 1,
                 MSG_NOSIGNAL);
      _exit(0);
    }
    int status = 0;
    while (waitpid(stranger, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) _exit(4);
    const UniqueFd channel(ConnectUpgradeChannel(file.dev, file.ino, token));
    if (!channel.valid()) _exit(3);
    WriteAll(channel.get(), "OK 4242\n");
    pause();
  });
  const absl::StatusOr<pid_t> new_pid = Ask(file, daemon, absl::Seconds(30));
  ASSERT_TRUE(new_pid.ok()) << new_pid.status();
  EXPECT_EQ(*new_pid, 4242);
}

// The kernel keeps one pending SIGUSR2: the request sends it again each
// second until the daemon connects, and gives up after its patience.
TEST(UpgradeRequestTest, ASilentDaemonIsSignalledAgainUntilThePatienceEnds) {
  const PidFileName file = MakePidFile("resend");
  int counts[2];
  ASSERT_EQ(pipe2(counts, O_CLOEXEC), 0);
  UniqueFd count_read(counts[0]);
  UniqueFd count_write(counts[1]);
  const StandIn daemon([&count_write] {
    for (;;) {
      AwaitRequest();
      WriteAll(count_write.get(), "s");
    }
  });
  count_write.reset();
  absl::StatusOr<UpgradeRequest> request = UpgradeRequest::ListenAndSignal(
      file.path, daemon.pidfd(), daemon.pid(), absl::Milliseconds(2500));
  ASSERT_TRUE(request.ok()) << request.status();
  const absl::StatusOr<UniqueFd> channel = request->AwaitDaemonConnection();
  EXPECT_TRUE(absl::IsDeadlineExceeded(channel.status())) << channel.status();
  EXPECT_EQ(channel.status().message(),
            absl::StrCat("the daemon (pid ", daemon.pid(),
                         ") did not answer the upgrade request within 2.5s: "
                         "it may be frozen or busy, or its main loop does "
                         "not call WaitUntil"));
  // The first signal and one a second after it, at least (the one at 2 s
  // may be sent just as the patience ends).
  char seen[16];
  ASSERT_TRUE(WaitReadable(count_read.get(), Deadline::In(absl::Seconds(5))));
  absl::SleepFor(absl::Milliseconds(100));
  const ssize_t n = read(count_read.get(), seen, sizeof(seen));
  EXPECT_GE(n, 2);
}

TEST(UpgradeRequestTest, ADaemonThatEndsBeforeConnectingIsUnknown) {
  const PidFileName file = MakePidFile("ends");
  const StandIn daemon([] {
    AwaitRequest();
    _exit(0);
  });
  const absl::StatusOr<pid_t> new_pid = Ask(file, daemon, absl::Seconds(30));
  EXPECT_TRUE(absl::IsUnknown(new_pid.status())) << new_pid.status();
  EXPECT_EQ(new_pid.status().message(),
            absl::StrCat("the daemon (pid ", daemon.pid(),
                         ") ended before it answered the upgrade request; "
                         "check status"));
}

TEST(UpgradeRequestTest, ATargetAlreadyGoneIsNotRunning) {
  const PidFileName file = MakePidFile("gone");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  const UniqueFd pidfd(PidfdOpen(child));
  ASSERT_TRUE(pidfd.valid());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const absl::StatusOr<UpgradeRequest> request =
      UpgradeRequest::ListenAndSignal(file.path, pidfd.get(), child,
                                      absl::Seconds(1));
  EXPECT_TRUE(absl::IsNotFound(request.status())) << request.status();
  EXPECT_EQ(request.status().message(), "not running");
}

TEST(UpgradeRequestTest, AMissingPidFileIsReportedByName) {
  const std::string missing =
      test_support::MakeTempDir("missing") + "/missing.pid";
  const UniqueFd self(PidfdOpen(getpid()));
  ASSERT_TRUE(self.valid());
  const absl::StatusOr<UpgradeRequest> request =
      UpgradeRequest::ListenAndSignal(missing, self.get(), getpid(),
                                      absl::Seconds(1));
  EXPECT_TRUE(absl::IsNotFound(request.status())) << request.status();
  EXPECT_TRUE(absl::StartsWith(request.status().message(),
                               absl::StrCat("stat ", missing, ": ")))
      << request.status();
}

// A pidfd polls readable once its process ends; the wait gives up at the
// deadline, and at once when it has already passed.
TEST(WaitReadableTest, SeesAnExitAndKeepsItsDeadline) {
  const StandIn sleeper([] { pause(); });
  EXPECT_FALSE(
      WaitReadable(sleeper.pidfd(), Deadline::In(absl::ZeroDuration())));
  const absl::Time start = absl::Now();
  EXPECT_FALSE(
      WaitReadable(sleeper.pidfd(), Deadline::In(absl::Milliseconds(100))));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(90));
  kill(sleeper.pid(), SIGKILL);
  EXPECT_TRUE(WaitReadable(sleeper.pidfd(), Deadline::In(absl::Seconds(30))));
  // Readable, but the deadline has passed: not even a poll.
  EXPECT_FALSE(
      WaitReadable(sleeper.pidfd(), Deadline::In(absl::ZeroDuration())));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
