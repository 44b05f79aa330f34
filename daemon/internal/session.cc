// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/session.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/numbers.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace internal {
namespace {

// Field `field` (ProcStat::kSession, kPgrp) of `pid`, or 0 when it is gone
// (reaped, or dead), or a zombie unless `with_zombies`. A process whose main
// thread has exited shows 'Z' in /proc/PID/stat while its other threads
// still run and hold its descriptors (the pid-file lock): whether such a
// member is gone is its pidfd's to say (readable only once the whole thread
// group has exited).
pid_t FieldOf(pid_t pid, int field, bool with_zombies) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  pid_t value = 0;
  if (!stat.ok() ||
      !(stat->running() || (with_zombies && stat->state() == 'Z')) ||
      !stat->ParseField(field, &value)) {
    return 0;
  }
  return value;
}

pid_t SessionOf(pid_t pid, bool with_zombies) {
  return FieldOf(pid, ProcStat::kSession, with_zombies);
}

// The processes whose `field` is `value`.
std::vector<pid_t> Members(int field, pid_t value, bool with_zombies) {
  std::vector<pid_t> members;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return members;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (absl::SimpleAtoi(entry->d_name, &pid) && pid > 0 &&
        FieldOf(pid, field, with_zombies) == value) {
      members.push_back(pid);
    }
  }
  closedir(proc);
  return members;
}

std::vector<pid_t> SessionMembers(pid_t sid, bool with_zombies) {
  return Members(ProcStat::kSession, sid, with_zombies);
}

}  // namespace

bool ReapChildBefore(pid_t child, const Deadline& deadline) {
  const UniqueFd pidfd(PidfdOpen(child));
  if (pidfd.valid() && !AwaitExit(pidfd.get(), deadline.Left())) return false;
  // Exited (or no pidfd: the first child only forks and exits, so a
  // blocking wait is short).
  ReapChild(child);
  return true;
}

std::vector<pid_t> LiveSessionMembers(pid_t sid) {
  return SessionMembers(sid, /*with_zombies=*/false);
}

bool KillRestOfOwnGroup(absl::Duration timeout) {
  const pid_t self = getpid();
  const pid_t group = getpgrp();
  return KillUntilGone(
      [&] {
        bool running = false;
        for (pid_t pid :
             Members(ProcStat::kPgrp, group, /*with_zombies=*/true)) {
          if (pid == self) continue;
          const UniqueFd pidfd(PidfdOpen(pid));
          if (!pidfd.valid()) continue;
          if (FieldOf(pid, ProcStat::kPgrp, /*with_zombies=*/true) == group &&
              !AwaitExit(pidfd.get(), absl::ZeroDuration())) {
            KillThroughPidfd(pidfd.get());
            running = true;
          }
        }
        return running;
      },
      Deadline::In(timeout));
}

bool KillSession(pid_t sid, int daemon_pidfd, absl::Duration timeout) {
  return KillUntilGone(
      [&] {
        bool running = false;
        if (daemon_pidfd >= 0 &&
            !AwaitExit(daemon_pidfd, absl::ZeroDuration())) {
          KillThroughPidfd(daemon_pidfd);
          running = true;
        }
        const std::vector<pid_t> members =
            SessionMembers(sid, /*with_zombies=*/true);
        // The whole group at once (the daemon's children, forking or not),
        // but only while it has members: an empty group's number could be
        // reused.
        if (!members.empty()) KillGroupNow(sid);
        for (pid_t pid : members) {
          // Through a pidfd, and only once /proc confirms (while the pidfd's
          // process still runs) that this pid is still a member.
          const UniqueFd pidfd(PidfdOpen(pid));
          if (!pidfd.valid()) continue;
          if (SessionOf(pid, /*with_zombies=*/true) == sid &&
              !AwaitExit(pidfd.get(), absl::ZeroDuration())) {
            KillThroughPidfd(pidfd.get());
            running = true;
          }
        }
        return running;
      },
      Deadline::In(timeout));
}

}  // namespace internal
}  // namespace daemonkit
