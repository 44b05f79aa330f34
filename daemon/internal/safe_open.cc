// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/safe_open.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr char kDevNull[] = "/dev/null";
// A missing file that reappears (or the reverse) this many times in a row
// between lstat and open is a race someone is playing on purpose.
constexpr int kMaxAttempts = 8;

}  // namespace

absl::string_view KindOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "not a regular file";
  }
}

namespace {

absl::Status Refuse(const std::string& path, const OpenPolicy& policy,
                    absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat(policy.what, " ", path, " ", why));
}

bool IsNullDevice(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

// What lstat or fstat says about a file that is not a regular file, or OK.
absl::Status CheckKind(const std::string& path, const OpenPolicy& policy,
                       const struct stat& st) {
  if (S_ISREG(st.st_mode)) return absl::OkStatus();
  if (policy.allow_dev_null && path == kDevNull) {
    if (IsNullDevice(st)) return absl::OkStatus();
    return Refuse(path, policy, "is not the null device");
  }
  if (S_ISLNK(st.st_mode)) {
    return Refuse(path, policy, "is a symbolic link; refusing to follow it");
  }
  return Refuse(path, policy,
                absl::StrCat("is ", KindOf(st.st_mode),
                             ", not a regular file; refusing to open it"));
}

// The checks on an existing regular file: links and owner.
absl::Status CheckExisting(const std::string& path, const OpenPolicy& policy,
                           const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return absl::OkStatus();  // /dev/null
  if (policy.single_link && st.st_nlink != 1) {
    return Refuse(path, policy,
                  absl::StrCat("has ", st.st_nlink,
                               " hard links; refusing a file that may be "
                               "another file's alias"));
  }
  if (!policy.owners.empty() &&
      std::find(policy.owners.begin(), policy.owners.end(), st.st_uid) ==
          policy.owners.end()) {
    // Each allowed owner once: without --daemon_user, root and the caller
    // are the same uid.
    std::vector<uid_t> allowed;
    for (uid_t owner : policy.owners) {
      if (std::find(allowed.begin(), allowed.end(), owner) == allowed.end()) {
        allowed.push_back(owner);
      }
    }
    return Refuse(path, policy,
                  absl::StrCat("is owned by uid ", st.st_uid, ", not by uid ",
                               absl::StrJoin(allowed, " or uid "),
                               "; refusing to write to it"));
  }
  return absl::OkStatus();
}

// Whether a symbolic link named `name` in the directory `dir_fd` can only
// have been placed there by root or by this process's own user: the
// directory is theirs and nobody else may write it, or it is sticky (/tmp)
// and the link is theirs (nobody else may rename or remove it there). Such
// links are the configuration (/var/run -> /run); any other was planted.
bool IsTrustedLink(int dir_fd, const char* name) {
  struct stat dir, link;
  struct statfs fs;
  if (fstat(dir_fd, &dir) != 0 ||
      fstatat(dir_fd, name, &link, AT_SYMLINK_NOFOLLOW) != 0 ||
      fstatfs(dir_fd, &fs) != 0) {
    return false;
  }
  // /proc's links (/proc/self/cwd, /proc/PID/fd/N) name whatever the
  // process that follows them has: the daemon's workdir, the keeper's "/".
  if (fs.f_type == PROC_SUPER_MAGIC) return false;
  if (!IsTrustedOwner(dir.st_uid)) return false;  // its owner may swap links
  if ((dir.st_mode & (S_IWGRP | S_IWOTH)) == 0) return true;
  // Others may write here, but in a sticky directory only a link's owner
  // (and the directory's) may rename or remove it.
  return (dir.st_mode & S_ISVTX) != 0 && IsTrustedOwner(link.st_uid);
}

// OpenParentDirectory's state: the directory reached, the components still
// to walk (the next one last), the directory as walked (for errors) and the
// links followed so far.
struct Walk {
  UniqueFd dir;
  std::vector<std::string> todo;
  std::string shown;
  int links_followed = 0;
};

// The walk could not open `component` as a directory without following a
// link (`saved`: openat's errno). When it is a symbolic link that root or
// this user alone could have put there, queues its target's components
// (from "/" again for an absolute target); otherwise the error.
absl::Status FollowLink(const std::string& path, absl::string_view what,
                        const WalkGuard* guard, const std::string& component,
                        int saved, Walk& walk) {
  struct stat st;
  if ((saved != ELOOP && saved != ENOTDIR) ||
      fstatat(walk.dir.get(), component.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
          0 ||
      !S_ISLNK(st.st_mode)) {
    return ErrnoError(saved,
                      absl::StrCat(what, " ", path, ": directory ", component));
  }
  if (guard != nullptr) {
    DAEMONKIT_RETURN_IF_ERROR(guard->CheckLink(walk.shown, component, st));
  }
  if (++walk.links_followed > 40 ||
      !IsTrustedLink(walk.dir.get(), component.c_str())) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, ": directory ", component,
        walk.links_followed > 40
            ? " resolves through too many symbolic links"
            : " is a symbolic link in a directory others may write; "
              "refusing to follow it"));
  }
  char target[PATH_MAX];
  const ssize_t length =
      readlinkat(walk.dir.get(), component.c_str(), target, sizeof(target) - 1);
  if (length < 0) {
    return ErrnoError(errno, absl::StrCat("readlink ", component));
  }
  const std::string link(target, static_cast<size_t>(length));
  std::vector<std::string> parts = absl::StrSplit(link, '/', absl::SkipEmpty());
  for (auto part = parts.rbegin(); part != parts.rend(); ++part) {
    walk.todo.push_back(std::move(*part));
  }
  if (!link.empty() && link[0] == '/') {
    walk.dir.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!walk.dir.valid()) return ErrnoError(errno, "open /");
    walk.shown.clear();
  }
  return absl::OkStatus();
}

// SafeOpen's open of `name` in `dir`, looked at again while the file
// appears, vanishes or is replaced between the look and the open. `st`
// receives the opened file's fstat; the caller owns the descriptor.
absl::StatusOr<OpenedFile> OpenEntry(int dir, const std::string& name,
                                     const std::string& path,
                                     const OpenPolicy& policy,
                                     struct stat& st) {
  const int flags =
      policy.access | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
  OpenedFile opened;
  for (int attempt = 0;; ++attempt) {
    UniqueFd fd;  // closed when this attempt is given up
    if (attempt == kMaxAttempts) {
      return absl::UnavailableError(absl::StrCat(
          policy.what, " ", path, " keeps changing while being opened"));
    }
    // lstat first: a device or FIFO must not even be opened (opening a
    // device can have effects of its own). fstat below decides.
    if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || !policy.create) {
        return ErrnoError(errno, absl::StrCat(policy.what, " ", path));
      }
      fd.reset(openat(dir, name.c_str(), flags | O_CREAT | O_EXCL,
                      policy.create_mode));
      if (!fd.valid() && errno == EEXIST) continue;  // appeared: look again
      opened.created = fd.valid();
    } else {
      DAEMONKIT_RETURN_IF_ERROR(CheckKind(path, policy, st));
      fd.reset(openat(dir, name.c_str(), flags));
      if (!fd.valid() && errno == ENOENT) continue;  // vanished: look again
    }
    if (fd.valid()) {
      if (fstat(fd.get(), &st) != 0) {
        return ErrnoError(errno, absl::StrCat("stat ", policy.what, " ", path));
      }
      // No link left: the file was unlinked, or replaced (a concurrent
      // start renames a new pid file over it), between the open and now.
      // Not an alias, just late: open what the path names now.
      if (!opened.created && st.st_nlink == 0) continue;
      opened.fd = fd.release();
      return opened;
    }
    const int saved = errno;
    if (saved == ELOOP) {
      return Refuse(path, policy, "is a symbolic link; refusing to follow it");
    }
    if (saved == ENXIO || saved == EISDIR) {
      return Refuse(path, policy, "is not a regular file; refusing to open it");
    }
    return ErrnoError(saved, absl::StrCat(policy.what, " ", path));
  }
}

}  // namespace

bool IsTrustedOwner(uid_t uid) { return uid == 0 || uid == geteuid(); }

std::string BaseName(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::StatusOr<UniqueFd> OpenParentDirectory(const std::string& path,
                                             absl::string_view what,
                                             std::string* name,
                                             const WalkGuard* guard) {
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == path.size() - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not an absolute file path"));
  }
  *name = path.substr(slash + 1);
  Walk walk;
  walk.todo = absl::StrSplit(path.substr(0, slash), '/', absl::SkipEmpty());
  std::reverse(walk.todo.begin(), walk.todo.end());
  walk.dir.reset(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!walk.dir.valid()) return ErrnoError(errno, "open /");
  while (!walk.todo.empty()) {
    const std::string component = std::move(walk.todo.back());
    walk.todo.pop_back();
    if (component == ".") continue;
    if (guard != nullptr) {
      DAEMONKIT_RETURN_IF_ERROR(
          guard->CheckStep(walk.dir.get(), walk.shown, component));
    }
    UniqueFd next(openat(walk.dir.get(), component.c_str(),
                         O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.valid()) {
      walk.dir = std::move(next);
      absl::StrAppend(&walk.shown, "/", component);
      continue;
    }
    const int saved = errno;
    DAEMONKIT_RETURN_IF_ERROR(
        FollowLink(path, what, guard, component, saved, walk));
  }
  return std::move(walk.dir);
}

absl::StatusOr<OpenedFile> SafeOpen(const std::string& path,
                                    const OpenPolicy& policy) {
  std::string name;
  DAEMONKIT_ASSIGN_OR_RETURN(const UniqueFd owned_dir,
                             OpenParentDirectory(path, policy.what, &name));
  struct stat st;  // of the file opened
  DAEMONKIT_ASSIGN_OR_RETURN(
      OpenedFile opened, OpenEntry(owned_dir.get(), name, path, policy, st));
  UniqueFd fd(opened.fd);  // closed on every refusal below
  DAEMONKIT_RETURN_IF_ERROR(CheckKind(path, policy, st));
  if (!opened.created) {
    DAEMONKIT_RETURN_IF_ERROR(CheckExisting(path, policy, st));
  }
  opened.dev = st.st_dev;
  opened.ino = st.st_ino;
  // O_NONBLOCK only guarded the open: writes to a regular file never block
  // anyway, but a cleared flag is what the application expects on stdout.
  const int status_flags = fcntl(fd.get(), F_GETFL);
  if (status_flags < 0 ||
      fcntl(fd.get(), F_SETFL, status_flags & ~O_NONBLOCK) != 0) {
    return ErrnoError(errno, absl::StrCat("fcntl ", policy.what, " ", path));
  }
  if (opened.created) {
    // The exact mode whatever the umask, and the daemon's owner so that it
    // may reopen the file after dropping privileges.
    if (fchmod(fd.get(), policy.create_mode) != 0 ||
        (policy.create_owner && fchown(fd.get(), policy.create_owner->first,
                                       policy.create_owner->second) != 0)) {
      const int saved = errno;
      (void)UnlinkIfSame(path, opened.dev, opened.ino);
      return ErrnoError(saved, absl::StrCat("set mode and owner of ",
                                            policy.what, " ", path));
    }
  }
  opened.fd = fd.release();
  return opened;
}

absl::StatusOr<bool> UnlinkIfSame(const std::string& path, dev_t dev,
                                  ino_t ino) {
  std::string name;
  absl::StatusOr<UniqueFd> dir = OpenParentDirectory(path, "unlink", &name);
  if (!dir.ok()) {
    if (absl::IsNotFound(dir.status())) return false;
    return dir.status();
  }
  return UnlinkAtIfSame(dir->get(), name, dev, ino, path);
}

absl::StatusOr<int> OpenContainingDirectory(const std::string& path,
                                            absl::string_view what,
                                            std::string* name) {
  DAEMONKIT_ASSIGN_OR_RETURN(UniqueFd dir,
                             OpenParentDirectory(path, what, name));
  return dir.release();
}

absl::StatusOr<bool> UnlinkAtIfSame(int dir, const std::string& name, dev_t dev,
                                    ino_t ino, absl::string_view shown) {
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoError(errno, absl::StrCat("stat ", shown));
  }
  if (FileIdentity::Of(st) != FileIdentity{dev, ino}) return false;
  if (unlinkat(dir, name.c_str(), 0) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoError(errno, absl::StrCat("unlink ", shown));
  }
  return true;
}

bool SocketFileHasListener(int dir, const std::string& name,
                           const std::string& path) {
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISSOCK(st.st_mode)) {
    return false;
  }
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::string target = absl::StrCat("/proc/self/fd/", dir, "/", name);
  if (target.size() >= sizeof(address.sun_path)) target = path;
  if (target.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, target.data(), target.size());
  UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return true;  // cannot tell: keep the file
  int connected;
  do {
    connected =
        connect(probe.get(), reinterpret_cast<struct sockaddr*>(&address),
                sizeof(address));
  } while (connected != 0 && errno == EINTR);
  const int saved = errno;
  probe.reset();  // before the answer is acted on, as before
  return connected == 0 || (saved != ECONNREFUSED && saved != ENOENT);
}

absl::StatusOr<int> OpenDirectoryNoFollow(const std::string& path,
                                          absl::string_view what) {
  // A directory may be named with a final slash; "/" itself has no parent.
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  std::string name = ".";
  absl::StatusOr<UniqueFd> parent;
  if (trimmed == "/") {
    const int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    parent = root >= 0 ? absl::StatusOr<UniqueFd>(UniqueFd(root))
                       : ErrnoError(errno, "open /");
  } else {
    parent = OpenParentDirectory(trimmed, what, &name);
  }
  DAEMONKIT_ASSIGN_OR_RETURN(const UniqueFd dir, std::move(parent));
  UniqueFd fd(openat(dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, absl::StrCat(what, " ", path));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat("stat ", what, " ", path));
  }
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, " is a symbolic link; refusing to follow it"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, " is ", KindOf(st.st_mode), ", not a directory"));
  }
  return fd.release();
}

}  // namespace internal
}  // namespace daemonkit
