// Copyright 2026 The daemonkit Authors.
//
// Runs in a supervised worker, between the supervisor's fork and the
// return to the application.

#include "daemon/internal/worker.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/worker_pidfile.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

Worker BecomeWorker(pid_t supervisor, int ready_fd, int notify_fd,
                    std::optional<absl::Duration> watchdog,
                    std::optional<PidFile>& worker_pidfile) {
  // Dies with its supervisor; the check closes the race in which the
  // supervisor died before the request took effect.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != supervisor) {
    _exit(kExitFailure);
  }
  Worker worker;
  worker.to_supervisor = ReadyReporter(ready_fd);
  if (notify_fd >= 0) {
    worker.notifier = Notifier::Connected(notify_fd, watchdog);
  }
  absl::StatusOr<int> signal_fd = SignalPipe::Reinstall();
  if (!signal_fd.ok()) {
    worker.to_supervisor.ReportError(signal_fd.status().message());
    _exit(kExitFailure);
  }
  worker.signal_fd = *signal_fd;
  if (worker_pidfile && worker_pidfile->keeper() != nullptr) {
    // The keeper locks the file for this worker, as the supervisor asks:
    // the application holds no descriptor of it.
    worker_pidfile->Close();
    worker_pidfile.reset();
  } else if (worker_pidfile) {
    PidFile& file = *worker_pidfile;
    if (absl::Status written = TakeWorkerPidFile(file); !written.ok()) {
      worker.to_supervisor.ReportError(written.message());
      _exit(kExitFailure);
    }
    // The worker keeps only the locked descriptor; removing the file is
    // the supervisor's.
    worker.pidfile_fd = file.fd();
    file.Forget();
    worker_pidfile.reset();
  }
  return worker;
}

}  // namespace internal
}  // namespace daemonkit
