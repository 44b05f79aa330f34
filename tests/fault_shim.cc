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
//
// The test writes the files (under TEST_TMPDIR) when the fault is due; the
// shim reads them at each call, so the fault starts and ends on the test's
// word without any timing of its own.

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
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

// The functions the shim wraps, resolved when it is loaded (before the
// program runs, so before any fork), with no function-local statics: those
// would pull the C++ runtime into the shim.
pid_t (*next_fork)(void) = nullptr;
int (*next_clock_gettime)(clockid_t, struct timespec*) = nullptr;
int (*next_gettimeofday)(struct timeval*, void*) = nullptr;

__attribute__((constructor)) void ResolveNext() {
  next_fork = reinterpret_cast<pid_t (*)(void)>(dlsym(RTLD_NEXT, "fork"));
  next_clock_gettime = reinterpret_cast<int (*)(clockid_t, struct timespec*)>(
      dlsym(RTLD_NEXT, "clock_gettime"));
  next_gettimeofday = reinterpret_cast<int (*)(struct timeval*, void*)>(
      dlsym(RTLD_NEXT, "gettimeofday"));
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

}  // extern "C"
