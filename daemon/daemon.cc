// Copyright 2026 The daemonkit Authors.

#include "daemon/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/environment.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/session.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/syslog_sink.h"
#include "daemon/internal/testing_hooks.h"
#include "glog/logging.h"

namespace daemonkit {

using internal::ErrnoError;
using internal::OutputFiles;

namespace {

// How long a launcher gives a daemon that closed the ready pipe, or was
// killed, to finish exiting before it gives up on removing the pid file.
constexpr absl::Duration kExitGrace = absl::Seconds(5);

// The descriptors a process forked by the daemon must not keep: the pid-file
// lock (or it would outlive the daemon), the path keeper's socket, the ready
// pipe and a worker's line to its supervisor. Written before the fork
// handler can run, read by it.
enum OwnedFd {
  kPidFileFd,
  kKeeperFd,
  kReadyPipeFd,
  kSupervisorLineFd,
  kOwnedFdCount
};
int g_daemon_owned_fds[kOwnedFdCount] = {-1, -1, -1, -1};

// The pthread_atfork child handler: whatever the application forks starts
// with default signal dispositions, an empty mask and none of the library's
// descriptors (the self-pipe included). Async-signal-safe only.
extern "C" void ForgetDaemonDescriptorsInChild() {
  internal::ResetSignalsInForkedChild();
  for (int& fd : g_daemon_owned_fds) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

absl::StatusOr<std::string> Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    return ErrnoError(errno, "getcwd");
  }
  return absl::StrCat(cwd, "/", path);
}

bool IsStreamFile(const std::optional<std::string>& path) {
  return path.has_value() && *path != kInheritStream;
}

// Fills in daemon(7)'s defaults for a detached daemon and makes every path
// absolute: the daemon changes directory before it opens anything again.
absl::StatusOr<Options> Resolve(Options options) {
  if (options.detach) {
    if (!options.workdir) options.workdir = "/";
    if (!options.umask) options.umask = 0;
    if (!options.stdout_path) options.stdout_path = "/dev/null";
    if (!options.stderr_path) options.stderr_path = "/dev/null";
    if (!options.core_dumps) options.core_dumps = false;
  }
  DAEMONKIT_ASSIGN_OR_RETURN(options.pidfile, Absolute(options.pidfile));
  DAEMONKIT_ASSIGN_OR_RETURN(options.chroot, Absolute(options.chroot));
  DAEMONKIT_ASSIGN_OR_RETURN(options.child_pidfile,
                             Absolute(options.child_pidfile));
  if (!options.chroot.empty()) {
    // The working directory is a place inside the new root.
    if (!options.workdir) options.workdir = "/";
    if ((*options.workdir)[0] != '/') *options.workdir = "/" + *options.workdir;
  } else if (options.workdir) {
    DAEMONKIT_ASSIGN_OR_RETURN(*options.workdir, Absolute(*options.workdir));
  }
  for (std::optional<std::string>* path :
       {&options.stdout_path, &options.stderr_path}) {
    if (IsStreamFile(*path)) {
      DAEMONKIT_ASSIGN_OR_RETURN(**path, Absolute(**path));
    }
  }
  return options;
}

// A directory the daemon will enter must be one, and not through a symbolic
// link as its last component (the daemon's user may own the parent and
// plant one): the same check as the daemon's own open before it enters.
absl::Status CheckDirectory(absl::string_view what, const std::string& path) {
  DAEMONKIT_ASSIGN_OR_RETURN(int fd,
                             internal::OpenDirectoryNoFollow(path, what));
  close(fd);
  return absl::OkStatus();
}

// Checks, before anything forks, the directories the daemon will enter.
absl::Status CheckDirectories(const Options& options) {
  if (!options.chroot.empty()) {
    DAEMONKIT_RETURN_IF_ERROR(CheckDirectory("chroot", options.chroot));
  }
  if (options.workdir) {
    DAEMONKIT_RETURN_IF_ERROR(CheckDirectory(
        "workdir", options.chroot.empty() ? *options.workdir
                                          : options.chroot + *options.workdir));
  }
  return absl::OkStatus();
}

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
  internal::OpenPolicy policy;
  policy.what = "stdin";
  policy.access = O_RDONLY;
  policy.allow_dev_null = true;
  DAEMONKIT_ASSIGN_OR_RETURN(internal::OpenedFile null,
                             internal::SafeOpen("/dev/null", policy));
  absl::Status status = internal::Redirect(null.fd, 0);
  close(null.fd);
  return status;
}

// Enters a directory opened without following a final symbolic link, so
// that what was checked is what is entered.
absl::Status EnterDirectory(absl::string_view what, const std::string& path) {
  DAEMONKIT_ASSIGN_OR_RETURN(int fd,
                             internal::OpenDirectoryNoFollow(path, what));
  const int changed = fchdir(fd);
  const int saved = errno;
  close(fd);
  if (changed != 0) {
    return ErrnoError(saved, absl::StrCat("chdir ", what, " ", path));
  }
  return absl::OkStatus();
}

// chroot(2) into the opened directory, then the working directory inside
// it. No descriptor of a directory survives this function.
absl::Status ChangeRootAndDirectory(const Options& options) {
  if (!options.chroot.empty()) {
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
// itself: reopen its outputs, remove its pid file (path_keeper.h).
absl::Status StartPathKeeper(OutputFiles& outputs,
                             std::optional<internal::PidFile>& pidfile) {
  internal::KeeperTargets targets;
  targets.outputs = outputs.KeeperOutputs();
  if (pidfile) {
    struct stat st;
    if (fstat(pidfile->fd(), &st) != 0) {
      return ErrnoError(errno, absl::StrCat("stat pid file ", pidfile->path()));
    }
    targets.pidfile =
        internal::KeeperPidFile{pidfile->path(), st.st_dev, st.st_ino};
  }
  DAEMONKIT_ASSIGN_OR_RETURN(std::shared_ptr<internal::PathKeeperClient> keeper,
                             internal::PathKeeperClient::Start(targets));
  outputs.UseKeeper(keeper);
  if (pidfile) pidfile->UseKeeper(keeper);
  return absl::OkStatus();
}

void PrintError(absl::string_view message) {
  std::fprintf(stderr, "%s: %.*s\n", program_invocation_short_name,
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

// The launcher after the first fork: waits for the daemon's verdict and
// exits with it. Never returns.
[[noreturn]] void RunLauncher(pid_t first_child, internal::ReadyPipe pipe,
                              const Options& options,
                              std::optional<internal::PidFile> pidfile) {
  close(pipe.write_fd);
  // The caller's handlers and mask were kept for a failed fork; the launcher
  // never returns to the caller, and Ctrl-C on its terminal ends it (not
  // the daemon, in a session of its own).
  (void)internal::ResetSignals();
  // Only the daemon holds the lock from now on, so a lock test below tells
  // whether it is gone.
  if (pidfile) pidfile->Close();

  // The first child only forks the daemon, hands the launcher its pid and
  // exits: reap it first, so it is not a zombie through the start-up and
  // the daemon's pid is in the pipe before the ready timeout can pass.
  const absl::Time deadline = absl::Now() + options.ready_timeout;
  const bool first_child_reaped =
      internal::ReapChildBefore(first_child, deadline);
  internal::ReadyOutcome outcome;
  if (first_child_reaped) {
    outcome = internal::AwaitReady(pipe.read_fd, deadline);
  } else {
    outcome.kind = internal::ReadyOutcome::Kind::kTimedOut;
  }
  close(pipe.read_fd);

  int exit_code = kExitFailure;
  switch (outcome.kind) {
    case internal::ReadyOutcome::Kind::kReady:
      exit_code = kExitSuccess;
      if (!options.ready_message.empty()) {
        std::fputs(options.ready_message.c_str(), stdout);
        std::fflush(stdout);
      }
      break;
    case internal::ReadyOutcome::Kind::kFailed:
      PrintError(outcome.message);
      // It said so itself and is exiting: let it clean up (close its
      // connections, remove what it made) before anything is killed.
      if (outcome.daemon_pidfd >= 0) {
        internal::AwaitExit(outcome.daemon_pidfd, options.stop_timeout);
      }
      break;
    case internal::ReadyOutcome::Kind::kDied:
      PrintError(absl::StrCat(
          "the daemon exited before it was ready",
          IsStreamFile(options.stderr_path) &&
                  *options.stderr_path != "/dev/null"
              ? absl::StrCat(" (its stderr: ", *options.stderr_path, ")")
              : ""));
      break;
    case internal::ReadyOutcome::Kind::kTimedOut:
      PrintError(absl::StrCat("the daemon was not ready within ",
                              absl::FormatDuration(options.ready_timeout),
                              "; killed it"));
      break;
  }

  if (exit_code != kExitSuccess) {
    // Nothing of a failed start may run on: not the daemon, not what it
    // started. The first child, if it has not even forked yet, goes first,
    // so that no new member can join the session after the sweep.
    if (!first_child_reaped) {
      kill(first_child, SIGKILL);
      int wait_status;
      while (waitpid(first_child, &wait_status, 0) < 0 && errno == EINTR) {
      }
    }
    if (!internal::KillSession(first_child, outcome.daemon_pidfd, kExitGrace)) {
      PrintError("some processes of the failed start survived SIGKILL");
    }
    if (!options.pidfile.empty()) {
      (void)internal::RemoveStalePidFile(options.pidfile);
    }
  }
  if (exit_code != kExitSuccess && !options.child_pidfile.empty()) {
    internal::RemoveWorkerPidFile(options.child_pidfile, kExitGrace);
  }
  _exit(exit_code);
}

// The rest of daemon(7)'s checklist, in the daemon (after the second fork)
// or in the foreground process: what is unset in `options` is left alone.
absl::Status BecomeDaemon(
    const Options& options,
    const std::optional<internal::Credentials>& credentials,
    OutputFiles& outputs, std::optional<internal::PidFile>& pidfile) {
  if (options.detach) DAEMONKIT_RETURN_IF_ERROR(RedirectStdinToDevNull());
  DAEMONKIT_RETURN_IF_ERROR(outputs.Install());
  if (options.umask) umask(*options.umask);
  // syslog connects lazily, by path: inside the new root /dev/log is gone.
  internal::ConnectSyslogNow();
  // A daemon that chroots or drops privileges may no longer reach its files
  // by path (a jail, a directory only root may enter or write): the keeper,
  // which stays outside and privileged, reopens and removes them.
  if (!options.chroot.empty() || credentials) {
    DAEMONKIT_RETURN_IF_ERROR(StartPathKeeper(outputs, pidfile));
  }
  DAEMONKIT_RETURN_IF_ERROR(ChangeRootAndDirectory(options));
  // The pid file stays open and locked: written through its descriptor.
  if (pidfile) DAEMONKIT_RETURN_IF_ERROR(pidfile->WritePid(getpid()));
  if (options.core_dumps) {
    DAEMONKIT_RETURN_IF_ERROR(LimitCoreDumps(*options.core_dumps));
  }
  if (credentials) {
    DAEMONKIT_RETURN_IF_ERROR(internal::DropPrivileges(*credentials));
    // setuid cleared the dumpable flag; core dumps asked for need it back.
    if (options.core_dumps.value_or(false) && prctl(PR_SET_DUMPABLE, 1) != 0) {
      return ErrnoError(errno, "prctl PR_SET_DUMPABLE");
    }
  }
  if (options.keep_env) internal::KeepOnlyVariables(*options.keep_env);
  return absl::OkStatus();
}

}  // namespace

class Daemon::Impl {
 public:
  Impl(bool detached, OutputFiles outputs,
       std::optional<internal::PidFile> pidfile,
       internal::ReadyReporter reporter, int signal_fd,
       internal::Notifier notifier)
      : detached_(detached),
        owner_pid_(getpid()),
        outputs_(std::move(outputs)),
        pidfile_(std::move(pidfile)),
        reporter_(std::move(reporter)),
        signal_fd_(signal_fd),
        notifier_(std::move(notifier)) {
    if (notifier_.watchdog_interval()) {
      next_watchdog_ = absl::Now() + *notifier_.watchdog_interval();
    }
  }

  ~Impl() {
    if (getpid() != owner_pid_) {
      // A child forked by the daemon: the fork handler already closed these
      // descriptors, and the pid file is the daemon's to remove.
      if (pidfile_) pidfile_->Forget();
      reporter_.Forget();
      outputs_.Forget();
      notifier_.Forget();
      return;
    }
    if (pidfile_) pidfile_->Remove();
    for (int& fd : g_daemon_owned_fds) fd = -1;
  }

  void NotifyReady() {
    if (reporter_.pending()) reporter_.ReportReady();
    g_daemon_owned_fds[kReadyPipeFd] = -1;
    // systemd started the launcher: a detached daemon names its new self.
    Notify(detached_ ? absl::StrCat("READY=1\nMAINPID=", getpid()) : "READY=1");
  }

  void Notify(absl::string_view message) {
    absl::Status sent = notifier_.Send(message);
    if (!sent.ok() && !notify_failure_logged_) {
      LOG(WARNING) << "sd_notify: " << sent.message();
      notify_failure_logged_ = true;
    }
  }

  // Sends WATCHDOG=1 when due; returns the time of the next one.
  absl::Time FeedWatchdog(absl::Time now) {
    if (!notifier_.watchdog_interval()) return absl::InfiniteFuture();
    if (now >= next_watchdog_) {
      if (healthy_) Notify("WATCHDOG=1");
      next_watchdog_ = now + *notifier_.watchdog_interval();
    }
    return next_watchdog_;
  }

  void FailStartup(const absl::Status& error) {
    LOG(ERROR) << "start-up failed: " << error.message();
    Notify(internal::StartupFailureMessage(error));
    if (reporter_.pending()) reporter_.ReportError(error.message());
    g_daemon_owned_fds[kReadyPipeFd] = -1;
    g_daemon_owned_fds[kPidFileFd] = -1;
    if (pidfile_) pidfile_->Remove();
    pidfile_.reset();
  }

  Event WaitUntil(absl::Time deadline) {
    for (;;) {
      for (int signo : internal::SignalPipe::Drain()) {
        if (signo == SIGTERM || signo == SIGINT) {
          if (!stop_requested_) {
            LOG(INFO) << "stopping on " << strsignal(signo);
            Notify("STOPPING=1");
          }
          stop_requested_ = true;
        } else if (signo == SIGHUP) {
          reload_pending_ = true;
        }
      }
      if (stop_requested_) return Event::kStop;
      if (reload_pending_) {
        reload_pending_ = false;
        Reload();
        return Event::kReload;
      }
      const absl::Time now = absl::Now();
      if (now >= deadline) return Event::kTimeout;
      const absl::Time wake = std::min(deadline, FeedWatchdog(now));
      absl::Duration left = wake - now;
      struct timespec timeout = absl::ToTimespec(left);
      struct pollfd pfd = {signal_fd_, POLLIN, 0};
      const bool forever = wake == absl::InfiniteFuture();
      if (ppoll(&pfd, 1, forever ? nullptr : &timeout, nullptr) < 0 &&
          errno != EINTR) {
        PLOG(ERROR) << "ppoll on the signal pipe";
        absl::SleepFor(std::min(left, absl::Milliseconds(10)));
      }
    }
  }

  void Reload() {
    LOG(INFO) << "reloading on SIGHUP";
    struct timespec monotonic;
    clock_gettime(CLOCK_MONOTONIC, &monotonic);
    Notify(absl::StrCat(
        "RELOADING=1\nMONOTONIC_USEC=",
        absl::ToInt64Microseconds(absl::DurationFromTimespec(monotonic))));
    absl::Status reopened = outputs_.Reopen();
    if (!reopened.ok()) LOG(ERROR) << "reopen output files: " << reopened;
    if (reload_hook_) reload_hook_();
    Notify("READY=1");
  }

  bool detached_;
  pid_t owner_pid_;
  OutputFiles outputs_;
  std::optional<internal::PidFile> pidfile_;
  internal::ReadyReporter reporter_;
  int signal_fd_;
  bool stop_requested_ = false;
  bool reload_pending_ = false;
  std::function<void()> reload_hook_;
  internal::Notifier notifier_;
  absl::Time next_watchdog_ = absl::InfiniteFuture();
  bool healthy_ = true;
  bool notify_failure_logged_ = false;
};

namespace {

internal::RestartSchedule ScheduleFrom(const Options& options) {
  internal::RestartSchedule schedule;
  switch (options.restart) {
    case RestartPolicy::kNo:
      schedule.mode = internal::RestartMode::kNo;
      break;
    case RestartPolicy::kOnFailure:
      schedule.mode = internal::RestartMode::kOnFailure;
      break;
    case RestartPolicy::kAlways:
      schedule.mode = internal::RestartMode::kAlways;
      break;
  }
  schedule.delay = options.restart_delay;
  schedule.max_delay = options.restart_max_delay;
  schedule.reset_after = options.restart_reset_after;
  schedule.limit = options.restart_limit;
  schedule.stop_timeout = options.stop_timeout;
  return schedule;
}

// The end of start-up in the daemon (or the foreground process): become a
// supervisor if asked (returning in the worker), then hand the application
// its Daemon.
std::unique_ptr<Daemon> FinishStartUp(
    const Options& options, OutputFiles outputs,
    std::optional<internal::PidFile> pidfile, internal::ReadyReporter reporter,
    int signal_fd, internal::Notifier notifier,
    std::optional<internal::PidFile> worker_pidfile) {
  if (options.restart != RestartPolicy::kNo) {
    internal::Worker worker = internal::Supervise(
        ScheduleFrom(options),
        {&pidfile, &worker_pidfile, &outputs, &reporter, &notifier, signal_fd});
    // In the worker: the supervisor's pid file, its line to the launcher and
    // to systemd are not ours; closing our copies leaves the supervisor's.
    // Its own pid file stays open, locked, unowned: the supervisor removes
    // it (see OpenWorkerPidFile).
    pidfile.reset();
    g_daemon_owned_fds[kPidFileFd] = worker.pidfile_fd;
    reporter = std::move(worker.to_supervisor);
    notifier = std::move(worker.notifier);
    signal_fd = worker.signal_fd;
  }
  if (pidfile) g_daemon_owned_fds[kPidFileFd] = pidfile->fd();
  g_daemon_owned_fds[kKeeperFd] = outputs.keeper_fd();
  g_daemon_owned_fds[kReadyPipeFd] = reporter.fd();
  g_daemon_owned_fds[kSupervisorLineFd] = notifier.connected_fd();
  static const bool atfork_registered = [] {
    return pthread_atfork(nullptr, nullptr, ForgetDaemonDescriptorsInChild) ==
           0;
  }();
  if (!atfork_registered) LOG(WARNING) << "pthread_atfork failed";
  return std::make_unique<Daemon>(std::make_unique<Daemon::Impl>(
      options.detach, std::move(outputs), std::move(pidfile),
      std::move(reporter), signal_fd, std::move(notifier)));
}

}  // namespace

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;
void Daemon::NotifyReady() { impl_->NotifyReady(); }
void Daemon::FailStartup(const absl::Status& error) {
  impl_->FailStartup(error);
}
Event Daemon::WaitUntil(absl::Time deadline) {
  return impl_->WaitUntil(deadline);
}
Event Daemon::WaitFor(absl::Duration timeout) {
  return impl_->WaitUntil(absl::Now() + timeout);
}
bool Daemon::stop_requested() const { return impl_->stop_requested_; }
int Daemon::signal_fd() const { return impl_->signal_fd_; }
void Daemon::SetReloadHook(std::function<void()> hook) {
  impl_->reload_hook_ = std::move(hook);
}
bool Daemon::detached() const { return impl_->detached_; }
void Daemon::NotifyStatus(absl::string_view status) {
  impl_->Notify(absl::StrCat("STATUS=", status));
}
void Daemon::SetHealthy(bool healthy) { impl_->healthy_ = healthy; }

absl::Status ValidateOptions(const Options& options) {
  if (options.umask && *options.umask > 0777) {
    return absl::InvalidArgumentError(
        absl::StrCat("umask ", absl::Dec(*options.umask), " is above 0777"));
  }
  if (options.ready_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ready timeout ", absl::FormatDuration(options.ready_timeout),
        " must be positive"));
  }
  if (options.workdir && options.workdir->empty()) {
    return absl::InvalidArgumentError("workdir is empty");
  }
  if ((options.stdout_path && options.stdout_path->empty()) ||
      (options.stderr_path && options.stderr_path->empty())) {
    return absl::InvalidArgumentError(
        "stdout/stderr path is empty (use /dev/null or inherit)");
  }
  if (!options.pidfile.empty() && options.pidfile.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("pid file ", options.pidfile, " names a directory"));
  }
  if (options.keep_env) {
    for (const std::string& name : *options.keep_env) {
      if (name.empty() || name.find('=') != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", name, "' is not an environment variable name"));
      }
    }
  }
  if (options.restart != RestartPolicy::kNo) {
    if (options.restart_delay <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("restart delay must be positive");
    }
    if (options.restart_max_delay < options.restart_delay) {
      return absl::InvalidArgumentError(
          "restart max delay is below the restart delay");
    }
    if (options.restart_reset_after <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("restart reset-after must be positive");
    }
    if (options.restart_limit < 0) {
      return absl::InvalidArgumentError("restart limit must not be negative");
    }
  }
  if (options.stop_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("stop timeout must not be negative");
  }
  for (int fd : options.keep_fds) {
    if (fd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor to keep ", fd, " is negative"));
    }
  }
  return absl::OkStatus();
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitSuccess;
  if (absl::IsInvalidArgument(status)) return kExitUsage;
  return kExitFailure;
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemonize(const Options& requested) {
  DAEMONKIT_RETURN_IF_ERROR(ValidateOptions(requested));
  if (!requested.child_pidfile.empty() &&
      requested.restart == RestartPolicy::kNo) {
    return absl::InvalidArgumentError(
        "a child pid file needs supervision (restart)");
  }
  DAEMONKIT_ASSIGN_OR_RETURN(const Options options, Resolve(requested));
  // A closed standard stream gets /dev/null, so no file lands on its
  // number; should Daemonize fail before forking, the caller gets its
  // streams back as they were.
  std::vector<int> opened_streams;
  DAEMONKIT_RETURN_IF_ERROR(
      internal::EnsureStandardStreamsOpen(&opened_streams));
  absl::Cleanup restore_streams = [&opened_streams] {
    for (int fd : opened_streams) close(fd);
  };
  if (options.detach) {
    absl::StatusOr<int> threads = internal::CountThreads();
    // Without /proc the count is unknown; fork is then the caller's risk.
    if (threads.ok() && *threads > 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot daemonize a process that runs ", *threads,
          " threads: fork would copy only the calling one; call Daemonize "
          "before starting threads"));
    }
  }
  DAEMONKIT_RETURN_IF_ERROR(CheckDirectories(options));
  // A detached daemon's watchdog belongs to the launcher systemd started.
  absl::StatusOr<internal::Notifier> notifier =
      internal::Notifier::FromEnvironment(getpid());
  if (!notifier.ok()) {
    return absl::FailedPreconditionError(notifier.status().message());
  }
  DAEMONKIT_ASSIGN_OR_RETURN(
      const std::optional<internal::Credentials> credentials,
      internal::ResolveCredentials(options.user, options.group));

  std::optional<internal::PidFile> pidfile;
  if (!options.pidfile.empty()) {
    DAEMONKIT_ASSIGN_OR_RETURN(
        pidfile,
        internal::PidFile::Acquire(options.pidfile, options.ready_timeout));
  }
  // The worker's, too, while privileged (see OpenWorkerPidFile).
  std::optional<internal::PidFile> worker_pidfile;
  // From here on a failure must not leave the pid files behind, nor an
  // output file this start created.
  OutputFiles* opened_outputs = nullptr;
  auto fail = [&pidfile, &worker_pidfile,
               &opened_outputs](absl::Status status) {
    if (opened_outputs != nullptr) opened_outputs->RemoveCreated();
    if (worker_pidfile) worker_pidfile->Remove();
    if (pidfile) pidfile->Remove();
    return status;
  };
  if (!options.child_pidfile.empty()) {
    absl::StatusOr<internal::PidFile> opened = internal::OpenWorkerPidFile(
        options.child_pidfile, options.ready_timeout);
    if (!opened.ok()) return fail(opened.status());
    worker_pidfile = *std::move(opened);
  }

  std::optional<std::pair<uid_t, gid_t>> owner;
  if (credentials) owner = std::make_pair(credentials->uid, credentials->gid);
  absl::StatusOr<OutputFiles> outputs =
      OutputFiles::Open(options.stdout_path, options.stderr_path, owner);
  if (!outputs.ok()) return fail(outputs.status());
  opened_outputs = &*outputs;

  if (!options.detach) {
    // The self-pipe first: a signal during the rest is then only noted.
    absl::StatusOr<int> signal_fd = internal::SignalPipe::Install();
    absl::Status status = signal_fd.status();
    if (status.ok()) {
      status = BecomeDaemon(options, credentials, *outputs, pidfile);
    }
    if (!status.ok()) return fail(status);
    std::move(restore_streams).Cancel();
    return FinishStartUp(options, *std::move(outputs), std::move(pidfile),
                         internal::ReadyReporter(), *signal_fd,
                         *std::move(notifier), std::move(worker_pidfile));
  }

  absl::StatusOr<internal::ReadyPipe> pipe = internal::CreateReadyPipe();
  if (!pipe.ok()) return fail(pipe.status());
  std::vector<int> keep = options.keep_fds;
  keep.push_back(pipe->read_fd);
  keep.push_back(pipe->write_fd);
  for (int fd : outputs->fds()) keep.push_back(fd);
  if (pidfile) keep.push_back(pidfile->fd());
  if (worker_pidfile) keep.push_back(worker_pidfile->fd());

  // Nothing destructive happens in the calling process before the fork has
  // succeeded: if it fails, the caller keeps its descriptors, handlers and
  // mask. All signals are blocked across the fork so that the child never
  // runs one of the caller's handlers; the child resets them.
  sigset_t caller_mask;
  absl::Status status = internal::BlockAllSignals(&caller_mask);
  if (!status.ok()) {
    close(pipe->read_fd);
    close(pipe->write_fd);
    return fail(status);
  }
  // Whatever stdio has buffered would otherwise be written once per process.
  fflush(nullptr);
  pid_t first_child = fork();
  if (first_child < 0) {
    int saved = errno;
    (void)internal::RestoreSignalMask(caller_mask);
    close(pipe->read_fd);
    close(pipe->write_fd);
    return fail(ErrnoError(saved, "fork"));
  }
  std::move(restore_streams).Cancel();
  if (first_child > 0) {
    RunLauncher(first_child, *pipe, options, std::move(pidfile));
  }

  // The first child: daemon(7)'s first steps (close inherited descriptors,
  // reset signal handlers), then a new session without a controlling
  // terminal, then a second fork so that the daemon, not being a session
  // leader, can never acquire one again.
  close(pipe->read_fd);
  internal::ReadyReporter reporter(pipe->write_fd);
  // syslog keeps a descriptor of its own that the close below would pull
  // out from under it.
  closelog();
  status = internal::CloseInheritedDescriptors(keep);
  if (status.ok()) status = internal::ResetSignalDispositions();
  // Until the daemon's self-pipe is in place, a SIGTERM or SIGHUP (from an
  // impatient operator, a logrotate run) must wait, not kill it; the rest
  // of the mask is cleared.
  if (status.ok()) status = internal::HoldStopAndReloadSignals();
  if (!status.ok()) {
    reporter.ReportError(status.message());
    _exit(kExitFailure);
  }
  if (setsid() < 0) {
    reporter.ReportError(ErrnoError(errno, "setsid").message());
    _exit(kExitFailure);
  }
  internal::RunBetweenForksHookForTesting();
  pid_t daemon_pid = fork();
  if (daemon_pid < 0) {
    reporter.ReportError(ErrnoError(errno, "second fork").message());
    _exit(kExitFailure);
  }
  if (daemon_pid > 0) {
    // Before exiting: the launcher, once it has reaped this process, finds
    // the daemon's pid in the pipe.
    reporter.ReportPid(daemon_pid);
    _exit(kExitSuccess);
  }

  // The daemon.
  status = BecomeDaemon(options, credentials, *outputs, pidfile);
  absl::StatusOr<int> signal_fd = internal::SignalPipe::Install();
  if (status.ok()) status = signal_fd.status();
  // What arrived while held goes into the pipe now.
  if (status.ok()) status = internal::UnblockAllSignals();
  if (!status.ok()) {
    reporter.ReportError(status.message());
    outputs->RemoveCreated();
    if (worker_pidfile) worker_pidfile->Remove();
    if (pidfile) pidfile->Remove();
    _exit(kExitFailure);
  }
  return FinishStartUp(options, *std::move(outputs), std::move(pidfile),
                       std::move(reporter), *signal_fd, *std::move(notifier),
                       std::move(worker_pidfile));
}

}  // namespace daemonkit
