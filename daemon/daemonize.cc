// Copyright 2026 The daemonkit Authors.
//
// Daemonize(): runs in the caller (which becomes the launcher) up to the
// first fork, then hands each process to its role:
//
//   launcher        internal/launcher.cc        waits for ready, exits
//   first child     internal/session_leader.cc  setsid, second fork, exits
//   daemon          internal/daemon_startup.cc  daemon(7)'s checklist
//   supervisor      internal/supervisor.cc      (with Options::restart)
//   daemon, worker  daemon.cc                   the Daemon handle
//
// In the foreground nothing forks: the caller runs daemon_startup.cc itself.
// Before the fork, Prepare() does everything that can fail: the checks of
// internal/caller_checks.cc, the pid files, the outputs, the sockets.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "daemon/daemon.h"
#include "daemon/internal/caller_checks.h"
#include "daemon/internal/container_init.h"
#include "daemon/internal/daemon_startup.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/dropped_user.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/journal_sink.h"
#include "daemon/internal/launcher.h"
#include "daemon/internal/listen_address.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/ready_fd.h"
#include "daemon/internal/session_leader.h"
#include "daemon/internal/shared_output_warning.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/syslog_sink.h"
#include "daemon/internal/terminal_text.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/upgrade_start.h"
#include "daemon/internal/worker_pidfile.h"

namespace daemonkit {
namespace {

using internal::ErrnoError;

// The RLIMIT_NOFILE soft limit the daemon will run with: the one
// `--daemon_rlimits` sets, else the current one (unlimited when unknown).
uint64_t NofileSoftLimit(const Options& options) {
  std::optional<uint64_t> asked;
  for (const ResourceLimit& limit : options.rlimits) {
    if (limit.resource == "nofile") asked = limit.soft;  // the last one wins
  }
  if (asked) return *asked;
  struct rlimit current;
  if (getrlimit(RLIMIT_NOFILE, &current) != 0) return RLIM_INFINITY;
  return current.rlim_cur;
}

// The checks of Prepare(), up to the pid file: the options, resolved into
// `request.options`, and what the system says of them; the notifier and
// the credentials. Nothing is made yet.
absl::Status CheckAndResolve(const Options& requested,
                             internal::StartRequest& request) {
  DAEMONKIT_RETURN_IF_ERROR(ValidateOptions(requested));
  // Issue 18.11: pid 1 of a pid namespace (a container's entrypoint) that
  // detached would exit once its daemon is ready, and the kernel ends the
  // namespace with the daemon in it, leaving a stale pid file.
  if (requested.detach && internal::IsContainerInit()) {
    return absl::FailedPreconditionError(
        "cannot detach as pid 1 of a pid namespace (a container's "
        "entrypoint): the namespace, daemon included, ends when pid 1 "
        "exits; run in the foreground with --daemon=false");
  }
  DAEMONKIT_ASSIGN_OR_RETURN(request.options,
                             internal::ResolveOptions(requested));
  // An upgrade's successor runs the old daemon's command line: its
  // `--daemon_ready_fd` was the service manager's, told once and closed;
  // the number now names one of the handed-over descriptors.
  if (request.handover) request.options.ready_fd = -1;
  const Options& options = request.options;
  if (request.handover) {
    DAEMONKIT_RETURN_IF_ERROR(internal::CheckSuccessorOptions(options));
  }
  DAEMONKIT_RETURN_IF_ERROR(internal::CheckFilesAreDistinct(options));
  if (options.detach) {
    DAEMONKIT_RETURN_IF_ERROR(internal::CheckSingleThreaded());
  }
  DAEMONKIT_RETURN_IF_ERROR(internal::CheckDirectories(options));
  // Service-manager controls (issue 15): the manager's descriptor is open.
  DAEMONKIT_RETURN_IF_ERROR(internal::PrepareReadyFd(options.ready_fd));
  // A detached daemon's watchdog belongs to the launcher systemd started.
  DAEMONKIT_ASSIGN_OR_RETURN(request.notifier,
                             internal::Notifier::FromEnvironment(getpid()));
  DAEMONKIT_ASSIGN_OR_RETURN(
      request.credentials,
      internal::ResolveCredentials(options.user, options.group));
  // Issue 22.9: a user who is not root naming itself drops nothing (the
  // checks of a drop, such as a pid-file directory that user may write,
  // are about another user).
  if (request.credentials && geteuid() != 0 &&
      request.credentials->uid == geteuid() &&
      request.credentials->gid == getegid()) {
    request.credentials.reset();
  }
  return internal::CheckWhatTheDroppedUserMustNotChange(options,
                                                        request.credentials);
}

// The pid file: the old daemon's, locked and inherited, in an upgrade's
// successor; else taken and locked (if one is asked for).
absl::Status TakePidFile(internal::StartRequest& request) {
  const Options& options = request.options;
  if (request.handover) {
    // Upgrades (issue 14): the old daemon's locked pid file, inherited.
    if (options.pidfile.empty()) {
      return absl::FailedPreconditionError("an upgrade needs a pid file");
    }
    DAEMONKIT_ASSIGN_OR_RETURN(
        request.pidfile, internal::PidFile::Adopt(
                             options.pidfile, request.handover->pidfile_fd));
  } else if (!options.pidfile.empty()) {
    DAEMONKIT_ASSIGN_OR_RETURN(
        request.pidfile,
        internal::PidFile::Acquire(options.pidfile, options.ready_timeout));
  }
  return absl::OkStatus();
}

// Once the pid file is won: the worker's pid file, the output files and
// the listening sockets, each while still privileged. On error the caller
// removes what was made.
absl::Status OpenTheRest(internal::StartRequest& request) {
  const Options& options = request.options;
  if (!request.handover) internal::WarnIfOutputIsAnotherWritersFile(options);
  // The worker's pid file too, while privileged (see OpenWorkerPidFile).
  if (!options.child_pidfile.empty()) {
    DAEMONKIT_ASSIGN_OR_RETURN(
        request.worker_pidfile,
        internal::OpenWorkerPidFile(options.child_pidfile,
                                    options.ready_timeout));
  }
  std::optional<std::pair<uid_t, gid_t>> owner;
  if (request.credentials) {
    owner = std::make_pair(request.credentials->uid, request.credentials->gid);
  }
  DAEMONKIT_ASSIGN_OR_RETURN(
      request.outputs, internal::OutputFiles::Open(options.stdout_path,
                                                   options.stderr_path, owner));
  // Listening sockets (issue 14): bound while privileged, before any fork.
  DAEMONKIT_ASSIGN_OR_RETURN(
      request.sockets,
      internal::ListenSockets::Open(options.listen, owner,
                                    request.handover.has_value()));
  return internal::CheckReadyFdIsNoneOfOurs(request);
}

// Upgrades (issue 14): why this daemon will refuse `upgrade`, or, when it
// can upgrade, the command line captured while still in the caller's
// directory, for a successor that reads it the same way.
void DecideUpgrade(internal::StartRequest& request) {
  const Options& options = request.options;
  if (options.restart != RestartPolicy::kNo) {
    request.upgrade_refusal = "upgrade is not supported under supervision";
  } else if (!options.user.empty() || !options.group.empty() ||
             !options.chroot.empty()) {
    request.upgrade_refusal =
        "upgrade is not supported after a privilege drop or chroot";
  } else if (!options.capabilities.empty()) {
    // Issue 18.13: the successor repeats the command line, and cannot drop
    // the bounding set again from the one this process left it: every
    // upgrade would fail. Refused at once, saying what works instead.
    request.upgrade_refusal =
        "upgrade is not supported with --daemon_capabilities (the new daemon "
        "could not set up its capabilities again); use restart";
  } else if (options.pidfile.empty()) {
    request.upgrade_refusal = "upgrade needs a pid file";
  } else if (std::string tight = internal::DescriptorHeadroomRefusal(
                 NofileSoftLimit(options), request.sockets.fds().size());
             !tight.empty()) {
    // Issue 18.15: checked at start, not found out by every upgrade ("Too
    // many open files" from wherever the descriptors ran out).
    request.upgrade_refusal = std::move(tight);
  } else if (!options.detach && !request.handover &&
             getenv("NOTIFY_SOCKET") == nullptr) {
    // Nobody would follow the new process: the old one's exit would end
    // the service for its shell or its supervisor.
    request.upgrade_refusal =
        "upgrade in the foreground needs a service manager that follows "
        "MAINPID= ($NOTIFY_SOCKET)";
  } else {
    absl::StatusOr<internal::UpgradeSource> source =
        internal::CaptureUpgradeSource();
    if (source.ok()) {
      request.upgrade_source = *std::move(source);
    } else {
      request.upgrade_refusal = std::string(source.status().message());
    }
  }
}

// Everything that can fail and needs no fork, while still attached to the
// terminal: the checks, the pid files (locked), the output files. Nothing
// is left behind on error.
absl::Status Prepare(const Options& requested,
                     internal::StartRequest& request) {
  DAEMONKIT_RETURN_IF_ERROR(CheckAndResolve(requested, request));
  DAEMONKIT_RETURN_IF_ERROR(TakePidFile(request));
  // From here on a failure must not leave the pid files behind, nor an
  // output file this start created.
  absl::Cleanup remove = [&request] { request.RemoveWhatWasMade(); };
  DAEMONKIT_RETURN_IF_ERROR(OpenTheRest(request));
  DecideUpgrade(request);
  std::move(remove).Cancel();
  return absl::OkStatus();
}

// What survives the first child's close of inherited descriptors.
std::vector<int> DescriptorsToKeep(const internal::StartRequest& request,
                                   const internal::ReadyPipe& pipe) {
  std::vector<int> keep = request.options.keep_fds;
  keep.push_back(pipe.read_fd);
  keep.push_back(pipe.write_fd);
  for (int fd : request.outputs.fds()) keep.push_back(fd);
  if (request.pidfile) keep.push_back(request.pidfile->fd());
  if (request.worker_pidfile) keep.push_back(request.worker_pidfile->fd());
  // Service-manager controls (issue 15).
  if (request.options.ready_fd >= 0) keep.push_back(request.options.ready_fd);
  for (int fd : request.sockets.fds()) keep.push_back(fd);
  // Issue 18.5: the socket files are removed relative to these.
  for (int fd : request.sockets.directory_fds()) keep.push_back(fd);
  return keep;
}

// The first fork. Nothing destructive happens in the calling process before
// it has succeeded: if it fails, the caller keeps its descriptors, handlers
// and mask. All signals are blocked across the fork so that the child never
// runs one of the caller's handlers; the child resets them.
absl::StatusOr<pid_t> ForkFirstChild() {
  sigset_t caller_mask;
  DAEMONKIT_RETURN_IF_ERROR(internal::BlockAllSignals(&caller_mask));
  // Whatever stdio has buffered would otherwise be written once per process.
  std::fflush(nullptr);
  const pid_t first_child = fork();
  if (first_child < 0) {
    const int saved = errno;
    (void)internal::RestoreSignalMask(caller_mask);
    return ErrnoError(saved, "fork");
  }
  return first_child;
}

// Pid 1 of a container, in the foreground: a bad option is reported
// before anything forks; threads would not follow the application, which
// goes on in a child of the init split off here.
absl::Status RunUnderContainerInit(const Options& options) {
  DAEMONKIT_RETURN_IF_ERROR(ValidateOptions(options));
  absl::StatusOr<int> threads = internal::CountThreads();
  if (threads.ok() && *threads > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot run as pid 1 with ", *threads,
        " threads: the application forks away from pid 1, and fork copies "
        "only the calling thread; call Daemonize before starting threads"));
  }
  return internal::SplitOffContainerInit(options.stop_timeout);
}

// In the foreground, and in an upgrade's successor: no fork here; the
// caller becomes the daemon.
absl::StatusOr<internal::StartedDaemon> StartWithoutForking(
    internal::StartRequest& request) {
  absl::StatusOr<internal::StartedDaemon> started =
      internal::StartInForeground(request);
  if (!started.ok()) {
    // Issue 18.13: an upgrade's failure after the checks (entering its
    // directory, capabilities, limits) goes to the old daemon too, which
    // passes it to the control action; its stderr is nobody's terminal.
    // The ready descriptor is still the request's until the start is.
    if (request.handover && request.handover->ready_fd >= 0) {
      internal::ReadyReporter(std::exchange(request.handover->ready_fd, -1))
          .ReportError(started.status().message());
    }
    request.RemoveWhatWasMade();
    return started.status();
  }
  return started;
}

// Detached: the first fork. The caller becomes the launcher (which never
// returns), the first child the session leader; only the daemon returns.
absl::StatusOr<internal::StartedDaemon> StartDetached(
    internal::StartRequest& request) {
  absl::StatusOr<internal::ReadyPipe> pipe = internal::CreateReadyPipe();
  if (!pipe.ok()) {
    request.RemoveWhatWasMade();
    return pipe.status();
  }
  absl::StatusOr<pid_t> first_child = ForkFirstChild();
  if (!first_child.ok()) {
    internal::CloseDescriptor(pipe->read_fd);
    internal::CloseDescriptor(pipe->write_fd);
    request.RemoveWhatWasMade();
    return first_child.status();
  }
  if (*first_child > 0) {
    internal::RunLauncher(*first_child, *pipe, request.options,
                          std::move(request.pidfile),
                          std::move(request.outputs),
                          std::move(request.sockets));  // never returns
  }
  internal::ReadyReporter reporter =
      internal::RunSessionLeader(*pipe, DescriptorsToKeep(request, *pipe));
  // Only the daemon gets here.
  return internal::StartAfterForks(request, std::move(reporter));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemonize(const Options& options) {
  // A closed standard stream gets /dev/null, so no file lands on its
  // number; should Daemonize fail before forking, the caller gets its
  // streams back as they were.
  std::vector<int> opened_streams;
  DAEMONKIT_RETURN_IF_ERROR(
      internal::EnsureStandardStreamsOpen(&opened_streams));
  absl::Cleanup restore_streams = [&opened_streams] {
    for (int fd : opened_streams) internal::CloseDescriptor(fd);
  };
  // Service-manager controls (issue 15): pid 1 of a container splits off
  // an init that reaps orphans and forwards signals; the application goes
  // on as pid 2 (internal/container_init.h).
  const bool container_init = !options.detach && internal::IsContainerInit();
  if (container_init) {
    DAEMONKIT_RETURN_IF_ERROR(RunUnderContainerInit(options));
  }
  internal::StartRequest request;
  // Upgrades (issue 14): started by the running daemon, this process takes
  // over its pid file and sockets and tells it when it is ready.
  request.handover = internal::TakeUpgradeHandover();
  if (absl::Status prepared = Prepare(options, request); !prepared.ok()) {
    if (request.handover) {
      internal::ReadyReporter(request.handover->ready_fd)
          .ReportError(prepared.message());
    }
    return prepared;
  }
  if (container_init) {
    // The application's exit ends pid 1, and with it the container.
    request.upgrade_source.reset();
    request.upgrade_refusal = "upgrade is not possible as a container's init";
  }
  absl::StatusOr<internal::StartedDaemon> started =
      !request.options.detach || request.handover ? StartWithoutForking(request)
                                                  : StartDetached(request);
  if (!started.ok()) return started.status();
  // Started: the streams opened are the daemon's now (detached, the only
  // process that returns here is the daemon).
  std::move(restore_streams).Cancel();
  return Daemon::Create(*std::move(started));
}

void ReportStartFailure(const absl::Status& status) {
  // The text may be the application's own (FailStartup) or name a path
  // someone else chose: no escape sequence reaches the terminal.
  internal::PrintProgramError(status.message());
  // A supervisor waiting for READY=1 learns of the failure at once.
  absl::StatusOr<internal::Notifier> notifier =
      internal::Notifier::FromEnvironment(getpid());
  if (notifier.ok()) {
    (void)notifier->Send(internal::StartupFailureMessage(status));
  }
}

void LogToSyslog() {
  internal::RouteGlogToSyslog(program_invocation_short_name);
}

// Service-manager controls (issue 15).
void LogToJournalStream(bool always) {
  internal::RouteGlogToJournalStderr(always);
}

}  // namespace daemonkit
