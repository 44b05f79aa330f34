// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/interrupted_stop.h
// -----------------------------------------------------------------------------
//
// A `stop` control action may wait long (--daemon_stop_timeout) for the
// daemon to go. Ctrl-C (or a SIGTERM, SIGHUP or SIGQUIT from a script's
// timeout) during that wait must not end the control process in silence: the
// daemon may have been sent its stop signal and still be running (issue
// 22.10). While a SayIfStopIsInterrupted lives, those signals print one line
// saying so, then end the process by the signal's default action, so the
// shell still sees 130 for Ctrl-C. The library's control actions
// (flags.cc) and the daemonkit command's use it alike.
//
// Example:
//
//   {
//     SayIfStopIsInterrupted notice(
//         "ticker: stop interrupted: the daemon, pid 42, may still be "
//         "running (pid file /run/ticker.pid)\n");
//     status = StopDaemon(pidfile, timeout);
//   }  // the signals' earlier dispositions are back

#ifndef DAEMONKIT_DAEMON_INTERNAL_INTERRUPTED_STOP_H_
#define DAEMONKIT_DAEMON_INTERNAL_INTERRUPTED_STOP_H_

#include <sys/types.h>

#include <string>

namespace daemonkit {
namespace internal {

class SayIfStopIsInterrupted {
 public:
  // Installs the handlers, which write `message` (cut at 8 KiB) to stderr.
  // A signal its caller ignored (nohup, a script's `&`) stays ignored.
  explicit SayIfStopIsInterrupted(const std::string& message);
  // Puts the earlier dispositions back (a `restart` goes on to start).
  ~SayIfStopIsInterrupted();

  SayIfStopIsInterrupted(const SayIfStopIsInterrupted&) = delete;
  SayIfStopIsInterrupted& operator=(const SayIfStopIsInterrupted&) = delete;
};

// "\n<program>: stop interrupted: the daemon, pid <pid>, may still be
// running<pid_file_note>\n" (", pid N," left out when `pid` is 0).
std::string StopInterruptedMessage(pid_t pid, const std::string& pid_file_note);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_INTERRUPTED_STOP_H_
