// Copyright 2026 The daemonkit Authors.

#include "daemon/control.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/internal/daemon_access.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/upgrade_request.h"
#include "daemon/internal/worker_pidfile.h"
#include "daemon/proc.h"
#include "glog/logging.h"

namespace daemonkit {
namespace {

using internal::PidFileProbe;

// How long to wait for a starting daemon (lock held, pid not yet written).
constexpr absl::Duration kStartingGrace = absl::Seconds(2);

// Probes the pid file; while the lock is held by a daemon that has not yet
// written its pid (the file is empty), waits a little for it. When the
// number in the file names no holder, looks for the holder in /proc: the
// daemon wrote its pid in another pid namespace (a container's "1"), or the
// file was rewritten (a compromised daemon that kept a writable descriptor
// on it can write any number, 1 included). That scan costs O(processes x
// descriptors), so it runs only after the cheap check failed, and at once
// only when there is a number: waiting gives a written number nothing
// (issue 23, attack finding: every status of a container's daemon took 2 s).
absl::StatusOr<PidFileProbe> ProbeSettled(const std::string& pidfile) {
  const internal::Deadline deadline = internal::Deadline::In(kStartingGrace);
  bool scanned = false;
  for (;;) {
    DAEMONKIT_ASSIGN_OR_RETURN(PidFileProbe probe,
                               internal::ProbePidFile(pidfile));
    if (probe.state != PidFileProbe::State::kLocked || probe.pid_verified) {
      return probe;
    }
    if (deadline.Passed()) {
      return internal::ProbePidFile(pidfile, internal::HolderSearch::kScanProc);
    }
    if (probe.pid.has_value() && !scanned) {
      scanned = true;
      DAEMONKIT_ASSIGN_OR_RETURN(
          PidFileProbe found,
          internal::ProbePidFile(pidfile, internal::HolderSearch::kScanProc));
      // Found, or none to find (a keeper left without its daemon, or the
      // lock released meanwhile); otherwise (several holders: a start in
      // progress) wait as for an empty file.
      if (found.holder || found.left_keeper ||
          found.state != PidFileProbe::State::kLocked) {
        return found;
      }
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

// Opens a pidfd on the process holding the write lock of `pidfile`: the pid
// written in it once /proc shows that process holding the lock, else the
// one process /proc shows holding it. kNotFound when nothing runs;
// kFailedPrecondition when the lock is held but no single holder is found.
// The pidfd pins the process: once the probe after it still shows that
// process holding the file, a signal through it cannot reach another.
absl::StatusOr<internal::UniqueFd> OpenHolder(const std::string& pidfile) {
  DAEMONKIT_ASSIGN_OR_RETURN(PidFileProbe probe, ProbeSettled(pidfile));
  if (probe.state != PidFileProbe::State::kLocked || probe.left_keeper) {
    return absl::NotFoundError("not running");
  }
  if (!probe.holder.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pid file ", pidfile,
        " is locked but names no process holding it, and no single process "
        "is seen holding its lock; not signalling"));
  }
  const pid_t holder = *probe.holder;
  internal::UniqueFd pidfd(internal::PidfdOpen(holder));
  if (!pidfd.valid()) {
    if (errno == ESRCH) return absl::NotFoundError("not running");
    return internal::ErrnoError(errno, absl::StrCat("pidfd_open ", holder));
  }
  absl::StatusOr<PidFileProbe> again = internal::ProbePidFile(
      pidfile, probe.scanned ? internal::HolderSearch::kScanProc
                             : internal::HolderSearch::kNumberOnly);
  if (!again.ok() || again->holder != holder) {
    return absl::NotFoundError("not running");
  }
  if (!probe.pid_verified) {
    LOG(WARNING) << "pid file " << pidfile << " does not name the process "
                 << "holding its lock; acting on that process, pid " << holder;
  }
  return pidfd;
}

}  // namespace

// A control action runs where the user typed it: a relative pid file is
// taken from the current directory, as Daemonize takes it at start.
absl::StatusOr<std::string> AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    return internal::ErrnoError(errno, "getcwd");
  }
  return absl::StrCat(cwd, std::strcmp(cwd, "/") == 0 ? "" : "/", path);
}

absl::StatusOr<ControlAction> ParseControlAction(absl::string_view text) {
  if (text == "start") return ControlAction::kStart;
  if (text == "stop") return ControlAction::kStop;
  if (text == "restart") return ControlAction::kRestart;
  if (text == "reload") return ControlAction::kReload;
  if (text == "status") return ControlAction::kStatus;
  if (text == "upgrade") return ControlAction::kUpgrade;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown action '", text,
                   "' (start, stop, restart, reload, status, upgrade)"));
}

std::string DaemonStatus::Describe() const {
  // Every line names the file it read, as an absolute path: "not running"
  // said from another directory shows where it looked (issue 22.4).
  const std::string file =
      pidfile.empty() ? std::string() : absl::StrCat(" ", pidfile);
  switch (state) {
    case State::kRunning: {
      if (pid <= 0) {
        return absl::StrCat("running, pid not yet written (pid file", file,
                            ")");
      }
      if (!pid_verified) {
        return absl::StrCat("running, pid unknown (the pid file", file,
                            " names ", pid, ", which does not hold its lock)");
      }
      std::string line = absl::StrCat("running, pid ", pid);
      if (worker_pid > 0) absl::StrAppend(&line, ", worker ", worker_pid);
      if (pidfile_pid != pid) {
        absl::StrAppend(&line, " (the pid file", file,
                        pidfile_pid > 0 ? absl::StrCat(" says ", pidfile_pid)
                                        : " holds no pid",
                        ")");
      } else if (!pidfile.empty()) {
        absl::StrAppend(&line, " (pid file", file, ")");
      }
      return line;
    }
    case State::kDead: {
      std::string line =
          pid > 0
              ? absl::StrCat("dead, pid file", file, " left (pid ", pid, ")")
              : absl::StrCat("dead, pid file", file, " left");
      if (left_keeper_pid > 0) {
        absl::StrAppend(&line, "; its path keeper, pid ", left_keeper_pid,
                        ", still holds the lock");
      }
      return line;
    }
    case State::kNotRunning:
      break;
  }
  return pidfile.empty() ? "not running"
                         : absl::StrCat("not running (pid file", file, ")");
}

int DaemonStatus::ExitCode() const {
  switch (state) {
    case State::kRunning:
      return kExitStatusRunning;
    case State::kDead:
      return kExitStatusDead;
    case State::kNotRunning:
      return kExitStatusNotRunning;
  }
  return kExitStatusNotRunning;
}

absl::StatusOr<DaemonStatus> QueryDaemonStatus(
    const std::string& pidfile_arg, const std::string& child_pidfile_arg) {
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string pidfile,
                             AbsolutePath(pidfile_arg));
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string child_pidfile,
                             AbsolutePath(child_pidfile_arg));
  DAEMONKIT_ASSIGN_OR_RETURN(PidFileProbe probe, ProbeSettled(pidfile));
  DaemonStatus status;
  status.pidfile = pidfile;
  status.pidfile_pid = probe.pid.value_or(0);
  // The process holding the lock, when found, whatever the file says.
  status.pid = probe.holder.value_or(status.pidfile_pid);
  status.pid_verified = probe.holder.has_value();
  if (!child_pidfile.empty() && probe.state == PidFileProbe::State::kLocked) {
    absl::StatusOr<PidFileProbe> worker = internal::ProbePidFile(child_pidfile);
    if (worker.ok() && worker->pid_verified) status.worker_pid = *worker->pid;
  }
  switch (probe.state) {
    case PidFileProbe::State::kLocked:
      status.state = DaemonStatus::State::kRunning;
      if (probe.left_keeper) {
        // Issue 18.12: the lock outlived the daemon in its stopped keeper.
        status.state = DaemonStatus::State::kDead;
        status.pid = status.pidfile_pid;
        status.pid_verified = false;
        status.left_keeper_pid = *probe.left_keeper;
        status.worker_pid = 0;
      }
      break;
    case PidFileProbe::State::kUnlocked:
      status.state = DaemonStatus::State::kDead;
      break;
    case PidFileProbe::State::kMissing:
      status.state = DaemonStatus::State::kNotRunning;
      break;
  }
  return status;
}

namespace {

// Whether /proc shows `pid` stopped (by SIGSTOP, or traced).
bool IsStopped(pid_t pid) {
  const absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  return stat.ok() && (stat->state() == 'T' || stat->state() == 't');
}

// Issue 18.12: a path keeper that still holds the pid file's lock once its
// daemon is gone (it was stopped, so it never saw the exit) keeps every
// start out and makes the file read as running. It is resumed (it then
// removes what its daemon asked it to and exits) and, if it does not exit
// within `grace`, killed. Acts only on the process the probe shows as such
// a keeper, through a pidfd opened before a second look confirms it.
absl::Status EndKeeperLeftBehind(const std::string& pidfile,
                                 absl::Duration grace) {
  absl::StatusOr<PidFileProbe> probe =
      internal::ProbePidFile(pidfile, internal::HolderSearch::kScanProc);
  if (!probe.ok() || !probe->left_keeper) return absl::OkStatus();
  const pid_t keeper = *probe->left_keeper;
  const internal::UniqueFd pidfd(internal::PidfdOpen(keeper));
  if (!pidfd.valid()) {
    if (errno == ESRCH) return absl::OkStatus();
    return internal::ErrnoError(errno, absl::StrCat("pidfd_open ", keeper));
  }
  absl::StatusOr<PidFileProbe> again =
      internal::ProbePidFile(pidfile, internal::HolderSearch::kScanProc);
  if (!again.ok() || again->left_keeper != keeper) return absl::OkStatus();
  const bool stopped = IsStopped(keeper);
  internal::EndPolicy policy;
  policy.first_signal = SIGCONT;
  policy.grace = grace;
  policy.kill_grace = internal::kKeeperKillGrace;
  const absl::StatusOr<internal::EndOutcome> ended = internal::EndProcess(
      pidfd.get(), policy, absl::StrCat("the path keeper (pid ", keeper, ")"),
      [&] {
        // Attack finding 8: a keeper that was only slow (traced, its unlink
        // delayed) was reported "(it was stopped)" from a look taken before
        // the SIGCONT, which a tracer's momentary syscall stop also shows as
        // 't'. Only what /proc says now is claimed.
        if (IsStopped(keeper)) {
          LOG(WARNING) << "the daemon is gone, but its path keeper (pid "
                       << keeper << ") still holds pid file " << pidfile
                       << " and is stopped (state T or t: a tracer or "
                          "debugger holds it?); killing it";
        } else {
          LOG(WARNING) << "the daemon is gone, but its path keeper (pid "
                       << keeper << ") did not let go of pid file " << pidfile
                       << " within " << absl::FormatDuration(grace)
                       << "; killing it";
        }
      });
  if (absl::IsDeadlineExceeded(ended.status())) {
    return absl::DeadlineExceededError(
        absl::StrCat("the path keeper (pid ", keeper, ") still holds pid file ",
                     pidfile, " after SIGKILL"));
  }
  if (!ended.ok()) return ended.status();
  if (*ended == internal::EndOutcome::kExited && stopped) {
    LOG(WARNING) << "the daemon is gone, but its path keeper (pid " << keeper
                 << ") was stopped, holding pid file " << pidfile
                 << "; resumed it, and it exited";
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status StopDaemon(const std::string& pidfile_arg, absl::Duration timeout,
                        const std::string& child_pidfile_arg) {
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string pidfile,
                             AbsolutePath(pidfile_arg));
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string child_pidfile,
                             AbsolutePath(child_pidfile_arg));
  // A daemon that had to be killed, or that was killed before this stop,
  // could not remove its pid files: what nobody holds is cleared. The
  // worker's lock goes with the worker, a moment after its supervisor.
  auto remove_stale = [&]() -> absl::Status {
    DAEMONKIT_RETURN_IF_ERROR(EndKeeperLeftBehind(pidfile, kStartingGrace));
    // A keeper holds the lock a moment longer than its daemon lives: stop
    // returns once it is released, so that a start right after succeeds.
    // Removing a stale file is housekeeping: when it fails (a read-only file
    // system, a directory this user may not write), nothing runs all the
    // same, so stop still succeeds.
    internal::RemovePidFileOnceReleased(pidfile, kStartingGrace);
    if (!child_pidfile.empty()) {
      internal::RemoveWorkerPidFile(child_pidfile, kStartingGrace);
    }
    return absl::OkStatus();
  };
  absl::StatusOr<internal::UniqueFd> pidfd = OpenHolder(pidfile);
  if (absl::IsNotFound(pidfd.status())) return remove_stale();
  if (!pidfd.ok()) return pidfd.status();

  absl::Status result =
      internal::TerminateProcess(pidfd->get(), timeout, "the daemon");
  pidfd->reset();
  DAEMONKIT_RETURN_IF_ERROR(result);
  return remove_stale();
}

absl::Status ReloadDaemon(const std::string& pidfile_arg) {
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string pidfile,
                             AbsolutePath(pidfile_arg));
  DAEMONKIT_ASSIGN_OR_RETURN(const internal::UniqueFd pidfd,
                             OpenHolder(pidfile));
  if (internal::PidfdSendSignal(pidfd.get(), SIGHUP) != 0) {
    return errno == ESRCH ? absl::NotFoundError("not running")
                          : internal::ErrnoError(errno, "send SIGHUP");
  }
  return absl::OkStatus();
}

// Upgrades (issue 14).

std::string UpgradeResult::Describe() const {
  return absl::StrCat("upgraded, pid ", new_pid, " (was ", old_pid,
                      "): ready after ", absl::FormatDuration(ready_after),
                      ", old ", old_gone ? "gone" : "still draining", " after ",
                      absl::FormatDuration(old_gone_after));
}

absl::StatusOr<UpgradeResult> UpgradeDaemon(const std::string& pidfile_arg,
                                            absl::Duration ready_timeout,
                                            absl::Duration drain_timeout) {
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string pidfile,
                             AbsolutePath(pidfile_arg));
  DAEMONKIT_ASSIGN_OR_RETURN(const internal::UniqueFd pidfd,
                             OpenHolder(pidfile));
  return internal::RequestUpgrade(pidfile, pidfd.get(), pidfd.get(),
                                  ready_timeout, drain_timeout);
}

namespace internal {

absl::StatusOr<UpgradeResult> RequestUpgrade(const std::string& pidfile,
                                             int target_pidfd, int old_pidfd,
                                             absl::Duration ready_timeout,
                                             absl::Duration drain_timeout) {
  UpgradeResult result;
  result.old_pid = PidOfPidfd(old_pidfd);
  const pid_t target = PidOfPidfd(target_pidfd);
  if (result.old_pid <= 0 || target <= 0) {
    return absl::InternalError("cannot tell the daemon's pid from its pidfd");
  }
  // The old daemon connects once its main loop sees the signal, and answers
  // once the new one is ready or has failed: within the ready timeout, with
  // a margin for the old daemon's own steps.
  const absl::Duration patience = ready_timeout + absl::Seconds(10);
  DAEMONKIT_ASSIGN_OR_RETURN(
      const UpgradeRequest request,
      UpgradeRequest::ListenAndSignal(pidfile, target_pidfd, target, patience));
  DAEMONKIT_ASSIGN_OR_RETURN(const UniqueFd channel,
                             request.AwaitDaemonConnection());
  DAEMONKIT_ASSIGN_OR_RETURN(result.new_pid, request.ReadAnswer(channel.get()));
  result.ready_after = MonotonicNow() - request.asked_at();
  result.old_gone = WaitReadable(old_pidfd, Deadline::In(drain_timeout));
  result.old_gone_after = MonotonicNow() - request.asked_at();
  return result;
}

}  // namespace internal

}  // namespace daemonkit
