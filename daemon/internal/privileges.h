// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/privileges.h
// -----------------------------------------------------------------------------
//
// Dropping root for good. Names are resolved before forking (an unknown user
// is a start-up error on the terminal, not a dead daemon); the drop happens
// in the daemon, in the only safe order — supplementary groups, then the
// group, then the user — and is verified: a process that can still become
// root again refuses to run.

#ifndef DAEMONKIT_DAEMON_INTERNAL_PRIVILEGES_H_
#define DAEMONKIT_DAEMON_INTERNAL_PRIVILEGES_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace daemonkit {
namespace internal {

// Who the daemon becomes.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, exactly
  std::string description;    // "user nobody (65534), group nogroup (65534)"
};

// Resolves `user` and `group` (names or numbers; either may be empty) with
// the user database. A user alone brings its primary group and its
// supplementary groups (as initgroups(3) would); a group alone keeps the
// user and leaves that group as the only one. nullopt when both are empty.
//
// Errors: kNotFound naming an unknown user or group; kPermissionDenied when
// the process is not root but asks to become someone else.
absl::StatusOr<std::optional<Credentials>> ResolveCredentials(
    const std::string& user, const std::string& group);

// setgroups, setgid, setuid (all of real, effective and saved ids), then
// verifies that the ids stuck and, for a non-root target, that setuid(0)
// now fails. kInternal if the drop did not hold.
absl::Status DropPrivileges(const Credentials& credentials);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PRIVILEGES_H_
