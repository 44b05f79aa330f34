// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: daemon/daemon.h
// -----------------------------------------------------------------------------
//
// daemonkit turns a C++ program into a correct Unix daemon with one call.
//
// `Daemonize()` performs the SysV start-up of systemd's daemon(7), in order:
// it validates the options and does everything that can fail while still
// attached to the terminal (opens and locks the pid file, opens the output
// files), closes inherited descriptors, resets signal handlers and the signal
// mask, forks, calls setsid(), forks again, points stdin at /dev/null and
// stdout/stderr at the configured files, sets the umask, changes directory,
// and writes its own pid into the locked pid file.
//
// The process the user started (the *launcher*) does not return from
// `Daemonize()`: it waits on a pipe until the daemon declares itself ready
// (`Daemon::NotifyReady()`), reports a start-up error, dies, or the ready
// timeout passes. It exits 0 only once the daemon is ready; otherwise it
// prints the daemon's own error on its stderr, makes sure no daemon is left
// running and no pid file is left behind, and exits 1. Scripts and init
// systems can therefore trust the launcher's exit code.
//
// "No daemon is left running" covers everything the start started: the
// daemon runs in a session of its own, and after a failed start the launcher
// SIGKILLs every process of that session (and the daemon itself, should it
// have left it) and returns only once /proc shows none of them alive. A
// process the application moved into a session of its own (setsid) escapes.
//
// What the application's children inherit: a process it forks starts with
// default dispositions for the signals the library handles (SIGTERM, SIGINT,
// SIGHUP, SIGPIPE), an empty signal mask, and none of the library's
// descriptors (pid file and its lock, self-pipe, ready pipe, the output
// files' directories), through a pthread_atfork handler; a program it
// executes gets SIGPIPE's default action (the library catches SIGPIPE with a
// handler that does nothing, rather than ignoring it, so writes to a closed
// pipe fail with EPIPE in the daemon). posix_spawn() and vfork() skip fork
// handlers; the library's descriptors are close-on-exec for them.
//
// Foreground ("new-style") mode, `Options::detach = false`, does not fork: it
// is what systemd `Type=simple`/`Type=notify`, containers and debuggers want.
// The same `Daemon` handle then serves the signals and the pid file.
//
// In both modes, when $NOTIFY_SOCKET is set the daemon speaks systemd's
// sd_notify protocol: READY=1 (with MAINPID= when detached) on
// `NotifyReady()`, STOPPING=1 on SIGTERM/SIGINT, RELOADING=1 and READY=1
// around a SIGHUP reload, STATUS= from `NotifyStatus()`, and WATCHDOG=1 at
// half of $WATCHDOG_USEC (never more often than every 10ms, whatever the
// value) from within `WaitUntil()`. A $NOTIFY_SOCKET in an address family
// the library does not speak (systemd's "vsock:CID:PORT") is logged once and
// otherwise ignored.
//
// Most programs configure all of this from the command line through the
// Abseil flags of "daemon/flags.h" (`--daemon`, `--daemon_pidfile`, ...), and
// operate the running daemon with `--daemon_control=stop|reload|status`
// ("daemon/control.h").
//
// Example:
//
//   #include "absl/flags/parse.h"
//   #include "daemon/daemon.h"
//   #include "daemon/flags.h"
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     // Validates the --daemon_* flags, runs --daemon_control actions, and
//     // detaches; returns only in the daemon (or in the foreground).
//     std::unique_ptr<daemonkit::Daemon> daemon =
//         daemonkit::DaemonizeFromFlags();
//     // ... open sockets, load configuration: what can fail, fails here and
//     // reaches the launcher's terminal through FailStartup() ...
//     daemon->NotifyReady();  // the launcher exits 0 now
//     while (daemon->WaitFor(absl::Seconds(1)) != daemonkit::Event::kStop) {
//       // ... one unit of work; WaitFor wakes at once on SIGTERM/SIGINT ...
//     }
//     return 0;  // ~Daemon removes the pid file
//   }
//
// Without flags, fill an `Options` and call `Daemonize()` yourself:
//
//   daemonkit::Options options;
//   options.pidfile = "/run/mydaemon.pid";
//   options.stdout_path = "/var/log/mydaemon.log";
//   absl::StatusOr<std::unique_ptr<daemonkit::Daemon>> daemon =
//       daemonkit::Daemonize(options);
//   if (!daemon.ok()) {  // nothing forked, nothing left behind
//     std::cerr << daemon.status().message() << "\n";
//     return daemonkit::ExitCodeFor(daemon.status());
//   }

#ifndef DAEMONKIT_DAEMON_DAEMON_H_
#define DAEMONKIT_DAEMON_DAEMON_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace daemonkit {

// The value of `Options::stdout_path` and `Options::stderr_path` that keeps
// the stream the launcher had (a terminal, usually: `inspect --check` will
// rightly flag the daemon for it).
inline constexpr absl::string_view kInheritStream = "inherit";

// What supervision does when the application (the worker) ends.
enum class RestartPolicy {
  kNo,         // no supervisor: the daemon is the application
  kOnFailure,  // restart after a non-zero exit or a signal other than TERM/INT
  kAlways,     // restart after any end that was not asked for by a stop
};

// Options
//
// How to daemonize. Relative paths are resolved against the working directory
// at the time of the call. Defaults follow daemon(7); in the foreground
// (`detach = false`) an unset optional field leaves that attribute as it is.
struct Options {
  // Detach from the terminal (SysV double fork). false: stay in the
  // foreground.
  bool detach = true;

  // The pid file: created 0644, never through a symbolic link, locked before
  // the first fork and for the daemon's whole life, removed on clean exit
  // (only while the path still names the locked file). An existing file
  // must be a regular file with one link, owned by root or the caller;
  // anything else is a start error naming the path. Empty: no pid file.
  std::string pidfile;

  // Working directory. Must be a directory, not a symbolic link to one.
  // Unset: "/" when detached.
  std::optional<std::string> workdir;

  // File-mode creation mask, 0 to 0777. Unset: 0 when detached.
  std::optional<mode_t> umask;

  // Where stdout and stderr go: a file opened for append (created 0640),
  // "/dev/null", or `kInheritStream`. Files are reopened on SIGHUP, so
  // logrotate's rename-then-HUP loses no line. Unset: "/dev/null" when
  // detached.
  //
  // At start and at every reopen a file is opened without following a
  // symbolic link, without blocking (a FIFO), and only if it is a regular
  // file (or the real /dev/null) with one link, owned by root or by the
  // daemon's user (`user`, or the caller without one). At start anything
  // else is an error naming the path (kFailedPrecondition, exit 1); at a
  // SIGHUP the daemon keeps writing to its old file and logs one error. A
  // failed start removes the (empty) files it created, and only those.
  std::optional<std::string> stdout_path;
  std::optional<std::string> stderr_path;

  // Drop to this user (name or number) after the pid file is written, with
  // its primary group and supplementary groups. Empty: stay who you are.
  std::string user;

  // Drop to this group (name or number); with `user`, instead of the user's
  // primary group. Empty: the user's primary group.
  std::string group;

  // chroot(2) here before dropping privileges; `workdir` is then a path
  // inside it. Must be a directory, not a symbolic link to one. After the
  // chroot the daemon holds no descriptor of any directory outside its
  // root: a path keeper, a small process forked just before that stays
  // outside (and, like the launcher, privileged), reopens the output files
  // on SIGHUP and removes the pid file at exit; it answers only those two
  // requests, about the configured files, and exits with the daemon. With
  // `user` alone the same keeper serves the dropped daemon, which may no
  // longer be allowed to reach its files by path. syslog (`--daemon_log`)
  // is connected before the chroot. Empty: no chroot.
  std::string chroot;

  // Allow core dumps (RLIMIT_CORE up to the hard limit, and the dumpable
  // flag kept after a privilege drop). Unset: false when detached (a core
  // file of a daemon can hold its secrets).
  //
  // Security: with `user` set, true also makes the daemon dumpable again
  // after setuid (the kernel cleared the flag), which is what lets it dump
  // core at all under the default fs.suid_dumpable=0, but also lets any
  // process of that user ptrace the daemon and read its memory, including
  // keys and passwords it loaded as root before the drop. Ask for core
  // dumps of a privilege-dropping daemon only when that user runs nothing
  // else; otherwise leave this false and set fs.suid_dumpable=2, which
  // writes root-owned cores without making the process dumpable.
  std::optional<bool> core_dumps;

  // When set, every environment variable not named here is removed before
  // the application runs; those of the supervisor (NOTIFY_SOCKET,
  // LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, WATCHDOG_*) are always kept.
  std::optional<std::vector<std::string>> keep_env;

  // Supervision: with a policy other than kNo, the daemon process becomes a
  // supervisor that holds the pid file and forks the application as a
  // worker, restarting it after `restart_delay`, doubling up to
  // `restart_max_delay`; a worker up for `restart_reset_after` resets the
  // delay and the count; after more than `restart_limit` restarts within
  // that window (0: no limit) the supervisor gives up. `Daemonize()` then
  // returns in the worker. SIGTERM/SIGINT stop the worker (SIGKILL after
  // `stop_timeout`) and then the supervisor; SIGHUP is forwarded.
  RestartPolicy restart = RestartPolicy::kNo;
  absl::Duration restart_delay = absl::Seconds(1);
  absl::Duration restart_max_delay = absl::Seconds(60);
  absl::Duration restart_reset_after = absl::Seconds(60);
  int restart_limit = 0;
  // Also how long the launcher lets a daemon that reported a start-up
  // failure (`Daemon::FailStartup()`) clean up and exit before it kills it.
  absl::Duration stop_timeout = absl::Seconds(10);
  // The worker's pid file, locked by the worker (the supervisor's pid goes
  // to `pidfile`). Empty: none.
  std::string child_pidfile;

  // How long the launcher waits for `Daemon::NotifyReady()`. Must be > 0.
  absl::Duration ready_timeout = absl::Seconds(30);

  // Printed on the launcher's stdout once the daemon is ready, just before
  // the launcher exits 0: where the daemon writes, how to stop it. Empty:
  // the launcher exits silently, as daemons do.
  std::string ready_message;

  // Descriptors above 2 that must survive the close of inherited
  // descriptors (a listening socket bound before daemonizing, say).
  std::vector<int> keep_fds;
};

// Checks the values of `options` without touching the system. Returns
// kInvalidArgument naming the offending field, or OK.
absl::Status ValidateOptions(const Options& options);

// What `Daemon::WaitUntil()` woke up for.
enum class Event {
  kTimeout,  // the deadline passed
  kStop,     // SIGTERM or SIGINT: finish up and return from main()
  kReload,   // SIGHUP: output files were reopened and the reload hook ran
};

// Daemon
//
// The running daemon's handle: readiness, signals and the pid file. Returned
// by `Daemonize()` in the daemon process (or the foreground process). Not
// copyable or movable: it owns process-wide state (the pid-file lock, the
// signal pipe), of which there is one per process. Not thread-safe: use it
// from the main loop's thread.
class Daemon {
 public:
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Removes the pid file (the daemon's clean exit). In a process forked from
  // the daemon it does nothing: only the daemon owns the pid file.
  ~Daemon();

  // Declares the daemon ready: the launcher exits 0. Call it once the
  // application can serve (sockets bound, configuration loaded). Calling it
  // again does nothing.
  void NotifyReady();

  // Reports a start-up failure before `NotifyReady()`: the launcher prints
  // `error.message()` on its stderr and exits 1, and the pid file is
  // removed. The caller should then clean up (close connections, remove
  // what it made) and exit non-zero: the launcher waits up to
  // `Options::stop_timeout` for the process to exit, and only then kills
  // it and whatever it started.
  void FailStartup(const absl::Status& error);

  // Blocks until `deadline` passes or a signal asks for something. Returns
  // kStop at once (and every time after) once SIGTERM or SIGINT has arrived;
  // on SIGHUP reopens the output files, runs the reload hook and returns
  // kReload. Use absolute deadlines for periodic work so it does not drift.
  Event WaitUntil(absl::Time deadline);

  // Same as `WaitUntil(absl::Now() + timeout)`.
  Event WaitFor(absl::Duration timeout);

  // True once SIGTERM or SIGINT has been seen by WaitUntil.
  bool stop_requested() const;

  // A descriptor that becomes readable when a signal is pending, for
  // programs with their own poll/epoll loop: when it is readable, call
  // `WaitUntil(absl::InfinitePast())` to handle the signal.
  int signal_fd() const;

  // Sets the function run on SIGHUP, after the output files are reopened.
  void SetReloadHook(std::function<void()> hook);

  // Tells the supervisor a one-line status ("STATUS=..." of sd_notify), as
  // `systemctl status` shows it. A no-op without $NOTIFY_SOCKET.
  void NotifyStatus(absl::string_view status);

  // While healthy (the default), `WaitUntil()` sends WATCHDOG=1 keep-alives
  // at half of $WATCHDOG_USEC; an application that knows it is stuck calls
  // SetHealthy(false) and lets systemd's watchdog restart it.
  void SetHealthy(bool healthy);

  // True when this process detached (SysV mode).
  bool detached() const;

  // Internal state; declared here only so that Daemonize can build it.
  class Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Daemonize()
//
// Makes the calling process a daemon as described at the top of this file.
//
// In the launcher: returns an error, with nothing forked and nothing left
// behind, for a problem found before forking: kInvalidArgument for bad
// options, kAlreadyExists ("already running, pid N") when the pid file is
// locked, kFailedPrecondition when the process already runs more than one
// thread (fork would copy only the calling one) or the pid file is a
// symbolic link, kNotFound / kPermissionDenied for missing or forbidden
// paths. After forking, the launcher never returns: it exits 0 once the
// daemon is ready, 1 if it fails, dies or times out.
//
// In the daemon (or in the foreground): returns the `Daemon` handle.
absl::StatusOr<std::unique_ptr<Daemon>> Daemonize(const Options& options);

// The process exit codes daemonkit documents.
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // a well-formed request failed
inline constexpr int kExitUsage = 2;    // the command line itself is wrong

// Maps a `Daemonize()` error to the exit code: kExitUsage for
// kInvalidArgument, kExitSuccess for OK, kExitFailure otherwise.
int ExitCodeFor(const absl::Status& status);

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_DAEMON_H_
