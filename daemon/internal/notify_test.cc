// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/notify.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
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
