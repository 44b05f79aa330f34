// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/program_child.h
// -----------------------------------------------------------------------------
//
// The program's process between fork and exec: what `daemonkit`'s monitor
// (Program::Start, program.h) forks becomes the program here. In order, it
// dies with the monitor (PR_SET_PDEATHSIG, re-armed after a drop), moves
// into the program's cgroup, resets every signal to its default action,
// takes the program's resource limits, chroot and identity, puts the output
// relay on 1 and 2, the sockets on 3.. and the ready pipe on --ready=fd:N,
// empties its signal mask and execs. What it cannot do is reported on a
// pipe as one ChildFailure before _exit(127); the monitor reads it with
// ReadChildFailure, for which end-of-file means the exec succeeded.
//
//   ChildSetup setup = ...;  // everything made before the fork
//   const pid_t pid = fork();
//   if (pid == 0) ExecInChild(setup);
//   close(report_write);
//   absl::Status started = ReadChildFailure(report_read, argv[0], identity,
//                                           cgroup.directory, &failed);

#ifndef DAEMONKIT_DAEMON_INTERNAL_PROGRAM_CHILD_H_
#define DAEMONKIT_DAEMON_INTERNAL_PROGRAM_CHILD_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "daemon/internal/program.h"

namespace daemonkit {
namespace internal {

// The most listening sockets handed to a program (systemd's limit is far
// above what a program listens on; the child moves them without allocating).
inline constexpr int kMaxSockets = 64;

// Everything the child needs, made before the fork (the monitor is
// single-threaded, so the child may allocate, but what can be made before
// is).
struct ChildSetup {
  char* const* argv = nullptr;  // argv[0] is searched in $PATH
  char* const* envp = nullptr;
  const ReadyMode* ready = nullptr;
  int ready_write = -1;  // --ready=fd:N's write end, put on N
  const std::vector<ActivatedSocket>* sockets = nullptr;  // to 3..
  const ProgramIdentity* identity = nullptr;
  int cgroup_procs = -1;  // cgroup.procs to write "0" to, or -1
  ProgramOutputs outputs;
  // Above every descriptor the program gets (3.. and N): where the child
  // moves its own on the way.
  int floor = 3;
  int report = -1;  // the failure pipe's write end, above `floor`
  pid_t monitor = 0;
};

// In the child: becomes the program as the file comment says, or reports
// what failed on `setup.report` and exits 127.
[[noreturn]] void ExecInChild(const ChildSetup& setup);

// In the monitor, once the child's copy of the report pipe is closed:
// reads the report. OK at end-of-file (the exec happened, `*failed`
// false); otherwise `*failed` is true and the error is what Program::Start
// promises: the program's name with the exec's errno ("prog (inside
// --daemon_chroot=R)" in a chroot), the privilege or limit step's own
// message, the cgroup's directory, or "set up the program's process".
absl::Status ReadChildFailure(int report, const std::string& program,
                              const ProgramIdentity& identity,
                              const std::string& cgroup_directory,
                              bool* failed);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PROGRAM_CHILD_H_
