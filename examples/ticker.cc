// Copyright 2026 The daemonkit Authors.
//
// The ticker: the original Go-and-cgo daemon demo, done right. It prints
// "Run daemon" and its identity in its own output once daemonized through
// //daemon, then one RFC 3339 timestamp per --interval on absolute deadlines
// (no drift), until --count ticks or SIGTERM/SIGINT, which end it at once.
//
//   tools/bazel run //examples:ticker                           # start
//   tools/bazel run //examples:ticker -- --daemon_control=stop  # stop
//
// Detached without --daemon_pidfile and --daemon_stdout it writes its pid
// file and output into a directory of the user's own ($XDG_RUNTIME_DIR, else
// ${TMPDIR:-/tmp}/ticker-<uid>), and says where; in the foreground only what
// is given applies.

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "glog/logging.h"

namespace ticker {

// A duration flag that takes what the --daemon_* durations take (issue
// 22.7): Abseil's form ("250ms", "1m30s") or a bare number of seconds, which
// absl::Duration refused with no word about the unit.
struct Seconds {
  absl::Duration value;
};

bool AbslParseFlag(absl::string_view text, Seconds* out, std::string* error) {
  double seconds;
  if (absl::SimpleAtod(text, &seconds) && std::isfinite(seconds)) {
    out->value = absl::Seconds(seconds);
    return true;
  }
  if (absl::ParseDuration(text, &out->value)) return true;
  *error = "not a duration (examples: 5s, 1m30s, 250ms; a bare 5 is seconds)";
  return false;
}

std::string AbslUnparseFlag(Seconds duration) {
  return absl::FormatDuration(duration.value);
}

}  // namespace ticker

ABSL_FLAG(ticker::Seconds, interval, ticker::Seconds{absl::Seconds(1)},
          "time between two timestamps (5s, 250ms, or a bare number of "
          "seconds)");
ABSL_FLAG(int64_t, count, 0,
          "stop after this many ticks; 0: run until stopped");
ABSL_FLAG(ticker::Seconds, startup_delay, ticker::Seconds{absl::ZeroDuration()},
          "simulated application start-up before the ticker declares itself "
          "ready (for demos and bench/)");
ABSL_FLAG(int64_t, crash_after, 0,
          "abort after this many ticks, to exercise supervision; 0: never");

namespace {

// The pid file of the newcomer's defaults, when they apply: the stop line
// the ticker prints leaves it out.
std::string default_pidfile;

// A path as an absolute one, taken from the current directory: what the
// terminal is told is where the files are, from wherever it is read.
std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, std::string_view(cwd) == "/" ? "" : "/", path);
}

// The directory of the newcomer's defaults, a directory of the user's own
// (SPEC: "never a file that other users share"; issue 22.5): the shared
// /tmp/ticker.pid let a second user's `stop` act on the first's daemon.
// $XDG_RUNTIME_DIR when set (absolute, as the XDG spec wants), else
// ${TMPDIR:-/tmp}/ticker-<uid>, made 0700 when `create`. Refused when it is
// no directory (a symbolic link planted there included), belongs to another
// user, or others may write in it.
absl::StatusOr<std::string> DefaultDirectory(bool create) {
  const uid_t uid = geteuid();
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const bool from_runtime = runtime != nullptr && runtime[0] == '/';
  std::string dir;
  if (from_runtime) {
    dir = runtime;
  } else {
    const char* tmpdir = std::getenv("TMPDIR");
    dir = absl::StrCat(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp",
                       "/ticker-", uid);
    if (create && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot make ", dir, ": ", std::strerror(errno)));
    }
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    // Nothing started here yet: a `status` or `stop` finds nothing.
    if (errno == ENOENT && !create) return dir;
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is not a directory"));
  }
  if (st.st_uid != uid) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " belongs to uid ", st.st_uid, ", not to you (uid ", uid, ")"));
  }
  if ((st.st_mode & 022) != 0) {
    char mode[16];
    snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
    return absl::FailedPreconditionError(absl::StrCat(
        dir, " may be written by other users (mode ", mode, "): chmod 700 it"));
  }
  return dir;
}

// The newcomer's defaults, a pid file and an output file, so that a plain
// `bazel run //examples:ticker` can start, follow and stop it. Detached
// only: in the foreground only what is given applies (SPEC), so that two
// supervised tickers (s6, dinit, a container) never share a default pid
// file (issue 22.13). A control action finds the detached default.
void ApplyTickerDefaults() {
  const bool starting = absl::GetFlag(FLAGS_daemon_control).text() == "start" ||
                        absl::GetFlag(FLAGS_daemon_control).text() == "restart";
  if (starting && !absl::GetFlag(FLAGS_daemon)) return;
  const bool pidfile_given = absl::GetFlag(FLAGS_daemon_pidfile).given();
  const bool stdout_given = absl::GetFlag(FLAGS_daemon_stdout).given();
  if (pidfile_given && (stdout_given || !starting)) return;
  absl::StatusOr<std::string> dir = DefaultDirectory(/*create=*/starting);
  if (!dir.ok()) {
    std::fprintf(stderr,
                 "ticker: no default place for the pid file and output: %s; "
                 "give --daemon_pidfile and --daemon_stdout\n",
                 std::string(dir.status().message()).c_str());
    std::exit(1);
  }
  if (!pidfile_given) {
    default_pidfile = *dir + "/ticker.pid";
    absl::SetFlag(&FLAGS_daemon_pidfile, daemonkit::FlagText(default_pidfile));
  }
  if (!starting) return;
  if (!stdout_given) {
    absl::SetFlag(&FLAGS_daemon_stdout,
                  daemonkit::FlagText(*dir + "/ticker.log"));
  }
  // Its log lines (stop, reload) go with the ticks unless sent elsewhere.
  if (!absl::GetFlag(FLAGS_daemon_stderr).given()) {
    absl::SetFlag(&FLAGS_daemon_stderr, absl::GetFlag(FLAGS_daemon_stdout));
  }
}

// `word` as one shell word: as is when it holds only characters no shell
// treats specially, else in single quotes (a ' inside as '\''), so that the
// printed command can be pasted whatever the path holds ("my pid;$(id).pid").
std::string ShellQuote(absl::string_view word) {
  const bool plain =
      !word.empty() && word.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
                           "YZ0123456789_@%+=:,./-") == absl::string_view::npos;
  if (plain) return std::string(word);
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

// How the user stops what they just started, in their own words, as a
// command that can be pasted into a shell.
std::string StopCommand(const std::string& pidfile) {
  const std::string pidfile_flag =
      !default_pidfile.empty() && pidfile == default_pidfile
          ? ""
          : absl::StrCat(" ", ShellQuote("--daemon_pidfile=" + pidfile));
  if (std::getenv("BUILD_WORKSPACE_DIRECTORY") != nullptr) {
    return absl::StrCat("tools/bazel run //examples:ticker --", pidfile_flag,
                        " --daemon_control=stop");
  }
  return absl::StrCat(
      ShellQuote(program_invocation_name),
      pidfile_flag.empty()
          ? absl::StrCat(" ", ShellQuote("--daemon_pidfile=" + pidfile))
          : pidfile_flag,
      " --daemon_control=stop");
}

std::string ReadyMessage(const daemonkit::FlagRequest& request) {
  const daemonkit::Options& options = request.options;
  // The demo's words on the terminal (SPEC), said only once the daemon is
  // ready: never before a start that then fails (issue 22.6).
  std::string message = "Run daemon\n";
  if (options.stdout_path &&
      *options.stdout_path != daemonkit::kInheritStream) {
    const std::string log = Absolute(*options.stdout_path);
    absl::StrAppend(&message, "ticker: writing to ", log,
                    "\n  follow it: tail -f ", ShellQuote(log), "\n");
  }
  if (!options.pidfile.empty()) {
    const std::string pidfile = Absolute(options.pidfile);
    absl::StrAppend(&message, "  pid file:  ", pidfile,
                    "\n  stop it:   ", StopCommand(pidfile), "\n");
  }
  return message;
}

// An RFC 3339 timestamp of `t` in the C library's local time: the clock
// glog's line prefixes use (localtime_r), which honours a POSIX TZ such as
// "XYZ-5" or "EST5EDT". absl::LocalTimeZone() loads only zoneinfo files
// and took such a TZ for UTC: one log, two clocks (issue 23.11).
std::string LocalTimestamp(absl::Time t) {
  const struct timespec ts = absl::ToTimespec(t);
  struct tm local;
  char date[64];
  if (localtime_r(&ts.tv_sec, &local) == nullptr ||
      strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &local) == 0) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6S%Ez", t, absl::UTCTimeZone());
  }
  const int64_t east = local.tm_gmtoff;  // seconds east of UTC
  // Offsets are within a day; the casts bound what snprintf may write.
  const int minutes = static_cast<int>((east < 0 ? -east : east) / 60 % 1440);
  char rest[32];
  snprintf(rest, sizeof(rest), ".%06d%c%02d:%02d",
           static_cast<int>(ts.tv_nsec / 1000 % 1000000), east < 0 ? '-' : '+',
           minutes / 60, minutes % 60);
  return absl::StrCat(date, rest);
}

void PrintLine(const std::string& line) {
  static bool reported_failure = false;
  // stdout's error flag is sticky: a launcher whose stdout was closed failed
  // to print "Run daemon", and that must not be taken for a failure of the
  // daemon's own output. Judge this line's write alone.
  std::clearerr(stdout);
  const bool written = std::fputs(line.c_str(), stdout) != EOF &&
                       std::fputc('\n', stdout) != EOF &&
                       // Flushed line by line: the daemon's stdout is a file
                       // that someone follows.
                       std::fflush(stdout) == 0;
  if (!written) {
    if (!reported_failure) PLOG(ERROR) << "writing to stdout failed";
    reported_failure = true;
    std::clearerr(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "prints a timestamp every --interval as a daemon; see --helpfull for the "
      "--daemon* flags");
  daemonkit::ParseCommandLine(argc, argv);

  const absl::Duration interval = absl::GetFlag(FLAGS_interval).value;
  const int64_t count = absl::GetFlag(FLAGS_count);
  const int64_t crash_after = absl::GetFlag(FLAGS_crash_after);
  if (interval <= absl::ZeroDuration() ||
      interval == absl::InfiniteDuration()) {
    std::fprintf(stderr, "ticker: --interval=%s: must be a positive duration\n",
                 absl::FormatDuration(interval).c_str());
    return daemonkit::kExitUsage;
  }
  if (count < 0 || crash_after < 0) {
    std::fprintf(stderr, "ticker: --%s must not be negative\n",
                 count < 0 ? "count" : "crash_after");
    return daemonkit::kExitUsage;
  }

  ApplyTickerDefaults();
  absl::StatusOr<daemonkit::FlagRequest> request =
      daemonkit::RequestFromFlags();
  const bool starting =
      request.ok() && (request->action == daemonkit::ControlAction::kStart ||
                       request->action == daemonkit::ControlAction::kRestart);
  if (starting && request->options.detach) {
    // The launcher's farewell, shown only once the daemon is ready.
    request->options.ready_message = ReadyMessage(*request);
  }
  std::unique_ptr<daemonkit::Daemon> daemon =
      daemonkit::DaemonizeFromRequest(std::move(request));

  // The demo's first line, in the daemon's own output too: the launcher
  // says nothing before a start that may still fail (issue 22.6), and once
  // the daemon is ready it says "Run daemon" and where the output goes.
  PrintLine("Run daemon");
  PrintLine(absl::StrCat("User gid: ", getegid(), ", uid: ", geteuid()));
  PrintLine(absl::StrCat("Process id: ", getpid(), " ", getppid()));
  // What `systemctl status` shows next to the unit.
  daemon->NotifyStatus(
      absl::StrCat("ticking every ", absl::FormatDuration(interval)));
  // The start-up work, simulated: a SIGHUP meanwhile is a reload (the
  // library reopened the outputs), not the end of the start-up.
  const absl::Time started_up =
      absl::Now() + absl::GetFlag(FLAGS_startup_delay).value;
  for (;;) {
    const daemonkit::Event event = daemon->WaitUntil(started_up);
    if (event == daemonkit::Event::kStop) return 0;
    if (event == daemonkit::Event::kTimeout) break;
  }
  daemon->NotifyReady();

  const absl::Time start = absl::Now();
  absl::Time deadline = start;
  for (int64_t tick = 1; count == 0 || tick <= count;) {
    // The wait is an interval (WaitFor, on the monotonic clock), never more
    // than one: after a step of the wall clock back (NTP, `date -s`) the
    // grid moves with the clock instead of waiting out the step, and a step
    // during the wait does not stretch it (issue 23.5).
    const absl::Time waiting_since = absl::Now();
    if (deadline - waiting_since > interval) {
      deadline = waiting_since + interval;
    }
    daemonkit::Event event = daemon->WaitFor(deadline - waiting_since);
    if (event == daemonkit::Event::kStop) break;
    if (event == daemonkit::Event::kReload) continue;
    PrintLine(LocalTimestamp(absl::Now()));
    if (crash_after > 0 && tick == crash_after) {
      LOG(ERROR) << "crashing after " << tick << " ticks, as asked";
      std::abort();
    }
    ++tick;
    // The next deadline on the original grid; after a stall (a suspended
    // machine) the missed ticks are skipped, not fired in a burst.
    deadline += interval;
    const absl::Time now = absl::Now();
    if (deadline < now) deadline += absl::Ceil(now - deadline, interval);
  }
  LOG(INFO) << "ticker exiting";
  return 0;
}
