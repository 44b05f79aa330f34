// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: daemon/flags.h
// -----------------------------------------------------------------------------
//
// The command-line face of daemonkit: the `--daemon*` Abseil flags and the one
// call that acts on them. A program that links `//daemon` gets these flags;
// one that wants no flags uses `//daemon:core` and fills `Options` itself.
//
//   --daemon                    detach (true) or stay in the foreground
//   --daemon_pidfile=PATH       pid file, locked for the daemon's life
//   --daemon_workdir=DIR        working directory (default /)
//   --daemon_umask=OCTAL        file-mode creation mask (default 0)
//   --daemon_stdout=PATH|inherit, --daemon_stderr=PATH|inherit
//   --daemon_ready_timeout=DUR  how long the launcher waits for readiness
//   --daemon_control=ACTION     start, stop, restart, reload, status, upgrade
//   --daemon_stop_timeout=DUR   SIGTERM, then SIGKILL after this long
//   --daemon_log=stderr|syslog|journal  where glog goes
//   --daemon_user, --daemon_group  drop privileges after writing the pid file
//   --daemon_chroot=DIR         chroot before dropping privileges
//   --daemon_core_dumps         allow core dumps (default: RLIMIT_CORE 0)
//   --daemon_keep_env=A,B       remove every other environment variable
//   --daemon_restart=no|on-failure|always  supervise and restart the worker
//   --daemon_restart_delay, --daemon_restart_max_delay,
//   --daemon_restart_reset_after, --daemon_restart_limit,
//   --daemon_child_pidfile      the restart schedule and the worker's pid file
//   Service-manager controls (issue 15):
//   --daemon_rlimits=nofile=N,core=0:unlimited  resource limits
//   --daemon_nice=N, --daemon_oom_score_adj=N   scheduling, OOM killer
//   --daemon_capabilities=cap_net_bind_service  kept across the user drop
//   --daemon_no_new_privs       PR_SET_NO_NEW_PRIVS after a drop (default true)
//   --daemon_ready_fd=N         a newline to descriptor N on readiness
//   --daemon_listen=NAME=ADDR,...  listening sockets bound before the fork
//                               (tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH,
//                               unix:@NAME); see Daemon::ListenSocket()
//   --daemon_watchdog=DURATION  restart a worker that reports no progress
//
// The library validates its own flag values (they never die inside Abseil's
// generic parser): a bad value is one line on stderr naming the flag, exit
// code 2, before anything forks or any file is created.
//
// Example:
//
//   int main(int argc, char** argv) {
//     daemonkit::ParseCommandLine(argc, argv);
//     std::unique_ptr<daemonkit::Daemon> daemon =
//         daemonkit::DaemonizeFromFlags();
//     daemon->NotifyReady();
//     ...
//   }

#ifndef DAEMONKIT_DAEMON_FLAGS_H_
#define DAEMONKIT_DAEMON_FLAGS_H_

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/command_line.h"
#include "daemon/control.h"
#include "daemon/daemon.h"

namespace daemonkit {

// FlagText
//
// The value type of daemonkit's flags: the text as given, plus whether it was
// given at all. Parsing into it never fails, so that the library, not
// Abseil's parser, reports bad values (exit code 2, the flag named); and
// foreground mode can apply only what was asked for.
class FlagText {
 public:
  // A default value: not given on the command line.
  static FlagText Default(std::string text) {
    return FlagText(std::move(text), false);
  }
  // A value set explicitly (by the parser, a flagfile or absl::SetFlag).
  FlagText(std::string text) : FlagText(std::move(text), true) {}  // NOLINT

  const std::string& text() const { return text_; }
  bool given() const { return given_; }

 private:
  FlagText(std::string text, bool given)
      : text_(std::move(text)), given_(given) {}

  std::string text_;
  bool given_;
};

bool AbslParseFlag(absl::string_view text, FlagText* flag, std::string* error);
std::string AbslUnparseFlag(const FlagText& flag);

// Where glog goes (`--daemon_log`).
// kJournal (issue 15): stderr with sd-daemon(3) priority prefixes, which
// kStderr also gets while $JOURNAL_STREAM names stderr.
enum class LogTarget { kStderr, kSyslog, kJournal };

// A validated command line.
struct FlagRequest {
  ControlAction action = ControlAction::kStart;
  Options options;
  // A copy of `options.stop_timeout`, which is what the library reads; kept
  // for programs written against earlier versions.
  absl::Duration stop_timeout = absl::Seconds(10);
  LogTarget log = LogTarget::kStderr;
};

// Reads the `--daemon*` flags and translates their text into `Options`; the
// values are judged by `ValidateOptions()` alone, whose verdict comes back
// in flag terms. Relative paths are resolved against
// $BUILD_WORKING_DIRECTORY when set (`bazel run`), otherwise left to
// `Daemonize()` (the current directory). On a bad value: a usage error
// (`IsUsageError()`, kInvalidArgument, `ExitCodeFor()` gives kExitUsage)
// naming the flag and its text, as in "--daemon_umask=abc: not an octal mode
// from 0 to 0777" or "--daemon_ready_timeout=0s: ready timeout 0 must be
// positive".
absl::StatusOr<FlagRequest> RequestFromFlags();

// DaemonizeFromFlags()
//
// The one call. Validates the flags (exit 2 on a bad value); runs `stop`,
// `reload`, `status` and `upgrade` and exits with their documented codes; for
// `restart` stops first; then starts: daemonizes (or stays in the foreground)
// and returns the `Daemon` handle in the daemon process. On any start failure
// prints one line on stderr and exits 1 ("already running, pid N").
//
// Sends glog to stderr (the `--daemon_stderr` file once detached) rather than
// to glog's default log files, or to syslog with `--daemon_log=syslog`. Call
// after absl::ParseCommandLine and before starting any thread.
std::unique_ptr<Daemon> DaemonizeFromFlags();

// DaemonizeFromRequest()
//
// What `DaemonizeFromFlags()` does after reading the flags, for a program
// that adjusts the request first (a ready message, descriptors to keep):
//
//   absl::StatusOr<daemonkit::FlagRequest> request =
//       daemonkit::RequestFromFlags();
//   if (request.ok()) request->options.keep_fds.push_back(listen_fd);
//   auto daemon = daemonkit::DaemonizeFromRequest(std::move(request));
//
// An error in `request` is printed and exits as `DaemonizeFromFlags()` would.
std::unique_ptr<Daemon> DaemonizeFromRequest(
    absl::StatusOr<FlagRequest> request);

}  // namespace daemonkit

ABSL_DECLARE_FLAG(bool, daemon);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_pidfile);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_workdir);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_umask);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_stdout);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_stderr);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_ready_timeout);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_control);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_stop_timeout);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_log);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_user);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_group);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_chroot);
ABSL_DECLARE_FLAG(bool, daemon_core_dumps);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_keep_env);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_restart);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_restart_delay);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_restart_max_delay);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_restart_reset_after);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_restart_limit);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_child_pidfile);
// Service-manager controls (issue 15).
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_rlimits);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_nice);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_oom_score_adj);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_capabilities);
ABSL_DECLARE_FLAG(bool, daemon_no_new_privs);
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_ready_fd);
// Listening sockets (issue 14).
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_listen);
// Service-manager controls (issue 15).
ABSL_DECLARE_FLAG(daemonkit::FlagText, daemon_watchdog);

#endif  // DAEMONKIT_DAEMON_FLAGS_H_
