// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/descriptors.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// The descriptors to keep, above 2, sorted and unique.
std::vector<int> SortedKeepList(absl::Span<const int> keep) {
  std::vector<int> sorted;
  for (int fd : keep) {
    if (fd > 2) sorted.push_back(fd);
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  return sorted;
}

absl::Status CloseWithProcList(const std::vector<int>& keep) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot close inherited descriptors: close_range is not supported "
        "and /proc/self/fd is unreadable (",
        ErrnoError(errno, "opendir").message(), ")"));
  }
  // Collect first: closing while reading would disturb the listing.
  std::vector<int> open_fds;
  while (struct dirent* entry = readdir(dir)) {
    int fd;
    if (absl::SimpleAtoi(entry->d_name, &fd) && fd > 2 && fd != dirfd(dir) &&
        !std::binary_search(keep.begin(), keep.end(), fd)) {
      open_fds.push_back(fd);
    }
  }
  closedir(dir);
  for (int fd : open_fds) CloseDescriptor(fd);
  return absl::OkStatus();
}

}  // namespace

absl::Status CloseInheritedDescriptors(absl::Span<const int> keep) {
  const std::vector<int> sorted = SortedKeepList(keep);
  unsigned int first = 3;
  for (size_t i = 0; i <= sorted.size(); ++i) {
    unsigned int last =
        i < sorted.size() ? static_cast<unsigned int>(sorted[i] - 1) : UINT_MAX;
    if (first <= last && close_range(first, last, 0) != 0) {
      if (errno == ENOSYS || errno == EPERM) return CloseWithProcList(sorted);
      return ErrnoError(errno, "close_range");
    }
    if (i < sorted.size()) first = static_cast<unsigned int>(sorted[i]) + 1;
  }
  return absl::OkStatus();
}

absl::Status CloseDirectoryDescriptors() {
  std::vector<int> candidates;
  if (DIR* dir = opendir("/proc/self/fd"); dir != nullptr) {
    while (struct dirent* entry = readdir(dir)) {
      int fd;
      if (absl::SimpleAtoi(entry->d_name, &fd) && fd > 2 && fd != dirfd(dir)) {
        candidates.push_back(fd);
      }
    }
    closedir(dir);
  } else {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return ErrnoError(errno, "getrlimit RLIMIT_NOFILE");
    }
    const rlim_t most = std::min<rlim_t>(limit.rlim_cur, 1 << 20);
    for (rlim_t fd = 3; fd < most; ++fd) {
      candidates.push_back(static_cast<int>(fd));
    }
  }
  for (int fd : candidates) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && close(fd) != 0 &&
        errno != EINTR) {
      return ErrnoError(errno, absl::StrCat("close directory descriptor ", fd));
    }
  }
  return absl::OkStatus();
}

absl::Status EnsureStandardStreamsOpen(std::vector<int>* opened) {
  std::vector<int> mine;
  auto undo = [&mine](absl::Status status) {
    for (int fd : mine) CloseDescriptor(fd);
    return status;
  };
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    UniqueFd null_fd(open("/dev/null", O_RDWR));
    if (!null_fd.valid()) return undo(ErrnoError(errno, "open /dev/null"));
    if (null_fd.get() != fd) {
      // A lower stream was closed meanwhile; cannot happen single-threaded.
      null_fd.reset();
      return undo(
          absl::InternalError("standard streams changed while reopening"));
    }
    mine.push_back(null_fd.release());
  }
  if (opened != nullptr) {
    opened->insert(opened->end(), mine.begin(), mine.end());
  }
  return absl::OkStatus();
}

absl::Status SendWithDescriptor(int socket, absl::string_view data, int fd,
                                absl::string_view what, int flags,
                                const struct sockaddr_un* to,
                                socklen_t to_length) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg = {};
  msg.msg_name = const_cast<struct sockaddr_un*>(to);
  msg.msg_namelen = to != nullptr ? to_length : 0;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(socket, &msg, MSG_NOSIGNAL | flags);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, absl::StrCat("send to ", what));
  return absl::OkStatus();
}

absl::Status Redirect(int source_fd, int target_fd) {
  if (source_fd == target_fd) return absl::OkStatus();
  int result;
  do {
    result = dup2(source_fd, target_fd);
  } while (result < 0 && errno == EINTR);
  if (result < 0) {
    return ErrnoError(errno, absl::StrCat("dup2 onto descriptor ", target_fd));
  }
  return absl::OkStatus();
}

bool WriteWithoutSigpipe(int fd, char byte) {
  sigset_t pipe_only, old_mask, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  if (pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask) != 0) return false;
  sigemptyset(&pending);
  const bool was_pending =
      sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  ssize_t n;
  do {
    n = write(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  (void)pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved;
  return n == 1;
}

}  // namespace internal
}  // namespace daemonkit
