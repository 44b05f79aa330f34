// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/listen_address.h"

#include <string>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using Family = ListenAddress::Family;

TEST(ParseListenEntryTest, TcpV4) {
  absl::StatusOr<ListenEntry> entry =
      ParseListenEntry("echo=tcp:127.0.0.1:7000");
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->name, "echo");
  EXPECT_EQ(entry->address.family, Family::kInet);
  EXPECT_EQ(entry->address.host, "127.0.0.1");
  EXPECT_EQ(entry->address.port, 7000);
  EXPECT_EQ(entry->address.text, "tcp:127.0.0.1:7000");
}

TEST(ParseListenEntryTest, TcpV6InBrackets) {
  absl::StatusOr<ListenEntry> entry = ParseListenEntry("web=tcp:[::1]:80");
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->address.family, Family::kInet6);
  EXPECT_EQ(entry->address.host, "::1");
  EXPECT_EQ(entry->address.port, 80);
}

TEST(ParseListenEntryTest, UnixPathAndAbstract) {
  absl::StatusOr<ListenEntry> file = ParseListenEntry("a=unix:/run/a.sock");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->address.family, Family::kUnix);
  EXPECT_EQ(file->address.path, "/run/a.sock");
  EXPECT_FALSE(file->address.abstract);
  absl::StatusOr<ListenEntry> abstract = ParseListenEntry("b=unix:@b.x");
  ASSERT_TRUE(abstract.ok()) << abstract.status();
  EXPECT_TRUE(abstract->address.abstract);
  EXPECT_EQ(abstract->address.path, "b.x");
}

TEST(ParseListenEntryTest, RejectsMalformed) {
  for (const char* bad : {"",
                          "echo",
                          "=tcp:127.0.0.1:1",
                          "a b=tcp:127.0.0.1:1",
                          "a:b=tcp:127.0.0.1:1",
                          "a=udp:127.0.0.1:1",
                          "a=tcp:127.0.0.1",
                          "a=tcp:127.0.0.1:0",
                          "a=tcp:127.0.0.1:65536",
                          "a=tcp:127.0.0.1:+80",
                          "a=tcp:127.0.0.1: 80",
                          "a=tcp:localhost:80",
                          "a=tcp::80",
                          "a=tcp:::1:80",
                          "a=tcp:[::1:80",
                          "a=tcp:[1.2.3.4]:80",
                          "a=unix:",
                          "a=unix:@",
                          "a=unix:/run/",
                          "a=tcp:1.2.3.4:80x"}) {
    absl::StatusOr<ListenEntry> entry = ParseListenEntry(bad);
    EXPECT_FALSE(entry.ok()) << bad;
    if (!entry.ok()) {
      EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(ParseListenEntry("a=unix:/" + std::string(200, 'x')).ok());
  EXPECT_TRUE(ParseListenEntry("a=unix:/" + std::string(106, 'x')).ok());
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
