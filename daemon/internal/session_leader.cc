// Copyright 2026 The daemonkit Authors.
//
// Runs in the first child; the last line returns in the daemon.

#include "daemon/internal/session_leader.h"

#include <syslog.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/testing_hooks.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {
namespace {

[[noreturn]] void Fail(ReadyReporter& reporter, const absl::Status& status) {
  reporter.ReportError(status.message());
  _exit(kExitFailure);
}

}  // namespace

ReadyReporter RunSessionLeader(ReadyPipe pipe, const std::vector<int>& keep) {
  // The launcher's end: this process only writes.
  CloseDescriptor(pipe.read_fd);
  ReadyReporter reporter(pipe.write_fd);
  // syslog keeps a descriptor of its own that the close below would pull
  // out from under it.
  closelog();
  absl::Status status = CloseInheritedDescriptors(keep);
  if (status.ok()) status = ResetSignalDispositions();
  // Until the daemon's self-pipe is in place, a SIGTERM or SIGHUP (from an
  // impatient operator, a logrotate run) must wait, not kill it; the rest
  // of the mask is cleared.
  if (status.ok()) status = HoldStopAndReloadSignals();
  if (!status.ok()) Fail(reporter, status);
  if (setsid() < 0) Fail(reporter, ErrnoError(errno, "setsid"));
  RunBetweenForksHookForTesting();
  const pid_t daemon_pid = fork();
  if (daemon_pid < 0) Fail(reporter, ErrnoError(errno, "second fork"));
  if (daemon_pid > 0) {
    // Before exiting: the launcher, once it has reaped this process, finds
    // the daemon's pid in the pipe.
    reporter.ReportPid(daemon_pid);
    _exit(kExitSuccess);
  }
  return reporter;
}

}  // namespace internal
}  // namespace daemonkit
