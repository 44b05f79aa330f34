// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

int OpenDevNull() {
  const int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  EXPECT_GE(fd, 0) << "open /dev/null: errno " << errno;
  return fd;
}

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST(UniqueFdTest, OwnsNothingByDefaultOrForANegativeNumber) {
  EXPECT_FALSE(UniqueFd().valid());
  EXPECT_EQ(UniqueFd().get(), -1);
  EXPECT_FALSE(UniqueFd(-1).valid());
  EXPECT_EQ(UniqueFd(-7).get(), -1);
}

TEST(UniqueFdTest, ClosesWhatItOwnsWhenItGoesOutOfScope) {
  int number;
  {
    UniqueFd fd(OpenDevNull());
    number = fd.get();
    ASSERT_TRUE(fd.valid());
    EXPECT_TRUE(IsOpen(number));
  }
  EXPECT_FALSE(IsOpen(number));
}

TEST(UniqueFdTest, AMoveHandsOverTheDescriptorAndClosesItOnce) {
  UniqueFd first(OpenDevNull());
  const int number = first.get();
  UniqueFd second(std::move(first));
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): the promise
  EXPECT_EQ(second.get(), number);
  EXPECT_TRUE(IsOpen(number));

  UniqueFd third;
  third = std::move(second);
  EXPECT_EQ(third.get(), number);
  EXPECT_TRUE(IsOpen(number));
  third.reset();
  EXPECT_FALSE(IsOpen(number));
}

TEST(UniqueFdTest, AMoveAssignmentClosesWhatTheTargetOwned) {
  UniqueFd target(OpenDevNull());
  const int replaced = target.get();
  UniqueFd source(OpenDevNull());
  const int kept = source.get();
  target = std::move(source);
  EXPECT_FALSE(IsOpen(replaced));
  EXPECT_TRUE(IsOpen(kept));
  EXPECT_EQ(target.get(), kept);
}

TEST(UniqueFdTest, AMoveOntoItselfKeepsTheDescriptorOpen) {
  UniqueFd fd(OpenDevNull());
  const int number = fd.get();
  UniqueFd& alias = fd;
  fd = std::move(alias);
  EXPECT_EQ(fd.get(), number);
  EXPECT_TRUE(IsOpen(number));
}

TEST(UniqueFdTest, ReleaseGivesUpOwnershipWithoutClosing) {
  int number;
  {
    UniqueFd fd(OpenDevNull());
    number = fd.release();
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(number));
  close(number);
}

TEST(UniqueFdTest, ResetClosesTheOldDescriptorAndKeepsErrno) {
  UniqueFd fd(OpenDevNull());
  const int old_number = fd.get();
  const int new_number = OpenDevNull();
  errno = ENOSPC;
  fd.reset(new_number);
  EXPECT_EQ(errno, ENOSPC)
      << "a cleanup must not change the errno a caller reports";
  EXPECT_FALSE(IsOpen(old_number));
  EXPECT_TRUE(IsOpen(new_number));
  EXPECT_EQ(fd.get(), new_number);
  // Resetting to the number it owns keeps it open.
  fd.reset(new_number);
  EXPECT_TRUE(IsOpen(new_number));
}

TEST(UniqueFdTest, CloseReportsSuccessAndOwnsNothingAfter) {
  UniqueFd fd(OpenDevNull());
  const int number = fd.get();
  EXPECT_TRUE(fd.Close().ok());
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(IsOpen(number));
  EXPECT_TRUE(fd.Close().ok()) << "nothing owned: nothing to fail";
}

TEST(UniqueFdTest, CloseReportsAFailureOfClose) {
  // A number nobody owns any more: close(2) fails with EBADF, which Close()
  // must report rather than hide.
  const int number = OpenDevNull();
  ASSERT_EQ(close(number), 0);
  UniqueFd fd(number);
  const absl::Status status = fd.Close();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("close"), absl::string_view::npos) << status;
  EXPECT_FALSE(fd.valid());
}

TEST(CloseDescriptorTest, ClosesTheNumberAndKeepsErrno) {
  const int number = OpenDevNull();
  ASSERT_TRUE(IsOpen(number));
  errno = ENOSPC;
  CloseDescriptor(number);
  EXPECT_EQ(errno, ENOSPC) << "a caller on an error path reports its own";
  EXPECT_FALSE(IsOpen(number));
}

TEST(CloseDescriptorTest, IgnoresANegativeOrClosedNumberAndKeepsErrno) {
  errno = EAGAIN;
  CloseDescriptor(-1);
  EXPECT_EQ(errno, EAGAIN);
  const int number = OpenDevNull();
  ASSERT_EQ(close(number), 0);
  errno = EAGAIN;
  CloseDescriptor(number);  // EBADF from close(2) does not leak out
  EXPECT_EQ(errno, EAGAIN);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
