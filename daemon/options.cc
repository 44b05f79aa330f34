// Copyright 2026 The daemonkit Authors.
//
// The one check of `Options` (every rule about a value lives here, and
// nowhere else), usage errors and exit codes. Pure: runs in the caller of
// `Daemonize()` (or of the flags layer), before anything forks.

#include "daemon/options.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/comma_list.h"
#include "daemon/internal/listen_address.h"
#include "daemon/process_controls.h"

namespace daemonkit {
namespace {

// The payload that marks a usage error; its value is the field's name.
constexpr absl::string_view kUsagePayload = "daemonkit/usage-error";

// The one rule for an environment variable's name (--daemon_keep_env, its
// flag and its Options field alike): not empty, and no '=', NUL or white
// space, which no name in an environment can hold (the first '=' ends it).
bool IsVariableName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '=' || c == '\0' ||
        absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status UsageError(absl::string_view field, absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord(field));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

std::string UsageErrorField(const absl::Status& status) {
  const auto field = status.GetPayload(kUsagePayload);
  return field ? std::string(*field) : std::string();
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitSuccess;
  if (IsUsageError(status)) return kExitUsage;
  return kExitFailure;
}

namespace {

// `path` with "." components and repeated slashes folded away, for telling
// whether two options name one path.
std::string FoldedPath(absl::string_view path) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part != ".") parts.push_back(part);
  }
  return absl::StrCat(absl::StartsWith(path, "/") ? "/" : "",
                      absl::StrJoin(parts, "/"));
}

// The uid a --daemon_user value names (a name, else a number); nullopt when
// unknown: the resolution at start reports that.
std::optional<uid_t> UidOf(const std::string& user) {
  std::vector<char> buffer(16384);
  struct passwd entry;
  struct passwd* found = nullptr;
  if (getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) ==
          0 &&
      found != nullptr) {
    return found->pw_uid;
  }
  uid_t uid;
  if (!user.empty() && absl::ascii_isdigit(user[0]) &&
      absl::SimpleAtoi(user, &uid)) {
    return uid;
  }
  return std::nullopt;
}

std::optional<gid_t> GidOf(const std::string& group) {
  std::vector<char> buffer(16384);
  struct group entry;
  struct group* found = nullptr;
  if (getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found) ==
          0 &&
      found != nullptr) {
    return found->gr_gid;
  }
  gid_t gid;
  if (!group.empty() && absl::ascii_isdigit(group[0]) &&
      absl::SimpleAtoi(group, &gid)) {
    return gid;
  }
  return std::nullopt;
}

// Issue 22.9: a user who is not root asking for what only root can do (keep
// capabilities across a drop, chroot, become another user or group) hears
// "needs root" naming the option before anything else, not a bare EPERM
// from deep in the start, nor advice (use /run) it cannot follow. Naming
// oneself is no drop and is accepted.
absl::Status CheckRootOnlyOptions(const Options& options) {
  const uid_t euid = geteuid();
  if (euid == 0) return absl::OkStatus();
  const std::string running = absl::StrCat("needs root (running as uid ", euid);
  if (!options.capabilities.empty()) {
    return UsageError(
        "capabilities",
        absl::StrCat(running,
                     "): capabilities are kept across a drop from root to "
                     "`user`; leave it out"));
  }
  if (!options.chroot.empty()) {
    return UsageError("chroot", absl::StrCat(running,
                                             "): only root may chroot; "
                                             "leave it out"));
  }
  if (!options.user.empty()) {
    const std::optional<uid_t> uid = UidOf(options.user);
    if (uid && *uid != euid) {
      return UsageError(
          "user", absl::StrCat(running, "): only root may become uid ", *uid,
                               "; leave it out to run as yourself"));
    }
  }
  if (!options.group.empty()) {
    const std::optional<gid_t> gid = GidOf(options.group);
    if (gid && *gid != getegid()) {
      return UsageError(
          "group", absl::StrCat(running, "): only root may become gid ", *gid,
                                "; leave it out to run with your own group"));
    }
  }
  return absl::OkStatus();
}

// What the start itself takes: the umask, the ready timeout, the working
// directory, the output files and the pid file's path.
absl::Status CheckStartValues(const Options& options) {
  if (options.umask && *options.umask > 0777) {
    return UsageError("umask", absl::StrCat("umask ", absl::Dec(*options.umask),
                                            " is above 0777"));
  }
  if (options.ready_timeout <= absl::ZeroDuration()) {
    return UsageError("ready_timeout",
                      absl::StrCat("ready timeout ",
                                   absl::FormatDuration(options.ready_timeout),
                                   " must be positive"));
  }
  if (options.workdir && options.workdir->empty()) {
    return UsageError("workdir", "workdir is empty");
  }
  if (options.stdout_path && options.stdout_path->empty()) {
    return UsageError("stdout_path",
                      "stdout path is empty (use /dev/null or inherit)");
  }
  if (options.stderr_path && options.stderr_path->empty()) {
    return UsageError("stderr_path",
                      "stderr path is empty (use /dev/null or inherit)");
  }
  if (!options.pidfile.empty() && options.pidfile.back() == '/') {
    return UsageError("pidfile", absl::StrCat("pid file ", options.pidfile,
                                              " names a directory"));
  }
  return absl::OkStatus();
}

// The privileges the daemon runs with: a chroot only with a drop that
// cannot be undone, and an environment of variable names.
absl::Status CheckConfinement(const Options& options) {
  // A chroot confines only a dropped daemon (issue 18.2): root leaves it
  // (chroot into a subdirectory, then chdir("..")). A user that is root is
  // refused in Prepare (daemonize.cc), once the name is resolved.
  if (!options.chroot.empty() && options.user.empty()) {
    return UsageError("chroot",
                      "root can leave a chroot: add --daemon_user=USER (a "
                      "user other than root)");
  }
  // Nor does it confine one that may become root again: a set-user-ID
  // binary inside the root would (the attack of 2026-12-07).
  if (!options.chroot.empty() && !options.no_new_privs) {
    return UsageError("chroot",
                      "--daemon_no_new_privs=false: a set-user-ID program "
                      "inside the root could make the daemon root, which "
                      "leaves a chroot; keep no_new_privs with a chroot");
  }
  if (options.keep_env) {
    for (const std::string& name : *options.keep_env) {
      if (!IsVariableName(name)) {
        return UsageError(
            "keep_env",
            absl::StrCat("'", name, "' is not an environment variable name"));
      }
    }
  }
  return absl::OkStatus();
}

// Supervision: the restart schedule and the worker's pid file.
absl::Status CheckSupervision(const Options& options) {
  // The restart values are checked whatever the policy: a value that would
  // be wrong under supervision is wrong on the command line already.
  // 0 is allowed (issue 22.16): every restart is then immediate, as
  // runsv's, and --daemon_restart_limit is what stops a crash loop.
  if (options.restart_delay < absl::ZeroDuration()) {
    return UsageError("restart_delay", "restart delay must not be negative");
  }
  if (options.restart_max_delay < options.restart_delay) {
    return UsageError("restart_max_delay",
                      "restart max delay is below `restart_delay`");
  }
  if (options.restart_reset_after <= absl::ZeroDuration()) {
    return UsageError("restart_reset_after",
                      "restart reset-after must be positive");
  }
  if (options.restart_limit < 0) {
    return UsageError("restart_limit", "restart limit must not be negative");
  }
  if (!options.child_pidfile.empty() && options.restart == RestartPolicy::kNo) {
    return UsageError("child_pidfile",
                      "a child pid file needs `restart` (supervision)");
  }
  return absl::OkStatus();
}

// A log that is also the pid file is truncated at the start and unlinked
// at the exit; two pid files on one path lock each other out.
absl::Status CheckPidFilesAreDistinct(const Options& options) {
  struct Named {
    const char* field;
    std::string path;
  };
  std::vector<Named> files;
  if (!options.pidfile.empty()) files.push_back({"pidfile", options.pidfile});
  if (!options.child_pidfile.empty()) {
    files.push_back({"child_pidfile", options.child_pidfile});
  }
  const size_t pid_files = files.size();
  if (options.stdout_path) {
    files.push_back({"stdout_path", *options.stdout_path});
  }
  if (options.stderr_path) {
    files.push_back({"stderr_path", *options.stderr_path});
  }
  for (size_t i = 0; i < pid_files; ++i) {
    for (size_t j = i + 1; j < files.size(); ++j) {
      if (FoldedPath(files[i].path) == FoldedPath(files[j].path)) {
        return UsageError(
            files[j].field,
            absl::StrCat("`", files[j].field, "` ", files[j].path,
                         " is the same file as `", files[i].field, "`"));
      }
    }
  }
  return absl::OkStatus();
}

// The stop's timeout and the descriptors handed to the daemon: the kept
// ones and the listening sockets (issue 14).
absl::Status CheckStopAndDescriptors(const Options& options) {
  if (options.stop_timeout < absl::ZeroDuration()) {
    return UsageError("stop_timeout", "stop timeout must not be negative");
  }
  for (int fd : options.keep_fds) {
    if (fd < 0) {
      return UsageError(
          "keep_fds", absl::StrCat("descriptor to keep ", fd, " is negative"));
    }
  }
  std::vector<std::string> listen_names;
  for (const std::string& entry : options.listen) {
    absl::StatusOr<internal::ListenEntry> parsed =
        internal::ParseListenEntry(entry);
    if (!parsed.ok()) return UsageError("listen", parsed.status().message());
    if (std::find(listen_names.begin(), listen_names.end(), parsed->name) !=
        listen_names.end()) {
      return UsageError("listen", absl::StrCat("the name '", parsed->name,
                                               "' is given twice"));
    }
    listen_names.push_back(parsed->name);
  }
  return absl::OkStatus();
}

// Service-manager controls (issue 15): a watchdog of our own.
absl::Status CheckWatchdog(const Options& options) {
  if (options.watchdog < absl::ZeroDuration()) {
    return UsageError("watchdog", "watchdog must not be negative");
  }
  // Below twice the shortest keep-alive interval (10ms) even a healthy
  // worker could not keep up.
  if (options.watchdog > absl::ZeroDuration() &&
      options.watchdog < absl::Milliseconds(20)) {
    return UsageError("watchdog", "watchdog is below 20ms (0: off)");
  }
  if (options.watchdog > absl::ZeroDuration() &&
      options.restart == RestartPolicy::kNo) {
    return UsageError("watchdog",
                      "a watchdog needs `restart` (supervision): only the "
                      "supervisor can restart a hung worker");
  }
  return absl::OkStatus();
}

}  // namespace

// The first failure is the one reported, so the order below is part of
// what a user sees: several mistakes come out one at a time, always in it.
absl::Status ValidateOptions(const Options& options) {
  using Check = absl::Status (*)(const Options&);
  constexpr Check kChecks[] = {
      CheckRootOnlyOptions,
      CheckStartValues,
      CheckConfinement,
      CheckSupervision,
      CheckPidFilesAreDistinct,
      CheckStopAndDescriptors,
      CheckWatchdog,
      // Service-manager controls (issue 15).
      internal::ValidateProcessControls,
  };
  for (Check check : kChecks) {
    if (absl::Status status = check(options); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseVariableList(
    absl::string_view list) {
  std::vector<std::string> names;
  for (absl::string_view name : internal::SplitCommaList(list)) {
    if (!IsVariableName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", name, "' is not an environment variable name"));
    }
    names.emplace_back(name);
  }
  return names;
}

}  // namespace daemonkit
