// Copyright 2026 The daemonkit Authors.
//
// An LD_PRELOAD shim that stands in for a misbehaving environment, seen only
// by the processes that load it (the daemon's, not the test's):
//
//   DAEMONKIT_FAULT_FORK_FILE=PATH   while PATH holds a number N > 0, each
//                                    fork() fails with EAGAIN (RLIMIT_NPROC
//                                    reached, a full pid table) and writes
//                                    N - 1 back; missing or 0: forks work.
//   DAEMONKIT_FAULT_CLOCK_FILE=PATH  PATH holds a signed number of seconds
//                                    added to the wall clock (clock_gettime
//                                    of CLOCK_REALTIME and its coarse form,
//                                    gettimeofday, time): a clock step (NTP,
//                                    `date -s`) for these processes alone.
//                                    Missing: no offset.
//   DAEMONKIT_FAULT_WRITE_FILE=PATH  a file system filling up, for writes
//                                    to descriptors 1 and 2 while they are
//                                    regular files (the output files):
//                                    while PATH holds "B R", a write gets
//                                    at most B bytes through (a short
//                                    write), and fails with ENOSPC once B
//                                    is 0; the shim writes back what is
//                                    left of B and R plus the writes it
//                                    cut or refused. Missing: room enough.
//                                    fwrite to stderr is done here as
//                                    glibc does it for an unbuffered
//                                    stream (write until all is out or a
//                                    write fails), since glibc's own calls
//                                    write(2) without this shim's wrapper.
//
// The test writes the files (under TEST_TMPDIR) when the fault is due; the
// shim reads them at each call, so the fault starts and ends on the test's
// word without any timing of its own.

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// The number in the file `fd`, or `fallback` when it cannot be read.
int64_t ReadNumber(int fd, int64_t fallback) {
  char buffer[32];
  ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return fallback;
  buffer[n] = '\0';
  char* end = nullptr;
  errno = 0;
  const int64_t value = std::strtoll(buffer, &end, 10);
  if (end == buffer || errno != 0) return fallback;
  return value;
}

// Whether this fork() is to fail: takes one from the file's count, under an
// exclusive lock so that concurrent forks each take their own.
bool TakeForkFailure() {
  const char* path = std::getenv("DAEMONKIT_FAULT_FORK_FILE");
  if (path == nullptr || *path == '\0') return false;
  const int saved_errno = errno;
  const int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    errno = saved_errno;
    return false;
  }
  bool fail = false;
  if (flock(fd, LOCK_EX) == 0) {
    const int64_t left = ReadNumber(fd, 0);
    if (left > 0) {
      char buffer[32];
      const int length =
          std::snprintf(buffer, sizeof(buffer), "%" PRId64 "\n", left - 1);
      fail = ftruncate(fd, 0) == 0 &&
             pwrite(fd, buffer, static_cast<size_t>(length), 0) == length;
    }
  }
  close(fd);
  errno = saved_errno;
  return fail;
}

// The wall clock's offset in seconds.
int64_t ClockOffset() {
  const char* path = std::getenv("DAEMONKIT_FAULT_CLOCK_FILE");
  if (path == nullptr || *path == '\0') return 0;
  const int saved_errno = errno;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  int64_t offset = 0;
  if (fd >= 0) {
    offset = ReadNumber(fd, 0);
    close(fd);
  }
  errno = saved_errno;
  return offset;
}

// How many of `count` bytes a write to `fd` may put through: `count`
// without a fault; fewer, or 0 with errno ENOSPC, while the write file's
// budget lasts. -1: refused.
ssize_t WriteBudget(int fd, size_t count) {
  const char* path = std::getenv("DAEMONKIT_FAULT_WRITE_FILE");
  if (path == nullptr || *path == '\0' || (fd != 1 && fd != 2)) {
    return static_cast<ssize_t>(count);
  }
  const int saved_errno = errno;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    errno = saved_errno;
    return static_cast<ssize_t>(count);
  }
  const int control = open(path, O_RDWR | O_CLOEXEC);
  if (control < 0) {
    errno = saved_errno;
    return static_cast<ssize_t>(count);
  }
  ssize_t allowed = static_cast<ssize_t>(count);
  if (flock(control, LOCK_EX) == 0) {
    char buffer[64];
    const ssize_t n = pread(control, buffer, sizeof(buffer) - 1, 0);
    int64_t budget = -1, cut = 0;
    if (n > 0) {
      buffer[n] = '\0';
      if (std::sscanf(buffer, "%" SCNd64 " %" SCNd64, &budget, &cut) < 1) {
        budget = -1;
      }
    }
    if (budget >= 0) {
      if (static_cast<int64_t>(count) > budget) {
        allowed = budget > 0 ? static_cast<ssize_t>(budget) : -1;
        ++cut;
      }
      budget -= allowed > 0 ? allowed : 0;
      char out[64];
      const int length = std::snprintf(
          out, sizeof(out), "%" PRId64 " %" PRId64 "\n", budget, cut);
      (void)!ftruncate(control, 0);
      (void)!pwrite(control, out, static_cast<size_t>(length), 0);
    }
  }
  close(control);
  errno = allowed < 0 ? ENOSPC : saved_errno;
  return allowed;
}

// The functions the shim wraps, resolved when it is loaded (before the
// program runs, so before any fork), with no function-local statics: those
// would pull the C++ runtime into the shim.
pid_t (*next_fork)(void) = nullptr;
int (*next_clock_gettime)(clockid_t, struct timespec*) = nullptr;
int (*next_gettimeofday)(struct timeval*, void*) = nullptr;
ssize_t (*next_write)(int, const void*, size_t) = nullptr;
size_t (*next_fwrite)(const void*, size_t, size_t, FILE*) = nullptr;

__attribute__((constructor)) void ResolveNext() {
  next_fork = reinterpret_cast<pid_t (*)(void)>(dlsym(RTLD_NEXT, "fork"));
  next_clock_gettime = reinterpret_cast<int (*)(clockid_t, struct timespec*)>(
      dlsym(RTLD_NEXT, "clock_gettime"));
  next_gettimeofday = reinterpret_cast<int (*)(struct timeval*, void*)>(
      dlsym(RTLD_NEXT, "gettimeofday"));
  next_write = reinterpret_cast<ssize_t (*)(int, const void*, size_t)>(
      dlsym(RTLD_NEXT, "write"));
  next_fwrite =
      reinterpret_cast<size_t (*)(const void*, size_t, size_t, FILE*)>(
          dlsym(RTLD_NEXT, "fwrite"));
}

}  // namespace

extern "C" {

pid_t fork(void) noexcept {
  if (TakeForkFailure()) {
    errno = EAGAIN;
    return -1;
  }
  return next_fork();
}

int clock_gettime(clockid_t clock, struct timespec* now) noexcept {
  const int result = next_clock_gettime(clock, now);
  if (result == 0 &&
      (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
    now->tv_sec += ClockOffset();
  }
  return result;
}

int gettimeofday(struct timeval* now, void* zone) noexcept {
  const int result = next_gettimeofday(now, zone);
  if (result == 0) now->tv_sec += ClockOffset();
  return result;
}

time_t time(time_t* out) noexcept {
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) != 0) return -1;
  if (out != nullptr) *out = now.tv_sec;
  return now.tv_sec;
}

ssize_t write(int fd, const void* data, size_t count) {
  const ssize_t allowed = WriteBudget(fd, count);
  if (allowed < 0) return -1;
  return next_write(fd, data, static_cast<size_t>(allowed));
}

size_t fwrite(const void* data, size_t size, size_t items, FILE* stream) {
  if (stream != stderr || size == 0 ||
      std::getenv("DAEMONKIT_FAULT_WRITE_FILE") == nullptr) {
    return next_fwrite(data, size, items, stream);
  }
  // stderr is unbuffered: glibc writes the whole block, and after a short
  // write the rest, until a write fails.
  const char* bytes = static_cast<const char*>(data);
  const size_t total = size * items;
  size_t done = 0;
  while (done < total) {
    const ssize_t n = write(fileno(stream), bytes + done, total - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done / size;
}

}  // extern "C"
