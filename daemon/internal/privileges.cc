// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/internal/errors.h"

namespace daemonkit {
namespace internal {
namespace {

bool IsNumber(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// getpwnam_r/getpwuid_r with a buffer that grows as asked.
absl::StatusOr<std::optional<struct passwd>> LookUpUser(
    const std::string& user, std::vector<char>& buffer) {
  struct passwd entry;
  struct passwd* found = nullptr;
  for (buffer.resize(1024);; buffer.resize(buffer.size() * 2)) {
    int error;
    uid_t uid;
    if (IsNumber(user) && absl::SimpleAtoi(user, &uid)) {
      error = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
    } else {
      error = getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(),
                         &found);
    }
    if (error == ERANGE && buffer.size() < (1 << 20)) continue;
    if (error != 0) {
      return ErrnoError(error, absl::StrCat("look up user ", user));
    }
    if (found == nullptr) return std::nullopt;
    return entry;
  }
}

absl::StatusOr<std::optional<struct group>> LookUpGroup(
    const std::string& group, std::vector<char>& buffer) {
  struct group entry;
  struct group* found = nullptr;
  for (buffer.resize(1024);; buffer.resize(buffer.size() * 2)) {
    int error;
    gid_t gid;
    if (IsNumber(group) && absl::SimpleAtoi(group, &gid)) {
      error = getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found);
    } else {
      error = getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(),
                         &found);
    }
    if (error == ERANGE && buffer.size() < (1 << 20)) continue;
    if (error != 0) {
      return ErrnoError(error, absl::StrCat("look up group ", group));
    }
    if (found == nullptr) return std::nullopt;
    return entry;
  }
}

}  // namespace

absl::StatusOr<std::optional<Credentials>> ResolveCredentials(
    const std::string& user, const std::string& group) {
  if (user.empty() && group.empty()) return std::nullopt;
  Credentials credentials;
  credentials.uid = getuid();
  credentials.gid = getgid();
  std::vector<std::string> described;

  std::vector<char> user_buffer;
  std::optional<struct passwd> passwd;
  if (!user.empty()) {
    DAEMONKIT_ASSIGN_OR_RETURN(passwd, LookUpUser(user, user_buffer));
    if (passwd) {
      credentials.uid = passwd->pw_uid;
      credentials.gid = passwd->pw_gid;
    } else if (IsNumber(user) && absl::SimpleAtoi(user, &credentials.uid)) {
      // A numeric id needs no name: its group is its own number.
      credentials.gid = credentials.uid;
    } else {
      return absl::NotFoundError(absl::StrCat("unknown user '", user, "'"));
    }
    described.push_back(
        absl::StrCat("user ", user, " (", credentials.uid, ")"));
  }

  if (!group.empty()) {
    std::vector<char> group_buffer;
    DAEMONKIT_ASSIGN_OR_RETURN(std::optional<struct group> entry,
                               LookUpGroup(group, group_buffer));
    if (entry) {
      credentials.gid = entry->gr_gid;
    } else if (!IsNumber(group) || !absl::SimpleAtoi(group, &credentials.gid)) {
      return absl::NotFoundError(absl::StrCat("unknown group '", group, "'"));
    }
  }
  described.push_back(absl::StrCat(
      "group ", group.empty() ? std::to_string(credentials.gid) : group, " (",
      credentials.gid, ")"));

  if (passwd) {
    // The user's supplementary groups from the group database, as
    // initgroups(3) would set them, with the chosen group among them.
    int count = 32;
    credentials.groups.resize(count);
    while (getgrouplist(passwd->pw_name, credentials.gid,
                        credentials.groups.data(), &count) < 0) {
      credentials.groups.resize(count);
    }
    credentials.groups.resize(count);
  } else {
    credentials.groups = {credentials.gid};
  }
  credentials.description = absl::StrJoin(described, ", ");

  if (geteuid() != 0 &&
      (credentials.uid != geteuid() || credentials.gid != getegid())) {
    return absl::PermissionDeniedError(
        absl::StrCat("becoming ", credentials.description,
                     " needs root; running as uid ", geteuid()));
  }
  return credentials;
}

absl::Status DropPrivileges(const Credentials& credentials) {
  if (geteuid() == 0 &&
      setgroups(credentials.groups.size(), credentials.groups.data()) != 0) {
    return ErrnoError(errno, "setgroups");
  }
  if (setresgid(credentials.gid, credentials.gid, credentials.gid) != 0) {
    return ErrnoError(errno, absl::StrCat("setgid ", credentials.gid));
  }
  if (setresuid(credentials.uid, credentials.uid, credentials.uid) != 0) {
    return ErrnoError(errno, absl::StrCat("setuid ", credentials.uid));
  }
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (getresuid(&ruid, &euid, &suid) != 0 ||
      getresgid(&rgid, &egid, &sgid) != 0 || ruid != credentials.uid ||
      euid != credentials.uid || suid != credentials.uid ||
      rgid != credentials.gid || egid != credentials.gid ||
      sgid != credentials.gid) {
    return absl::InternalError(
        "privilege drop did not take effect; refusing to run");
  }
  if (credentials.uid != 0 && setuid(0) == 0) {
    return absl::InternalError(
        "could regain root after dropping privileges; refusing to run");
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
