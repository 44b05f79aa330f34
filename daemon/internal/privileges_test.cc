// Copyright 2026 The daemonkit Authors.
//
// Resolving and dropping credentials. Resolution runs anywhere; a drop to
// another user needs real root, which the linux-sandbox's user namespace
// (only uid 0 mapped) does not give: the target runs outside the sandbox
// (tag no-sandbox), and those cases skip when they find no real root.

#include "daemon/internal/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// The exit code of a child whose set*id(2) the kernel refused: root in a user
// namespace (the linux-sandbox), not real root.
constexpr int kNotRealRoot = 77;

// kNotRealRoot for a refused syscall ("setgroups: ...", "setuid 65534:
// ..."), `otherwise` for a drop that did not verify: a bug.
int SyscallRefusedOr(const absl::Status& dropped, int otherwise) {
  return absl::StartsWith(dropped.message(), "set") ? kNotRealRoot : otherwise;
}

TEST(ResolveCredentialsTest, NothingAskedIsNothingToDo) {
  absl::StatusOr<std::optional<Credentials>> credentials =
      ResolveCredentials("", "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_FALSE(credentials->has_value());
}

TEST(ResolveCredentialsTest, UnknownNamesAreNotFoundAndNamed) {
  absl::StatusOr<std::optional<Credentials>> credentials =
      ResolveCredentials("no-such-user-daemonkit", "");
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(credentials.status().message(),
              HasSubstr("no-such-user-daemonkit"));
  credentials = ResolveCredentials("", "no-such-group-daemonkit");
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(credentials.status().message(),
              HasSubstr("no-such-group-daemonkit"));
}

// Ourselves, by name: allowed whoever we are, with our primary group among
// the supplementary groups (as initgroups(3) sets them).
TEST(ResolveCredentialsTest, OurOwnUserByName) {
  struct passwd* self = getpwuid(geteuid());
  if (self == nullptr) GTEST_SKIP() << "uid " << geteuid() << " has no name";
  const std::string name = self->pw_name;
  const gid_t primary = self->pw_gid;
  absl::StatusOr<std::optional<Credentials>> credentials =
      ResolveCredentials(name, "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ASSERT_TRUE(credentials->has_value());
  EXPECT_EQ((*credentials)->uid, geteuid());
  EXPECT_EQ((*credentials)->gid, primary);
  EXPECT_THAT((*credentials)->groups, Contains(primary));
  EXPECT_THAT((*credentials)->description, HasSubstr(name));
}

TEST(ResolveCredentialsTest, NumericIdsNeedNoName) {
  if (geteuid() != 0) GTEST_SKIP() << "becoming another uid needs root";
  absl::StatusOr<std::optional<Credentials>> credentials =
      ResolveCredentials("4242424", "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ((*credentials)->uid, 4242424u);
  EXPECT_EQ((*credentials)->gid, 4242424u) << "its group is its own number";
  credentials = ResolveCredentials("4242424", "4343434");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ((*credentials)->gid, 4343434u);
  EXPECT_THAT((*credentials)->groups, ::testing::ElementsAre(4343434u));
}

// In a child: the drop is for good.
TEST(DropPrivilegesTest, ToNobodyCannotComeBack) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  struct passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody";
  absl::StatusOr<std::optional<Credentials>> credentials =
      ResolveCredentials("nobody", "");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  const uid_t nobody_uid = nobody->pw_uid;
  const int code = test_support::ExitCodeInChild([&] {
    const absl::Status dropped = DropPrivileges(**credentials);
    if (!dropped.ok()) return SyscallRefusedOr(dropped, 3);
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != nobody_uid || e != nobody_uid ||
        s != nobody_uid) {
      return 4;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) return 5;
    gid_t groups[64];
    const int count = getgroups(64, groups);
    for (int i = 0; i < count; ++i) {
      if (groups[i] == 0) return 6;  // root's group kept
    }
    return 0;
  });
  if (code == kNotRealRoot) GTEST_SKIP() << "not real root (sandbox)";
  EXPECT_EQ(code, 0);
}

// A drop to who we already are holds everywhere, even in the sandbox.
TEST(DropPrivilegesTest, ToOurselvesHolds) {
  Credentials self;
  self.uid = geteuid();
  self.gid = getegid();
  self.groups = {self.gid};
  const int code = test_support::ExitCodeInChild([&] {
    const absl::Status dropped = DropPrivileges(self);
    if (!dropped.ok()) return SyscallRefusedOr(dropped, 1);
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0) return 2;
    return r == self.uid && e == self.uid && s == self.uid && rg == self.gid &&
                   eg == self.gid && sg == self.gid
               ? 0
               : 3;
  });
  if (code == kNotRealRoot) GTEST_SKIP() << "not real root (sandbox)";
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
