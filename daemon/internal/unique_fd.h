// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/unique_fd.h
// -----------------------------------------------------------------------------
//
// A UniqueFd owns one file descriptor and closes it when it goes out of
// scope, so that an early return on an error path cannot leak a descriptor
// into the daemon (where it would stay open for the daemon's whole life, and
// pass to every child it forks without close-on-exec). It is the library's
// one owner of close(2) (issue 20): code that holds a descriptor for a while
// holds a UniqueFd, and hands the number on with `release()` only where
// ownership really moves (into a process-wide slot, through exec).
//
// Usable between fork and exec and in a signal handler: the destructor only
// calls close(2) and keeps errno, both async-signal-safe.
//
// Example:
//
//   UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd.valid()) return ErrnoError(errno, absl::StrCat("open ", path));
//   // On this return the descriptor is closed:
//   if (fstat(fd.get(), &st) != 0) return ErrnoError(errno, "fstat");
//   return fd;  // moved to the caller, still open

#ifndef DAEMONKIT_DAEMON_INTERNAL_UNIQUE_FD_H_
#define DAEMONKIT_DAEMON_INTERNAL_UNIQUE_FD_H_

#include "absl/base/attributes.h"
#include "absl/status/status.h"

namespace daemonkit {
namespace internal {

class UniqueFd {
 public:
  // Owns nothing.
  UniqueFd() = default;
  // Owns `fd`; a negative number (a failed open's -1) means nothing.
  explicit UniqueFd(int fd) : fd_(fd < 0 ? -1 : fd) {}

  // Move only: two owners of one number would close it twice, the second
  // time perhaps closing a descriptor that took the number in between.
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }

  ~UniqueFd() { reset(); }

  // The descriptor, or -1 when nothing is owned. Still owned by this object.
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up ownership without closing: the caller now owns the number
  // returned (-1 if nothing was owned).
  ABSL_MUST_USE_RESULT int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes what is owned (errno unchanged), then owns `fd`. A failure of
  // close(2) is not reported: on Linux the number is released even then
  // (never close it again), and a descriptor written through is closed
  // with `Close()`.
  void reset(int fd = -1);

  // Closes what is owned and says whether close(2) succeeded: a file
  // written through this descriptor may report a late write error (EIO,
  // ENOSPC on NFS) only here. Owns nothing afterwards either way. OK when
  // nothing was owned.
  absl::Status Close();

 private:
  int fd_ = -1;
};

// Closes `fd`, a number this code does not own as a UniqueFd: one found in
// /proc/self/fd, a fork handler's registered slot, a descriptor received
// with SCM_RIGHTS only to be discarded, the signal self-pipe. Does nothing
// for a negative number. Keeps errno, so a caller on an error path reports
// its own failure, and a signal handler leaves the interrupted code's errno
// alone. Never retried on EINTR: Linux has released the number already.
// Async-signal-safe, so usable between fork and exec.
void CloseDescriptor(int fd);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_UNIQUE_FD_H_
