// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/socket_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

// What getsockname(2) says of a socket bound to `address`: the kernel's own
// reading of the bytes and the length.
std::string BoundName(const SocketAddress& address) {
  const int fd = socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  if (bind(fd, address.get(), address.length()) != 0) {
    ADD_FAILURE() << "bind: errno " << errno;
    close(fd);
    return "";
  }
  struct sockaddr_un bound = {};
  socklen_t length = sizeof(bound);
  EXPECT_EQ(
      getsockname(fd, reinterpret_cast<struct sockaddr*>(&bound), &length), 0);
  close(fd);
  const size_t name_length = length - offsetof(struct sockaddr_un, sun_path);
  return std::string(bound.sun_path, name_length);
}

TEST(SocketAddressTest, AnAbstractNameHasALeadingNulAndNoTrailingOne) {
  const std::string name = "daemonkit-test-" + std::to_string(getpid());
  absl::StatusOr<SocketAddress> address = SocketAddress::UnixAbstract(name);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->family(), AF_UNIX);
  EXPECT_EQ(address->length(),
            offsetof(struct sockaddr_un, sun_path) + 1 + name.size());
  EXPECT_EQ(BoundName(*address), std::string(1, '\0') + name);
}

TEST(SocketAddressTest, APathIsBoundWhereItSays) {
  // $TEST_TMPDIR is longer than a socket path may be: the path is taken
  // relative to it, as the kernel allows.
  const int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(cwd, 0);
  ASSERT_EQ(chdir(std::getenv("TEST_TMPDIR")), 0);
  const std::string path = "sa-" + std::to_string(getpid()) + ".sock";
  absl::StatusOr<SocketAddress> address = SocketAddress::UnixPath(path);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->length(),
            offsetof(struct sockaddr_un, sun_path) + path.size() + 1);
  const std::string bound = BoundName(*address);
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  unlink(path.c_str());
  EXPECT_EQ(fchdir(cwd), 0);
  close(cwd);
  EXPECT_EQ(bound, path + std::string(1, '\0'));
}

TEST(SocketAddressTest, ANameThatDoesNotFitIsAnErrorNotCutShort) {
  const std::string longest(kMaxUnixPath, 'a');
  EXPECT_TRUE(SocketAddress::UnixAbstract(longest).ok());
  EXPECT_TRUE(SocketAddress::UnixPath("/" + longest.substr(1)).ok());
  const absl::StatusOr<SocketAddress> abstract =
      SocketAddress::UnixAbstract(longest + "b");
  EXPECT_EQ(abstract.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(abstract.status().message().find("too long"), std::string::npos);
  EXPECT_FALSE(SocketAddress::UnixPath("/" + longest).ok());
  EXPECT_FALSE(SocketAddress::UnixPath("").ok());
}

TEST(SocketAddressTest, AListenAddressOfEachFamily) {
  ListenAddress inet;
  inet.family = ListenAddress::Family::kInet;
  inet.host = "127.0.0.1";
  inet.port = 8080;
  absl::StatusOr<SocketAddress> address = SocketAddress::Of(inet);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->family(), AF_INET);
  ASSERT_EQ(address->length(), sizeof(struct sockaddr_in));
  const auto* in = reinterpret_cast<const struct sockaddr_in*>(address->get());
  EXPECT_EQ(ntohs(in->sin_port), 8080);
  EXPECT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);

  ListenAddress inet6;
  inet6.family = ListenAddress::Family::kInet6;
  inet6.host = "::1";
  inet6.port = 443;
  address = SocketAddress::Of(inet6);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->family(), AF_INET6);
  ASSERT_EQ(address->length(), sizeof(struct sockaddr_in6));
  const auto* in6 =
      reinterpret_cast<const struct sockaddr_in6*>(address->get());
  EXPECT_EQ(ntohs(in6->sin6_port), 443);
  EXPECT_TRUE(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));

  ListenAddress unix_name;
  unix_name.family = ListenAddress::Family::kUnix;
  unix_name.path = "name";
  unix_name.abstract = true;
  address = SocketAddress::Of(unix_name);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->length(), offsetof(struct sockaddr_un, sun_path) + 5);
}

TEST(SocketAddressTest, AHostThatIsNoAddressOfItsFamilyIsAnError) {
  ListenAddress address;
  address.family = ListenAddress::Family::kInet;
  address.host = "::1";  // an IPv6 address given as IPv4
  EXPECT_EQ(SocketAddress::Of(address).status().code(),
            absl::StatusCode::kInvalidArgument);
  address.family = ListenAddress::Family::kInet6;
  address.host = "localhost";  // names are never resolved
  EXPECT_FALSE(SocketAddress::Of(address).ok());
}

TEST(ThroughDirectoryTest, NamesTheFileThroughTheDescriptorOrNothing) {
  EXPECT_EQ(ThroughDirectory(7, "web.sock"), "/proc/self/fd/7/web.sock");
  EXPECT_EQ(ThroughDirectory(7, std::string(100, 'x')), "");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
