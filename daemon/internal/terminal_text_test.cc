// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/terminal_text.h"

#include <string>

#include "gtest/gtest.h"

namespace daemonkit {
namespace internal {
namespace {

TEST(TerminalSafeTest, KeepsPrintableTextAndUtf8) {
  EXPECT_EQ(TerminalSafe("pid file /run/app.pid: already running"),
            "pid file /run/app.pid: already running");
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(TerminalSafeTest, EscapesWhatATerminalWouldObey) {
  // ESC (a colour, a cursor move, a title), a newline that would forge a
  // second line, a carriage return that would overwrite this one, DEL.
  EXPECT_EQ(TerminalSafe("a\x1b[2Jb\nforged\rx\x7f"),
            "a\\x1b[2Jb\\nforged\\rx\\x7f");
  // C1 CSI (U+009B), a right-to-left override (U+202E), a line separator.
  EXPECT_EQ(TerminalSafe("\xc2\x9b"
                         "1m \xe2\x80\xae"
                         "x \xe2\x80\xa8"),
            "\\xc2\\x9b1m \\xe2\\x80\\xaex \\xe2\\x80\\xa8");
  // Bytes that are not UTF-8: each on its own; NUL too.
  EXPECT_EQ(TerminalSafe(std::string("\xff\xc3(\0z", 5)), "\\xff\\xc3(\\x00z");
}

TEST(TerminalSafeTest, BackslashesAsAskedFor) {
  EXPECT_EQ(TerminalSafe("C:\\x1b"), "C:\\x1b");
  EXPECT_EQ(TerminalSafe("C:\\x1b", Backslashes::kDoubled), "C:\\\\x1b");
}

TEST(Utf8SequenceLengthTest, RejectsOverlongSurrogatesAndTooHigh) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9"), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\xaf"), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80"), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82"), 0u);          // cut short
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
