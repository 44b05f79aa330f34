// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/session.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/numbers.h"
#include "daemon/internal/proc.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace internal {
namespace {

// The session id of `pid`, or 0 when it is gone (reaped, or dead), or a
// zombie unless `with_zombies`. A process whose main thread has exited shows
// 'Z' in /proc/PID/stat while its other threads still run and hold its
// descriptors (the pid-file lock): whether such a member is gone is its
// pidfd's to say (readable only once the whole thread group has exited).
pid_t SessionOf(pid_t pid, bool with_zombies) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  pid_t sid = 0;
  if (!stat.ok() ||
      !(stat->running() || (with_zombies && stat->state() == 'Z')) ||
      !stat->ParseField(ProcStat::kSession, &sid)) {
    return 0;
  }
  return sid;
}

std::vector<pid_t> SessionMembers(pid_t sid, bool with_zombies) {
  std::vector<pid_t> members;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return members;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (absl::SimpleAtoi(entry->d_name, &pid) && pid > 0 &&
        SessionOf(pid, with_zombies) == sid) {
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
  return SessionMembers(sid, /*with_zombies=*/false);
}

bool KillSession(pid_t sid, int daemon_pidfd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    bool running = false;
    if (daemon_pidfd >= 0 && !AwaitExit(daemon_pidfd, absl::ZeroDuration())) {
      PidfdSendSignal(daemon_pidfd, SIGKILL);
      running = true;
    }
    const std::vector<pid_t> members =
        SessionMembers(sid, /*with_zombies=*/true);
    // The whole group at once (the daemon's children, forking or not), but
    // only while it has members: an empty group's number could be reused.
    if (!members.empty()) kill(-sid, SIGKILL);
    for (pid_t pid : members) {
      // Through a pidfd, and only once /proc confirms (while the pidfd's
      // process still runs) that this pid is still a member.
      const int pidfd = PidfdOpen(pid);
      if (pidfd < 0) continue;
      if (SessionOf(pid, /*with_zombies=*/true) == sid &&
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
