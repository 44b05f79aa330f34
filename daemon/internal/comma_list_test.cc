// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/comma_list.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SplitCommaListTest, SplitsAtEachCommaAndStripsEachItem) {
  EXPECT_THAT(SplitCommaList("a,b"), ElementsAre("a", "b"));
  EXPECT_THAT(SplitCommaList(" cap_chown , cap_kill\t"),
              ElementsAre("cap_chown", "cap_kill"));
}

TEST(SplitCommaListTest, SkipsEmptyAndBlankItems) {
  EXPECT_THAT(SplitCommaList(""), IsEmpty());
  EXPECT_THAT(SplitCommaList(",, ,"), IsEmpty());
  EXPECT_THAT(SplitCommaList(",a,,b,"), ElementsAre("a", "b"));
}

TEST(SplitCommaListTest, KeepsOrderAndDuplicates) {
  // Judging duplicates is the caller's (a listen entry named twice is an
  // error with the entry's name in it), so none is dropped here.
  EXPECT_THAT(SplitCommaList("b,a,b"), ElementsAre("b", "a", "b"));
}

TEST(SplitCommaListTest, KeepModeLeavesWhiteSpaceInTheItem) {
  EXPECT_THAT(SplitCommaList(" my flags,b ", ItemSpace::kKeep),
              ElementsAre(" my flags", "b "));
  EXPECT_THAT(SplitCommaList(",a,,", ItemSpace::kKeep), ElementsAre("a"));
  EXPECT_THAT(SplitCommaList(" , ", ItemSpace::kKeep), ElementsAre(" ", " "));
}

TEST(SplitCommaListTest, ItemsAreViewsIntoTheText) {
  const absl::string_view text = "one, two";
  const std::vector<absl::string_view> items = SplitCommaList(text);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].data(), text.data() + 5);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
