// Copyright 2026 The daemonkit Authors.
//
// The control actions on a program run by daemonkit's monitor
// (program_control.h).

#include "tools/program_control.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/control.h"
#include "daemon/internal/daemon_access.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/program.h"
#include "daemon/internal/program_cgroup.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/proc.h"

namespace daemonkit {

using internal::ProgramCgroup;

// Ends the processes of every cgroup named `name` with `signo`, SIGKILL
// after `grace` (0 for SIGKILL at once), and removes them. An error naming
// the cgroup when a process survived or a directory stayed; `ended` counts
// the cgroups that held processes.
absl::Status EndProgramCgroups(const std::string& name, int signo,
                               absl::Duration grace, int* ended) {
  for (const std::string& directory : internal::FindProgramCgroups(name)) {
    std::unique_ptr<ProgramCgroup> cgroup = ProgramCgroup::At(directory);
    if (cgroup->Populated() && ended != nullptr) ++*ended;
    if (!cgroup->End(signo, grace, kMonitorGrace)) {
      return absl::InternalError(absl::StrCat(cgroup->Processes().size(),
                                              " processes of cgroup ",
                                              directory, " survived SIGKILL"));
    }
    if (absl::Status removed = cgroup->Remove(); !removed.ok()) {
      return removed;
    }
  }
  return absl::OkStatus();
}

namespace {

// The program's pid, from the pid file, pinned by a pidfd opened before a
// second look confirms that the lock is still held for it: a number read
// once could have been recycled by then. kNotFound when not running.
absl::StatusOr<int> PinProgram(const std::string& pidfile) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<DaemonStatus> status = QueryDaemonStatus(pidfile);
    if (!status.ok()) return status.status();
    if (status->state != DaemonStatus::State::kRunning) {
      return absl::NotFoundError("not running");
    }
    if (!status->pid_verified || status->pid <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot tell which process runs the program: ", status->Describe()));
    }
    internal::UniqueFd pidfd(internal::PidfdOpen(status->pid));
    if (!pidfd.valid()) continue;  // gone meanwhile: look again
    absl::StatusOr<DaemonStatus> again = QueryDaemonStatus(pidfile);
    if (again.ok() && again->state == DaemonStatus::State::kRunning &&
        again->pid_verified && again->pid == status->pid) {
      return pidfd.release();
    }
  }
  return absl::FailedPreconditionError(
      "the pid file changed while it was read; try again");
}

// Whether `pid` is a daemonkit monitor (its process name).
bool IsMonitor(pid_t pid) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  return stat.ok() && stat->field(ProcStat::kComm) ==
                          absl::string_view(internal::kProgramMonitorName);
}

// The monitor of the program that `program_pidfd` pins: its parent, named
// daemonkit and holding the pid file's lock (or the monitor itself, which
// the pid file names between two runs under --daemon_restart). A pidfd of
// it, or -1.
int PinMonitor(const std::string& pidfile, int program_pidfd) {
  const pid_t program = internal::PidOfPidfd(program_pidfd);
  if (program <= 0) return -1;
  if (IsMonitor(program)) return fcntl(program_pidfd, F_DUPFD_CLOEXEC, 0);
  auto parent_of = [](pid_t pid) {
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    pid_t parent = 0;
    if (!stat.ok() || !stat->ParseField(ProcStat::kPpid, &parent)) return 0;
    return parent;
  };
  const pid_t parent = parent_of(program);
  if (parent <= 1) return -1;
  internal::UniqueFd pidfd(internal::PidfdOpen(parent));
  if (!pidfd.valid()) return -1;
  // Pinned, and still the parent: the pid names the monitor.
  struct stat st;
  absl::StatusOr<bool> holds =
      stat(pidfile.c_str(), &st) == 0
          ? internal::ProcessHoldsWriteLock(parent, st.st_dev, st.st_ino)
          : absl::StatusOr<bool>(false);
  if (parent_of(program) != parent || !IsMonitor(parent) || !holds.ok() ||
      !*holds) {
    return -1;
  }
  return pidfd.release();
}

// Whether a live daemonkit monitor holds the file `absolute` open, also
// once it was removed ("PATH (deleted)"): the monitor keeping its lock.
// Found by /proc alone, so also between two runs (no program in its
// cgroup then) and without a cgroup.
bool MonitorHolds(const std::string& absolute) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return false;
  bool held = false;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    if (!stat.ok() || stat->state() == 'Z' ||
        stat->field(ProcStat::kComm) != internal::kProgramMonitorName) {
      continue;
    }
    const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (struct dirent* fd = readdir(fds)) {
      char target[PATH_MAX];
      const ssize_t n =
          readlinkat(dirfd(fds), fd->d_name, target, sizeof(target) - 1);
      if (n <= 0) continue;
      const absl::string_view link(target, static_cast<size_t>(n));
      if (link == absolute || link == absolute + " (deleted)") {
        held = true;
        break;
      }
    }
    closedir(fds);
    if (held) break;
  }
  closedir(proc);
  return held;
}

// Whether `pid` runs (not a zombie) as a child of `parent`, which has not
// reaped it: the pid cannot name another process meanwhile.
bool IsRunningChildOf(pid_t pid, pid_t parent) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  pid_t ppid = 0;
  return stat.ok() && stat->ParseField(ProcStat::kPpid, &ppid) &&
         ppid == parent && stat->state() != 'Z';
}

}  // namespace

void AwaitRestoredPidFile(const std::string& pidfile, absl::Duration patience) {
  struct stat st;
  if (pidfile.empty() || stat(pidfile.c_str(), &st) == 0) return;
  absl::StatusOr<std::string> absolute = AbsolutePath(pidfile);
  if (!absolute.ok() || !MonitorHolds(*absolute)) return;
  const internal::Deadline deadline = internal::Deadline::In(patience);
  while (stat(pidfile.c_str(), &st) != 0 && !deadline.Passed()) {
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// " (pid file /abs/path)", the note the library's control messages end
// with: said from another directory, it shows where the action looked.
std::string PidFileNote(const std::string& pidfile) {
  absl::StatusOr<std::string> absolute = AbsolutePath(pidfile);
  return absl::StrCat(" (pid file ", absolute.ok() ? *absolute : pidfile, ")");
}

// stop: SIGTERM to the monitor, which sends the program its --stop_signal
// (SIGKILL after the stop timeout), ends the rest of the tree and exits
// without restarting anything; then the library's stop waits for the lock
// to go (or ends whatever still holds it) and removes a stale file, and
// the program's cgroup, if any, is ended and removed (`leftovers` counts
// those that still held processes). Sent to the program itself, the
// signal would look to a monitor under --daemon_restart=always like a
// crash to restart.
absl::Status StopProgram(const std::string& pidfile, int signo,
                         absl::Duration timeout, int* leftovers) {
  // The monitor may take the stop timeout for the program, then for the
  // rest of the tree.
  const absl::Duration monitor_timeout = 2 * timeout + kMonitorGrace;
  absl::StatusOr<int> pidfd = PinProgram(pidfile);
  if (pidfd.ok()) {
    // Declared in this order so that the monitor's closes first, as ever.
    const internal::UniqueFd program(*pidfd);
    const internal::UniqueFd pinned_monitor(PinMonitor(pidfile, program.get()));
    const int monitor = pinned_monitor.get();
    const int target = monitor >= 0 ? monitor : program.get();
    internal::EndPolicy policy;
    policy.first_signal = monitor >= 0 ? SIGTERM : signo;
    policy.then_continue = true;
    policy.grace = monitor_timeout;
    policy.kill_grace = kMonitorGrace;
    // The outcome is the lock's to tell: StopDaemon below waits for it.
    (void)internal::EndProcess(
        target, policy, monitor >= 0 ? "the monitor" : "the program", [] {});
  } else if (!absl::IsNotFound(pidfd.status()) &&
             !absl::IsFailedPrecondition(pidfd.status())) {
    return pidfd.status();
  }
  if (absl::Status stopped = StopDaemon(pidfile, monitor_timeout);
      !stopped.ok()) {
    return stopped;
  }
  // What the program's cgroup still holds: nothing once a monitor ended
  // it; the program's tree when the monitor was SIGKILLed (its children,
  // reparented away, and a setuid program, which the parent-death signal
  // does not reach). Left alone when a new start holds the lock by now.
  absl::StatusOr<DaemonStatus> after = QueryDaemonStatus(pidfile);
  if (after.ok() && after->state == DaemonStatus::State::kRunning) {
    return absl::OkStatus();
  }
  return EndProgramCgroups(internal::ProgramCgroupName(pidfile), signo, timeout,
                           leftovers);
}

absl::Status ReloadProgram(const std::string& pidfile, int signo) {
  absl::StatusOr<int> pinned = PinProgram(pidfile);
  if (!pinned.ok()) return pinned.status();
  const internal::UniqueFd program(*pinned);
  const int pidfd = program.get();
  // Through the monitor when there is one, as stop goes: it reopens its
  // output files and passes the reload on as the start's --reload_signal
  // (the attack of 2026-12-06: a reload sent to the program itself was
  // SIGHUP whatever the start had said, and killed a program that handles
  // only USR1). The monitor between two runs takes the HUP the same way.
  const internal::UniqueFd monitor(PinMonitor(pidfile, pidfd));
  const int target = monitor.get();
  if (target >= 0 || IsMonitor(internal::PidOfPidfd(pidfd))) signo = SIGHUP;
  absl::Status result = absl::OkStatus();
  if (internal::PidfdSendSignal(target >= 0 ? target : pidfd, signo) != 0) {
    result = errno == ESRCH
                 ? absl::NotFoundError("not running")
                 : absl::InternalError(absl::StrCat("send signal ", signo, ": ",
                                                    std::strerror(errno)));
  }
  return result;
}

// upgrade (issue 21.4): asks the monitor, through the library's upgrade
// channel, to start the program anew with the same sockets and, once the
// new one is ready, to stop the old one; waits for the old program's end
// (its stop timeout, then SIGKILL, then its tree's). The program's pids in
// the result; kNotFound when not running.
absl::StatusOr<UpgradeResult> UpgradeProgram(const std::string& pidfile,
                                             const Options& options) {
  absl::StatusOr<std::string> absolute = AbsolutePath(pidfile);
  if (!absolute.ok()) return absolute.status();
  absl::StatusOr<int> pinned = PinProgram(pidfile);
  if (!pinned.ok()) return pinned.status();
  const internal::UniqueFd pinned_program(*pinned);
  const int program = pinned_program.get();
  const internal::UniqueFd pinned_monitor(PinMonitor(pidfile, program));
  const int monitor = pinned_monitor.get();
  absl::StatusOr<UpgradeResult> result = absl::FailedPreconditionError(
      absl::StrCat("no daemonkit monitor holds the pid file for pid ",
                   internal::PidOfPidfd(program),
                   ": it was not started by daemonkit for a program"));
  // The old program's run cgroup, which the monitor removes once it has
  // ended the program's tree: upgrade returns once that is gone too.
  const std::string old_run =
      internal::ProgramRunCgroupOf(internal::PidOfPidfd(program));
  if (monitor >= 0) {
    const absl::Duration drain = 2 * options.stop_timeout + kMonitorGrace;
    const internal::Deadline deadline = internal::Deadline::In(drain);
    const absl::Time asked = internal::MonotonicNow();
    const pid_t monitor_pid = internal::PidOfPidfd(monitor);
    result = internal::RequestUpgrade(*absolute, monitor, program,
                                      options.ready_timeout, drain);
    if (result.ok() && result->old_gone && !old_run.empty()) {
      struct stat st;
      while (stat(old_run.c_str(), &st) == 0 && !deadline.Passed() &&
             !internal::AwaitExit(monitor, absl::ZeroDuration())) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      result->old_gone = stat(old_run.c_str(), &st) != 0;
      result->old_gone_after = internal::MonotonicNow() - asked;
    }
    // The attacks of 2026-12-07: "upgraded" told of a service that was
    // gone, when the new program died while the old one drained, or the
    // monitor was SIGKILLed (taking the new program with it).
    if (result.ok()) {
      absl::StatusOr<DaemonStatus> now = QueryDaemonStatus(pidfile);
      // Another upgrade may have replaced the new program meanwhile (the
      // attack of 2026-12-07: two at once, the first said "check
      // status"): that one still runs, draining, as the monitor's child.
      const bool replaced_since =
          now.ok() && now->pid != result->new_pid &&
          IsRunningChildOf(result->new_pid, monitor_pid);
      if (!now.ok() || now->state != DaemonStatus::State::kRunning ||
          (now->pid != result->new_pid && !replaced_since) ||
          internal::AwaitExit(monitor, absl::ZeroDuration())) {
        result = absl::UnknownError(absl::StrCat(
            "the new program (pid ", result->new_pid,
            ") no longer runs: it, or its monitor (pid ", monitor_pid,
            "), ended after the handover; check status"));
      }
    }
  }
  return result;
}

}  // namespace daemonkit
