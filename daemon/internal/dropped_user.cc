// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/dropped_user.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/listen_address.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// The first directory on the absolute `path` (the file's own directory
// and each above it) that the user of `credentials` may write, unless it
// is sticky and not that user's (then only root may rename root's files in
// it); empty when there is none. Sets `why` to what makes it so, phrased
// after the directory's name. A directory the user owns counts whatever
// its mode (the owner may chmod it), and so does one with an access ACL
// (system.posix_acl_access: named users or groups the mode bits do not
// show; an ACL equal to the mode is not stored at all).
std::string DirectoryTheUserMayWrite(const std::string& path,
                                     const Credentials& credentials,
                                     std::string* why) {
  for (size_t slash = path.find('/', 1);
       slash != std::string::npos && slash < path.size();
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) continue;  // reported when opened
    if (st.st_uid == credentials.uid) {
      *why = absl::StrCat("is owned by ", credentials.description,
                          ", who may make it writable at any time");
      return dir;
    }
    const bool in_group =
        st.st_gid == credentials.gid ||
        std::find(credentials.groups.begin(), credentials.groups.end(),
                  st.st_gid) != credentials.groups.end();
    const bool writable =
        (in_group && (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH);
    if (writable && !(st.st_mode & S_ISVTX)) {
      *why = absl::StrCat("is writable by ", credentials.description);
      return dir;
    }
    if (getxattr(dir.c_str(), "system.posix_acl_access", nullptr, 0) > 0) {
      *why = absl::StrCat("has an access ACL, which may let ",
                          credentials.description, " write it");
      return dir;
    }
  }
  return "";
}

namespace {

// A pid file root's tools trust (start-stop-daemon --pidfile, systemd's
// PIDFile=, our own stop) must not be replaceable by the user the daemon
// drops to: no directory on its path may be writable by that user, unless
// sticky and not the user's own (then only root may rename root's file).
// Otherwise the user renames the file away and writes another pid in its
// place, whoever holds the lock.
absl::Status CheckPidFileDirectoriesAreNotTheUsers(
    const Options& options, const std::optional<Credentials>& credentials) {
  if (!credentials || credentials->uid == 0) return absl::OkStatus();
  for (const std::string& pidfile : {options.pidfile, options.child_pidfile}) {
    if (pidfile.empty()) continue;
    std::string why;
    const std::string dir =
        DirectoryTheUserMayWrite(pidfile, *credentials, &why);
    if (!dir.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "pid file ", pidfile, ": directory ", dir, " ", why,
          " (--daemon_user), who could replace the pid file that root's "
          "tools trust; use a directory only root may write, such as "
          "/run"));
    }
  }
  return absl::OkStatus();
}

// Issue 18.5: root creates a dropped daemon's Unix socket file (bind), may
// replace a dead one there, and its keeper removes it at the stop, all by
// path. A directory on that path the dropped user may write lets it put a
// link there (dir/sub -> /root-only) and have root make a socket file of
// the user's in a root-only directory, which no stop removes and which
// fails every later start; a link a non-root user owns anywhere on the
// path (one planted in /tmp) does the same. Both are refused, as for the
// pid file.
absl::Status CheckSocketDirectoriesAreNotTheUsers(
    const Options& options, const std::optional<Credentials>& credentials) {
  if (!credentials || credentials->uid == 0) return absl::OkStatus();
  for (const std::string& text : options.listen) {
    absl::StatusOr<ListenEntry> entry = ParseListenEntry(text);
    // A bad entry is reported when bound.
    if (!entry.ok() || entry->address.family != ListenAddress::Family::kUnix ||
        entry->address.abstract) {
      continue;
    }
    const std::string& path = entry->address.path;
    const std::string what = absl::StrCat("--daemon_listen=", text, ": ");
    std::string why;
    const std::string dir = DirectoryTheUserMayWrite(path, *credentials, &why);
    if (!dir.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, "directory ", dir, " ", why,
          " (--daemon_user), who could put a link there and have root "
          "create and remove the socket file elsewhere; use a directory "
          "only root may write, such as /run"));
    }
    for (size_t slash = path.find('/', 1);
         slash != std::string::npos && slash < path.size();
         slash = path.find('/', slash + 1)) {
      const std::string component = path.substr(0, slash);
      struct stat st;
      if (lstat(component.c_str(), &st) == 0 && S_ISLNK(st.st_mode) &&
          st.st_uid != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            what, component, " is a symbolic link of uid ", st.st_uid,
            ", who could point it at any directory root may write; name "
            "the socket's directory without it"));
      }
    }
  }
  return absl::OkStatus();
}

// Issue 18.2: kept capabilities and a chroot confine only a daemon that
// is not root (ValidateOptions already refused them without a user); a
// `--daemon_user` that names uid 0 under another name drops nothing.
absl::Status CheckDropIsToAnotherUser(
    const Options& options, const std::optional<Credentials>& credentials) {
  if (!credentials || credentials->uid != 0) return absl::OkStatus();
  if (!options.capabilities.empty()) {
    return UsageError(
        "capabilities",
        absl::StrCat("--daemon_capabilities: ", credentials->description,
                     " is root: kept capabilities confine only a daemon "
                     "dropped to another user; make --daemon_user a user "
                     "other than root"));
  }
  if (!options.chroot.empty()) {
    return UsageError("chroot",
                      absl::StrCat("--daemon_chroot=", options.chroot, ": ",
                                   credentials->description,
                                   " is root, who can leave a chroot; make "
                                   "--daemon_user a user other than root"));
  }
  return absl::OkStatus();
}

// --daemon_chroot: the root and every directory above it. A user who may
// write one of them may put another tree in the root's place, which every
// restart of a program (and every upgrade) enters by path (the attack of
// 2026-12-07: a swapped root's binary ran with the kept capability).
absl::Status CheckRootIsNotTheUsers(
    const Options& options, const std::optional<Credentials>& credentials) {
  if (options.chroot.empty() || !credentials || credentials->uid == 0) {
    return absl::OkStatus();
  }
  std::string why;
  // The trailing component makes the root itself one of the directories.
  const std::string dir = DirectoryTheUserMayWrite(
      absl::StrCat(options.chroot, "/."), *credentials, &why);
  if (!dir.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--daemon_chroot=", options.chroot, ": directory ", dir, " ", why,
        " (--daemon_user), who could put another tree in the root's place; "
        "make the root and the directories above it root's alone"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckWhatTheDroppedUserMustNotChange(
    const Options& options, const std::optional<Credentials>& credentials) {
  if (absl::Status status = CheckDropIsToAnotherUser(options, credentials);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckRootIsNotTheUsers(options, credentials);
      !status.ok()) {
    return status;
  }
  if (absl::Status status =
          CheckPidFileDirectoriesAreNotTheUsers(options, credentials);
      !status.ok()) {
    return status;
  }
  return CheckSocketDirectoriesAreNotTheUsers(options, credentials);
}

}  // namespace internal
}  // namespace daemonkit
