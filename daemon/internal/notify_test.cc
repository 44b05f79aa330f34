// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(ParseNotifySocketTest, AcceptsPathsAndAbstractNames) {
  absl::StatusOr<NotifyAddress> path = ParseNotifySocket("/run/systemd/notify");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_STREQ(path->address.sun_path, "/run/systemd/notify");
  EXPECT_EQ(path->length, offsetof(struct sockaddr_un, sun_path) + 20);

  absl::StatusOr<NotifyAddress> abstract = ParseNotifySocket("@dk/notify");
  ASSERT_TRUE(abstract.ok()) << abstract.status();
  EXPECT_EQ(abstract->address.sun_path[0], '\0');
  EXPECT_EQ(std::string(abstract->address.sun_path + 1, 9), "dk/notify");
  EXPECT_EQ(abstract->length, offsetof(struct sockaddr_un, sun_path) + 10);
}

TEST(IsOtherAddressFamilyTest, TellsAFamilyPrefixFromAPath) {
  EXPECT_TRUE(IsOtherAddressFamily("vsock:2:1234"));
  EXPECT_TRUE(IsOtherAddressFamily("vsock-stream:2:1234"));
  EXPECT_FALSE(IsOtherAddressFamily("/run/a:b"));
  EXPECT_FALSE(IsOtherAddressFamily("@name:x"));
  EXPECT_FALSE(IsOtherAddressFamily(":x"));
  EXPECT_FALSE(IsOtherAddressFamily("relative/path"));
}

TEST(ParseNotifySocketTest, RejectsWhatIsNoSocketAddress) {
  for (const std::string& bad :
       {std::string(""), std::string("relative/path"), std::string("@"),
        std::string("/"), std::string("/with\0nul", 9),
        "/" + std::string(107, 'x'), "@" + std::string(108, 'x')}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseNotifySocket(bad).status()))
        << bad;
  }
  EXPECT_TRUE(ParseNotifySocket("/" + std::string(106, 'x')).ok());
  EXPECT_TRUE(ParseNotifySocket("@" + std::string(107, 'x')).ok());
}

TEST(WatchdogIntervalTest, HalfTheTimeoutForUsOnly) {
  EXPECT_EQ(WatchdogInterval("30000000", "", 10, 10), absl::Seconds(15));
  EXPECT_EQ(WatchdogInterval("1000000", "10", 10, 9), absl::Milliseconds(500));
  EXPECT_EQ(WatchdogInterval("1000000", "9", 10, 9), absl::Milliseconds(500));
  EXPECT_EQ(WatchdogInterval("1000000", "11", 10, 9), std::nullopt);
  EXPECT_EQ(WatchdogInterval("", "", 10, 10), std::nullopt);
  EXPECT_EQ(WatchdogInterval("0", "", 10, 10), std::nullopt);
  EXPECT_EQ(WatchdogInterval("-5", "", 10, 10), std::nullopt);
  EXPECT_EQ(WatchdogInterval("abc", "", 10, 10), std::nullopt);
  EXPECT_EQ(WatchdogInterval("1000", "x", 10, 10), std::nullopt);
}

TEST(WatchdogIntervalTest, ATinyTimeoutIsClampedInsteadOfBusyLooping) {
  // WATCHDOG_USEC=1 would mean a keep-alive every 0 microseconds.
  EXPECT_EQ(WatchdogInterval("1", "", 10, 10), kMinWatchdogInterval);
  EXPECT_EQ(WatchdogInterval("2000", "", 10, 10), kMinWatchdogInterval);
  EXPECT_GE(kMinWatchdogInterval, absl::Milliseconds(1));
}

TEST(NotifierTest, SendsOneDatagramToTheSocket) {
  test_support::NotifyReceiver receiver;
  setenv("NOTIFY_SOCKET", receiver.address().c_str(), 1);
  absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getpid());
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  EXPECT_TRUE(notifier->enabled());
  ASSERT_TRUE(notifier->Send("READY=1\nSTATUS=up").ok());
  EXPECT_EQ(receiver.Receive(), "READY=1\nSTATUS=up");
}

// Keeps what glog logs at INFO and above, as the daemon's log would.
class CapturedLog : public google::LogSink {
 public:
  CapturedLog() { google::AddLogSink(this); }
  ~CapturedLog() override { google::RemoveLogSink(this); }
  void send(google::LogSeverity severity, const char*, const char*, int,
            const google::LogMessageTime&, const char* message,
            size_t length) override {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.push_back(absl::StrCat(google::GetLogSeverityName(severity), " ",
                                  absl::string_view(message, length)));
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A datagram socket at a path, as start-stop-daemon --notify-await makes.
int BindDatagramSocket(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A notifier as a daemon makes it from NOTIFY_SOCKET=`path`.
absl::StatusOr<Notifier> NotifierFor(const std::string& path) {
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getpid());
  unsetenv("NOTIFY_SOCKET");
  return notifier;
}

std::string ReceiveNow(int fd) {
  char buffer[512];
  const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  return n < 0 ? "" : std::string(buffer, n);
}

// The last of the messages queued on `fd` (all are read), or "".
std::string LastQueued(int fd) {
  std::string last;
  for (std::string message; !(message = ReceiveNow(fd)).empty();) {
    last = message;
  }
  return last;
}

// Issue 22.15: start-stop-daemon --notify-await removes its socket once it
// has READY=1. What comes after (STATUS=, STOPPING=1) finds no socket: that
// ends notification, with one INFO line, no error and no warning per
// message, and nothing more is sent.
TEST(NotifierTest, ASocketGoneAfterReadyEndsNotification) {
  test_support::ShortTempDir dir;
  const std::string path = dir.path() + "/notify";
  const int listener = BindDatagramSocket(path);
  ASSERT_GE(listener, 0) << std::strerror(errno);
  absl::StatusOr<Notifier> notifier = NotifierFor(path);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  CapturedLog log;
  ASSERT_TRUE(notifier->Send("READY=1\nSTATUS=up").ok());
  EXPECT_EQ(ReceiveNow(listener), "READY=1\nSTATUS=up");
  ASSERT_EQ(unlink(path.c_str()), 0);
  for (const char* message : {"STATUS=tick", "WATCHDOG=1", "STOPPING=1"}) {
    absl::Status sent = notifier->Send(message);
    EXPECT_TRUE(sent.ok()) << message << ": " << sent;
  }
  // A socket back at the path hears nothing: notification has ended.
  const int again = BindDatagramSocket(path);
  ASSERT_GE(again, 0) << std::strerror(errno);
  EXPECT_TRUE(notifier->Send("STATUS=late").ok());
  EXPECT_EQ(ReceiveNow(again), "");
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u) << absl::StrJoin(lines, "\n");
  EXPECT_TRUE(absl::StartsWith(lines[0],
                               "INFO NOTIFY_SOCKET is gone after "
                               "READY=1"))
      << lines[0];
  close(again);
  close(listener);
}

// A listener that reads nothing (a hung service manager): once its queue
// is full, a message waits at most kNotifySendTimeout once, then is
// dropped, and nothing waits again until a message goes through (the attack
// of 2026-12-06: a wait per message stalled a supervisor relaying
// keep-alives for good). A keep-alive never waits. One WARNING starts the
// streak, one INFO line with the count ends it; what was queued before is
// intact.
TEST(NotifierTest, AListenerThatReadsNothingCostsOneBoundedWait) {
  test_support::ShortTempDir dir;
  const std::string path = dir.path() + "/notify";
  const int listener = BindDatagramSocket(path);
  ASSERT_GE(listener, 0) << std::strerror(errno);
  absl::StatusOr<Notifier> notifier = NotifierFor(path);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  CapturedLog log;
  // net.unix.max_dgram_qlen is 10 by default; whatever it is here, the
  // queue fills: a keep-alive that finds it full is dropped at once.
  int queued = 0;
  while (queued < 100000 && log.Lines().empty()) {
    ASSERT_TRUE(notifier->Send("WATCHDOG=1").ok());
    ++queued;
  }
  ASSERT_EQ(log.Lines().size(), 1u);
  EXPECT_TRUE(absl::StartsWith(log.Lines()[0],
                               "WARNING sd_notify: NOTIFY_SOCKET's listener "
                               "reads nothing (its queue is full); "
                               "'WATCHDOG=1' dropped"))
      << log.Lines()[0];
  // Dropped without a wait, and without another line: a hundred state
  // messages would otherwise take a hundred seconds.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(notifier->Send("STATUS=busy\nWATCHDOG=1").ok());
  }
  EXPECT_EQ(log.Lines().size(), 1u);
  // The listener reads: the next message goes through and ends the streak.
  EXPECT_EQ(ReceiveNow(listener), "WATCHDOG=1");
  ASSERT_TRUE(notifier->Send("STATUS=again").ok());
  const std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u) << absl::StrJoin(lines, "\n");
  EXPECT_EQ(lines[1],
            "INFO sd_notify: NOTIFY_SOCKET's listener reads again; 101 "
            "messages were dropped");
  const std::string last = LastQueued(listener);
  EXPECT_EQ(last, "STATUS=again");
  close(listener);
}

// A state message (not a keep-alive) that finds the queue full waits up to
// kNotifySendTimeout for room before it is dropped: a live manager busy
// for a moment still gets it.
TEST(NotifierTest, AStateMessageWaitsForRoomOnce) {
  test_support::ShortTempDir dir;
  const std::string path = dir.path() + "/notify";
  const int listener = BindDatagramSocket(path);
  ASSERT_GE(listener, 0) << std::strerror(errno);
  absl::StatusOr<Notifier> notifier = NotifierFor(path);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  // Fill the queue from a socket of the test's own, so the notifier has
  // dropped nothing yet.
  const int filler = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(filler, 0);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  while (sendto(filler, "x", 1, MSG_DONTWAIT,
                reinterpret_cast<struct sockaddr*>(&address),
                sizeof(address)) == 1) {
  }
  // The listener makes room once the send waits for it (the sending
  // thread sleeps in unix_wait_for_peer): the waiting message gets in.
  const std::string wchan =
      absl::StrCat("/proc/self/task/", gettid(), "/wchan");
  std::thread reader([listener, &wchan] {
    test_support::WaitFor([&] {
      return test_support::ReadFileOrEmpty(wchan) == "unix_wait_for_peer";
    });
    char byte;
    (void)!recv(listener, &byte, 1, 0);
  });
  CapturedLog log;
  EXPECT_TRUE(notifier->Send("STOPPING=1").ok());
  reader.join();
  EXPECT_TRUE(log.Lines().empty()) << absl::StrJoin(log.Lines(), "\n");
  const std::string last = LastQueued(listener);
  EXPECT_EQ(last, "STOPPING=1");
  close(filler);
  close(listener);
}

// Before READY=1 a missing socket is still an error: the listener never
// heard that the service is up.
TEST(NotifierTest, ASocketGoneBeforeReadyIsAnError) {
  test_support::ShortTempDir dir;
  const std::string path = dir.path() + "/notify";
  absl::StatusOr<Notifier> notifier = NotifierFor(path);
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  absl::Status sent = notifier->Send("STATUS=starting");
  EXPECT_TRUE(absl::IsNotFound(sent)) << sent;
  sent = notifier->Send("READY=1");
  EXPECT_TRUE(absl::IsNotFound(sent)) << sent;
  EXPECT_FALSE(HasReadyLine("READY=10"));
  EXPECT_TRUE(HasReadyLine("STATUS=x\nREADY=1"));
}

TEST(StartupFailureMessageTest, CarriesTheTextAndAnErrno) {
  EXPECT_EQ(StartupFailureMessage(absl::NotFoundError("workdir /x:\nmissing")),
            absl::StrCat("STATUS=workdir /x: missing\nERRNO=", ENOENT));
  EXPECT_EQ(ErrnoForStatus(absl::PermissionDeniedError("")), EACCES);
  EXPECT_EQ(ErrnoForStatus(absl::AlreadyExistsError("")), EEXIST);
  EXPECT_EQ(ErrnoForStatus(absl::InvalidArgumentError("")), EINVAL);
  EXPECT_EQ(ErrnoForStatus(absl::InternalError("")), EIO);
}

TEST(NotifierTest, WithoutNotifySocketEverySendIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getpid());
  ASSERT_TRUE(notifier.ok());
  EXPECT_FALSE(notifier->enabled());
  EXPECT_TRUE(notifier->Send("READY=1").ok());
}

TEST(NotifierTest, AnEmptyNotifySocketIsLikeAnUnsetOne) {
  // libsystemd's sd_notify: an empty NOTIFY_SOCKET means no service manager.
  setenv("NOTIFY_SOCKET", "", 1);
  absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getpid());
  unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(notifier.ok()) << notifier.status();
  EXPECT_FALSE(notifier->enabled());
  EXPECT_TRUE(notifier->Send("READY=1").ok());
}

// Issue 23.10: whoever sets the environment cannot fail every start.
TEST(NotifierTest, MalformedNotifySocketDisablesNotifications) {
  for (const std::string& value :
       {std::string("not/absolute"), std::string("@"),
        "/" + std::string(200, 'x')}) {
    setenv("NOTIFY_SOCKET", value.c_str(), 1);
    absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getpid());
    unsetenv("NOTIFY_SOCKET");
    ASSERT_TRUE(notifier.ok()) << value << ": " << notifier.status();
    EXPECT_FALSE(notifier->enabled()) << value;
    EXPECT_TRUE(notifier->Send("READY=1").ok()) << value;
  }
}

TEST(NotifierTest, AnotherAddressFamilyDisablesNotifications) {
  // systemd 254+ hands virtual machines "vsock:CID:PORT"; an unknown form
  // must not make every start fail.
  for (const char* value : {"vsock:2:1234", "vsock-dgram:2:1234"}) {
    setenv("NOTIFY_SOCKET", value, 1);
    absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getpid());
    unsetenv("NOTIFY_SOCKET");
    ASSERT_TRUE(notifier.ok()) << value << ": " << notifier.status();
    EXPECT_FALSE(notifier->enabled()) << value;
    EXPECT_TRUE(notifier->Send("READY=1").ok()) << value;
  }
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
