// Copyright 2026 The daemonkit Authors.
//
// The ticker: the original Go-and-cgo daemon demo, done right. It prints
// "Run daemon" on the terminal, daemonizes through //daemon, prints its
// identity, then one RFC 3339 timestamp per --interval on absolute deadlines
// (no drift), until --count ticks or SIGTERM/SIGINT, which end it at once.
//
//   tools/bazel run //examples:ticker                           # start
//   tools/bazel run //examples:ticker -- --daemon_control=stop  # stop
//
// Without --daemon_pidfile and --daemon_stdout it writes its pid file and
// output into $TMPDIR (or /tmp), and says where.

#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
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

std::string DefaultOutputDirectory() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

// The newcomer's defaults: a pid file and an output file that a plain
// `bazel run //examples:ticker` can start, follow and stop.
void ApplyTickerDefaults() {
  const std::string dir = DefaultOutputDirectory();
  if (!absl::GetFlag(FLAGS_daemon_pidfile).given()) {
    absl::SetFlag(&FLAGS_daemon_pidfile,
                  daemonkit::FlagText(dir + "/ticker.pid"));
  }
  if (absl::GetFlag(FLAGS_daemon)) {
    if (!absl::GetFlag(FLAGS_daemon_stdout).given()) {
      absl::SetFlag(&FLAGS_daemon_stdout,
                    daemonkit::FlagText(dir + "/ticker.log"));
    }
    // Its log lines (stop, reload) go with the ticks unless sent elsewhere.
    if (!absl::GetFlag(FLAGS_daemon_stderr).given()) {
      absl::SetFlag(&FLAGS_daemon_stderr, absl::GetFlag(FLAGS_daemon_stdout));
    }
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
      absl::GetFlag(FLAGS_daemon_pidfile).text() ==
              DefaultOutputDirectory() + "/ticker.pid"
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
  std::string message;
  if (options.stdout_path &&
      *options.stdout_path != daemonkit::kInheritStream) {
    absl::StrAppend(&message, "ticker: writing to ", *options.stdout_path,
                    "\n  follow it: tail -f ", *options.stdout_path, "\n");
  }
  if (!options.pidfile.empty()) {
    absl::StrAppend(&message, "  pid file:  ", options.pidfile,
                    "\n  stop it:   ", StopCommand(options.pidfile), "\n");
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
  if (starting) {
    std::printf("Run daemon\n");
    std::fflush(stdout);
  }
  if (starting && request->options.detach) {
    // The launcher's farewell, shown only once the daemon is ready.
    request->options.ready_message = ReadyMessage(*request);
  }
  std::unique_ptr<daemonkit::Daemon> daemon =
      daemonkit::DaemonizeFromRequest(std::move(request));

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
