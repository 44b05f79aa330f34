// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/session.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/proc.h"

namespace daemonkit {
namespace internal {
namespace {

// The session id of a live process, or 0 when it is gone or a zombie.
pid_t LiveSessionOf(pid_t pid) {
  absl::StatusOr<std::string> stat =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return 0;
  const size_t close_paren = stat->rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat->size()) {
    return 0;
  }
  // After the command: state, ppid, pgrp, session.
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close_paren + 2), ' ');
  pid_t sid = 0;
  if (fields.size() < 4 || fields[0] == "Z" || fields[0] == "X" ||
      fields[0] == "x" || !absl::SimpleAtoi(fields[3], &sid)) {
    return 0;
  }
  return sid;
}

// The session id of a process that is not yet reaped (a zombie included),
// or 0 when it is gone.
pid_t UnreapedSessionOf(pid_t pid) {
  absl::StatusOr<std::string> stat =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return 0;
  const size_t close_paren = stat->rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= stat->size()) {
    return 0;
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close_paren + 2), ' ');
  pid_t sid = 0;
  if (fields.size() < 4 || !absl::SimpleAtoi(fields[3], &sid)) return 0;
  return sid;
}

// Every process of session `sid` that is not yet reaped, zombies included:
// a process whose main thread has exited shows 'Z' in /proc/PID/stat while
// its other threads still run and hold its descriptors (the pid-file lock).
// Whether it is gone is the pidfd's to say (readable only once the whole
// thread group has exited).
std::vector<pid_t> UnreapedSessionMembers(pid_t sid) {
  std::vector<pid_t> members;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return members;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (absl::SimpleAtoi(entry->d_name, &pid) && pid > 0 &&
        UnreapedSessionOf(pid) == sid) {
      members.push_back(pid);
    }
  }
  closedir(proc);
  return members;
}

}  // namespace

bool ReapChildBefore(pid_t child, absl::Time deadline) {
  const int pidfd = PidfdOpen(child);
  if (pidfd >= 0) {
    const bool exited = AwaitExit(pidfd, deadline - absl::Now());
    close(pidfd);
    if (!exited) return false;
  }
  // Exited (or no pidfd: the first child only forks and exits, so a
  // blocking wait is short).
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return true;
}

std::vector<pid_t> LiveSessionMembers(pid_t sid) {
  std::vector<pid_t> members;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return members;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (absl::SimpleAtoi(entry->d_name, &pid) && pid > 0 &&
        LiveSessionOf(pid) == sid) {
      members.push_back(pid);
    }
  }
  closedir(proc);
  return members;
}

bool KillSession(pid_t sid, int daemon_pidfd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    bool running = false;
    if (daemon_pidfd >= 0 && !AwaitExit(daemon_pidfd, absl::ZeroDuration())) {
      PidfdSendSignal(daemon_pidfd, SIGKILL);
      running = true;
    }
    const std::vector<pid_t> members = UnreapedSessionMembers(sid);
    // The whole group at once (the daemon's children, forking or not), but
    // only while it has members: an empty group's number could be reused.
    if (!members.empty()) kill(-sid, SIGKILL);
    for (pid_t pid : members) {
      // Through a pidfd, and only once /proc confirms (while the pidfd's
      // process still runs) that this pid is still a member.
      const int pidfd = PidfdOpen(pid);
      if (pidfd < 0) continue;
      if (UnreapedSessionOf(pid) == sid &&
          !AwaitExit(pidfd, absl::ZeroDuration())) {
        PidfdSendSignal(pidfd, SIGKILL);
        running = true;
      }
      close(pidfd);
    }
    if (!running) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
}

}  // namespace internal
}  // namespace daemonkit
