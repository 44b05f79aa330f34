// Copyright 2026 The daemonkit Authors.
//
// Runs in every process that logs: set up in the caller of Daemonize(),
// inherited by the daemon, the supervisor and the workers.

#include "daemon/internal/journal_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
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
  return fstat(2, &st) == 0 && st.st_dev == journal_->first &&
         st.st_ino == journal_->second;
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
  // within a line. A short write to a pipe or full disk is not retried
  // (nothing useful to do with a log failure inside the log).
  ssize_t written;
  do {
    written = write(2, text.data(), text.size());
  } while (written < 0 && errno == EINTR);
}

void RouteGlogToJournalStderr(bool always) {
  std::optional<std::pair<dev_t, ino_t>> journal;
  if (const char* stream = std::getenv("JOURNAL_STREAM")) {
    journal = ParseJournalStream(stream);
  }
  if (!always && !journal) return;
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
