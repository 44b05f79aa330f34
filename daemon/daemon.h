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
// The same `Daemon` handle then serves the signals and the pid file. One
// exception (issue 15): as pid 1 of a pid namespace (a container), it forks
// once, and the parent stays pid 1 to reap orphans and forward signals
// while the application runs on as pid 2 ("internal/container_init.h").
// Detaching as pid 1 is refused (kFailedPrecondition): the launcher's exit
// would end the namespace, daemon included.
//
// In both modes, when $NOTIFY_SOCKET is set the daemon speaks systemd's
// sd_notify protocol: READY=1 (with MAINPID= when detached) on
// `NotifyReady()`, STOPPING=1 on SIGTERM/SIGINT, RELOADING=1 and READY=1
// around a SIGHUP reload, STATUS= from `NotifyStatus()`, and WATCHDOG=1 at
// half of $WATCHDOG_USEC (never more often than every 10ms, whatever the
// value) from within `WaitUntil()`. A $NOTIFY_SOCKET in an address family
// the library does not speak (systemd's "vsock:CID:PORT"), or one that is no
// socket address at all, is logged once and otherwise ignored.
//
// Most programs configure all of this from the command line through the
// Abseil flags of "daemon/flags.h" (`--daemon`, `--daemon_pidfile`, ...), and
// operate the running daemon with `--daemon_control=stop|reload|status`
// ("daemon/control.h").
//
// Example:
//
//   #include "daemon/daemon.h"
//   #include "daemon/flags.h"
//
//   int main(int argc, char** argv) {
//     // absl::ParseCommandLine, with the checks of daemon/command_line.h.
//     daemonkit::ParseCommandLine(argc, argv);
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

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {
struct StartedDaemon;  // daemon/internal/daemon_startup.h
struct DaemonAccess;   // daemon/internal/daemon_access.h (issue 21)
}  // namespace internal

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
  // removed. After `NotifyReady()` it only logs the error: the start has
  // succeeded, and the pid file keeps naming the running daemon. The caller
  // should then clean up (close connections, remove what it made) and exit
  // non-zero: the launcher waits up to `Options::stop_timeout` for the process
  // to exit, and only then kills it and whatever it started.
  void FailStartup(const absl::Status& error);

  // Blocks until `deadline` passes or a signal asks for something. Returns
  // kStop at once (and every time after) once SIGTERM or SIGINT has arrived;
  // on SIGHUP reopens the output files, runs the reload hook and returns
  // kReload. `deadline` is a time of the wall clock: when the clock steps
  // past it (NTP, `date -s`) it returns kTimeout within a second; when the
  // clock steps back, the deadline is that much further away. For periodic
  // work, wait for intervals with `WaitFor()` (the ticker example keeps a
  // grid without drift that way).
  Event WaitUntil(absl::Time deadline);

  // As `WaitUntil()`, for `timeout` measured on the monotonic clock: no
  // step of the wall clock stretches or cuts it short.
  Event WaitFor(absl::Duration timeout);

  // True once SIGTERM or SIGINT has been seen by WaitUntil.
  bool stop_requested() const;

  // A descriptor that becomes readable when a signal is pending (or when
  // the path keeper that holds the pid file's lock for a dropped or
  // chrooted daemon has died, which stops the daemon, or when a watchdog
  // keep-alive is due, or, about once a second, when the daemon holds its
  // pid file itself and looks whether it was removed, to recreate it),
  // for programs with their own poll/epoll loop: when
  // it is readable, call `WaitUntil(absl::InfinitePast())` to handle it
  // (that call sends the keep-alive, so such a loop needs no timeout of
  // its own for the watchdog). Do not read it. In a process forked from the
  // daemon (signals take their default action there) the handle has a
  // descriptor of its own instead, which nothing makes readable, and
  // `WaitUntil()` there sleeps until its deadline: the daemon's descriptors
  // are closed in the child, and their numbers may be the child's files.
  int signal_fd() const;

  // Sets the function run on SIGHUP, after the output files are reopened.
  void SetReloadHook(std::function<void()> hook);

  // Tells the supervisor a one-line status ("STATUS=..." of sd_notify), as
  // `systemctl status` shows it. A no-op without $NOTIFY_SOCKET. Each
  // newline and NUL in `status` is sent as a space: the text stays one
  // STATUS= assignment, whatever a client put in it.
  void NotifyStatus(absl::string_view status);

  // While healthy (the default), `WaitUntil()` sends WATCHDOG=1 keep-alives
  // at half of $WATCHDOG_USEC (also when called for a readable
  // `signal_fd()`, which a due keep-alive makes readable); an application that
  // knows it is stuck calls SetHealthy(false) and lets systemd's watchdog
  // restart it.
  void SetHealthy(bool healthy);

  // True when this process detached (SysV mode).
  bool detached() const;

  // Listening sockets (issue 14).
  //
  // Upgrades: `--daemon_control=upgrade` (SIGUSR2, handled by WaitUntil)
  // starts the binary now at this program's path with its command line and
  // these sockets, and once that one is ready, this process sees kStop like
  // any stop: it should stop accepting and finish the connections it has.
  // The sockets, the pid file and the socket files are the successor's
  // from then on: the descriptor numbers ListenSocket() gave stay open but
  // no longer listen, the pid file's descriptor is closed, and the files
  // stay. The drain is bounded: the process is SIGKILLed
  // `--daemon_stop_timeout` after the handover, or when the successor is
  // stopped, whichever comes first. A SIGHUP meanwhile goes on to the
  // successor. Not in a supervised daemon, after a privilege drop or
  // chroot, with capabilities, without a pid file, as a container's pid 1,
  // or in the foreground without $NOTIFY_SOCKET.
  //
  // ListenSocket()
  //
  // The listening socket named `name`: the one systemd's socket activation
  // passed under that name ($LISTEN_FDNAMES; "unknown" when unnamed), or
  // else the one `Options::listen` (`--daemon_listen=NAME=ADDRESS`) bound
  // before the first fork. Ready for accept(2): bound, listening, blocking
  // and close-on-exec (make it non-blocking for a poll loop). An activated
  // descriptor is checked to be a socket and is otherwise passed on as the
  // service manager made it: a datagram socket for ListenDatagram=, a
  // connected one for Accept=yes are the unit's choice, not an error. The
  // descriptor stays the library's for the process's life: do not close it.
  // When several share the name (systemd can pass two with one name), the
  // first. Under supervision every worker gets the same sockets, so connections
  // wait in the backlog while a worker restarts. kNotFound when there is
  // none of that name.
  //
  // Example (tests/listen_api_example.cc compiles it; the daemon's signals
  // keep working beside the socket in the application's own poll loop):
  //
  //   absl::StatusOr<int> listener = daemon->ListenSocket("web");
  //   if (!listener.ok()) {
  //     daemon->FailStartup(listener.status());
  //     return 1;
  //   }
  //   fcntl(*listener, F_SETFL, O_NONBLOCK);
  //   struct pollfd fds[2] = {{daemon->signal_fd(), POLLIN, 0},
  //                           {*listener, POLLIN, 0}};
  //   daemon->NotifyReady();
  //   while (!daemon->stop_requested()) {
  //     if (poll(fds, 2, -1) < 0) continue;  // EINTR
  //     if (fds[0].revents & POLLIN) {
  //       daemon->WaitUntil(absl::InfinitePast());  // handles the signal
  //     }
  //     if (fds[1].revents & POLLIN) {
  //       int client = accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
  //       if (client >= 0) {
  //         (void)!write(client, "hello\n", 6);  // ... serve it ...
  //         close(client);
  //       }
  //     }
  //   }
  absl::StatusOr<int> ListenSocket(absl::string_view name) const;

  // The names of every listening socket, activated ones first, in order.
  std::vector<std::string> ListenSocketNames() const;

  // Implementation details below: only `Daemonize()` makes a `Daemon`.
 private:
  friend absl::StatusOr<std::unique_ptr<Daemon>> Daemonize(
      const Options& options);
  friend struct internal::DaemonAccess;
  class Impl;  // daemon/daemon.cc

  static std::unique_ptr<Daemon> Create(internal::StartedDaemon started);
  explicit Daemon(std::unique_ptr<Impl> impl);

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

// ReportStartFailure()
//
// Tells whoever waits for this process to start that it will not: prints
// "<program>: <message>" as one line on stderr and, when $NOTIFY_SOCKET is
// set, sends systemd the failure (`STATUS=` with the message and `ERRNO=`),
// so a `Type=notify` unit fails at once instead of at its start timeout.
// Call it with the error of a start that ends before `Daemonize()` forked,
// or with a bad option or flag value, and then exit with
// `ExitCodeFor(status)`. Does not exit itself; a failure to reach systemd
// is ignored (stderr has the message).
void ReportStartFailure(const absl::Status& status);

// LogToSyslog()
//
// Sends every glog message to syslog(3) (LOG_DAEMON facility, the program's
// name as ident, LOG_PID) and nowhere else: no log files, nothing on
// stderr. `Daemonize()` then connects to /dev/log before it can chroot.
// Call once, after google::InitGoogleLogging and before `Daemonize()`.
void LogToSyslog();

// LogToJournalStream()
//
// Service-manager controls (issue 15). Writes glog's messages to stderr with
// the priority prefixes of sd-daemon(3) ("<6>" INFO, "<4>" WARNING, "<3>"
// ERROR, "<2>" FATAL), so that systemd's journal files them by priority:
// always when `always`, otherwise only while stderr is the stream that
// $JOURNAL_STREAM names ("DEV:INO"; checked at each message, since stderr
// changes when the daemon detaches); otherwise glog's usual lines. Either
// way each message goes to stderr in one write(2), and what a full file
// system (or any failed or short write) lost is marked by a line
// "[daemonkit: N bytes of log lost (REASON)]" before the next message that
// gets through, so that a torn line is never glued to the next (issue
// 23.11). Covers glog's messages only, not what the application writes
// to stdout or stderr itself. `DaemonizeFromFlags()` calls it unless
// logging goes to syslog. Call once, after google::InitGoogleLogging and
// before `Daemonize()`.
void LogToJournalStream(bool always);

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_DAEMON_H_
