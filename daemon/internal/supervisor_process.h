// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/supervisor_process.h
// -----------------------------------------------------------------------------
//
// The supervisor process's state and steps (supervisor.h tells what it
// does), private to the supervisor target. Only the supervisor process
// runs this code, in two files: supervisor.cc, its event loop (waiting,
// signals, the pid file, stop and exit), and supervisor_worker.cc, a
// worker's life as the supervisor sees it (fork, readiness, the sd_notify
// relay, the watchdog of our own, the end and the restart, what the
// worker left behind).
//
//   Worker worker = Supervisor(options, state).Run();  // in a worker only

#ifndef DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_PROCESS_H_
#define DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/restart_schedule.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/watchdog.h"
#include "daemon/internal/worker.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// One per supervisor process; not copied (it owns the worker's
// descriptors).
class Supervisor {
 public:
  Supervisor(const Options& options, SupervisorState state)
      : options_(options),
        state_(state),
        backoff_(options),
        watchdog_(options.watchdog, options.stop_timeout * 3 / 4),
        ready_deadline_(MonotonicNow() + options.ready_timeout) {}
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  Worker Run();

 private:
  // supervisor_worker.cc: a worker's life.

  // Forks a worker. Returns it in the child; nullopt in the supervisor.
  std::optional<Worker> SpawnWorker();

  // A new worker's channels to the supervisor: the ready pipe and, when
  // anyone listens (sd_notify, the watchdog of our own), the sd_notify
  // socketpair (else both notify ends are invalid).
  struct WorkerChannels {
    // Closes the four in this order: that of the closes this replaced.
    void CloseAll();

    UniqueFd ready_read;    // the supervisor's end
    UniqueFd ready_write;   // the worker's
    UniqueFd notify_read;   // the supervisor's end
    UniqueFd notify_write;  // the worker's
  };
  // Makes them before the fork; on failure, CannotSpawn and nullopt.
  std::optional<WorkerChannels> OpenWorkerChannels();

  // In the supervisor, right after the fork of worker `pid`: its process
  // group, its pid file (through the keeper), the supervisor's ends of its
  // channels, and the state and timers of a new worker.
  void AdoptWorker(pid_t pid, WorkerChannels channels);

  // A worker could not be started (fork failed with EAGAIN: RLIMIT_NPROC
  // reached for a moment, a full pid table; or no descriptor was left).
  // Before the first readiness that is a failed start; after it, the
  // service is not given up for it (issue 23.4): the next try comes on the
  // backoff schedule, as runsv and s6-supervise do. No worker ran, so it
  // counts for no restart limit.
  void CannotSpawn(absl::string_view message);

  // Reaps every child that has exited; the worker's end goes to
  // WorkerEnded, its process group killed first (issue 23.6).
  void Reap();

  // The worker speaks the launcher's protocol (ready_channel.h), decoded
  // by the same decoder: "R\n" when ready, "E<text>" on a start-up error,
  // end-of-file when it is gone.
  void ReadWorkerMessages();

  // Passes the worker's sd_notify messages on (RelayedNotification). Gone
  // with the worker: whatever it still sent is read first.
  void RelayWorkerNotifications();

  // The worker is ready (its ready pipe's "R" or its READY=1). The first
  // time, that is the start's success, for the launcher and the service
  // manager.
  void WorkerReady();

  // "\nSTATUS=<text>", or "" once the worker has sent a STATUS= of its own
  // (attack finding 5): systemctl status then shows the application's text,
  // never overwritten by the supervisor's. Its worker's messages are read
  // first, so that a STATUS= sent before its readiness counts.
  std::string OwnStatus(absl::string_view text);

  // The worker was reaped with `wait_status`: ends what it left behind,
  // then fails the start, exits, gives up or schedules the restart
  // (restart_schedule.h).
  void WorkerEnded(int wait_status);

  // The watchdog of our own (watchdog.h): SIGABRT to a worker that has
  // reported no progress for the period (a core dump, where allowed, shows
  // where it hung), SIGKILL after the grace; WorkerEnded() restarts it. The
  // worker is an unreaped child: its pid cannot name another process.
  void CheckWatchdog();

  // Once no worker runs (after each worker's end, and at the exit):
  // SIGKILLs every remaining child (what workers left behind, reparented
  // here) and reaps it, until none is left; the children of a killed one
  // come here in turn. As systemd's KillMode=mixed: the
  // worker got SIGTERM and its stop timeout, the rest gets SIGKILL. Our own
  // unreaped children cannot have recycled pids, so kill(2) is safe here.
  void EndLeftovers();

  // The supervisor's children, from /proc (the kernel's list of each of its
  // threads' children); empty without /proc, in a chroot.
  static std::vector<pid_t> OwnChildren();

  // After reaping a worker: its lock went with it; its pid goes too. An
  // empty, unlocked pid file reads as "not running". (A path keeper holds
  // the file instead, and empties it itself.)
  void EmptyWorkerPidFile();

  // supervisor.cc: the event loop around it.

  // Sleeps until a signal, the worker's pipes, the keeper's exit or the
  // next timer (restart, watchdog, pid-file check, ready timeout).
  void WaitForEvent();

  // Between workers (a restart delay), the supervisor is the one at work:
  // it keeps systemd's watchdog fed itself. Returns the next time it is due.
  absl::Time FeedWatchdog();

  // SIGTERM and SIGINT stop; SIGHUP reopens the output files and goes on
  // to the worker; an upgrade request (SIGUSR2) is refused; then reaps.
  void HandleSignals();

  // Whether this process holds the pid file's descriptor (not its keeper).
  bool HoldsPidFile() const;

  // Issue 18.18: recreates a pid file someone removed (a tmpfiles cleaner),
  // so that stop and status find the supervisor again; the daemon's
  // Daemon::Impl does the same unsupervised.
  void CheckPidFile();

  // The path keeper holds the pid file's lock (PathKeeperClient::Exited).
  void StopIfTheKeeperIsGone();

  // Past the ready timeout, with no worker ready yet and the launcher
  // gone (SIGKILLed: nobody left to end the start), the start is given up
  // as the launcher would have (see Daemon::NotifyReady; the attack of
  // stop 33 found such a daemon running unready for good).
  void StopIfTheStartWasAbandoned();

  // SIGTERM/SIGINT: the worker first (TERM, then KILL after the stop
  // timeout), then the supervisor.
  [[noreturn]] void Stop(int signo);

  // The ways out. Each ends what workers left behind and removes the
  // supervisor's files; FailStart tells the launcher (and the service
  // manager) that the start failed, GiveUp that the restarts did.
  [[noreturn]] void FailStart(absl::string_view message);
  [[noreturn]] void GiveUp(absl::string_view message);
  [[noreturn]] void Exit(int code);

  // Whether the supervisor runs in the foreground process group of a
  // terminal (--daemon=false in a shell). A worker moved out of that group
  // would stop at its first read from the terminal (SIGTTIN) and miss the
  // terminal's Ctrl-C; there it stays in the supervisor's group.
  static bool InTerminalForeground();

  // Unlinks the worker's pid file (empties it where the supervisor may no
  // longer unlink) and lets it go.
  void RemoveWorkerPidFileNow();

  // sd_notify, a failure only logged: the service goes on without it.
  void Notify(absl::string_view message);

  const Options& options_;
  SupervisorState state_;
  // Options::ready_fd while the supervisor holds it, -1 once told.
  int ready_fd_ = options_.ready_fd;
  RestartBackoff backoff_;
  // Every time the supervisor keeps (restart_at_, worker_started_, the
  // watchdog's deadlines) is MonotonicNow(): a step of the wall clock must
  // neither delay a restart nor blind the watchdog (issue 23.5).
  absl::Time restart_at_ = absl::InfinitePast();
  pid_t worker_pid_ = 0;
  UniqueFd worker_pidfd_;
  UniqueFd worker_ready_fd_;   // its ready pipe, until end-of-file
  UniqueFd worker_notify_fd_;  // its sd_notify line, until it closes
  bool worker_own_group_ = true;
  RelayState relay_;
  absl::Time next_watchdog_ = absl::InfinitePast();
  ProgressWatchdog watchdog_;  // our own (--daemon_watchdog)
  // The start's ready timeout, from the supervisor's start (a little after
  // the launcher's).
  const absl::Time ready_deadline_;
  ReadyDecoder worker_messages_;
  std::string worker_error_;
  bool worker_ready_ = false;
  bool relaying_ = false;  // inside RelayWorkerNotifications()
  absl::Time worker_started_;
  bool first_ready_ = false;
  bool pidfile_problem_logged_ = false;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SUPERVISOR_PROCESS_H_
