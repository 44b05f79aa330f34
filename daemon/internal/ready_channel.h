// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/ready_channel.h
// -----------------------------------------------------------------------------
//
// The readiness handshake between the launcher (the process the user
// started) and the daemon it forks. A pipe made before the first fork
// carries a few one-write messages from the daemon to the launcher:
//
//   P<pid>\n     the daemon's pid, sent by the first child right after the
//                second fork and before it exits: once the launcher has
//                reaped the first child, the pid is in the pipe
//   R\n          ready: the launcher exits 0
//   E<text>      a startup failure, the text up to end-of-file
//
// End-of-file without R or E means the daemon died. Each message is written
// with a single write(2) below PIPE_BUF bytes, so it arrives whole.

#ifndef DAEMONKIT_DAEMON_INTERNAL_READY_CHANNEL_H_
#define DAEMONKIT_DAEMON_INTERNAL_READY_CHANNEL_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

// Both ends of the pipe, created with O_CLOEXEC.
struct ReadyPipe {
  int read_fd = -1;
  int write_fd = -1;
};
absl::StatusOr<ReadyPipe> CreateReadyPipe();

// The daemon's end. Each Report closes the descriptor but ReportPid.
class ReadyReporter {
 public:
  ReadyReporter() = default;
  explicit ReadyReporter(int write_fd) : fd_(write_fd) {}
  ReadyReporter(ReadyReporter&& other) noexcept;
  ReadyReporter& operator=(ReadyReporter&& other) noexcept;
  ReadyReporter(const ReadyReporter&) = delete;
  ReadyReporter& operator=(const ReadyReporter&) = delete;
  ~ReadyReporter();

  // True until ready or an error has been reported.
  bool pending() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  void ReportPid(pid_t pid);
  // Returns false when nobody reads the pipe any more (EPIPE): the
  // launcher was killed, so its start failed and the daemon must not stay.
  // True once delivered, or when there was no one to tell (foreground).
  [[nodiscard]] bool ReportReady();
  // `message` is cut to fit one atomic write.
  void ReportError(absl::string_view message);
  // True when nobody holds the pipe's read end any more (the launcher was
  // killed): a start nobody waits for. False while pending with a reader,
  // and once reported.
  bool ReaderGone() const;
  // Closes this process's descriptor without a message: if no other
  // process holds the pipe, the launcher sees the daemon "died".
  void Close();
  // Drops the descriptor number without closing it (see PidFile::Forget).
  void Forget() { (void)fd_.release(); }

 private:
  bool Send(absl::string_view message);

  UniqueFd fd_;
};

// ReadyDecoder
//
// The one decoder of the messages above, used by the launcher (AwaitReady)
// and by the supervisor reading its worker's pipe, which speaks the same
// protocol. Feed it what read(2) returned, in order.
class ReadyDecoder {
 public:
  struct Message {
    enum class Kind { kPid, kReady };
    Kind kind;
    pid_t pid = 0;  // kPid
  };

  void Append(absl::string_view bytes) {
    buffer_.append(bytes.data(), bytes.size());
  }

  // The next complete P or R message, or nullopt when none is complete. An
  // E message is complete only at end-of-file: see ErrorAtEnd(). A
  // malformed line is skipped.
  std::optional<Message> Next();

  // At end-of-file: the error text when what is left is an E message.
  std::optional<std::string> ErrorAtEnd() const;

 private:
  std::string buffer_;
};

// What the launcher learned.
struct ReadyOutcome {
  enum class Kind { kReady, kFailed, kDied, kTimedOut, kInterrupted };
  Kind kind = Kind::kDied;
  std::string message;    // kFailed: the daemon's own error text
  pid_t daemon_pid = 0;   // 0 when no pid message arrived
  int daemon_pidfd = -1;  // a pidfd for daemon_pid, or -1; caller closes
};

// Reads messages from `read_fd` until ready, an error, end-of-file or
// `deadline`. Opens a pidfd for the daemon as soon as its pid arrives, so a
// later kill cannot reach a recycled pid. Whatever is already in the pipe
// when the deadline passes is read before a timeout is declared: a pid or a
// ready message that arrived in time is never lost to it.
// When `cancel_fd` (a signalfd, say) becomes readable before the daemon is
// ready, returns kInterrupted: the caller reads why from it.
ReadyOutcome AwaitReady(int read_fd, const Deadline& deadline,
                        int cancel_fd = -1);
inline ReadyOutcome AwaitReady(int read_fd, absl::Duration timeout) {
  return AwaitReady(read_fd, Deadline::In(timeout));
}

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_READY_CHANNEL_H_
