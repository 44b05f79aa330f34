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
#include "absl/strings/string_view.h"
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

// getpwuid_r/getpwnam_r or getgrgid_r/getgrnam_r: by number when `name` is
// one, else by name, with a buffer that grows as asked. nullopt when the
// database has no such entry.
template <typename Entry, typename Id>
absl::StatusOr<std::optional<Entry>> LookUp(
    const std::string& name, absl::string_view what, std::vector<char>& buffer,
    int (*by_id)(Id, Entry*, char*, size_t, Entry**),
    int (*by_name)(const char*, Entry*, char*, size_t, Entry**)) {
  Entry entry;
  Entry* found = nullptr;
  for (buffer.resize(1024);; buffer.resize(buffer.size() * 2)) {
    int error;
    Id id;
    if (IsNumber(name) && absl::SimpleAtoi(name, &id)) {
      error = by_id(id, &entry, buffer.data(), buffer.size(), &found);
    } else {
      error =
          by_name(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    }
    if (error == ERANGE && buffer.size() < (1 << 20)) continue;
    if (error != 0) {
      return ErrnoError(error, absl::StrCat("look up ", what, " ", name));
    }
    if (found == nullptr) return std::nullopt;
    return entry;
  }
}

absl::StatusOr<std::optional<struct passwd>> LookUpUser(
    const std::string& user, std::vector<char>& buffer) {
  return LookUp<struct passwd, uid_t>(user, "user", buffer, getpwuid_r,
                                      getpwnam_r);
}

absl::StatusOr<std::optional<struct group>> LookUpGroup(
    const std::string& group, std::vector<char>& buffer) {
  return LookUp<struct group, gid_t>(group, "group", buffer, getgrgid_r,
                                     getgrnam_r);
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
