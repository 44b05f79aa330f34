// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/program.h
// -----------------------------------------------------------------------------
//
// The program that //tools:daemonkit runs (issue 21), seen from its monitor:
// the daemon process of the library, which forks and execs the program and
// stays its parent for the program's whole life. The monitor holds the pid
// file's lock (and a pidfd of the program, which is how readers find the
// lock held for the program: proc.h WriteLockHeldFor), so the program may
// close every descriptor it inherited; it learns the exec's outcome through
// a close-on-exec pipe, reads the program's readiness (--ready), and at the
// end ends whatever the program left running: through the program's own
// cgroup where one could be made (program_cgroup.h), and as a child
// subreaper.
//
// Example (tools/program_monitor.cc):
//
//   absl::StatusOr<ReadyMode> ready = ParseReadyMode("notify");
//   absl::StatusOr<std::unique_ptr<Program>> program =
//       Program::Start({"/usr/bin/server", "--port=80"}, *ready, {});
//   if (!program.ok()) ...  // "/usr/bin/server: No such file or directory"
//   poll (*program)->pidfd() and (*program)->ready_fd() ...

#ifndef DAEMONKIT_DAEMON_INTERNAL_PROGRAM_H_
#define DAEMONKIT_DAEMON_INTERNAL_PROGRAM_H_

#include <sys/types.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/listen_address.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/process_controls.h"
#include "daemon/internal/program_ready_mode.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// A listening socket handed to the program by socket activation.
struct ActivatedSocket {
  std::string name;
  int fd = -1;
};

// Who the program runs as (--daemon_user, --daemon_group: unset, the
// monitor's own user), with which capabilities and resource limits.
struct ProgramIdentity {
  std::optional<Credentials> credentials;
  bool no_new_privs = true;  // PR_SET_NO_NEW_PRIVS after a drop
  // --daemon_capabilities: CAP_* numbers (CapabilityByName) the program
  // keeps across the drop, as its permitted, effective, inheritable and
  // ambient sets (the ambient set is what survives its exec); every other
  // one leaves the bounding set. Only with `credentials` of another user.
  std::vector<int> capabilities;
  // --daemon_rlimits: the program's alone, set in its process before the
  // drop. The monitor keeps its own: it writes the program's output
  // (output_relay.h), so a small fsize or cpu limit meant for the program
  // would end it, and the service with it (the attack of 2026-12-07).
  std::vector<LimitRequest> limits;
  // --daemon_chroot: the program's new root, entered (as the monitor's
  // user, before the drop) just before its exec, and `workdir` its working
  // directory in there ("/" when empty). The monitor stays outside: it
  // holds the pid file, the outputs, the cgroup and the sockets' paths.
  // Empty: no chroot.
  std::string root;
  std::string workdir;
};

// The cgroup the program moves itself into before its exec (issue 21.3,
// program_cgroup.h): its cgroup.procs open for writing, and its directory
// for messages. procs_fd -1: none.
struct CgroupEntry {
  int procs_fd = -1;
  std::string directory;
};

// Where the program's standard output and error go: descriptors the child
// puts on 1 and 2 (the monitor's output relay, output_relay.h), -1 to keep
// the monitor's own.
struct ProgramOutputs {
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// What the program reported on its readiness channel (ReadReadiness).
struct ReadinessInput {
  bool ready = false;  // READY=1, or a newline on the descriptor
  // The channel can say no more: the program closed its end of the
  // descriptor (kFd) before the newline.
  bool closed = false;
  // kNotify: the assignments to relay to an outer service manager, one
  // message ("STATUS=...\nRELOADING=1"), empty when none.
  std::string relay;
};

// Program
//
// A running program, the monitor's child. Not copyable; the destructor
// closes the monitor's descriptors and neither signals nor reaps.
class Program {
 public:
  // Forks; the child asks to be SIGKILLed when the monitor dies (the lock
  // dies with the monitor: a program left without it would be invisible),
  // moves itself into `cgroup` when given (a failure is an error naming its
  // directory), resets every signal to its default action, drops privileges
  // to `identity` (verified, privileges.h), empties its mask, puts `outputs`
  // on its descriptors 1 and 2 and `sockets` on 3.. with LISTEN_FDS,
  // LISTEN_PID and LISTEN_FDNAMES, sets up the readiness channel
  // ($NOTIFY_SOCKET for kNotify, removed otherwise; descriptor `ready.fd`
  // for kFd), and execs `argv` (argv[0] searched in $PATH). Returns once the
  // exec succeeded; an exec failure is an error naming the program ("prog:
  // No such file or directory"), with the child reaped.
  static absl::StatusOr<std::unique_ptr<Program>> Start(
      const std::vector<std::string>& argv, const ReadyMode& ready,
      const std::vector<ActivatedSocket>& sockets,
      const ProgramIdentity& identity = {}, const CgroupEntry& cgroup = {},
      const ProgramOutputs& outputs = {});

  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  pid_t pid() const { return pid_; }
  // A pidfd of the program: readable once it has exited.
  int pidfd() const { return pidfd_.get(); }
  // The descriptor that says something about readiness (the notify socket,
  // the pipe of kFd), -1 for kStarted or once closed.
  int ready_fd() const { return ready_fd_.get(); }

  // The polled modes (kConnect, kCommand): tries once (a connection
  // attempt of up to kReadyPollInterval; the command's exit, or its next
  // run) and returns whether the program is ready. False in other modes.
  bool PollReady();
  bool polled() const {
    return mode_.kind == ReadyMode::Kind::kConnect ||
           mode_.kind == ReadyMode::Kind::kCommand;
  }
  // The running --ready_command's pid, -1 when none: a child of the
  // monitor that only PollReady() reaps.
  pid_t command_pid() const { return command_pid_; }

  // Reads what ready_fd() has, without blocking. After a kFd readiness or
  // its end, the pipe is closed (ready_fd() is -1).
  ReadinessInput ReadReadiness();

  // Sends `signo` to the program (through its pidfd). OK when it already
  // exited.
  absl::Status Signal(int signo) const;
  // SIGKILLs the program now (through its pidfd), when the caller's own
  // timer says its grace is over; nothing when it already exited.
  void Kill() const;

 private:
  Program() = default;
  ReadinessInput ReadNotify();
  ReadinessInput ReadFdPipe();

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  ReadyMode mode_;
  UniqueFd ready_fd_;
  uid_t uid_ = 0;  // who may notify: the program's user (and root)
  bool ready_seen_ = false;
  ProgramIdentity identity_;  // the command's too
  pid_t command_pid_ = -1;
  absl::Time next_command_ = absl::InfinitePast();
};

// RestartSchedule
//
// --daemon_restart for a program: the library supervisor's rules
// (supervisor.h), applied by the monitor to the program it runs. A run
// that lasted `restart_reset_after` is restarted at once and resets the
// backoff; a shorter one waits `restart_delay`, doubled after each such
// run up to `restart_max_delay`; more than `restart_limit` restarts within
// `restart_reset_after` give up.
class RestartSchedule {
 public:
  explicit RestartSchedule(const Options& options);

  // After a run that lasted `uptime` ended with `wait_status` (not by a
  // stop): nullopt when the policy does not restart it; an error ("giving
  // up after 5 restarts within 1m; last exited with status 1") at the
  // limit; else how long to wait before the next start.
  absl::StatusOr<std::optional<absl::Duration>> Next(int wait_status,
                                                     absl::Duration uptime);
  int restarts() const { return restarts_; }
  // "restarting in 4s after exit code 3, restart 2": the STATUS= line.
  std::string Describe(absl::Duration delay, int wait_status) const;

 private:
  Options options_;
  absl::Duration delay_;
  int restarts_ = 0;
  std::deque<absl::Time> recent_;  // monotonic times of the last restarts
};

// Ends every process left below this one, a child subreaper (issue 21's
// "stop ends the whole tree"): sends `signo` to each child as it is seen,
// SIGKILL to all after `grace`, reaps each, and returns once this process
// has no child left. Orphans of the program are re-parented here as their
// parents die, so the loop reaches every descendant.
void EndChildren(int signo, absl::Duration grace);

// Reaps every child that has exited, without blocking, except those in
// `keep` (the programs and their ready commands, whose statuses their
// owner collects; -1 entries are ignored).
void ReapExitedChildren(const std::vector<pid_t>& keep);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PROGRAM_H_
