// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/descriptors.h
// -----------------------------------------------------------------------------
//
// Descriptor hygiene for a process about to become a daemon: whatever the
// launching shell, IDE or CI runner left open must not leak into a process
// that lives for months (it pins files, terminals and sockets).

#ifndef DAEMONKIT_DAEMON_INTERNAL_DESCRIPTORS_H_
#define DAEMONKIT_DAEMON_INTERNAL_DESCRIPTORS_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace daemonkit {
namespace internal {

// Closes every descriptor above 2 except those in `keep`, with close_range(2)
// (a few syscalls whatever RLIMIT_NOFILE is), falling back to the list in
// /proc/self/fd on kernels before 5.9. Never loops up to RLIMIT_NOFILE: with
// neither mechanism available it fails with kUnavailable.
absl::Status CloseInheritedDescriptors(absl::Span<const int> keep);

// Closes every descriptor from 3 up that refers to a directory (O_PATH ones
// too), whoever opened it: right before a chroot, any of them leads back out
// of the new root (fchdir, openat), and in the foreground the caller's
// descriptors are otherwise handed down as they are (the attack of
// 2026-12-07: a jailed program listed the host's "/" through one). Reads
// /proc/self/fd, else looks at each number below RLIMIT_NOFILE's soft limit.
absl::Status CloseDirectoryDescriptors();

// Opens /dev/null on whichever of descriptors 0, 1 and 2 is closed, so that a
// file opened later cannot land on a standard stream's number. Appends the
// descriptors it opened to `opened` (when given), so that a caller that
// fails later can close them again and leave its own caller as it was; on
// failure, closes them itself.
absl::Status EnsureStandardStreamsOpen(std::vector<int>* opened = nullptr);

// Points `target_fd` at `source_fd` (dup2), retrying on EINTR.
absl::Status Redirect(int source_fd, int target_fd);

// Sends `data` as one message on the Unix socket `socket` (to `to`, when
// given, for a datagram socket), with descriptor `fd` attached (SCM_RIGHTS)
// when `fd` >= 0. `flags` are sendmsg(2)'s beside MSG_NOSIGNAL (always set).
// EINTR is retried; other errors name "send to `what`".
absl::Status SendWithDescriptor(int socket, absl::string_view data, int fd,
                                absl::string_view what, int flags = 0,
                                const struct sockaddr_un* to = nullptr,
                                socklen_t to_length = 0);

// Writes `byte` to the pipe `fd`, whose reader may be gone, without the
// SIGPIPE that would kill this process (a pipe has no MSG_NOSIGNAL): the
// signal is blocked for the write, and a SIGPIPE it raised is taken back
// (one pending before stays). Returns whether the byte was written; errno
// says why not (EPIPE: nobody reads any more). EINTR is retried.
bool WriteWithoutSigpipe(int fd, char byte);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_DESCRIPTORS_H_
