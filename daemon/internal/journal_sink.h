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

#include <cstdint>
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

// Issue 23.11: how daemonkit writes its log lines to a file that may fill
// up. Each message (one or more whole lines) goes out in one write(2), so
// that with O_APPEND no other writer's line lands inside it. A write that
// fails (ENOSPC, EDQUOT, EFBIG, EIO) loses the message; a short one (the
// file system had room for part of it) leaves a torn line in the file. The
// rest of that message is not retried (its bytes would land after whatever
// another process appended meanwhile, and a full disk refuses them anyway):
// it is counted as lost. The next write then begins with a newline when a
// line was left torn, and with a marker line
//   [daemonkit: N bytes of log lost (REASON)]
// for everything lost since the last marker, in the same write(2) as the
// message. So a line in the file is a whole line, a marker, or the start of
// a line cut by the disk, which a marker follows at once. As journald and
// rsyslog do (a count of what was dropped, once logging works again) rather
// than multilog (which stops the service until the disk has room): a daemon
// must not block on its log. The count covers this process's messages only;
// another process writing the same file (a supervisor and its worker, the
// application's own printf) keeps no such account.
class LineWriter {
 public:
  using WriteFunction = ssize_t (*)(int, const void*, size_t);
  explicit LineWriter(WriteFunction write_function = nullptr)
      : write_(write_function) {}

  // Writes `lines` (ending with a newline) to `fd` as described above.
  void Write(int fd, absl::string_view lines);

  // Bytes lost and not yet marked; whether the file ends in a torn line.
  uint64_t lost() const { return lost_; }
  bool torn() const { return torn_; }

 private:
  WriteFunction write_;
  uint64_t lost_ = 0;
  bool torn_ = false;
  std::string reason_;
};

// The marker line (with its newline) for `bytes` lost because of `reason`.
std::string LossMarker(uint64_t bytes, absl::string_view reason);

// A glog sink that writes each message to descriptor 2 in one write(2),
// in glog's usual format, each line prefixed with JournalPrefix() when
// `always` or when descriptor 2 is the stream `journal` names. A NUL in a
// message is written as a newline (a new prefixed line): journald ends a
// line at a NUL, and a "<0>" after it would forge the priority.
// Its losses are marked as LineWriter says (issue 23.11).
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
  // glog calls send() under its log mutex: one message at a time.
  LineWriter writer_;
};

// Sends glog to stderr through a JournalStderrSink (and nowhere else: no
// log files, not glog's own stderr writer), with prefixes always when
// `always`, otherwise when $JOURNAL_STREAM matches stderr, otherwise none:
// glog's usual lines, but each message in one write(2) and its losses
// marked (issue 23.11; glog's own writer goes through stdio, which
// finishes a short write with a second one that fails, and leaves the
// torn line to be glued to the next). Call before any fork, after
// InitGoogleLogging.
void RouteGlogToJournalStderr(bool always);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_JOURNAL_SINK_H_
