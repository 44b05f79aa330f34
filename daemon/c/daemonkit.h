/* Copyright 2026 The daemonkit Authors.
 *
 * -----------------------------------------------------------------------------
 * File: daemon/c/daemonkit.h
 * -----------------------------------------------------------------------------
 *
 * The C face of daemonkit (issue 21), `//daemon:c`: the library of
 * daemon/daemon.h for programs written in C, and for any language that can
 * call C before it starts threads (a cgo constructor, see
 * examples/go/daemonize.go). The daemon is the same: the same `--daemon_*`
 * flags with the same meaning, the same control actions
 * (`--daemon_control=stop|status|reload|restart|upgrade`) and exit codes,
 * the same launcher that exits 0 only once the daemon declared itself ready
 * and 1 with the daemon's own message otherwise.
 *
 * The header is plain C (C99), with no C++ type in it; the handle is opaque.
 * Errors come back as return values, documented per function: the
 * functions of the running daemon return 0 or a negative errno value
 * (-EINVAL for a NULL handle); `daemonkit_daemonize()` returns 0 or the exit
 * code the program should exit with.
 *
 * Example:
 *
 *   #include "daemon/c/daemonkit.h"
 *
 *   int main(int argc, char** argv) {
 *     daemonkit_daemon* daemon = NULL;
 *     // Reads the --daemon_* flags of argv, runs --daemon_control actions
 *     // (and exits with their codes), detaches; returns 0 only in the
 *     // daemon (or in the foreground with --daemon=false).
 *     int rc = daemonkit_daemonize(argc, argv, &daemon);
 *     if (rc != 0) return rc;  // the message is on stderr; nothing forked
 *     if (!open_what_can_fail()) {
 *       // Reaches the launcher's terminal; the launcher exits 1.
 *       daemonkit_fail_startup(daemon, "cannot open /etc/x.conf");
 *       daemonkit_close(daemon);
 *       return 1;
 *     }
 *     daemonkit_notify_ready(daemon);  // the launcher exits 0 now
 *     for (;;) {
 *       int event = daemonkit_wait(daemon, 1000);  // wakes at once on TERM
 *       if (event == DAEMONKIT_EVENT_STOP) break;
 *       if (event == DAEMONKIT_EVENT_RELOAD) reread_configuration();
 *       // ... one unit of work ...
 *     }
 *     daemonkit_close(daemon);  // removes the pid file
 *     return 0;
 *   }
 *
 * Rules carried over from the C++ library: call `daemonkit_daemonize()`
 * while the process has one thread (fork copies only the calling one), use
 * the handle from one thread, and do not install handlers for SIGTERM,
 * SIGINT, SIGHUP or SIGUSR2: the library's handlers feed
 * `daemonkit_wait()`.
 */

#ifndef DAEMONKIT_DAEMON_C_DAEMONKIT_H_
#define DAEMONKIT_DAEMON_C_DAEMONKIT_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The running daemon: readiness, signals and the pid file. Opaque. */
typedef struct daemonkit_daemon daemonkit_daemon;

/* What `daemonkit_daemonize()` returns when the process must not go on. */
#define DAEMONKIT_EXIT_FAILURE 1 /* the start failed (already running, ...) */
#define DAEMONKIT_EXIT_USAGE 2   /* a bad --daemon_* flag or value */

/* What `daemonkit_wait()` woke up for. */
#define DAEMONKIT_EVENT_TIMEOUT 0 /* the timeout passed */
#define DAEMONKIT_EVENT_STOP 1    /* SIGTERM or SIGINT: finish up and exit */
#define DAEMONKIT_EVENT_RELOAD 2  /* SIGHUP: output files were reopened */

/* daemonkit_daemonize()
 *
 * Reads the `--daemon*` flags in argv[1..argc-1] (`--daemon_pidfile=P` or
 * `--daemon_pidfile P`, `--daemon`, `--nodaemon`, `--daemon=false`; see
 * daemon/flags.h for the list) up to a "--", leaving every other argument
 * to the program, which must skip these when it parses its own; argv is
 * not changed. Then does what `daemonkit::DaemonizeFromFlags()` does:
 *
 *   - `--daemon_control=stop|status|reload|upgrade`: acts on the daemon of
 *     the pid file, prints the outcome and exits the process with the
 *     action's documented code (LSB); `restart` stops, then starts.
 *   - start: detaches (or, with --daemon=false, stays in the foreground).
 *     The process that called is the launcher: it never returns, but exits
 *     0 once the daemon calls `daemonkit_notify_ready()` and 1 when it
 *     fails, dies or times out.
 *
 * Returns 0 in the daemon (or the foreground process) with `*daemon` set.
 * Otherwise nothing was forked and nothing is left behind, one line is on
 * stderr, and the value is the exit code to exit with:
 *   DAEMONKIT_EXIT_USAGE    a flag or value the library does not take
 *                           (an unknown --daemon_* name, a missing value),
 *                           or a NULL `daemon`/`argv`;
 *   DAEMONKIT_EXIT_FAILURE  the start failed before forking: already
 *                           running, the pid file's directory missing, the
 *                           process runs more than one thread.
 */
int daemonkit_daemonize(int argc, char** argv, daemonkit_daemon** daemon);

/* daemonkit_flags_help()
 *
 * The --daemon_* flags daemonkit_daemonize() reads, for the program's own
 * --help: one flag a line ("  --daemon_pidfile (help text); default: ...")
 * in name order, ending in a newline. Static storage, never NULL; it
 * starts nothing and reads no flag's value but its default.
 */
const char* daemonkit_flags_help(void);

/* daemonkit_notify_ready()
 *
 * Declares the daemon ready: the launcher exits 0 (and systemd hears
 * READY=1 under $NOTIFY_SOCKET). Calling it again does nothing. Returns 0,
 * or -EINVAL for a NULL handle.
 */
int daemonkit_notify_ready(daemonkit_daemon* daemon);

/* daemonkit_fail_startup()
 *
 * Reports a start-up failure before `daemonkit_notify_ready()`: the
 * launcher prints `message` on its stderr and exits 1, and the pid file is
 * removed. After `daemonkit_notify_ready()` it only logs the message (the
 * start has succeeded; the pid file keeps naming the daemon). The caller should
 * then clean up and exit non-zero; the launcher kills the daemon and what it
 * started after --daemon_stop_timeout if it does not. Returns 0, or -EINVAL for
 * a NULL handle or message.
 */
int daemonkit_fail_startup(daemonkit_daemon* daemon, const char* message);

/* daemonkit_wait()
 *
 * Blocks until `timeout_ms` milliseconds (on the monotonic clock) have
 * passed or a signal asks for something; a negative timeout waits without
 * end, 0 only handles what is pending. Returns DAEMONKIT_EVENT_STOP at once
 * (and every time after) once SIGTERM or SIGINT has arrived,
 * DAEMONKIT_EVENT_RELOAD after a SIGHUP (the output files were reopened,
 * the reload hook ran), DAEMONKIT_EVENT_TIMEOUT otherwise; -EINVAL for a
 * NULL handle. Also sends the watchdog's keep-alives.
 */
int daemonkit_wait(daemonkit_daemon* daemon, int timeout_ms);

/* daemonkit_signal_fd()
 *
 * A descriptor for the program's own poll/epoll loop: when it is readable,
 * call `daemonkit_wait(daemon, 0)` to handle what made it so. Do not read
 * or close it. Returns the descriptor, or -EINVAL for a NULL handle.
 */
int daemonkit_signal_fd(const daemonkit_daemon* daemon);

/* daemonkit_stop_requested()
 *
 * 1 once `daemonkit_wait()` has seen SIGTERM or SIGINT, else 0; -EINVAL for
 * a NULL handle.
 */
int daemonkit_stop_requested(const daemonkit_daemon* daemon);

/* daemonkit_notify_status()
 *
 * Tells the service manager a one-line status (sd_notify STATUS=, as
 * `systemctl status` shows it; a newline is sent as a space). Nothing
 * without $NOTIFY_SOCKET. Returns 0, or -EINVAL for a NULL handle or text.
 */
int daemonkit_notify_status(daemonkit_daemon* daemon, const char* status);

/* daemonkit_set_reload_hook()
 *
 * Sets the function `daemonkit_wait()` calls with `arg` on SIGHUP, after
 * the output files are reopened; NULL removes it. Returns 0, or -EINVAL for
 * a NULL handle.
 */
int daemonkit_set_reload_hook(daemonkit_daemon* daemon, void (*hook)(void*),
                              void* arg);

/* daemonkit_listen_socket()
 *
 * The listening socket named `name` (`--daemon_listen=NAME=ADDRESS`, or
 * systemd's socket activation): bound, listening, blocking, close-on-exec;
 * the library's, do not close it. Returns the descriptor, -ENOENT when
 * there is none of that name, -EINVAL for a NULL handle or name.
 */
int daemonkit_listen_socket(const daemonkit_daemon* daemon, const char* name);

/* daemonkit_detached()
 *
 * 1 when this process detached (SysV mode), 0 in the foreground; -EINVAL
 * for a NULL handle.
 */
int daemonkit_detached(const daemonkit_daemon* daemon);

/* daemonkit_close()
 *
 * Ends the handle: removes the pid file (the daemon's clean exit; nothing
 * in a process forked from the daemon) and frees it. NULL does nothing.
 */
void daemonkit_close(daemonkit_daemon* daemon);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DAEMONKIT_DAEMON_C_DAEMONKIT_H_ */
