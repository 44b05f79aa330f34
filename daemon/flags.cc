// Copyright 2026 The daemonkit Authors.

#include "daemon/flags.h"

#include <sys/types.h>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "daemon/internal/comma_list.h"
#include "daemon/internal/flag_values.h"
#include "daemon/internal/flags_control_action.h"
#include "daemon/internal/upgrade.h"

ABSL_FLAG(bool, daemon, true,
          "detach from the terminal (SysV double fork); false: stay in the "
          "foreground for systemd Type=simple/notify, containers, debugging");
ABSL_FLAG(daemonkit::FlagText, daemon_pidfile, daemonkit::FlagText::Default(""),
          "pid file path, created 0644 and locked for the daemon's life; "
          "empty: no pid file");
ABSL_FLAG(daemonkit::FlagText, daemon_workdir,
          daemonkit::FlagText::Default("/"), "working directory of the daemon");
ABSL_FLAG(daemonkit::FlagText, daemon_umask, daemonkit::FlagText::Default("0"),
          "octal file-mode creation mask of the daemon, 0 to 0777");
ABSL_FLAG(daemonkit::FlagText, daemon_stdout,
          daemonkit::FlagText::Default("/dev/null"),
          "where the daemon's stdout goes: a file (appended, created 0640, "
          "reopened on SIGHUP) or inherit");
ABSL_FLAG(daemonkit::FlagText, daemon_stderr,
          daemonkit::FlagText::Default("/dev/null"),
          "where the daemon's stderr goes: a file (appended, created 0640, "
          "reopened on SIGHUP) or inherit");
ABSL_FLAG(daemonkit::FlagText, daemon_ready_timeout,
          daemonkit::FlagText::Default("30s"),
          "how long the launcher waits for the daemon to report ready");
ABSL_FLAG(daemonkit::FlagText, daemon_control,
          daemonkit::FlagText::Default("start"),
          "what to do: start, stop, restart, reload, status or upgrade, "
          "through the pid file");
ABSL_FLAG(daemonkit::FlagText, daemon_user, daemonkit::FlagText::Default(""),
          "drop to this user (name or uid) after the pid file is written, with "
          "its groups; empty: keep the current user");
ABSL_FLAG(daemonkit::FlagText, daemon_group, daemonkit::FlagText::Default(""),
          "drop to this group (name or gid); empty: the user's primary group");
ABSL_FLAG(daemonkit::FlagText, daemon_chroot, daemonkit::FlagText::Default(""),
          "chroot here before dropping privileges (needs --daemon_user); "
          "--daemon_workdir is then inside it; empty: no chroot");
ABSL_FLAG(bool, daemon_core_dumps, false,
          "allow core dumps; false: RLIMIT_CORE 0 (a core file can hold the "
          "daemon's secrets)");
ABSL_FLAG(daemonkit::FlagText, daemon_keep_env,
          daemonkit::FlagText::Default(""),
          "comma list of environment variables to keep, all others removed "
          "(NOTIFY_SOCKET, LISTEN_*, WATCHDOG_*, FDSTORE always kept); empty: "
          "keep all");
ABSL_FLAG(daemonkit::FlagText, daemon_restart,
          daemonkit::FlagText::Default("no"),
          "supervise the application and restart it: no, on-failure (non-zero "
          "exit or a signal other than TERM/INT) or always");
ABSL_FLAG(daemonkit::FlagText, daemon_restart_delay,
          daemonkit::FlagText::Default("1s"),
          "delay before restarting a worker that ran less than "
          "--daemon_restart_reset_after, doubling after each (0 allowed); "
          "one that ran longer restarts at once");
ABSL_FLAG(daemonkit::FlagText, daemon_restart_max_delay,
          daemonkit::FlagText::Default("60s"),
          "the longest delay between restarts");
ABSL_FLAG(daemonkit::FlagText, daemon_restart_reset_after,
          daemonkit::FlagText::Default("60s"),
          "a worker up this long restarts at once and resets the delay");
ABSL_FLAG(daemonkit::FlagText, daemon_restart_limit,
          daemonkit::FlagText::Default("0"),
          "give up after this many restarts within the reset window; 0: never");
ABSL_FLAG(daemonkit::FlagText, daemon_child_pidfile,
          daemonkit::FlagText::Default(""),
          "with --daemon_restart: the worker's pid file (the supervisor's is "
          "--daemon_pidfile); empty: none");
ABSL_FLAG(daemonkit::FlagText, daemon_log,
          daemonkit::FlagText::Default("stderr"),
          "where glog goes: stderr (after detaching, the --daemon_stderr "
          "file), syslog (facility LOG_DAEMON, the program name as ident) or "
          "journal (stderr with sd-daemon <N> priority prefixes, which stderr "
          "also gets while $JOURNAL_STREAM names it)");
ABSL_FLAG(daemonkit::FlagText, daemon_stop_timeout,
          daemonkit::FlagText::Default("10s"),
          "how long stop waits after SIGTERM before it sends SIGKILL");
// Listening sockets (issue 14).
ABSL_FLAG(daemonkit::FlagText, daemon_listen, daemonkit::FlagText::Default(""),
          "comma list of NAME=ADDRESS sockets bound before the first fork and "
          "the privilege drop: tcp:HOST:PORT, tcp:[V6ADDR]:PORT, unix:PATH, "
          "unix:@NAME; empty: none");

// Service-manager controls (issue 15).
ABSL_FLAG(daemonkit::FlagText, daemon_rlimits, daemonkit::FlagText::Default(""),
          "comma list of resource limits RESOURCE=SOFT or RESOURCE=SOFT:HARD "
          "(nofile, nproc, core, memlock, as, stack, cpu, fsize, data, rtprio, "
          "nice, msgqueue, sigpending, locks; a number or unlimited), set "
          "before the privilege drop");
ABSL_FLAG(daemonkit::FlagText, daemon_nice, daemonkit::FlagText::Default(""),
          "scheduling niceness, -20 to 19; empty: inherited");
ABSL_FLAG(daemonkit::FlagText, daemon_oom_score_adj,
          daemonkit::FlagText::Default(""),
          "OOM score adjustment, -1000 to 1000; empty: inherited");
ABSL_FLAG(daemonkit::FlagText, daemon_capabilities,
          daemonkit::FlagText::Default(""),
          "comma list of capabilities (cap_net_bind_service, ...) kept as "
          "ambient capabilities across the --daemon_user drop (needed); "
          "all others cleared, bounding set included; empty: none kept");
ABSL_FLAG(bool, daemon_no_new_privs, true,
          "set PR_SET_NO_NEW_PRIVS after a privilege drop");
ABSL_FLAG(daemonkit::FlagText, daemon_ready_fd,
          daemonkit::FlagText::Default("-1"),
          "on readiness write a newline to this descriptor and close it (s6 "
          "notification-fd, dinit pipefd); -1: none");
// Service-manager controls (issue 15): a watchdog of our own.
ABSL_FLAG(daemonkit::FlagText, daemon_watchdog,
          daemonkit::FlagText::Default("0"),
          "with --daemon_restart: a worker that reports no progress "
          "(Daemon::WaitUntil while healthy) for this long is killed "
          "(SIGABRT, then SIGKILL) and restarted; 0: off");

namespace daemonkit {

bool AbslParseFlag(absl::string_view text, FlagText* flag, std::string*) {
  *flag = FlagText(std::string(text));
  return true;
}

std::string AbslUnparseFlag(const FlagText& flag) { return flag.text(); }

namespace {

using internal::BadFlag;
using internal::FromUserDirectory;
using internal::ReadDurationFlag;
using internal::StreamPath;

// The flag behind each `Options` field that ValidateOptions() can reject.
struct FieldFlag {
  absl::string_view field;
  absl::string_view flag;
  absl::Flag<FlagText>* text;
};
const FieldFlag kFieldFlags[] = {
    {"restart", "daemon_restart", &FLAGS_daemon_restart},
    {"pidfile", "daemon_pidfile", &FLAGS_daemon_pidfile},
    {"workdir", "daemon_workdir", &FLAGS_daemon_workdir},
    {"umask", "daemon_umask", &FLAGS_daemon_umask},
    {"stdout_path", "daemon_stdout", &FLAGS_daemon_stdout},
    {"stderr_path", "daemon_stderr", &FLAGS_daemon_stderr},
    {"ready_timeout", "daemon_ready_timeout", &FLAGS_daemon_ready_timeout},
    {"stop_timeout", "daemon_stop_timeout", &FLAGS_daemon_stop_timeout},
    {"keep_env", "daemon_keep_env", &FLAGS_daemon_keep_env},
    {"chroot", "daemon_chroot", &FLAGS_daemon_chroot},
    {"restart_delay", "daemon_restart_delay", &FLAGS_daemon_restart_delay},
    {"restart_max_delay", "daemon_restart_max_delay",
     &FLAGS_daemon_restart_max_delay},
    {"restart_reset_after", "daemon_restart_reset_after",
     &FLAGS_daemon_restart_reset_after},
    {"restart_limit", "daemon_restart_limit", &FLAGS_daemon_restart_limit},
    {"child_pidfile", "daemon_child_pidfile", &FLAGS_daemon_child_pidfile},
    // Service-manager controls (issue 15).
    {"rlimits", "daemon_rlimits", &FLAGS_daemon_rlimits},
    {"nice", "daemon_nice", &FLAGS_daemon_nice},
    {"oom_score_adj", "daemon_oom_score_adj", &FLAGS_daemon_oom_score_adj},
    {"capabilities", "daemon_capabilities", &FLAGS_daemon_capabilities},
    {"user", "daemon_user", &FLAGS_daemon_user},
    {"group", "daemon_group", &FLAGS_daemon_group},
    {"ready_fd", "daemon_ready_fd", &FLAGS_daemon_ready_fd},
    {"listen", "daemon_listen", &FLAGS_daemon_listen},
    // Service-manager controls (issue 15).
    {"watchdog", "daemon_watchdog", &FLAGS_daemon_watchdog},
};

// The core's verdict on the translated options, told in the command line's
// words: the flag and the text given instead of the `Options` field.
// A field the message quotes (`restart_delay`) becomes its flag.
absl::Status InFlagTerms(const absl::Status& status) {
  std::string why(status.message());
  for (const FieldFlag& entry : kFieldFlags) {
    why = absl::StrReplaceAll(why, {{absl::StrCat("`", entry.field, "`"),
                                     absl::StrCat("--", entry.flag)}});
  }
  const std::string field = UsageErrorField(status);
  for (const FieldFlag& entry : kFieldFlags) {
    if (entry.field == field) {
      return BadFlag(entry.flag, absl::GetFlag(*entry.text).text(), why);
    }
  }
  return UsageError(field, why);
}

// --daemon_restart and its values, translated into `options`.
absl::Status ReadRestartFlags(Options& options) {
  absl::StatusOr<RestartPolicy> restart =
      internal::ParseRestartFlag(absl::GetFlag(FLAGS_daemon_restart).text());
  if (!restart.ok()) return restart.status();
  options.restart = *restart;
  const FlagText restart_delay = absl::GetFlag(FLAGS_daemon_restart_delay);
  if (absl::Status read = ReadDurationFlag(
          "daemon_restart_delay", restart_delay.text(), &options.restart_delay);
      !read.ok()) {
    return read;
  }
  const FlagText max_delay = absl::GetFlag(FLAGS_daemon_restart_max_delay);
  if (absl::Status read =
          ReadDurationFlag("daemon_restart_max_delay", max_delay.text(),
                           &options.restart_max_delay);
      !read.ok()) {
    return read;
  }
  const FlagText reset_after = absl::GetFlag(FLAGS_daemon_restart_reset_after);
  if (absl::Status read =
          ReadDurationFlag("daemon_restart_reset_after", reset_after.text(),
                           &options.restart_reset_after);
      !read.ok()) {
    return read;
  }
  const FlagText limit = absl::GetFlag(FLAGS_daemon_restart_limit);
  if (!absl::SimpleAtoi(limit.text(), &options.restart_limit)) {
    return BadFlag("daemon_restart_limit", limit.text(),
                   "not a count (0: no limit)");
  }
  return absl::OkStatus();
}

// Service-manager controls (issue 15): their flags, translated into
// `options` (ValidateOptions judges ranges and names).
absl::Status ReadProcessControlFlags(Options& options) {
  const FlagText rlimits = absl::GetFlag(FLAGS_daemon_rlimits);
  absl::StatusOr<std::vector<ResourceLimit>> limits =
      ParseResourceLimits(rlimits.text());
  if (!limits.ok()) {
    return BadFlag("daemon_rlimits", rlimits.text(), limits.status().message());
  }
  options.rlimits = *std::move(limits);
  for (auto [flag, name, out] :
       {std::make_tuple(&FLAGS_daemon_nice, "daemon_nice", &options.nice),
        std::make_tuple(&FLAGS_daemon_oom_score_adj, "daemon_oom_score_adj",
                        &options.oom_score_adj)}) {
    const FlagText text = absl::GetFlag(*flag);
    if (text.text().empty()) continue;
    int value;
    if (!absl::SimpleAtoi(text.text(), &value)) {
      return BadFlag(name, text.text(), "not a whole number");
    }
    *out = value;
  }
  const FlagText capabilities = absl::GetFlag(FLAGS_daemon_capabilities);
  for (absl::string_view name : internal::SplitCommaList(capabilities.text())) {
    options.capabilities.emplace_back(name);
  }
  options.no_new_privs = absl::GetFlag(FLAGS_daemon_no_new_privs);
  const FlagText ready_fd = absl::GetFlag(FLAGS_daemon_ready_fd);
  if (!absl::SimpleAtoi(ready_fd.text(), &options.ready_fd)) {
    return BadFlag("daemon_ready_fd", ready_fd.text(),
                   "not a descriptor number (-1: none)");
  }
  return absl::OkStatus();
}

// --daemon_control, and --daemon_pidfile, which every action but start
// needs.
absl::Status ReadActionFlags(FlagRequest& request) {
  const FlagText control = absl::GetFlag(FLAGS_daemon_control);
  absl::StatusOr<ControlAction> action = ParseControlAction(control.text());
  if (!action.ok()) {
    return BadFlag("daemon_control", control.text(),
                   "not one of start, stop, restart, reload, status, upgrade");
  }
  request.action = *action;
  const FlagText pidfile = absl::GetFlag(FLAGS_daemon_pidfile);
  request.options.pidfile = FromUserDirectory(pidfile.text());
  if (request.action != ControlAction::kStart &&
      request.options.pidfile.empty()) {
    return UsageError("daemon_control",
                      absl::StrCat("--daemon_control=", control.text(),
                                   " needs --daemon_pidfile"));
  }
  return absl::OkStatus();
}

// The daemon(7) attributes of the daemon's process: directory, mask,
// streams, timeouts, user, environment.
absl::Status ReadProcessFlags(Options& options) {
  options.detach = absl::GetFlag(FLAGS_daemon);
  // Detached, every attribute is set (to its default if not given); in the
  // foreground only what the command line asks for.
  auto wanted = [&options](const FlagText& flag) {
    return options.detach || flag.given();
  };
  const FlagText workdir = absl::GetFlag(FLAGS_daemon_workdir);
  if (wanted(workdir)) options.workdir = FromUserDirectory(workdir.text());
  const FlagText umask_flag = absl::GetFlag(FLAGS_daemon_umask);
  absl::StatusOr<mode_t> umask_value =
      internal::ParseUmaskFlag(umask_flag.text());
  if (!umask_value.ok()) return umask_value.status();
  if (wanted(umask_flag)) options.umask = *umask_value;
  const FlagText stdout_flag = absl::GetFlag(FLAGS_daemon_stdout);
  const FlagText stderr_flag = absl::GetFlag(FLAGS_daemon_stderr);
  if (wanted(stdout_flag)) options.stdout_path = StreamPath(stdout_flag.text());
  if (wanted(stderr_flag)) options.stderr_path = StreamPath(stderr_flag.text());
  for (auto [flag, name, out] :
       {std::make_tuple(&FLAGS_daemon_ready_timeout, "daemon_ready_timeout",
                        &options.ready_timeout),
        std::make_tuple(&FLAGS_daemon_stop_timeout, "daemon_stop_timeout",
                        &options.stop_timeout)}) {
    if (absl::Status read =
            ReadDurationFlag(name, absl::GetFlag(*flag).text(), out);
        !read.ok()) {
      return read;
    }
  }
  options.user = absl::GetFlag(FLAGS_daemon_user).text();
  options.group = absl::GetFlag(FLAGS_daemon_group).text();
  options.chroot = FromUserDirectory(absl::GetFlag(FLAGS_daemon_chroot).text());
  const bool core_dumps = absl::GetFlag(FLAGS_daemon_core_dumps);
  if (options.detach || core_dumps) options.core_dumps = core_dumps;
  const FlagText keep_env = absl::GetFlag(FLAGS_daemon_keep_env);
  if (!keep_env.text().empty()) {
    absl::StatusOr<std::vector<std::string>> names =
        ParseVariableList(keep_env.text());
    if (!names.ok()) {
      return BadFlag("daemon_keep_env", keep_env.text(),
                     names.status().message());
    }
    options.keep_env = *std::move(names);
  }
  return absl::OkStatus();
}

absl::StatusOr<LogTarget> ReadLogFlag() {
  const FlagText log = absl::GetFlag(FLAGS_daemon_log);
  if (log.text() == "stderr") return LogTarget::kStderr;
  if (log.text() == "syslog") return LogTarget::kSyslog;
  if (log.text() == "journal") return LogTarget::kJournal;
  return BadFlag("daemon_log", log.text(), "not stderr, syslog or journal");
}

// What ValidateOptions() is asked to judge for `request`: a control action
// that starts nothing only reads the worker's pid file: there it asks for
// no supervision.
Options AsJudged(const FlagRequest& request) {
  Options checked = request.options;
  if (request.action != ControlAction::kStart &&
      request.action != ControlAction::kRestart) {
    checked.child_pidfile.clear();
    checked.watchdog = absl::ZeroDuration();  // issue 15
    // Issue 18.2: a daemon started before chroot and capabilities needed
    // --daemon_user must still be stoppable with its own command line.
    checked.chroot.clear();
    checked.capabilities.clear();
    // Nor is a non-root operator's stop refused for a drop only the start
    // makes (issue 22.9).
    checked.user.clear();
    checked.group.clear();
  }
  return checked;
}

}  // namespace

absl::StatusOr<FlagRequest> RequestFromFlags() {
  FlagRequest request;
  if (absl::Status read = ReadActionFlags(request); !read.ok()) return read;
  if (absl::Status read = ReadProcessFlags(request.options); !read.ok()) {
    return read;
  }
  request.stop_timeout = request.options.stop_timeout;
  if (absl::Status restart = ReadRestartFlags(request.options); !restart.ok()) {
    return restart;
  }
  const FlagText child_pidfile = absl::GetFlag(FLAGS_daemon_child_pidfile);
  request.options.child_pidfile = FromUserDirectory(child_pidfile.text());
  // Service-manager controls (issue 15).
  if (absl::Status controls = ReadProcessControlFlags(request.options);
      !controls.ok()) {
    return controls;
  }
  // Listening sockets (issue 14): entries split here, judged by the core.
  const FlagText listen = absl::GetFlag(FLAGS_daemon_listen);
  for (absl::string_view entry : internal::SplitCommaList(listen.text())) {
    request.options.listen.emplace_back(entry);
  }
  absl::StatusOr<LogTarget> log = ReadLogFlag();
  if (!log.ok()) return log.status();
  request.log = *log;
  // Service-manager controls (issue 15): a watchdog of our own.
  if (absl::Status read = ReadDurationFlag(
          "daemon_watchdog", absl::GetFlag(FLAGS_daemon_watchdog).text(),
          &request.options.watchdog);
      !read.ok()) {
    return read;
  }
  // The core judges the values.
  if (absl::Status valid = ValidateOptions(AsJudged(request)); !valid.ok()) {
    return InFlagTerms(valid);
  }
  return request;
}

std::unique_ptr<Daemon> DaemonizeFromFlags() {
  return DaemonizeFromRequest(RequestFromFlags());
}

std::unique_ptr<Daemon> DaemonizeFromRequest(
    absl::StatusOr<FlagRequest> request) {
  if (!request.ok()) internal::ExitWith(request.status());
  internal::ConfigureLogging(request->log == LogTarget::kSyslog,
                             request->log == LogTarget::kJournal);
  // An upgrade's successor repeats the old daemon's command line, which
  // may have been `restart` (init scripts), or a flag file edited since to
  // say anything: whatever it says, the successor starts (a `restart`,
  // `stop` or `upgrade` would act on the old daemon starting it).
  if (internal::IsUpgradeSuccessor()) request->action = ControlAction::kStart;
  // Exits, but for a start and the start of a restart.
  internal::RunControlAction(request->action, request->options);
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemonize(request->options);
  if (!daemon.ok()) internal::ExitWith(daemon.status());
  return *std::move(daemon);
}

}  // namespace daemonkit
