// Copyright 2026 The daemonkit Authors.
//
// Runs in the daemon (after the second fork) or in the foreground process.

#include "daemon/internal/daemon_startup.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/environment.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/process_controls.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/syslog_sink.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// RLIMIT_CORE 0 keeps a daemon's memory (keys, passwords) out of core files;
// asked for, core dumps go up to the hard limit.
absl::Status LimitCoreDumps(bool allow) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_CORE, &limit) != 0) {
    return ErrnoError(errno, "getrlimit RLIMIT_CORE");
  }
  limit.rlim_cur = allow ? limit.rlim_max : 0;
  if (setrlimit(RLIMIT_CORE, &limit) != 0) {
    return ErrnoError(errno, "setrlimit RLIMIT_CORE");
  }
  return absl::OkStatus();
}

// stdin on /dev/null, checked to be the null device like every other file
// the daemon opens while privileged.
absl::Status RedirectStdinToDevNull() {
  OpenPolicy policy;
  policy.what = "stdin";
  policy.access = O_RDONLY;
  policy.allow_dev_null = true;
  DAEMONKIT_ASSIGN_OR_RETURN(OpenedFile null, SafeOpen("/dev/null", policy));
  const UniqueFd owned(null.fd);
  return Redirect(owned.get(), 0);
}

// Enters a directory opened without following a final symbolic link, so
// that what was checked is what is entered.
absl::Status EnterDirectory(absl::string_view what, const std::string& path) {
  DAEMONKIT_ASSIGN_OR_RETURN(int number, OpenDirectoryNoFollow(path, what));
  UniqueFd fd(number);
  const int changed = fchdir(fd.get());
  const int saved = errno;
  fd.reset();
  if (changed != 0) {
    return ErrnoError(saved, absl::StrCat("chdir ", what, " ", path));
  }
  return absl::OkStatus();
}

// chroot(2) into the opened directory, then the working directory inside
// it. No descriptor of a directory survives this function.
absl::Status ChangeRootAndDirectory(const Options& options) {
  if (!options.chroot.empty()) {
    // The daemon's own are closed by now; what is left was handed down (in
    // the foreground the caller's descriptors stay), and a directory among
    // them would lead out of the root.
    DAEMONKIT_RETURN_IF_ERROR(CloseDirectoryDescriptors());
    DAEMONKIT_RETURN_IF_ERROR(EnterDirectory("chroot", options.chroot));
    if (chroot(".") != 0) {
      return ErrnoError(errno, absl::StrCat("chroot ", options.chroot));
    }
  }
  if (options.workdir) {
    DAEMONKIT_RETURN_IF_ERROR(EnterDirectory("workdir", *options.workdir));
  }
  return absl::OkStatus();
}

// Starts the path keeper, which stays outside the chroot and keeps the
// launcher's privileges, and does for the daemon what it can no longer do
// itself: reopen its outputs, remove its pid files (path_keeper.h). Returns
// once the keeper serves, holding only what it keeps; the daemon still
// holds its pid file, to write its pid, then HandPidFilesToKeeper.
absl::StatusOr<std::shared_ptr<PathKeeperClient>> StartPathKeeper(
    OutputFiles& outputs, std::optional<PidFile>& pidfile,
    std::optional<PidFile>& worker_pidfile, ListenSockets& sockets) {
  KeeperTargets targets;
  targets.outputs = outputs.KeeperOutputs();
  targets.sockets = sockets.KeeperFiles();
  for (auto [file, target] :
       {std::make_pair(&pidfile, &targets.pidfile),
        std::make_pair(&worker_pidfile, &targets.worker_pidfile)}) {
    if (!*file) continue;
    struct stat st;
    if (fstat((*file)->fd(), &st) != 0) {
      return ErrnoError(errno, absl::StrCat("stat pid file ", (*file)->path()));
    }
    *target = KeeperPidFile{(*file)->path(), st.st_dev, st.st_ino};
  }
  // The daemon's pid file stays open, locked, in the keeper alone once the
  // daemon has written its pid: a daemon that may write a root-owned pid
  // file can point every tool that trusts the number at another process.
  if (pidfile) targets.pidfile->fd = pidfile->fd();
  // The worker's too: the keeper locks it for each worker (NameWorker), so
  // that no worker, which runs the application, holds it.
  if (worker_pidfile) targets.worker_pidfile->fd = worker_pidfile->fd();
  DAEMONKIT_ASSIGN_OR_RETURN(std::shared_ptr<PathKeeperClient> keeper,
                             PathKeeperClient::Start(targets));
  outputs.UseKeeper(keeper);
  sockets.UseKeeper(keeper);
  return keeper;
}

// The daemon closes its descriptors of the pid files, which the keeper
// holds from now on (path_keeper.h).
void HandPidFilesToKeeper(const std::shared_ptr<PathKeeperClient>& keeper,
                          std::optional<PidFile>& pidfile,
                          std::optional<PidFile>& worker_pidfile) {
  if (pidfile) pidfile->HandToKeeper(keeper);
  // The supervisor keeps no descriptor of the worker's either: the keeper
  // writes, locks and empties it for each worker (NameWorker).
  if (worker_pidfile) {
    worker_pidfile->HandToKeeper(keeper, KeeperPidFileId::kWorker);
  }
}

// Service-manager controls (issue 15): stdio buffers a stdout that is not a
// terminal in blocks of 4 KiB, so a daemon's printf lines reach its log file
// or the journal's pipe minutes late, or are lost when it is killed. Line
// by line, as on a terminal.
void LineBufferStdoutUnlessTerminal() {
  if (isatty(STDOUT_FILENO)) return;
  std::fflush(stdout);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
}

// Service-manager controls (issue 15): the validated options in the terms
// of process_controls.h.
std::vector<LimitRequest> LimitRequests(const Options& options) {
  static_assert(kUnlimited == RLIM_INFINITY, "setrlimit's infinity");
  std::vector<LimitRequest> requests;
  for (const ResourceLimit& limit : options.rlimits) {
    requests.push_back({limit.resource, limit.soft, limit.hard});
  }
  return requests;
}

std::vector<int> CapabilityNumbers(const Options& options) {
  std::vector<int> numbers;
  for (const std::string& name : options.capabilities) {
    // Validated: every name is known.
    if (std::optional<int> cap = CapabilityByName(name)) {
      numbers.push_back(*cap);
    }
  }
  return numbers;
}

// daemon(7)'s steps after the forks, in order; what is unset in `options`
// is left alone.
absl::Status BecomeDaemon(const Options& options,
                          const std::optional<Credentials>& credentials,
                          OutputFiles& outputs, std::optional<PidFile>& pidfile,
                          std::optional<PidFile>& worker_pidfile,
                          ListenSockets& sockets) {
  if (options.detach) DAEMONKIT_RETURN_IF_ERROR(RedirectStdinToDevNull());
  DAEMONKIT_RETURN_IF_ERROR(outputs.Install());
  LineBufferStdoutUnlessTerminal();
  if (options.umask) umask(*options.umask);
  // syslog connects lazily, by path: inside the new root /dev/log is gone.
  ConnectSyslogNow();
  // A daemon that chroots or drops privileges may no longer reach its files
  // by path (a jail, a directory only root may enter or write): the keeper,
  // which stays outside and privileged, reopens and removes them.
  std::shared_ptr<PathKeeperClient> keeper;
  if (!options.chroot.empty() || credentials) {
    DAEMONKIT_ASSIGN_OR_RETURN(
        keeper, StartPathKeeper(outputs, pidfile, worker_pidfile, sockets));
  }
  // Written through its descriptor, and only once a keeper serves (issue
  // 25): a control action that reads a pid it cannot verify (the daemon
  // wrote it in another pid namespace) looks for the daemon through the
  // lock's holders, which are then only the daemon and its keeper, holding
  // a pidfd of the daemon alone; never the keeper's intermediate process,
  // nor a keeper still holding the daemon's other descriptors.
  if (pidfile) DAEMONKIT_RETURN_IF_ERROR(pidfile->WritePid(getpid()));
  if (keeper) HandPidFilesToKeeper(keeper, pidfile, worker_pidfile);
  // Service-manager controls (issue 15): /proc/self/oom_score_adj is not
  // reachable from inside a chroot.
  DAEMONKIT_RETURN_IF_ERROR(
      ApplyScheduling(options.nice, options.oom_score_adj));
  // Before the chroot too: clearing the removed variables from the block
  // /proc/PID/environ shows takes that block's bounds from /proc/self/stat
  // (the model test found them left there by a chrooted daemon, whose
  // /proc/self is gone). Nothing from here to the drop reads a variable.
  if (options.keep_env) {
    DAEMONKIT_RETURN_IF_ERROR(KeepOnlyVariables(*options.keep_env));
  }
  DAEMONKIT_RETURN_IF_ERROR(ChangeRootAndDirectory(options));
  if (options.core_dumps) {
    DAEMONKIT_RETURN_IF_ERROR(LimitCoreDumps(*options.core_dumps));
  }
  // Service-manager controls (issue 15): after core_dumps' RLIMIT_CORE
  // (an explicit core limit wins), before the drop (raising a hard limit
  // needs root). They are the application's: under supervision only the
  // hard limits are raised here, and each worker applies them in full.
  DAEMONKIT_RETURN_IF_ERROR(options.restart == RestartPolicy::kNo
                                ? ApplyResourceLimits(LimitRequests(options))
                                : RaiseHardLimits(LimitRequests(options)));
  CapabilityKeeper capabilities(CapabilityNumbers(options),
                                credentials && options.no_new_privs);
  DAEMONKIT_RETURN_IF_ERROR(capabilities.Prepare());
  if (credentials) {
    DAEMONKIT_RETURN_IF_ERROR(DropPrivileges(*credentials));
    // setuid cleared the dumpable flag; core dumps asked for need it back.
    if (options.core_dumps.value_or(false) && prctl(PR_SET_DUMPABLE, 1) != 0) {
      return ErrnoError(errno, "prctl PR_SET_DUMPABLE");
    }
  }
  DAEMONKIT_RETURN_IF_ERROR(capabilities.Finish());
  // A kept capability must not undo the drop (cap_setuid): the same check
  // as DropPrivileges', now with the capabilities in effect.
  if (credentials && credentials->uid != 0 && !options.capabilities.empty() &&
      setuid(0) == 0) {
    return absl::PermissionDeniedError(
        "--daemon_capabilities: the daemon could regain root after dropping "
        "privileges; refusing to run");
  }
  return absl::OkStatus();
}

// Under supervision (`options.restart`), the calling process becomes the
// supervisor and this returns only in a worker, with the worker's own
// channels; otherwise returns `started` as it is.
StartedDaemon SuperviseIfAsked(const Options& options, StartedDaemon started,
                               std::optional<PidFile>& worker_pidfile) {
  if (options.restart == RestartPolicy::kNo) return started;
  Worker worker =
      Supervise(options, {&started.pidfile, &worker_pidfile, &started.outputs,
                          &started.reporter, &started.notifier,
                          started.signal_fd, &started.sockets});
  // In the worker. The supervisor's pid file and its line to the launcher
  // are the supervisor's: this process closes its copies (the supervisor
  // keeps the lock, and the launcher hears from it alone).
  if (started.pidfile) started.pidfile->Close();
  started.pidfile.reset();
  started.reporter.Close();
  started.worker_pidfile_fd = worker.pidfile_fd;
  started.reporter = std::move(worker.to_supervisor);
  started.notifier = std::move(worker.notifier);
  started.signal_fd = worker.signal_fd;
  // Service-manager controls (issue 15): readiness on the descriptor is the
  // supervisor's to tell, once; no worker keeps the manager's pipe. The
  // supervisor closed the worker's copy at the fork, if it still had one:
  // after a restart the number may be the worker's own (issue 18.6).
  started.ready_fd = -1;
  // The sockets serve the worker; their files are the supervisor's.
  started.sockets.DisownFiles();
  // The limits asked for are the application's (RaiseHardLimits).
  if (absl::Status limited = ApplyResourceLimits(LimitRequests(options));
      !limited.ok()) {
    started.reporter.ReportError(limited.message());
    _exit(kExitFailure);
  }
  return started;
}

}  // namespace

void StartRequest::RemoveWhatWasMade() {
  if (handover) {
    // An upgrade's new daemon that failed: the pid file and the socket
    // files are still the running daemon's.
    sockets.DisownFiles();
    if (pidfile) pidfile->Close();
    pidfile.reset();
  }
  outputs.RemoveCreated();
  sockets.RemoveFiles();
  if (worker_pidfile) worker_pidfile->Remove();
  if (pidfile) pidfile->Remove();
}

absl::StatusOr<StartedDaemon> StartInForeground(StartRequest& request) {
  // The self-pipe first: a signal during the rest is then only noted.
  DAEMONKIT_ASSIGN_OR_RETURN(const int signal_fd, SignalPipe::Install());
  // An upgrade's new daemon (issue 14) does not write its pid: the old one
  // does, once this one is ready, and writes its own back otherwise.
  std::optional<PidFile> handed_over;
  if (request.handover) handed_over.swap(request.pidfile);
  absl::Status became =
      BecomeDaemon(request.options, request.credentials, request.outputs,
                   request.pidfile, request.worker_pidfile, request.sockets);
  if (request.handover) handed_over.swap(request.pidfile);
  DAEMONKIT_RETURN_IF_ERROR(became);
  StartedDaemon started;
  started.detached = false;
  if (request.handover) {
    started.detached = request.options.detach;
    started.reporter = ReadyReporter(request.handover->ready_fd);
    started.handover_pending = true;
    request.handover->ready_fd = -1;
    started.handover_confirm_fd =
        std::exchange(request.handover->confirm_fd, -1);
  }
  started.upgrade_source = std::move(request.upgrade_source);
  started.upgrade_refusal = request.upgrade_refusal;
  started.ready_timeout = request.options.ready_timeout;
  started.stop_timeout = request.options.stop_timeout;
  started.outputs = std::move(request.outputs);
  started.pidfile = std::move(request.pidfile);
  started.signal_fd = signal_fd;
  started.notifier = std::move(request.notifier);
  started.ready_fd = request.options.ready_fd;
  started.sockets = std::move(request.sockets);
  return SuperviseIfAsked(request.options, std::move(started),
                          request.worker_pidfile);
}

StartedDaemon StartAfterForks(StartRequest& request, ReadyReporter reporter) {
  absl::Status status =
      BecomeDaemon(request.options, request.credentials, request.outputs,
                   request.pidfile, request.worker_pidfile, request.sockets);
  absl::StatusOr<int> signal_fd = SignalPipe::Install();
  if (status.ok()) status = signal_fd.status();
  // What arrived while held goes into the pipe now.
  if (status.ok()) status = UnblockAllSignals();
  if (!status.ok()) {
    reporter.ReportError(status.message());
    request.RemoveWhatWasMade();
    _exit(kExitFailure);
  }
  StartedDaemon started;
  started.detached = true;
  started.upgrade_source = std::move(request.upgrade_source);
  started.upgrade_refusal = request.upgrade_refusal;
  started.ready_timeout = request.options.ready_timeout;
  started.stop_timeout = request.options.stop_timeout;
  started.outputs = std::move(request.outputs);
  started.pidfile = std::move(request.pidfile);
  started.reporter = std::move(reporter);
  started.signal_fd = *signal_fd;
  started.notifier = std::move(request.notifier);
  started.ready_fd = request.options.ready_fd;
  started.sockets = std::move(request.sockets);
  return SuperviseIfAsked(request.options, std::move(started),
                          request.worker_pidfile);
}

}  // namespace internal
}  // namespace daemonkit
