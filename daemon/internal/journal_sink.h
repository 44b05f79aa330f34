// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/journal_sink.h
// -----------------------------------------------------------------------------
//
// Service-manager controls (issue 15): glog on stderr with the priority
// prefixes of sd-daemon(3) ("<6>" INFO, "<4>" WARNING, "<3>" ERROR, "<2>"
// FATAL), which systemd's journal reads from a service's stream so that
// `journalctl -p err` finds the errors. systemd tells a service that its
// stderr is such a stream with $JOURNAL_STREAM ("DEV:INO" of the stream);
// the prefixes are written when stderr is that stream (checked at each
// message: stderr changes when the daemon detaches), or always when asked
// (`--daemon_log=journal`, for a journal reached some other way).

#ifndef DAEMONKIT_DAEMON_INTERNAL_JOURNAL_SINK_H_
#define DAEMONKIT_DAEMON_INTERNAL_JOURNAL_SINK_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {

// The device and inode $JOURNAL_STREAM names, or nullopt when `value` is
// not "DEV:INO" in decimal.
std::optional<std::pair<dev_t, ino_t>> ParseJournalStream(
    absl::string_view value);

// The "<N>" prefix of a glog severity (SyslogPriority's number).
std::string JournalPrefix(google::LogSeverity severity);

// A glog sink that writes each message to descriptor 2 in one write(2),
// in glog's usual format, each line prefixed with JournalPrefix() when
// `always` or when descriptor 2 is the stream `journal` names. A NUL in a
// message is written as a newline (a new prefixed line): journald ends a
// line at a NUL, and a "<0>" after it would forge the priority.
class JournalStderrSink : public google::LogSink {
 public:
  JournalStderrSink(bool always, std::optional<std::pair<dev_t, ino_t>> journal)
      : always_(always), journal_(journal) {}

  void send(google::LogSeverity severity, const char* full_filename,
            const char* base_filename, int line,
            const google::LogMessageTime& time, const char* message,
            size_t message_len) override;

  // Whether the prefixes go on the next message.
  bool Prefixed() const;

 private:
  bool always_;
  std::optional<std::pair<dev_t, ino_t>> journal_;
};

// Sends glog to stderr through a JournalStderrSink (and nowhere else: no
// log files, not glog's own stderr writer), with prefixes always when
// `always`, otherwise when $JOURNAL_STREAM matches stderr. Without
// `always` and without $JOURNAL_STREAM it does nothing (glog's own stderr
// output stays as it is). Call before any fork, after InitGoogleLogging.
void RouteGlogToJournalStderr(bool always);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_JOURNAL_SINK_H_
