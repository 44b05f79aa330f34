// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/worker_pidfile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/pidfile_replace.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// How long a worker tries to lock its pid file, which only a misconfigured
// peer (another supervisor with the same --daemon_child_pidfile) or a
// passing prober's test lock can hold.
constexpr absl::Duration kWorkerLockPatience = absl::Seconds(2);

// Takes the classic (process-owned) record lock on the worker's pid file;
// see OpenWorkerPidFile.
absl::Status LockForThisProcess(int fd, const std::string& path) {
  const Deadline deadline = Deadline::In(kWorkerLockPatience);
  for (;;) {
    struct flock lock = WholeFileLock(F_WRLCK);
    if (fcntl(fd, F_SETLK, &lock) == 0) return absl::OkStatus();
    const int saved = errno;
    if (saved == EINTR) continue;
    if ((saved != EAGAIN && saved != EACCES) || deadline.Passed()) {
      return ErrnoError(saved, absl::StrCat("lock worker pid file ", path));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace

absl::StatusOr<PidFile> OpenWorkerPidFile(const std::string& path,
                                          absl::Duration wait_for_pid) {
  absl::StatusOr<PidFile> file = PidFile::Acquire(path, wait_for_pid);
  if (!file.ok()) return file.status();
  // Acquire's OFD lock proved no other worker holds the file; held on, it
  // would outlive every worker (they share this description).
  struct flock unlock = WholeFileLock(F_UNLCK);
  if (fcntl(file->fd(), F_OFD_SETLK, &unlock) != 0) {
    const int saved = errno;
    file->Remove();
    return ErrnoError(saved, absl::StrCat("unlock worker pid file ", path));
  }
  return file;
}

absl::Status TakeWorkerPidFile(PidFile& file) {
  DAEMONKIT_RETURN_IF_ERROR(LockForThisProcess(file.fd(), file.path()));
  return file.WritePid(getpid());
}

void RemoveWorkerPidFile(const std::string& path, absl::Duration grace) {
  RemovePidFileOnceReleased(path, grace);
}

}  // namespace internal
}  // namespace daemonkit
