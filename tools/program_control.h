// Copyright 2026 The daemonkit Authors.
//
// File: tools/program_control.h
// -----------------------------------------------------------------------------
//
// The control actions of //tools:daemonkit (issue 21) on a program its
// monitor runs, by pid file. The pid file names the program, whose parent,
// the monitor (a process named daemonkit that holds the file's lock and a
// pidfd of the program), acts for it: a stop or a reload sent to the
// program itself would look to the monitor like a crash, or use a signal
// the start did not choose. Each action pins the program and the monitor
// by pidfd before it signals either. docs/design.md ("Any program").
//
// Example (tools/daemonkit.cc):
//
//   int left = 0;
//   absl::Status stopped =
//       StopProgram("/run/app.pid", SIGTERM, absl::Seconds(10), &left);

#ifndef DAEMONKIT_TOOLS_PROGRAM_CONTROL_H_
#define DAEMONKIT_TOOLS_PROGRAM_CONTROL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/control.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/options.h"

namespace daemonkit {

// How long a monitor may take, beyond --daemon_stop_timeout, to end the
// rest of the program's tree (after SIGKILL) and let go of the lock; a
// stop waits that much longer.
inline constexpr absl::Duration kMonitorGrace = internal::kKillGrace;

// " (pid file /abs/path)", the note the library's control messages end
// with: said from another directory, it shows where the action looked.
std::string PidFileNote(const std::string& pidfile);

// Ends the processes of every cgroup named `name` (ProgramCgroupName) with
// `signo`, SIGKILL after `grace` (0: SIGKILL at once), and removes the
// cgroups. An error naming the cgroup when a process survived or a
// directory stayed; `ended`, when given, counts the cgroups that held
// processes.
absl::Status EndProgramCgroups(const std::string& name, int signo,
                               absl::Duration grace, int* ended = nullptr);

// A monitor puts back a pid file someone removed within about a second
// (issue 18.18); a control action in that second would take the service
// for dead (the attack of 2026-12-07: `stop` ended the program and its
// cgroup, and left the monitor restarting into a removed cgroup). When
// `pidfile` is missing while a live daemonkit monitor holds it open (found
// through /proc: also between two runs, with or without a cgroup), waits
// up to `patience` for the file to come back.
void AwaitRestoredPidFile(const std::string& pidfile,
                          absl::Duration patience = absl::Seconds(3));

// stop: asks the monitor to stop the program (SIGTERM to the monitor,
// which stops it with the start's --stop_signal; `signo` goes to the
// program itself only when no monitor stands behind it) and waits up to twice
// `timeout` plus kMonitorGrace, then SIGKILLs what is left, removes a stale
// pid file and ends what the program's cgroup still holds (`leftovers`
// counts the cgroups that did). OK when nothing runs by now.
absl::Status StopProgram(const std::string& pidfile, int signo,
                         absl::Duration timeout, int* leftovers);

// reload: through the monitor (which reopens its outputs and sends the
// start's --reload_signal), or `signo` to the program when no monitor
// stands behind it. kNotFound when not running.
absl::Status ReloadProgram(const std::string& pidfile, int signo);

// upgrade (issue 21.4): the monitor starts the program anew with the same
// sockets and, once the new one is ready, stops the old one. Returns once
// the old program and its run cgroup are gone (up to twice the stop
// timeout plus kMonitorGrace; `old_gone` false after that), with the
// programs' pids. kNotFound when not running; kUnknown when the monitor
// took the request and did not answer; otherwise the reason the new
// program failed (the old one serves on).
absl::StatusOr<UpgradeResult> UpgradeProgram(const std::string& pidfile,
                                             const Options& options);

}  // namespace daemonkit

#endif  // DAEMONKIT_TOOLS_PROGRAM_CONTROL_H_
