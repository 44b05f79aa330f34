// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/program_cgroup.h
// -----------------------------------------------------------------------------
//
// A cgroup v2 of the program's own (issue 21.3), for //tools:daemonkit: the
// monitor makes it below its own cgroup, the program moves itself in before
// its exec (before any privilege drop), and whatever the program starts
// stays in it, wherever it is reparented and whatever session it makes. A
// stop ends the cgroup's processes (cgroup.kill, or each pid on kernels
// before 5.14) and removes it once it is empty. The cgroup's name derives
// from the pid file's path alone, so a stop or a status that comes after
// the monitor was SIGKILLed finds it. Each run of the program (a restart,
// an upgrade's new program) is a child cgroup of it, `run.<n>`
// (CreateChild), so that an upgrade ends the old program's tree alone.
//
// Where the machine does not let this process make one (no cgroup2 mount in
// /proc/self/mountinfo, a read-only one, no permission: a chroot, a
// container, a sandbox, a user who is not root) Create() says kUnavailable
// and daemonkit falls back to its monitor as child subreaper and the
// launcher's session sweep (docs/design.md, "Any program").
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup =
//       ProgramCgroup::Create(ProgramCgroupName("/run/app.pid"));
//   if (absl::IsUnavailable(cgroup.status())) ...  // fall back
//   // in the child: write(cgroup->procs_fd(), "0", 1) before exec
//   cgroup->End(SIGTERM, absl::Seconds(10), absl::Seconds(5));
//   cgroup->Remove();

#ifndef DAEMONKIT_DAEMON_INTERNAL_PROGRAM_CGROUP_H_
#define DAEMONKIT_DAEMON_INTERNAL_PROGRAM_CGROUP_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

// Where this process sees the cgroup v2 hierarchy: the mount point of the
// first cgroup2 file system of /proc/self/mountinfo, the cgroup path at that
// mount's root ("/" unless a sub-tree was bind-mounted), and whether it is
// mounted read-only.
struct CgroupMount {
  std::string mount_point;
  std::string root;
  bool read_only = false;
};

// Parses a /proc/self/mountinfo text. NotFound without a cgroup2 line.
absl::StatusOr<CgroupMount> ParseCgroupMount(absl::string_view mountinfo);

// The cgroup v2 path ("0::/x/y") of a /proc/PID/cgroup text; NotFound
// without a "0::" line.
absl::StatusOr<std::string> ParseUnifiedCgroup(absl::string_view proc_cgroup);

// The directory of cgroup `path` (as /proc/PID/cgroup gives it) under
// `mount`; NotFound when the path is outside the mounted sub-tree.
absl::StatusOr<std::string> CgroupDirectory(const CgroupMount& mount,
                                            absl::string_view path);

// "daemonkit.<16 hex digits>": a hash (FNV-1a, the same in every process)
// of the pid file's canonical path (its directory through realpath, then
// its name). Empty when the directory cannot be resolved.
std::string ProgramCgroupName(const std::string& pidfile);

// Without a pid file: "daemonkit.s<sid>", after the session the launcher's
// first child made (the monitor's getsid(0), the launcher's first child).
std::string ProgramCgroupNameForSession(pid_t sid);
// Without a pid file in the foreground: "daemonkit.m<pid>", after the
// monitor itself.
std::string ProgramCgroupNameForMonitor(pid_t monitor);

// ProgramCgroup
//
// A cgroup directory (the program's). Not copyable; the destructor closes
// descriptors and removes nothing.
class ProgramCgroup {
 public:
  // Makes <mount><this process's cgroup>/<name>, or takes it when it exists
  // and is empty (left by a monitor that was SIGKILLed after its tree had
  // gone), and opens its cgroup.procs for writing. kUnavailable (the caller
  // falls back) when no cgroup2 is mounted, it is read-only, this process's
  // cgroup is not in the mount, or mkdir fails with EACCES, EPERM, EROFS or
  // ENOENT. kFailedPrecondition, naming the path, when it exists and holds
  // processes (an earlier run's, which `stop` ends) or is another user's.
  // Other failures are errors naming the path; a directory this call made
  // is removed again.
  static absl::StatusOr<std::unique_ptr<ProgramCgroup>> Create(
      const std::string& name);

  // Makes the cgroup `name` below this one (a run of the program: an
  // upgrade runs the new program beside the old, and ends the old one's
  // tree alone) and opens its cgroup.procs for writing. An existing empty
  // one is taken; errors name the path.
  absl::StatusOr<std::unique_ptr<ProgramCgroup>> CreateChild(
      absl::string_view name) const;

  // The cgroup at `directory` (an existing one, found by FindProgramCgroups).
  static std::unique_ptr<ProgramCgroup> At(std::string directory);

  ~ProgramCgroup();
  ProgramCgroup(const ProgramCgroup&) = delete;
  ProgramCgroup& operator=(const ProgramCgroup&) = delete;

  const std::string& directory() const { return directory_; }
  // cgroup.procs, open for writing (close-on-exec), -1 unless Create()d:
  // a process that writes "0" to it moves itself in.
  int procs_fd() const { return procs_fd_.get(); }

  // The live processes in the cgroup and its descendants (cgroup.procs).
  std::vector<pid_t> Processes() const;
  // Whether any live process is in it or below (cgroup.events); false once
  // the directory is gone.
  bool Populated() const;

  // Ends every process in it: `signo` (and SIGCONT) to each, up to `grace`
  // for all to exit, then SIGKILL (cgroup.kill, or each pid again and again
  // where the kernel has no cgroup.kill) and up to `kill_grace` more.
  // Returns whether it is empty. `signo` 0 goes straight to SIGKILL.
  bool End(int signo, absl::Duration grace, absl::Duration kill_grace) const;

  // Removes the directory and any cgroup the program made below it,
  // deepest first. OK when already gone; an error naming the path (EBUSY
  // while a process is still in it) otherwise.
  absl::Status Remove() const;

 private:
  explicit ProgramCgroup(std::string directory)
      : directory_(std::move(directory)) {}
  // Calls `act` with a pidfd of each live process below, opened once the
  // process was seen to be in the cgroup (a pid read from cgroup.procs may
  // have been reused by then).
  void ForEachMember(absl::FunctionRef<void(int pidfd)> act) const;
  // ForEachMember sending `signo`.
  void SignalAll(int signo) const;
  // Opens cgroup.procs for writing; on failure an error naming it, and the
  // directory removed again when this call's caller `made` it.
  absl::Status OpenProcs(bool made);
  bool AwaitEmpty(const Deadline& deadline) const;

  std::string directory_;
  std::string path_;  // as /proc/PID/cgroup names it ("/x/daemonkit.N")
  UniqueFd procs_fd_;
};

// The directory of the run cgroup (".../daemonkit.<...>/run.<n>",
// ProgramCgroup::CreateChild) that process `pid` is in; empty when it is
// in none, or it cannot be read.
std::string ProgramRunCgroupOf(pid_t pid);

// Every directory of the cgroup2 hierarchy named `name` and owned by this
// process's effective user (a user to whom systemd delegated a sub-tree
// could make one of the same name): the one below this process's own
// cgroup first (where a monitor started from here made it), else a walk of
// the whole mounted tree (not into daemonkit.* directories). Empty when
// none, or when no cgroup2 is mounted.
std::vector<std::string> FindProgramCgroups(const std::string& name);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PROGRAM_CGROUP_H_
