// Copyright 2026 The daemonkit Authors.
//
// glog through the journal sink in real forked processes, stderr a file
// that $JOURNAL_STREAM names (as systemd's stream would be) or not.

#include "daemon/internal/journal_sink.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::ExitCodeInChild;
using ::daemonkit::test_support::MakeTempDir;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(JournalSinkTest, ParsesJournalStream) {
  EXPECT_EQ(ParseJournalStream("8:12345"),
            std::make_pair(dev_t{8}, ino_t{12345}));
  EXPECT_EQ(ParseJournalStream("8:"), std::nullopt);
  EXPECT_EQ(ParseJournalStream("8"), std::nullopt);
  EXPECT_EQ(ParseJournalStream("-8:1"), std::nullopt);
  EXPECT_EQ(ParseJournalStream("8:1:2"), std::nullopt);
  EXPECT_EQ(ParseJournalStream(""), std::nullopt);
}

TEST(JournalSinkTest, PrefixesFollowSyslogPriorities) {
  EXPECT_EQ(JournalPrefix(google::GLOG_INFO), "<6>");
  EXPECT_EQ(JournalPrefix(google::GLOG_WARNING), "<4>");
  EXPECT_EQ(JournalPrefix(google::GLOG_ERROR), "<3>");
  EXPECT_EQ(JournalPrefix(google::GLOG_FATAL), "<2>");
}

// In a child: stderr to `path`, $JOURNAL_STREAM set to `journal` (unset
// when empty; "self" names `path`), the sink routed, one line of each
// severity and then, with `fatal`, a FATAL one (the child aborts).
int LogInChild(const std::string& path, const std::string& journal, bool always,
               bool fatal) {
  return ExitCodeInChild([&] {
    const int fd =
        open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, 2) != 2) return 10;
    close(fd);
    struct stat st;
    if (fstat(2, &st) != 0) return 11;
    if (journal == "self") {
      setenv("JOURNAL_STREAM", absl::StrCat(st.st_dev, ":", st.st_ino).c_str(),
             1);
    } else if (!journal.empty()) {
      setenv("JOURNAL_STREAM", journal.c_str(), 1);
    } else {
      unsetenv("JOURNAL_STREAM");
    }
    if (!google::IsGoogleLoggingInitialized()) {
      google::InitGoogleLogging("journal_sink_test");
    }
    FLAGS_logtostderr = true;
    RouteGlogToJournalStderr(always);
    LOG(INFO) << "info line";
    LOG(WARNING) << "warning line\nsecond line";
    LOG(ERROR) << "error line";
    if (fatal) LOG(FATAL) << "fatal line";
    return 0;
  });
}

TEST(JournalSinkTest, PrefixesWhenJournalStreamIsStderr) {
  const std::string path = MakeTempDir("journal") + "/stderr";
  EXPECT_EQ(LogInChild(path, "self", false, false), 0);
  const std::string text = ReadFileOrEmpty(path);
  EXPECT_THAT(text, ContainsRegex("(^|\n)<6>I[0-9].*info line\n"));
  EXPECT_THAT(text,
              ContainsRegex("(^|\n)<4>W[0-9].*warning line\n<4>second line\n"));
  EXPECT_THAT(text, ContainsRegex("(^|\n)<3>E[0-9].*error line\n"));
}

TEST(JournalSinkTest, FatalIsCritical) {
  const std::string path = MakeTempDir("journal") + "/stderr";
  EXPECT_EQ(LogInChild(path, "self", false, true), -1);  // aborted
  EXPECT_THAT(ReadFileOrEmpty(path),
              ContainsRegex("(^|\n)<2>F[0-9].*fatal line\n"));
}

TEST(JournalSinkTest, NoPrefixesWhenJournalStreamNamesAnotherFile) {
  const std::string path = MakeTempDir("journal") + "/stderr";
  EXPECT_EQ(LogInChild(path, "1:1", false, false), 0);
  const std::string text = ReadFileOrEmpty(path);
  EXPECT_THAT(text, HasSubstr("info line"));
  EXPECT_THAT(text, HasSubstr("error line"));
  EXPECT_THAT(text, Not(HasSubstr("<")));
}

TEST(JournalSinkTest, AlwaysPrefixesWhenForced) {
  const std::string path = MakeTempDir("journal") + "/stderr";
  EXPECT_EQ(LogInChild(path, "", true, false), 0);
  EXPECT_THAT(ReadFileOrEmpty(path),
              ContainsRegex("(^|\n)<6>I[0-9].*info line\n"));
}

TEST(JournalSinkTest, WithoutJournalStreamGlogIsUntouched) {
  const std::string path = MakeTempDir("journal") + "/stderr";
  EXPECT_EQ(LogInChild(path, "", false, false), 0);
  const std::string text = ReadFileOrEmpty(path);
  EXPECT_THAT(text, ContainsRegex("(^|\n)I[0-9].*info line\n"));
  EXPECT_THAT(text, Not(HasSubstr("<6>")));
}

// Issue 18.4: a NUL ends a line for journald, and "<0>" after it would be
// read as emergency.
TEST(JournalSinkTest, NulStartsANewPrefixedLine) {
  const std::string path = MakeTempDir("journal") + "/stderr";
  EXPECT_EQ(ExitCodeInChild([&] {
              const int fd = open(
                  path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
              if (fd < 0 || dup2(fd, 2) != 2) return 10;
              close(fd);
              if (!google::IsGoogleLoggingInitialized()) {
                google::InitGoogleLogging("journal_sink_test");
              }
              RouteGlogToJournalStderr(true);
              LOG(ERROR) << std::string("client said x\0<0>forged\0", 24);
              return 0;
            }),
            0);
  const std::string text = ReadFileOrEmpty(path);
  EXPECT_EQ(text.find('\0'), std::string::npos);
  EXPECT_THAT(text,
              ContainsRegex("(^|\n)<3>E[0-9].*client said x\n<3><0>forged\n$"));
}

// Issue 23.11: LineWriter against a file system that takes what the test
// allows: whole messages, a marker of what was lost, a torn line ended
// before anything else, and a marker cut short written again whole.
std::string g_file;
ssize_t g_room = -1;  // bytes the next writes may put through; -1: any
ssize_t FakeWrite(int, const void* data, size_t size) {
  if (g_room == 0) {
    errno = ENOSPC;
    return -1;
  }
  size_t n = size;
  if (g_room > 0 && static_cast<size_t>(g_room) < n) {
    n = static_cast<size_t>(g_room);
  }
  if (g_room > 0) g_room -= static_cast<ssize_t>(n);
  g_file.append(static_cast<const char*>(data), n);
  return static_cast<ssize_t>(n);
}

TEST(LineWriterTest, MarksWhatAFullDiskLost) {
  g_file.clear();
  g_room = -1;
  LineWriter writer(&FakeWrite);
  writer.Write(2, "one\n");
  g_room = 3;
  writer.Write(2, "two two\n");  // torn after "two"
  EXPECT_TRUE(writer.torn());
  EXPECT_EQ(writer.lost(), 5u);
  g_room = 0;
  writer.Write(2, "three\n");  // refused
  EXPECT_EQ(writer.lost(), 11u);
  g_room = 10;
  writer.Write(2, "four\n");  // the newline and part of the marker
  EXPECT_EQ(writer.lost(), 16u);
  EXPECT_TRUE(writer.torn());
  g_room = -1;
  writer.Write(2, "five\n");
  EXPECT_FALSE(writer.torn());
  EXPECT_EQ(writer.lost(), 0u);
  EXPECT_EQ(g_file,
            "one\ntwo\n[daemonki\n"
            "[daemonkit: 16 bytes of log lost (No space left on device)]\n"
            "five\n");
}

TEST(LineWriterTest, AWholeMessageNeedsNoMarker) {
  g_file.clear();
  g_room = -1;
  LineWriter writer(&FakeWrite);
  writer.Write(2, "a\nb\n");
  EXPECT_EQ(g_file, "a\nb\n");
  EXPECT_EQ(writer.lost(), 0u);
  EXPECT_FALSE(writer.torn());
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
