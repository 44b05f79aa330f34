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

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "daemon/daemon.h"
#include "daemon/internal/container_init.h"
#include "daemon/internal/daemon_startup.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/dropped_user.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/journal_sink.h"
#include "daemon/internal/launcher.h"
#include "daemon/internal/listen_address.h"
#include "daemon/internal/notify.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/ready_fd.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/session_leader.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/syslog_sink.h"
#include "daemon/internal/terminal_text.h"
#include "daemon/internal/upgrade_start.h"
#include "daemon/internal/worker_pidfile.h"

namespace daemonkit {
namespace {

using internal::ErrnoError;

absl::StatusOr<std::string> Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    return ErrnoError(errno, "getcwd");
  }
  return absl::StrCat(cwd, "/", path);
}

// "/dev/./null" and "/dev//null" as "/dev/null": the null device is
// accepted as an output by that name, and the checks and the reopen on
// reload compare the name (attack of 2026-12-07: refused as "a character
// device"). Only "." and empty components are dropped: ".." could name
// another file once a directory on the way is a link.
std::string SpellNullDeviceOneWay(const std::string& path) {
  // "/dev/null/" names nothing (a file is no directory): left to fail.
  if (path.empty() || path[0] != '/' || path.back() == '/') return path;
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part != ".") parts.push_back(part);
  }
  if (parts.size() == 2 && parts[0] == "dev" && parts[1] == "null") {
    return "/dev/null";
  }
  return path;
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
  // Listening sockets (issue 14): a socket file is removed after chdir.
  for (std::string& entry : options.listen) {
    const size_t path = entry.find("=unix:");
    if (path != std::string::npos && entry.size() > path + 6 &&
        entry[path + 6] != '@' && entry[path + 6] != '/') {
      DAEMONKIT_ASSIGN_OR_RETURN(std::string absolute,
                                 Absolute(entry.substr(path + 6)));
      entry = absl::StrCat(entry.substr(0, path + 6), absolute);
    }
  }
  if (!options.chroot.empty()) {
    // The working directory is a place inside the new root.
    if (!options.workdir) options.workdir = "/";
    if ((*options.workdir)[0] != '/') *options.workdir = "/" + *options.workdir;
  } else if (options.workdir) {
    DAEMONKIT_ASSIGN_OR_RETURN(*options.workdir, Absolute(*options.workdir));
  }
  for (std::optional<std::string>* path :
       {&options.stdout_path, &options.stderr_path}) {
    if (path->has_value() && **path != kInheritStream) {
      DAEMONKIT_ASSIGN_OR_RETURN(**path, Absolute(**path));
      **path = SpellNullDeviceOneWay(**path);
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

// Which file `path` names, whether or not it exists yet: the file's own
// device and inode when it does, else its directory's and its last
// component. Found while no pid file exists yet, an alias of the main pid
// file (through a directory link, or relative against absolute) is then
// refused as such, not mistaken for a running daemon when the worker's pid
// file finds the lock taken (issue 23.11).
struct PathIdentity {
  bool known = false;
  internal::FileIdentity file;  // the file, or its directory when missing
  std::string name;             // empty for an existing file

  bool operator==(const PathIdentity& other) const {
    return known && other.known && file == other.file && name == other.name;
  }
};

PathIdentity IdentityOf(const std::string& path) {
  PathIdentity identity;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    identity = {true, internal::FileIdentity::Of(st), ""};
    return identity;
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string name =
      slash == std::string::npos ? path : path.substr(slash + 1);
  // A missing directory is reported by CheckDirectories, with its name.
  if (name.empty() || name == "." || name == ".." ||
      stat(dir.c_str(), &st) != 0) {
    return identity;
  }
  identity = {true, internal::FileIdentity::Of(st), name};
  return identity;
}

// The pid files and the output files must be different files (see
// ValidateOptions for the same path twice): two paths that reach one file,
// existing or to be created (a hard link, a directory link an
// administrator made, `x` and `$PWD/x`), are found by device and inode, a
// usage error like the same path twice. stdout and stderr may share a file.
absl::Status CheckFilesAreDistinct(const Options& options) {
  struct Named {
    const char* field;
    std::string path;
  };
  std::vector<Named> paths;
  if (!options.pidfile.empty()) paths.push_back({"pidfile", options.pidfile});
  if (!options.child_pidfile.empty()) {
    paths.push_back({"child_pidfile", options.child_pidfile});
  }
  const size_t pid_files = paths.size();
  for (const auto& [field, path] :
       {std::make_pair("stdout_path", &options.stdout_path),
        std::make_pair("stderr_path", &options.stderr_path)}) {
    if (path->has_value() && **path != kInheritStream &&
        **path != "/dev/null") {
      paths.push_back({field, **path});
    }
  }
  for (size_t i = 0; i < pid_files; ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      if (IdentityOf(paths[i].path) == IdentityOf(paths[j].path)) {
        return UsageError(
            paths[j].field,
            absl::StrCat(paths[j].path, " and ", paths[i].path,
                         " are the same file, given twice; the pid file, "
                         "the worker's pid file and the output files must be "
                         "different files"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSingleThreaded() {
  absl::StatusOr<int> threads = internal::CountThreads();
  // Without /proc the count is unknown; fork is then the caller's risk.
  if (threads.ok() && *threads > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot daemonize a process that runs ", *threads,
        " threads: fork would copy only the calling one; call Daemonize "
        "before starting threads"));
  }
  return absl::OkStatus();
}

// Upgrades (issue 14): an old daemon upgrades only without supervision,
// privilege drop or chroot, and hands its successor the pid file's open
// descriptor. A command line that asks for one of those now (a flag file
// edited since the start) would give a dropped or jailed process a
// root-owned file to rewrite: that takes a restart, not an upgrade.
absl::Status CheckSuccessorOptions(const Options& options) {
  if (!options.user.empty() || !options.group.empty() ||
      !options.chroot.empty() || options.restart != RestartPolicy::kNo) {
    return absl::FailedPreconditionError(
        "an upgrade cannot add --daemon_user, --daemon_group, "
        "--daemon_chroot or --daemon_restart (the command line changed "
        "since the start): restart the daemon instead");
  }
  return absl::OkStatus();
}

// Service-manager controls (issue 15): the readiness descriptor must be the
// manager's, not one the daemon itself lives on: the newline and the close
// would go into the pid file, or close an activated listening socket.
absl::Status CheckReadyFdIsNoneOfOurs(const internal::StartRequest& request) {
  const int fd = request.options.ready_fd;
  if (fd < 0) return absl::OkStatus();
  for (const internal::ListenSocket& socket : request.sockets.sockets()) {
    if (socket.fd == fd) {
      return absl::FailedPreconditionError(
          absl::StrCat("--daemon_ready_fd=", fd, " is the listening socket ",
                       socket.name, ", not the service manager's descriptor"));
    }
  }
  struct stat ready;
  if (fstat(fd, &ready) != 0) {
    return internal::ErrnoError(
        errno, absl::StrCat("--daemon_ready_fd=", fd, ": fstat"));
  }
  for (const std::optional<internal::PidFile>* file :
       {&request.pidfile, &request.worker_pidfile}) {
    if (*file && internal::FileIdentity{(*file)->dev(), (*file)->ino()} ==
                     internal::FileIdentity::Of(ready)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--daemon_ready_fd=", fd, " is the pid file ", (*file)->path(),
          ", not the service manager's descriptor"));
    }
  }
  return absl::OkStatus();
}

// Issue 22.12: two daemons given the same --daemon_stdout (or stderr) file
// interleave their lines, and the reload of one reopens only its own
// descriptor after a rotation, so the other writes on into the rotated
// file. A shared log may be meant (one file for a group of services), so
// this warns rather than refuses: the first other live process seen
// holding the existing file open for writing is named. Only the processes
// this user may look at are seen; the scan is O(processes x descriptors),
// once per start, after the pid file is won (a second start of the same
// daemon, "already running", is not warned about its own log).
void WarnIfOutputIsAnotherWritersFile(const Options& options) {
  struct Output {
    const char* flag;
    const std::optional<std::string>& path;
  };
  std::vector<std::pair<const char*, struct stat>> files;
  for (const Output& output : {Output{"daemon_stdout", options.stdout_path},
                               Output{"daemon_stderr", options.stderr_path}}) {
    struct stat st;
    if (!output.path || *output.path == kInheritStream ||
        lstat(output.path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    bool same_as_listed = false;
    for (const auto& [flag, seen] : files) {
      same_as_listed = same_as_listed || internal::SameFile(seen, st);
    }
    if (!same_as_listed) files.emplace_back(output.flag, st);
  }
  if (files.empty()) return;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;  // a warning only: nothing to say without it
  std::vector<bool> warned(files.size(), false);
  const pid_t self = getpid();
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == self) continue;
    const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;  // gone, or another user's
    while (struct dirent* fd_entry = readdir(fds)) {
      if (fd_entry->d_name[0] == '.') continue;
      struct stat st;
      if (stat(absl::StrCat(fd_dir, "/", fd_entry->d_name).c_str(), &st) != 0) {
        continue;
      }
      for (size_t i = 0; i < files.size(); ++i) {
        if (warned[i] || !internal::SameFile(st, files[i].second)) {
          continue;
        }
        absl::StatusOr<std::string> info = internal::ReadSmallFile(
            absl::StrCat("/proc/", pid, "/fdinfo/", fd_entry->d_name));
        if (!info.ok()) continue;
        const size_t at = info->find("flags:");
        unsigned int flags = 0;
        if (at == std::string::npos ||
            std::sscanf(info->c_str() + at, "flags: %o", &flags) != 1 ||
            (flags & O_ACCMODE) == O_RDONLY) {
          continue;
        }
        warned[i] = true;
        std::string name = "?";
        if (absl::StatusOr<std::string> comm =
                internal::ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"));
            comm.ok()) {
          // Chosen by that process, maybe another user's (PR_SET_NAME):
          // never raw on root's terminal (the attack of 2026-12-06 cleared
          // the screen and forged a line with one).
          name = internal::TerminalSafe(absl::StripSuffix(*comm, "\n"));
        }
        std::fprintf(stderr,
                     "%s: warning: --%s file %s is open for writing by pid %d "
                     "(%s) too: the two interleave their lines, and a reload "
                     "of one does not reopen it for the other; give each "
                     "daemon a file of its own\n",
                     program_invocation_short_name, files[i].first,
                     internal::TerminalSafe(files[i].first ==
                                                    std::string("daemon_stdout")
                                                ? *options.stdout_path
                                                : *options.stderr_path)
                         .c_str(),
                     static_cast<int>(pid), name.c_str());
      }
    }
    closedir(fds);
  }
  closedir(proc);
}

// Everything that can fail and needs no fork, while still attached to the
// terminal: the checks, the pid files (locked), the output files. Nothing
// is left behind on error.
absl::Status Prepare(const Options& requested,
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
  DAEMONKIT_ASSIGN_OR_RETURN(request.options, Resolve(requested));
  // An upgrade's successor runs the old daemon's command line: its
  // `--daemon_ready_fd` was the service manager's, told once and closed;
  // the number now names one of the handed-over descriptors.
  if (request.handover) request.options.ready_fd = -1;
  const Options& options = request.options;
  if (request.handover) {
    DAEMONKIT_RETURN_IF_ERROR(CheckSuccessorOptions(options));
  }
  DAEMONKIT_RETURN_IF_ERROR(CheckFilesAreDistinct(options));
  if (options.detach) DAEMONKIT_RETURN_IF_ERROR(CheckSingleThreaded());
  DAEMONKIT_RETURN_IF_ERROR(CheckDirectories(options));
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
  DAEMONKIT_RETURN_IF_ERROR(internal::CheckWhatTheDroppedUserMustNotChange(
      options, request.credentials));
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
  // From here on a failure must not leave the pid files behind, nor an
  // output file this start created.
  absl::Cleanup remove = [&request] { request.RemoveWhatWasMade(); };
  if (!request.handover) WarnIfOutputIsAnotherWritersFile(options);
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
  DAEMONKIT_RETURN_IF_ERROR(CheckReadyFdIsNoneOfOurs(request));
  // Upgrades (issue 14): the command line, while still in the caller's
  // directory, for a successor that reads it the same way.
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

}  // namespace

absl::StatusOr<std::unique_ptr<Daemon>> Daemonize(const Options& options) {
  // A closed standard stream gets /dev/null, so no file lands on its
  // number; should Daemonize fail before forking, the caller gets its
  // streams back as they were.
  std::vector<int> opened_streams;
  DAEMONKIT_RETURN_IF_ERROR(
      internal::EnsureStandardStreamsOpen(&opened_streams));
  absl::Cleanup restore_streams = [&opened_streams] {
    for (int fd : opened_streams) close(fd);
  };
  // Service-manager controls (issue 15): pid 1 of a container splits off
  // an init that reaps orphans and forwards signals; the application goes
  // on as pid 2 (internal/container_init.h). A bad option is reported
  // before anything forks; threads would not follow the application.
  const bool container_init = !options.detach && internal::IsContainerInit();
  if (container_init) {
    DAEMONKIT_RETURN_IF_ERROR(ValidateOptions(options));
    absl::StatusOr<int> threads = internal::CountThreads();
    if (threads.ok() && *threads > 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot run as pid 1 with ", *threads,
          " threads: the application forks away from pid 1, and fork copies "
          "only the calling thread; call Daemonize before starting threads"));
    }
    DAEMONKIT_RETURN_IF_ERROR(
        internal::SplitOffContainerInit(options.stop_timeout));
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

  if (!request.options.detach || request.handover) {
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
    std::move(restore_streams).Cancel();
    return Daemon::Create(*std::move(started));
  }

  absl::StatusOr<internal::ReadyPipe> pipe = internal::CreateReadyPipe();
  if (!pipe.ok()) {
    request.RemoveWhatWasMade();
    return pipe.status();
  }
  absl::StatusOr<pid_t> first_child = ForkFirstChild();
  if (!first_child.ok()) {
    close(pipe->read_fd);
    close(pipe->write_fd);
    request.RemoveWhatWasMade();
    return first_child.status();
  }
  std::move(restore_streams).Cancel();
  if (*first_child > 0) {
    internal::RunLauncher(*first_child, *pipe, request.options,
                          std::move(request.pidfile),
                          std::move(request.outputs),
                          std::move(request.sockets));  // never returns
  }
  internal::ReadyReporter reporter =
      internal::RunSessionLeader(*pipe, DescriptorsToKeep(request, *pipe));
  // Only the daemon gets here.
  return Daemon::Create(
      internal::StartAfterForks(request, std::move(reporter)));
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
