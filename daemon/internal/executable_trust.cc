// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/executable_trust.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// "0775": the permission bits as chmod(1) takes them.
std::string OctalMode(mode_t mode) {
  std::string digits(4, '0');
  for (int i = 3; i >= 0; --i) {
    digits[static_cast<size_t>(i)] = static_cast<char>('0' + (mode & 07));
    mode >>= 3;
  }
  return digits;
}

// OK when only root (or this process's user) may change what `name` in the
// directory `dir_fd` (`shown`: its path as walked) names: the directory is
// theirs, and nobody else may write it, or it is sticky (/tmp) and the
// entry is theirs too (only its owner and the directory's may rename or
// remove it there). Otherwise the refusal, naming `path` and why.
absl::Status CheckEntryIsTrusted(int dir_fd, const std::string& shown,
                                 const char* name, absl::string_view what,
                                 const std::string& path) {
  const std::string dir_name = shown.empty() ? "/" : shown;
  const auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", path, ": ", why, ", who could choose what runs as uid ",
        geteuid(), "; make it root's and writable by root alone"));
  };
  struct stat dir;
  if (fstat(dir_fd, &dir) != 0) {
    return ErrnoError(errno,
                      absl::StrCat(what, " ", path, ": stat ", dir_name));
  }
  if (!IsTrustedOwner(dir.st_uid)) {
    return refuse(
        absl::StrCat("directory ", dir_name, " is owned by uid ", dir.st_uid));
  }
  if ((dir.st_mode & (S_IWGRP | S_IWOTH)) == 0) return absl::OkStatus();
  const std::string writers = absl::StrCat(
      "directory ", dir_name, " is writable by its group or others (mode ",
      OctalMode(dir.st_mode), ")");
  if ((dir.st_mode & S_ISVTX) == 0) return refuse(writers);
  struct stat entry;
  if (fstatat(dir_fd, name, &entry, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(errno,
                      absl::StrCat(what, " ", path, ": ", dir_name, "/", name));
  }
  if (!IsTrustedOwner(entry.st_uid)) {
    return refuse(absl::StrCat(writers, " and its entry ", name,
                               " is owned by uid ", entry.st_uid));
  }
  return absl::OkStatus();
}

// The strict walk: every directory on the way, "/" included, must pass
// CheckEntryIsTrusted, and every link must be root's (or this user's), on
// top of the plain walk's own refusals.
class RootAloneGuard : public WalkGuard {
 public:
  RootAloneGuard(absl::string_view what, const std::string& path)
      : what_(what), path_(path) {}

  absl::Status CheckStep(int dir, const std::string& shown,
                         const std::string& component) const override {
    return CheckEntryIsTrusted(dir, shown, component.c_str(), what_, path_);
  }

  absl::Status CheckLink(const std::string& shown, const std::string& component,
                         const struct stat& link) const override {
    if (IsTrustedOwner(link.st_uid)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        what_, " ", path_, ": ", shown, "/", component,
        " is a symbolic link of uid ", link.st_uid,
        ", who could choose what runs as uid ", geteuid(), "; make it root's"));
  }

 private:
  const absl::string_view what_;
  const std::string& path_;
};

}  // namespace

absl::Status CheckRunnableByRootAlone(const std::string& path,
                                      absl::string_view what) {
  const RootAloneGuard guard(what, path);
  std::string current = path;
  for (int links = 0;; ++links) {
    if (links > 40) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " ", path, " resolves through too many symbolic links"));
    }
    std::string name;
    DAEMONKIT_ASSIGN_OR_RETURN(
        const UniqueFd owned_dir,
        OpenParentDirectory(current, what, &name, &guard));
    const int dir = owned_dir.get();
    const std::string parent = current.substr(0, current.rfind('/'));
    DAEMONKIT_RETURN_IF_ERROR(
        CheckEntryIsTrusted(dir, parent, name.c_str(), what, path));
    struct stat st;
    if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(errno, absl::StrCat(what, " ", path));
    }
    const auto refuse = [&](absl::string_view why) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", path, ": ", current, " ", why,
                       ", who could choose what runs as uid ", geteuid(),
                       "; make it root's and writable by root alone"));
    };
    if (!IsTrustedOwner(st.st_uid)) {
      return refuse(absl::StrCat("is owned by uid ", st.st_uid));
    }
    if (S_ISLNK(st.st_mode)) {
      // A link as the last component (a deployment's "current" release):
      // where it points is walked the same way.
      char target[PATH_MAX];
      const ssize_t length =
          readlinkat(dir, name.c_str(), target, sizeof(target) - 1);
      if (length < 0) {
        return ErrnoError(errno, absl::StrCat("readlink ", current));
      }
      const std::string link(target, static_cast<size_t>(length));
      if (link.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, " ", path, ": ", current, " is an empty link"));
      }
      current = link[0] == '/' ? link : absl::StrCat(parent, "/", link);
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, " ", path, ": ", current, " is ",
                       KindOf(st.st_mode), ", not a regular file"));
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      return refuse(absl::StrCat("is writable by its group or others (mode ",
                                 OctalMode(st.st_mode), ")"));
    }
    return absl::OkStatus();
  }
}

}  // namespace internal
}  // namespace daemonkit
