// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/proc.h
// -----------------------------------------------------------------------------
//
// What daemonkit reads about processes from /proc. Liveness is never decided
// by kill(pid, 0): an exited process that nobody has reaped yet still answers
// it, and a recycled pid answers for a stranger.

#ifndef DAEMONKIT_DAEMON_INTERNAL_PROC_H_
#define DAEMONKIT_DAEMON_INTERNAL_PROC_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace internal {

// Reads a small file (a /proc entry) whole: daemonkit::ReadProcFile
// (daemon/proc.h), under the name the library's callers use.
inline absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  return ReadProcFile(path);
}

// Returns the number of threads of the calling process.
absl::StatusOr<int> CountThreads();

// Returns the one-letter state of `pid` from /proc/PID/stat ('R', 'S', 'Z',
// ...); kNotFound once the process is gone and reaped. ReadProcStat's
// field 3.
absl::StatusOr<char> ProcessState(pid_t pid);

// True when `pid` exists and is neither a zombie nor dead
// (ProcStat::running()).
bool IsRunning(pid_t pid);

// Returns whether process `pid` has a descriptor open on the file identified
// by (`dev`, `ino`). This is how a pid read from a pid file is tied to the
// process that really holds it. kNotFound when the process is gone,
// kPermissionDenied when its descriptors cannot be read.
absl::StatusOr<bool> ProcessHasFileOpen(pid_t pid, dev_t dev, ino_t ino);

// Returns whether process `pid` holds a write lock (an OFD or a POSIX record
// lock) on the file identified by (`dev`, `ino`), through one of its
// descriptors. Having the file open proves nothing: anyone may open a 0644
// pid file, and `sleep 9<x.pid` keeps it open. F_OFD_GETLK cannot name the
// holder of an OFD lock (it reports l_pid -1), so the answer comes from
// /proc/PID/fdinfo/N, which lists the locks of that open file description.
// A child that inherited the descriptor shares the description and its
// lock; callers therefore check the pid the daemon wrote, not any holder.
// kNotFound when the process is gone, kPermissionDenied when its
// descriptors cannot be read.
absl::StatusOr<bool> ProcessHoldsWriteLock(pid_t pid, dev_t dev, ino_t ino);

// Returns the processes that `pid` holds a pidfd of (the "Pid:" line of
// each pidfd's /proc/PID/fdinfo entry; a pidfd of an exited process, "Pid:
// -1", names none, and neither does a zombie whose threads have all
// exited, which fdinfo still names until it is reaped). kNotFound when the
// process is gone, kPermissionDenied when its descriptors cannot be read.
absl::StatusOr<std::vector<pid_t>> PidfdTargets(pid_t pid);

// Whether `pid` holds pidfds, and only of exited processes ("Pid: -1", or
// a zombie whose threads have all exited; a process outside this pid namespace,
// "Pid: 0", counts as alive): a path keeper whose daemon is gone. Errors as
// PidfdTargets.
absl::StatusOr<bool> KeepsOnlyExitedProcesses(pid_t pid);

// Returns the pid of the process that this process's `pidfd` refers to
// (its fdinfo's "Pid:" line), or 0 when it cannot be read or the process
// has been reaped.
pid_t PidOfPidfd(int pidfd);

// Returns whether the write lock on the file (`dev`, `ino`) is held for
// process `pid`: by `pid` itself (ProcessHoldsWriteLock), or by its path
// keeper. A daemon that dropped privileges or chrooted keeps no descriptor
// of its pid file (it could rewrite the root-owned file through one); the
// keeper, which stayed privileged, holds the file's lock and a pidfd of the
// daemon, and the daemon a pidfd of the keeper (path_keeper.h). Both
// pidfds are required: the daemon's says where to look (cheaply, without a
// scan of /proc), the keeper's proves the lock is held for this daemon.
// Errors as ProcessHoldsWriteLock, for `pid`.
//
// Issue 21: a program run by //tools:daemonkit may close every descriptor
// it inherited, so it can hold neither the lock nor a pidfd. Its monitor
// (its parent, named kProgramMonitorName) holds the lock and a pidfd of it:
// that counts too. The name keeps a library supervisor, which holds its
// pid file's lock and a pidfd of its worker, from vouching for the worker
// when someone rewrote the file with the worker's pid.
absl::StatusOr<bool> WriteLockHeldFor(pid_t pid, dev_t dev, ino_t ino);

// The process name (comm) of //tools:daemonkit's monitor, the parent that
// holds the pid file's lock for the program it runs (issue 21).
inline constexpr char kProgramMonitorName[] = "daemonkit";

// The processes found holding a write lock on a file: FindWriteLockHolders.
struct WriteLockHolders {
  // Thread groups (the pids /proc lists), in /proc's order.
  std::vector<pid_t> pids;
  // Processes whose descriptors could not be read (another user's, when
  // not root): any of them may hold the lock too.
  int unreadable = 0;
};

// Scans every process in /proc with ProcessHoldsWriteLock for a write lock
// on the file (`dev`, `ino`). This is how the daemon is found when the
// number in its pid file does not name it (someone rewrote the file). It
// costs O(processes x descriptors): call it only once the cheap check of
// the number has failed. All processes sharing the locked open file
// description (a fork that inherited the descriptor) are listed. Errors
// only when /proc itself cannot be read.
absl::StatusOr<WriteLockHolders> FindWriteLockHolders(dev_t dev, ino_t ino);

// Whether one "lock:" line of /proc/PID/fdinfo/N is a write lock of fcntl(2)
// (OFDLCK or POSIX; flock(2) locks do not conflict with fcntl locks). For
// example "lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:1234 0 EOF".
bool IsFcntlWriteLockLine(absl::string_view line);

// pidfd_open(2) and pidfd_send_signal(2), called through syscall(2): glibc
// 2.36's <sys/pidfd.h> lacks extern "C" and cannot be used from C++. Return
// -1 with errno set on failure, as the syscalls do. The pidfd is O_CLOEXEC.
int PidfdOpen(pid_t pid);
int PidfdSendSignal(int pidfd, int signo);

// Like sigqueue(3) through a pidfd: `signo` with `value` as its si_value
// (si_code SI_QUEUE). 0, or -1 with errno set.
int PidfdSendQueuedSignal(int pidfd, int signo, uint64_t value);

// Waits up to `timeout` for the process behind `pidfd` to exit (a pidfd
// polls readable then). Returns whether it did.
bool AwaitExit(int pidfd, absl::Duration timeout);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PROC_H_
