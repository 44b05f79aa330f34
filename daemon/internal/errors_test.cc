// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/errors.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(ErrnoErrorTest, MessageNamesWhatFailedAndTheErrnoText) {
  const absl::Status status = ErrnoError(ENOENT, "open /run/x.pid");
  EXPECT_EQ(status.message(),
            absl::StrCat("open /run/x.pid: ", std::strerror(ENOENT)));
}

// The code is what the caller acts on: the launcher's exit code follows it
// (kInvalidArgument alone means a malformed command line, exit 2).
// The code is errno's own (absl::ErrnoToStatus); whether an error is the
// user's command line is not a status code but a mark the flags layer sets
// (daemonkit::UsageError, tested in //daemon:options_test).
TEST(ErrnoErrorTest, CodeFollowsErrno) {
  EXPECT_EQ(ErrnoError(ENOENT, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoError(EACCES, "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError(EPERM, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError(ELOOP, "x").code(),
            absl::StatusCode::kFailedPrecondition)
      << "O_NOFOLLOW's answer for a symlink is a state to fix";
  EXPECT_EQ(ErrnoError(EINVAL, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ErrnoError(EEXIST, "x").code(), absl::StatusCode::kOk);
  EXPECT_NE(ErrnoError(EIO, "x").code(), absl::StatusCode::kInvalidArgument);
}

absl::Status PassThrough(const absl::Status& status, bool* reached_end) {
  DAEMONKIT_RETURN_IF_ERROR(status);
  *reached_end = true;
  return absl::OkStatus();
}

TEST(ReturnIfErrorTest, ReturnsTheErrorAndGoesOnWhenOk) {
  bool reached_end = false;
  EXPECT_EQ(PassThrough(absl::NotFoundError("gone"), &reached_end),
            absl::NotFoundError("gone"));
  EXPECT_FALSE(reached_end);
  EXPECT_TRUE(PassThrough(absl::OkStatus(), &reached_end).ok());
  EXPECT_TRUE(reached_end);
}

absl::StatusOr<std::string> Twice(absl::StatusOr<std::string> input) {
  DAEMONKIT_ASSIGN_OR_RETURN(std::string value, std::move(input));
  DAEMONKIT_ASSIGN_OR_RETURN(value, absl::StatusOr<std::string>(value + value));
  return value;
}

TEST(AssignOrReturnTest, DeclaresOrAssignsAndReturnsTheError) {
  EXPECT_EQ(Twice(std::string("ab")).value(), "abab");
  EXPECT_EQ(Twice(absl::PermissionDeniedError("no")).status(),
            absl::PermissionDeniedError("no"));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
