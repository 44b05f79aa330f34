// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/worker_pidfile.h
// -----------------------------------------------------------------------------
//
// The worker's pid file (`--daemon_child_pidfile`) under supervision. Three
// processes touch it, each through one function here: the caller of
// Daemonize opens it (OpenWorkerPidFile), each worker locks it and writes
// its pid (TakeWorkerPidFile), and a launcher whose start failed removes it
// (RemoveWorkerPidFile). The supervisor empties and removes it through
// PidFile; when the daemon dropped privileges or chrooted, the path keeper
// removes it (path_keeper.h, pid file #1), as it removes the main one.

#ifndef DAEMONKIT_DAEMON_INTERNAL_WORKER_PIDFILE_H_
#define DAEMONKIT_DAEMON_INTERNAL_WORKER_PIDFILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/internal/pidfile.h"

namespace daemonkit {
namespace internal {

// Opens (creating it 0644) and checks the worker's pid file `path`, in the
// launcher, before the first fork and before privileges are dropped: a
// worker that runs as --daemon_user could not create it in a root-owned
// directory such as /run. Errors as PidFile::Acquire: "already running, pid
// N" when a worker of another supervisor holds it.
//
// Each worker must hold the file's lock for exactly its own life. An OFD
// lock belongs to an open file description, and an unprivileged supervisor
// cannot open a fresh one for each worker (reopening /proc/self/fd/N needs
// /proc, which a chroot lacks, and write permission on the file). So the
// returned file is left unlocked, every worker inherits this one description
// and takes a classic record lock (F_SETLK) on it: that lock belongs to the
// worker process, the kernel drops it when the worker dies however it dies,
// and it conflicts with the OFD locks that `status`, `stop`, `inspect` and a
// second start test, so they read it like any pid-file lock. The worker
// writes its pid through the inherited descriptor (opened read-write while
// privileged), so the file stays root's. The supervisor empties the file
// after reaping each worker, and removes it when it stops or gives up.
//
// A supervisor that dropped privileges or chrooted has a path keeper, which
// stays root: there the worker closes its copy at once (it runs the
// application, which must not be able to rewrite a root-owned file that
// root's tools trust) and the keeper locks a description of its own for
// each worker the supervisor names (PathKeeperClient::NameWorker).
absl::StatusOr<PidFile> OpenWorkerPidFile(const std::string& path,
                                          absl::Duration wait_for_pid);

// In a worker: locks `file` (from OpenWorkerPidFile, inherited) for the
// calling process and writes its pid. Errors name the path and the errno.
absl::Status TakeWorkerPidFile(PidFile& file);

// For the launcher whose daemon failed to start: once no worker holds the
// lock of the worker's pid file `path` (a killed supervisor's worker dies
// with it, a moment later), removes the file. Waits at most `grace`.
void RemoveWorkerPidFile(const std::string& path, absl::Duration grace);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_WORKER_PIDFILE_H_
