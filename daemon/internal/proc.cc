// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
absl::StatusOr<int> CountThreads() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return ErrnoError(errno, "opendir /proc/self/task");
  int threads = 0;
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++threads;
  }
  int saved = errno;
  closedir(dir);
  if (saved != 0) return ErrnoError(saved, "readdir /proc/self/task");
  return threads;
}

absl::StatusOr<char> ProcessState(pid_t pid) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  if (!stat.ok()) return stat.status();
  return stat->state();
}

bool IsRunning(pid_t pid) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  return stat.ok() && stat->running();
}

namespace {

// The descriptors (their names in /proc/PID/fd) of process `pid` that are
// open on the file (`dev`, `ino`); with `first_only`, at most one.
absl::StatusOr<std::vector<std::string>> DescriptorsOnFile(pid_t pid, dev_t dev,
                                                           ino_t ino,
                                                           bool first_only) {
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) {
    return ErrnoError(errno, absl::StrCat("opendir ", fd_dir));
  }
  std::vector<std::string> matching;
  while (struct dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd)) continue;
    struct stat st;
    // fstatat follows the magic link to the open file itself.
    if (fstatat(dirfd(dir), entry->d_name, &st, 0) == 0 &&
        FileIdentity::Of(st) == FileIdentity{dev, ino}) {
      matching.push_back(entry->d_name);
      if (first_only) break;
    }
  }
  closedir(dir);
  return matching;
}

}  // namespace

absl::StatusOr<bool> ProcessHasFileOpen(pid_t pid, dev_t dev, ino_t ino) {
  absl::StatusOr<std::vector<std::string>> fds =
      DescriptorsOnFile(pid, dev, ino, /*first_only=*/true);
  if (!fds.ok()) return fds.status();
  return !fds->empty();
}

bool IsFcntlWriteLockLine(absl::string_view line) {
  if (!absl::ConsumePrefix(&line, "lock:")) return false;
  std::vector<absl::string_view> words =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  // "1:" CLASS MODE TYPE PID DEV:INO START END
  return words.size() >= 4 && (words[1] == "OFDLCK" || words[1] == "POSIX") &&
         words[3] == "WRITE";
}

absl::StatusOr<bool> ProcessHoldsWriteLock(pid_t pid, dev_t dev, ino_t ino) {
  absl::StatusOr<std::vector<std::string>> matching =
      DescriptorsOnFile(pid, dev, ino, /*first_only=*/false);
  if (!matching.ok()) return matching.status();
  for (const std::string& fd : *matching) {
    absl::StatusOr<std::string> info =
        ReadSmallFile(absl::StrCat("/proc/", pid, "/fdinfo/", fd));
    // Closed meanwhile: that descriptor holds nothing.
    if (!info.ok()) {
      if (absl::IsNotFound(info.status())) continue;
      return info.status();
    }
    for (absl::string_view line : absl::StrSplit(*info, '\n')) {
      if (IsFcntlWriteLockLine(line)) return true;
    }
  }
  return false;
}

namespace {

// The "Pid:" line of a pidfd's fdinfo: the pid, -1 for an exited process,
// 0 for one outside this pid namespace or when there is no such line.
pid_t RawPidInPidfdInfo(absl::string_view info) {
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    pid_t target;
    if (absl::ConsumePrefix(&line, "Pid:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &target)) {
      return target;
    }
  }
  return 0;
}

// The pid in the "Pid:" line of a pidfd's fdinfo, or 0.
pid_t PidInPidfdInfo(absl::string_view info) {
  const pid_t target = RawPidInPidfdInfo(info);
  return target > 0 ? target : 0;
}

// The raw "Pid:" value of every pidfd `pid` holds (RawPidInPidfdInfo).
absl::StatusOr<std::vector<pid_t>> RawPidfdTargets(pid_t pid) {
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) {
    return ErrnoError(errno, absl::StrCat("opendir ", fd_dir));
  }
  std::vector<pid_t> targets;
  while (struct dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd)) continue;
    char link[64];
    const ssize_t n =
        readlinkat(dirfd(dir), entry->d_name, link, sizeof(link) - 1);
    if (n < 0 || absl::string_view(link, n) != "anon_inode:[pidfd]") continue;
    absl::StatusOr<std::string> info =
        ReadSmallFile(absl::StrCat("/proc/", pid, "/fdinfo/", entry->d_name));
    if (!info.ok()) continue;  // closed meanwhile
    targets.push_back(RawPidInPidfdInfo(*info));
  }
  closedir(dir);
  return targets;
}

}  // namespace

pid_t PidOfPidfd(int pidfd) {
  absl::StatusOr<std::string> info =
      ReadSmallFile(absl::StrCat("/proc/self/fdinfo/", pidfd));
  return info.ok() ? PidInPidfdInfo(*info) : 0;
}

namespace {

// Whether every thread of `pid` has exited: a pidfd's fdinfo still names a
// zombie (and a zombie waits for its parent, here pid 1 that reaps only
// every second or two), but its own pidfd is readable once the whole
// thread group is gone, and only then are its locks released.
bool ThreadGroupExited(pid_t pid) {
  const UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd.valid()) return errno == ESRCH;
  return AwaitExit(pidfd.get(), absl::ZeroDuration());
}

}  // namespace

absl::StatusOr<std::vector<pid_t>> PidfdTargets(pid_t pid) {
  DAEMONKIT_ASSIGN_OR_RETURN(std::vector<pid_t> raw, RawPidfdTargets(pid));
  std::vector<pid_t> targets;
  for (pid_t target : raw) {
    if (target > 0 && !ThreadGroupExited(target)) targets.push_back(target);
  }
  return targets;
}

absl::StatusOr<bool> KeepsOnlyExitedProcesses(pid_t pid) {
  DAEMONKIT_ASSIGN_OR_RETURN(std::vector<pid_t> raw, RawPidfdTargets(pid));
  if (raw.empty()) return false;
  for (pid_t target : raw) {
    if (target != -1 && !ThreadGroupExited(target)) return false;
  }
  return true;
}

namespace {

// Whether `pid`'s parent is a daemonkit monitor holding the lock on (`dev`,
// `ino`) and a pidfd of `pid` (WriteLockHeldFor).
bool HeldByProgramMonitor(pid_t pid, dev_t dev, ino_t ino) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  pid_t parent = 0;
  if (!stat.ok() || !stat->ParseField(ProcStat::kPpid, &parent) ||
      parent <= 1) {
    return false;
  }
  absl::StatusOr<std::string> comm =
      ReadSmallFile(absl::StrCat("/proc/", parent, "/comm"));
  if (!comm.ok() ||
      absl::StripTrailingAsciiWhitespace(*comm) != kProgramMonitorName) {
    return false;
  }
  absl::StatusOr<bool> holds = ProcessHoldsWriteLock(parent, dev, ino);
  if (!holds.ok() || !*holds) return false;
  absl::StatusOr<std::vector<pid_t>> kept = PidfdTargets(parent);
  if (!kept.ok()) return false;
  for (pid_t target : *kept) {
    if (target == pid) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<bool> WriteLockHeldFor(pid_t pid, dev_t dev, ino_t ino) {
  absl::StatusOr<bool> holds = ProcessHoldsWriteLock(pid, dev, ino);
  if (!holds.ok() || *holds) return holds;
  absl::StatusOr<std::vector<pid_t>> keepers = PidfdTargets(pid);
  if (!keepers.ok()) return keepers.status();
  for (pid_t keeper : *keepers) {
    if (keeper == pid) continue;
    absl::StatusOr<bool> keeper_holds = ProcessHoldsWriteLock(keeper, dev, ino);
    if (!keeper_holds.ok() || !*keeper_holds) continue;
    absl::StatusOr<std::vector<pid_t>> kept = PidfdTargets(keeper);
    if (!kept.ok()) continue;
    for (pid_t target : *kept) {
      if (target == pid) return true;
    }
  }
  return HeldByProgramMonitor(pid, dev, ino);
}

absl::StatusOr<WriteLockHolders> FindWriteLockHolders(dev_t dev, ino_t ino) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return ErrnoError(errno, "opendir /proc");
  WriteLockHolders holders;
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(proc);
    if (entry == nullptr) break;
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0) continue;
    absl::StatusOr<bool> holds = ProcessHoldsWriteLock(pid, dev, ino);
    if (holds.ok()) {
      if (*holds) holders.pids.push_back(pid);
    } else if (!absl::IsNotFound(holds.status())) {
      // Gone meanwhile (kNotFound) holds nothing; anything else hides what
      // that process holds.
      ++holders.unreadable;
    }
  }
  const int saved = errno;
  closedir(proc);
  if (saved != 0) return ErrnoError(saved, "readdir /proc");
  return holders;
}

int PidfdOpen(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int PidfdSendSignal(int pidfd, int signo) {
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0));
}

int PidfdSendQueuedSignal(int pidfd, int signo, uint64_t value) {
  siginfo_t info = {};
  info.si_signo = signo;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  // All 64 bits, as the receiver reads them (signals.h, WatchQueued).
  static_assert(sizeof(info.si_value) == sizeof(value));
  std::memcpy(&info.si_value, &value, sizeof(value));
  return static_cast<int>(
      syscall(SYS_pidfd_send_signal, pidfd, signo, &info, 0));
}

bool AwaitExit(int pidfd, absl::Duration timeout) {
  if (pidfd < 0) return false;
  const Deadline deadline = Deadline::In(timeout);
  for (;;) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    const int ready = poll(&pfd, 1, deadline.PollTimeoutMs());
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace internal
}  // namespace daemonkit
