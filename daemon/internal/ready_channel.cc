// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/ready_channel.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

absl::StatusOr<ReadyPipe> CreateReadyPipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "create ready pipe");
  return ReadyPipe{fds[0], fds[1]};
}

ReadyReporter::ReadyReporter(ReadyReporter&& other) noexcept
    : fd_(std::move(other.fd_)) {}

ReadyReporter& ReadyReporter::operator=(ReadyReporter&& other) noexcept {
  if (this != &other) {
    fd_ = std::move(other.fd_);  // closes this one's first
  }
  return *this;
}

ReadyReporter::~ReadyReporter() { Close(); }

bool ReadyReporter::Send(absl::string_view message) {
  if (!fd_.valid()) return true;
  message = message.substr(0, PIPE_BUF);
  ssize_t n;
  do {
    n = write(fd_.get(), message.data(), message.size());
  } while (n < 0 && errno == EINTR);
  // A launcher that is gone (killed, or timed out) has no one to tell: the
  // caller decides what that means.
  return n == static_cast<ssize_t>(message.size());
}

void ReadyReporter::ReportPid(pid_t pid) { Send(absl::StrCat("P", pid, "\n")); }

bool ReadyReporter::ReportReady() {
  const bool delivered = Send("R\n");
  Close();
  return delivered;
}

void ReadyReporter::ReportError(absl::string_view message) {
  Send(absl::StrCat("E", message));
  Close();
}

bool ReadyReporter::ReaderGone() const {
  if (!fd_.valid()) return false;
  // A pipe's write end polls POLLERR once its last reader has closed.
  struct pollfd pfd = {fd_.get(), 0, 0};
  int n;
  do {
    n = poll(&pfd, 1, 0);
  } while (n < 0 && errno == EINTR);
  return n == 1 && (pfd.revents & (POLLERR | POLLHUP)) != 0;
}

void ReadyReporter::Close() { fd_.reset(); }

std::optional<ReadyDecoder::Message> ReadyDecoder::Next() {
  while (!buffer_.empty()) {
    if (buffer_[0] == 'E') return std::nullopt;  // runs to end-of-file
    const size_t newline = buffer_.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    const std::string line = buffer_.substr(0, newline);
    buffer_.erase(0, newline + 1);
    if (line == "R") return Message{Message::Kind::kReady};
    pid_t pid;
    if (!line.empty() && line[0] == 'P' &&
        absl::SimpleAtoi(absl::string_view(line).substr(1), &pid) && pid > 0) {
      return Message{Message::Kind::kPid, pid};
    }
  }
  return std::nullopt;
}

std::optional<std::string> ReadyDecoder::ErrorAtEnd() const {
  if (buffer_.empty() || buffer_[0] != 'E') return std::nullopt;
  return buffer_.substr(1);
}

ReadyOutcome AwaitReady(int read_fd, const Deadline& deadline, int cancel_fd) {
  ReadyOutcome outcome;
  ReadyDecoder decoder;
  auto take_pid = [&outcome](pid_t pid) {
    outcome.daemon_pid = pid;
    CloseDescriptor(outcome.daemon_pidfd);
    outcome.daemon_pidfd = PidfdOpen(pid);
  };
  for (;;) {
    // Act on every complete message received so far.
    while (std::optional<ReadyDecoder::Message> message = decoder.Next()) {
      if (message->kind == ReadyDecoder::Message::Kind::kReady) {
        outcome.kind = ReadyOutcome::Kind::kReady;
        // The first child's pid report may sit behind the daemon's ready
        // message (a daemon ready at once, its first child descheduled
        // before it wrote). The launcher reaps the first child before it
        // waits here, so that report is in the pipe already: take it
        // without waiting.
        for (;;) {
          while (std::optional<ReadyDecoder::Message> more = decoder.Next()) {
            if (more->kind != ReadyDecoder::Message::Kind::kReady) {
              take_pid(more->pid);
            }
          }
          struct pollfd now = {read_fd, POLLIN, 0};
          char chunk[PIPE_BUF];
          ssize_t n = 0;
          if (poll(&now, 1, 0) > 0 && (now.revents & POLLIN) != 0) {
            n = read(read_fd, chunk, sizeof(chunk));
          }
          if (n <= 0) break;
          decoder.Append(absl::string_view(chunk, static_cast<size_t>(n)));
        }
        return outcome;
      }
      take_pid(message->pid);
    }

    // Past the deadline, one more poll without waiting drains what the
    // daemon wrote in time.
    struct pollfd pfds[2] = {{read_fd, POLLIN, 0}, {cancel_fd, POLLIN, 0}};
    struct pollfd& pfd = pfds[0];
    int ready = poll(pfds, cancel_fd >= 0 ? 2 : 1, deadline.PollTimeoutMs());
    if (ready > 0 && (pfds[1].revents & POLLIN) != 0 &&
        (pfd.revents & POLLIN) == 0) {
      outcome.kind = ReadyOutcome::Kind::kInterrupted;
      return outcome;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      outcome.kind = ReadyOutcome::Kind::kFailed;
      outcome.message = ErrnoError(errno, "poll ready pipe").ToString();
      return outcome;
    }
    if (ready == 0) {
      if (!deadline.Passed()) continue;
      outcome.kind = ReadyOutcome::Kind::kTimedOut;
      return outcome;
    }

    char chunk[PIPE_BUF];
    ssize_t n = read(read_fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      decoder.Append(absl::string_view(chunk, static_cast<size_t>(n)));
      continue;
    }
    // End-of-file (or a read error, which means the same here).
    if (std::optional<std::string> error = decoder.ErrorAtEnd()) {
      outcome.kind = ReadyOutcome::Kind::kFailed;
      outcome.message = *std::move(error);
    } else {
      outcome.kind = ReadyOutcome::Kind::kDied;
    }
    return outcome;
  }
}

}  // namespace internal
}  // namespace daemonkit
