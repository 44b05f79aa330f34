// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: daemon/options.h
// -----------------------------------------------------------------------------
//
// What `Daemonize()` ("daemon/daemon.h", which includes this header) is asked
// to do, the one check of those values, and the exit codes daemonkit
// documents. Pure: nothing here touches the system.
//
// A bad value is a *usage error*: a kInvalidArgument status marked as the
// caller's mistake, naming the `Options` field it is about. The flags layer
// ("daemon/flags.h") translates flag text into `Options` and lets
// `ValidateOptions()` judge it; it renames the field to its flag in the
// message, and `ExitCodeFor()` maps the mark, not the status code, to
// `kExitUsage`. A kInvalidArgument that a system call returned (EINVAL) is
// therefore a failure like any other (exit 1).
//
// Example:
//
//   daemonkit::Options options;
//   options.umask = 01000;
//   absl::Status status = daemonkit::ValidateOptions(options);
//   // status: kInvalidArgument "umask 512 is above 0777",
//   // daemonkit::IsUsageError(status): true,
//   // daemonkit::UsageErrorField(status): "umask",
//   // daemonkit::ExitCodeFor(status): daemonkit::kExitUsage

#ifndef DAEMONKIT_DAEMON_OPTIONS_H_
#define DAEMONKIT_DAEMON_OPTIONS_H_

#include <sys/types.h>

#include <cstdint>
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

// Service-manager controls (issue 15): one entry of `Options::rlimits`.
// `resource` is a name of setrlimit(2)'s RLIMIT_* in lower case without
// the prefix: nofile, nproc, core, memlock, as, stack, cpu, fsize, data,
// rtprio, nice, msgqueue, sigpending, locks. Values are in setrlimit's
// units; `kUnlimited` is RLIM_INFINITY. `hard` unset keeps the hard limit.
inline constexpr uint64_t kUnlimited = ~uint64_t{0};
struct ResourceLimit {
  std::string resource;
  uint64_t soft = 0;
  std::optional<uint64_t> hard;
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
  // is connected before the chroot. Needs `user`, naming a user other than
  // root (a usage error otherwise: root leaves a chroot). Empty: no chroot.
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
  // LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, WATCHDOG_*, FDSTORE) are always
  // kept.
  // (LISTEN_* that name this process were consumed and unset by the socket
  // activation of `listen`, issue 14; kept here are only those of another
  // process, which sd_listen_fds() in the application ignores too.)
  std::optional<std::vector<std::string>> keep_env;

  // Supervision: with a policy other than kNo, the daemon process becomes a
  // supervisor that holds the pid file and forks the application as a
  // worker. A worker that ran for `restart_reset_after` or longer is
  // restarted at once and resets the delay (the rule of s6, runit and
  // daemontools); one that died sooner is restarted after `restart_delay`
  // (0 allowed), doubling up to `restart_max_delay`; when more than
  // `restart_limit` restarts (0: no limit) fall within the last
  // `restart_reset_after` (a sliding window on the monotonic clock) the
  // supervisor gives up. `Daemonize()` then returns in the worker.
  // SIGTERM/SIGINT stop the worker (SIGKILL after three quarters of
  // `stop_timeout`, so that the supervisor ends what the worker left behind and
  // exits before a `stop` that waits `stop_timeout` escalates to SIGKILL) and
  // then the supervisor; SIGHUP is forwarded.
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

  // Service-manager controls (issue 15). What a service manager would set
  // on the process, for the managers and scripts that do not. Applied in
  // the daemon (or the foreground process) before the privilege drop, so
  // that a limit only root may raise can be raised (niceness and the OOM
  // score before the chroot, resource limits after it); a value the kernel
  // refuses is a start error naming the flag (exit 1).
  //
  // Resource limits, set in order. A `core` entry is applied after (and so
  // wins over) the RLIMIT_CORE that `core_dumps` chooses; the dumpable flag
  // after a privilege drop still comes from `core_dumps` alone.
  std::vector<ResourceLimit> rlimits;
  // Scheduling niceness, -20 to 19 (setpriority(2)). Unset: inherited.
  std::optional<int> nice;
  // /proc/self/oom_score_adj, -1000 to 1000. Unset: inherited.
  std::optional<int> oom_score_adj;
  // Capabilities (capabilities(7) names, "cap_net_bind_service" or
  // "net_bind_service") that the daemon keeps, as permitted, effective,
  // inheritable and ambient capabilities (the ambient set survives
  // execve(2) as a non-root user), across the `user` drop. Every other
  // capability is removed, from the bounding set too. Needs root. Empty:
  // the kernel's rules (a drop to a non-root user keeps none).
  // Needs `user`, naming a user other than root (a usage error otherwise:
  // root reads every file, capabilities or not). Only the capabilities
  // that can neither lead back to root, read or write any file, leave a
  // chroot, nor signal, trace or change another user's process may be
  // kept (cap_net_bind_service, cap_net_broadcast, cap_net_raw,
  // cap_ipc_lock, cap_audit_write, cap_wake_alarm, cap_block_suspend);
  // every other one is a usage error naming why (docs/security.md has the
  // table of all 41).
  std::vector<std::string> capabilities;
  // After a privilege drop, set PR_SET_NO_NEW_PRIVS: no program the daemon
  // executes can gain privileges (setuid binaries, file capabilities).
  bool no_new_privs = true;
  // Readiness on a descriptor (s6 `notification-fd`, dinit
  // `ready-notification = pipefd:N`): when the application calls
  // `Daemon::NotifyReady()` (under supervision: when the first worker is
  // ready), one newline is written to this descriptor and it is closed. It
  // must be open when `Daemonize()` is called (a start error otherwise) and
  // above 2; it survives the close of inherited descriptors and is made
  // close-on-exec. -1: none.
  int ready_fd = -1;

  // Listening sockets (issue 14).
  //
  // Sockets to create, bind and set listening before the first fork and
  // before the privilege drop (so a daemon that runs as `user` can still
  // serve port 80), each "NAME=ADDRESS" (`--daemon_listen` takes them as a
  // comma list):
  //
  //   "web=tcp:0.0.0.0:80"  "web6=tcp:[::]:80"  "admin=unix:/run/x.sock"
  //   "admin=unix:@x" (the abstract namespace)
  //
  // TCP sockets get SO_REUSEADDR; all are close-on-exec and blocking, with
  // the largest backlog the kernel allows (SOMAXCONN). A Unix socket file is
  // created 0660, owned by `user` and `group` when given (as the output
  // files are), and removed at a clean stop while its path still names it;
  // a socket file no process listens on (left by a crash) is replaced. A
  // name that systemd's socket activation passed ($LISTEN_FDS, named by
  // $LISTEN_FDNAMES) is taken from there instead and not bound. The
  // application gets them by name: `Daemon::ListenSocket()`.
  //
  // An entry that does not parse, or two with one name: a usage error. An
  // address in use or forbidden: a start error naming it, nothing left.
  std::vector<std::string> listen;

  // Service-manager controls (issue 15): a watchdog of our own.
  // With supervision (`restart`), a worker that reports no progress for this
  // long after it is ready is sent SIGABRT, then SIGKILL after three
  // quarters of `stop_timeout` (the worker's share of a stop), and restarted
  // (whatever its exit status: a hung worker failed). Progress is what
  // feeds systemd's watchdog: `Daemon::WaitUntil()` while healthy (see
  // `Daemon::SetHealthy()`). A restarted worker gets `ready_timeout` to
  // become ready. Zero: off; otherwise at least 20ms, and only with
  // `restart` (only the supervisor can restart a worker).
  absl::Duration watchdog = absl::ZeroDuration();
};

// The one check of an `Options`' values; touches nothing. Returns a usage
// error (`UsageError()`, kInvalidArgument) whose field is the offending
// `Options` field, or OK. A message that names another field quotes it in
// backquotes ("restart max delay is below `restart_delay`"), so that the
// flags layer can put the flag's name there. `Daemonize()` calls it first.
absl::Status ValidateOptions(const Options& options);

// The process exit codes daemonkit documents (the control actions add theirs
// in "daemon/control.h").
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // a well-formed request failed
inline constexpr int kExitUsage = 2;    // the command line itself is wrong

// UsageError()
//
// A kInvalidArgument status marked as a usage error: the caller asked for
// something malformed (a bad option or flag value). `field` names what is
// wrong: an `Options` field ("ready_timeout") for `ValidateOptions()`, a flag
// ("daemon_control") for the flags layer. Born only where the request is
// read; errors of system calls never carry the mark.
absl::Status UsageError(absl::string_view field, absl::string_view message);

// True when `status` came from `UsageError()`.
bool IsUsageError(const absl::Status& status);

// The `field` a usage error was made with; empty for any other status.
std::string UsageErrorField(const absl::Status& status);

// ParseVariableList()
//
// Parses the text form of `Options::keep_env` (what `--daemon_keep_env`
// takes): a comma list of variable names ("PATH, HOME,LANG"); spaces around
// names are ignored, empty entries skipped. kInvalidArgument naming the
// entry for a name that holds '=' or a NUL or whitespace inside.
absl::StatusOr<std::vector<std::string>> ParseVariableList(
    absl::string_view list);

// Service-manager controls (issue 15): parses the text form of
// `Options::rlimits` (what `--daemon_rlimits` takes): a comma list of
// `RESOURCE=SOFT` or `RESOURCE=SOFT:HARD`, each value a number or
// `unlimited` ("nofile=65536,nproc=512:1024,memlock=unlimited"); spaces
// around entries are ignored, empty entries skipped. kInvalidArgument naming
// the entry for text that is not of that form. Resource names are judged by
// `ValidateOptions()`.
absl::StatusOr<std::vector<ResourceLimit>> ParseResourceLimits(
    absl::string_view list);

// Maps a status to the exit code: kExitSuccess for OK, kExitUsage for a
// usage error, kExitFailure otherwise.
int ExitCodeFor(const absl::Status& status);

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_OPTIONS_H_
