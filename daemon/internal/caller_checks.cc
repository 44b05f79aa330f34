// Copyright 2026 The daemonkit Authors.
//
// Runs in the caller of Daemonize(), before the first fork.

#include "daemon/internal/caller_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

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

// A directory the daemon will enter must be one, and not through a symbolic
// link as its last component (the daemon's user may own the parent and
// plant one): the same check as the daemon's own open before it enters.
absl::Status CheckDirectory(absl::string_view what, const std::string& path) {
  DAEMONKIT_ASSIGN_OR_RETURN(const int fd, OpenDirectoryNoFollow(path, what));
  // Opened only to be checked: closed at once.
  const UniqueFd directory(fd);
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
  FileIdentity file;  // the file, or its directory when missing
  std::string name;   // empty for an existing file

  bool operator==(const PathIdentity& other) const {
    return known && other.known && file == other.file && name == other.name;
  }
};

PathIdentity IdentityOf(const std::string& path) {
  PathIdentity identity;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    identity = {true, FileIdentity::Of(st), ""};
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
  identity = {true, FileIdentity::Of(st), name};
  return identity;
}

}  // namespace

absl::StatusOr<Options> ResolveOptions(Options options) {
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
  absl::StatusOr<int> threads = CountThreads();
  // Without /proc the count is unknown; fork is then the caller's risk.
  if (threads.ok() && *threads > 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot daemonize a process that runs ", *threads,
        " threads: fork would copy only the calling one; call Daemonize "
        "before starting threads"));
  }
  return absl::OkStatus();
}

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

absl::Status CheckReadyFdIsNoneOfOurs(const StartRequest& request) {
  const int fd = request.options.ready_fd;
  if (fd < 0) return absl::OkStatus();
  for (const ListenSocket& socket : request.sockets.sockets()) {
    if (socket.fd == fd) {
      return absl::FailedPreconditionError(
          absl::StrCat("--daemon_ready_fd=", fd, " is the listening socket ",
                       socket.name, ", not the service manager's descriptor"));
    }
  }
  struct stat ready;
  if (fstat(fd, &ready) != 0) {
    return ErrnoError(errno, absl::StrCat("--daemon_ready_fd=", fd, ": fstat"));
  }
  for (const std::optional<PidFile>* file :
       {&request.pidfile, &request.worker_pidfile}) {
    if (*file && FileIdentity{(*file)->dev(), (*file)->ino()} ==
                     FileIdentity::Of(ready)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--daemon_ready_fd=", fd, " is the pid file ", (*file)->path(),
          ", not the service manager's descriptor"));
    }
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
