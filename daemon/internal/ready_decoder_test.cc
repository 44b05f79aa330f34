// Copyright 2026 The daemonkit Authors.
//
// The one decoder of the ready pipe, as the launcher and the supervisor
// both read it.

#include <optional>
#include <string>

#include "daemon/internal/ready_channel.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

using Kind = ReadyDecoder::Message::Kind;

TEST(ReadyDecoderTest, PidThenReadyInOneRead) {
  ReadyDecoder decoder;
  decoder.Append("P42\nR\n");
  std::optional<ReadyDecoder::Message> message = decoder.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->kind, Kind::kPid);
  EXPECT_EQ(message->pid, 42);
  message = decoder.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->kind, Kind::kReady);
  EXPECT_FALSE(decoder.Next().has_value());
  EXPECT_FALSE(decoder.ErrorAtEnd().has_value());
}

TEST(ReadyDecoderTest, AMessageSplitAcrossReadsCompletesAtItsNewline) {
  ReadyDecoder decoder;
  decoder.Append("P4");
  EXPECT_FALSE(decoder.Next().has_value());
  decoder.Append("2\n");
  std::optional<ReadyDecoder::Message> message = decoder.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->pid, 42);
}

// A worker reports no pid: its supervisor sees "R" first, as the launcher
// sees it after "P".
TEST(ReadyDecoderTest, ReadyWithoutAPid) {
  ReadyDecoder decoder;
  decoder.Append("R\n");
  std::optional<ReadyDecoder::Message> message = decoder.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->kind, Kind::kReady);
}

TEST(ReadyDecoderTest, AnErrorRunsToEndOfFileNewlinesIncluded) {
  ReadyDecoder decoder;
  decoder.Append("P7\nEcannot bind\n");
  ASSERT_TRUE(decoder.Next().has_value());  // the pid
  decoder.Append("port 80\n");
  EXPECT_FALSE(decoder.Next().has_value());
  EXPECT_EQ(decoder.ErrorAtEnd(), "cannot bind\nport 80\n");
}

TEST(ReadyDecoderTest, MalformedLinesAreSkipped) {
  ReadyDecoder decoder;
  decoder.Append("\nPx\nP-3\nP0\nhello\nR\n");
  std::optional<ReadyDecoder::Message> message = decoder.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->kind, Kind::kReady);
}

TEST(ReadyDecoderTest, NothingAtEndOfFileIsNoError) {
  ReadyDecoder decoder;
  EXPECT_FALSE(decoder.ErrorAtEnd().has_value());
  decoder.Append("P9\n");
  ASSERT_TRUE(decoder.Next().has_value());
  EXPECT_FALSE(decoder.ErrorAtEnd().has_value());
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
