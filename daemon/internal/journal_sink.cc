// Copyright 2026 The daemonkit Authors.
//
// Runs in every process that logs: set up in the caller of Daemonize(),
// inherited by the daemon, the supervisor and the workers.

#include "daemon/internal/journal_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/syslog_sink.h"

namespace daemonkit {
namespace internal {

std::optional<std::pair<dev_t, ino_t>> ParseJournalStream(
    absl::string_view value) {
  const std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  uint64_t dev, ino;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &dev) ||
      !absl::SimpleAtoi(parts[1], &ino) || parts[0][0] == '-' ||
      parts[0][0] == '+' || parts[1][0] == '-' || parts[1][0] == '+') {
    return std::nullopt;
  }
  return std::make_pair(static_cast<dev_t>(dev), static_cast<ino_t>(ino));
}

std::string JournalPrefix(google::LogSeverity severity) {
  return absl::StrCat("<", SyslogPriority(severity), ">");
}

bool JournalStderrSink::Prefixed() const {
  if (always_) return true;
  if (!journal_) return false;
  struct stat st;
  return fstat(2, &st) == 0 &&
         FileIdentity::Of(st) ==
             FileIdentity{journal_->first, journal_->second};
}

void JournalStderrSink::send(google::LogSeverity severity, const char*,
                             const char* base_filename, int line,
                             const google::LogMessageTime& time,
                             const char* message, size_t message_len) {
  std::string text =
      ToString(severity, base_filename, line, time, message, message_len);
  // Issue 18.4: journald ends a line at a NUL and would read what follows
  // ("<0>...") as a line of its own with a priority of its choosing. A NUL
  // (a client's text in a message) starts a new line, prefixed as the
  // others below.
  for (char& c : text) {
    if (c == '\0') c = '\n';
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (Prefixed()) {
    // Every line of a multi-line message, or the journal files the rest
    // at the default priority.
    const std::string prefix = JournalPrefix(severity);
    text = absl::StrCat(
        prefix,
        absl::StrReplaceAll(text, {{"\n", absl::StrCat("\n", prefix)}}));
  }
  text.push_back('\n');
  // One write per message: lines of concurrent processes do not interleave
  // within a line; a loss is marked (issue 23.11).
  writer_.Write(2, text);
}

std::string LossMarker(uint64_t bytes, absl::string_view reason) {
  return absl::StrCat("[daemonkit: ", bytes, " bytes of log lost (", reason,
                      ")]\n");
}

void LineWriter::Write(int fd, absl::string_view lines) {
  std::string buffer;
  if (torn_) buffer.push_back('\n');
  if (lost_ > 0) buffer += LossMarker(lost_, reason_);
  const size_t prefix = buffer.size();
  buffer.append(lines.data(), lines.size());
  ssize_t written;
  do {
    written = write_ != nullptr ? write_(fd, buffer.data(), buffer.size())
                                : write(fd, buffer.data(), buffer.size());
  } while (written < 0 && errno == EINTR);
  if (written >= 0 && static_cast<size_t>(written) == buffer.size()) {
    torn_ = false;
    lost_ = 0;
    reason_.clear();
    return;
  }
  if (written < 0) {
    // Nothing reached the file: the newline and the marker are still due.
    reason_ = std::strerror(errno);
    lost_ += lines.size();
    return;
  }
  // The file system's errno, when a write said it, says more.
  if (reason_.empty()) reason_ = "short write";
  const size_t n = static_cast<size_t>(written);
  if (n > 0) torn_ = buffer[n - 1] != '\n';
  // A marker cut short is written again, whole, with the same count; once
  // it went out, only what is left of this message is lost.
  lost_ = n <= prefix ? lost_ + lines.size() : buffer.size() - n;
}

void RouteGlogToJournalStderr(bool always) {
  std::optional<std::pair<dev_t, ino_t>> journal;
  if (const char* stream = std::getenv("JOURNAL_STREAM")) {
    journal = ParseJournalStream(stream);
  }
  static JournalStderrSink* sink = new JournalStderrSink(always, journal);
  google::AddLogSink(sink);
  FLAGS_logtostderr = false;
  FLAGS_alsologtostderr = false;
  FLAGS_stderrthreshold = google::NUM_SEVERITIES;
  for (int severity = 0; severity < google::NUM_SEVERITIES; ++severity) {
    google::SetLogDestination(severity, "");  // no log files
  }
}

}  // namespace internal
}  // namespace daemonkit
