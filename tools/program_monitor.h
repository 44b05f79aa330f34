// Copyright 2026 The daemonkit Authors.
//
// File: tools/program_monitor.h
// -----------------------------------------------------------------------------
//
// The monitor of //tools:daemonkit (issue 21): the daemon process of the
// library, which forks and execs the program and stays its parent for the
// program's whole life. It writes the program's pid into the pid file
// whose lock it holds (the program may close every descriptor it
// inherited), says "ready" when --ready says so, passes its stop and
// reload on as --stop_signal and --reload_signal, restarts the program
// under --daemon_restart, replaces it on `upgrade` (issue 21.4), and once
// the program has exited ends what it left (its cgroup where the machine
// lets root make one, and as a child subreaper). docs/design.md ("Any
// program") says why this shape.
//
// Example (tools/daemonkit.cc):
//
//   std::unique_ptr<Daemon> daemon = DaemonizeFromRequest(std::move(request));
//   return RunProgramMonitor(std::move(daemon), options, std::move(program));

#ifndef DAEMONKIT_TOOLS_PROGRAM_MONITOR_H_
#define DAEMONKIT_TOOLS_PROGRAM_MONITOR_H_

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/daemon.h"
#include "daemon/internal/program.h"
#include "daemon/options.h"

namespace daemonkit {

// What the monitor runs, and how.
struct MonitoredProgram {
  std::vector<std::string> argv;  // argv[0] searched in $PATH
  internal::ReadyMode ready;
  internal::ProgramIdentity identity;  // --daemon_user, --daemon_group
  int stop_signal = SIGTERM;
  int reload_signal = SIGHUP;
  // The program's cgroup name (ProgramCgroupName of the pid file); empty
  // without a pid file, when it follows the session or this process.
  std::string cgroup_name;
};

// Runs `program` under the daemon `daemon` (again and again under
// --daemon_restart) until it ends or a stop comes; returns daemonkit's exit
// code (the program's, 128 + a signal that ended it, 1 for a start that
// failed, after telling the launcher why), with the program's tree ended
// and its cgroup removed.
int RunProgramMonitor(std::unique_ptr<Daemon> daemon, const Options& options,
                      MonitoredProgram program);

}  // namespace daemonkit

#endif  // DAEMONKIT_TOOLS_PROGRAM_MONITOR_H_
