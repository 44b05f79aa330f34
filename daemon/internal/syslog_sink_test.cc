// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/syslog_sink.h"

#include <syslog.h>

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(SyslogPriorityTest, MapsGlogSeverities) {
  EXPECT_EQ(SyslogPriority(google::GLOG_INFO), LOG_INFO);
  EXPECT_EQ(SyslogPriority(google::GLOG_WARNING), LOG_WARNING);
  EXPECT_EQ(SyslogPriority(google::GLOG_ERROR), LOG_ERR);
  EXPECT_EQ(SyslogPriority(google::GLOG_FATAL), LOG_CRIT);
}

TEST(SyslogSinkTest, ForwardsEachMessageWithItsPriorityAndPlace) {
  std::vector<std::pair<int, std::string>> lines;
  SyslogSink sink([&lines](int priority, absl::string_view line) {
    lines.emplace_back(priority, std::string(line));
  });
  google::AddLogSink(&sink);
  LOG(WARNING) << "disk almost full";
  LOG(ERROR) << "cannot write";
  google::RemoveLogSink(&sink);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].first, LOG_WARNING);
  EXPECT_THAT(lines[0].second, StartsWith("syslog_sink_test.cc:"));
  EXPECT_THAT(lines[0].second, EndsWith("] disk almost full"));
  EXPECT_EQ(lines[1].first, LOG_ERR);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
