// Copyright 2026 The daemonkit Authors.
//
// Runs in the process that reads the `daemonkit` command line.

#include "daemon/internal/program_ready_mode.h"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/listen_address.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr char kReadyModes[] =
    "started, notify, fd:N, connect:tcp:HOST:PORT, connect:unix:PATH or "
    "command";

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
    {"TERM", SIGTERM}, {"ALRM", SIGALRM},   {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR},
    {"ABRT", SIGABRT}, {"TSTP", SIGTSTP},   {"PIPE", SIGPIPE},
};

}  // namespace

absl::StatusOr<ReadyMode> ParseReadyMode(absl::string_view text,
                                         absl::string_view ready_command) {
  ReadyMode mode;
  if (text == "started") return mode;
  if (text == "command") {
    if (ready_command.empty()) {
      return UsageError("ready",
                        "--ready=command: needs --ready_command, "
                        "the command whose exit 0 says ready");
    }
    mode.kind = ReadyMode::Kind::kCommand;
    mode.command = std::string(ready_command);
    return mode;
  }
  absl::string_view target = text;
  if (absl::ConsumePrefix(&target, "connect:")) {
    std::string written(target);
    // Names are not resolved (a start must not wait on DNS), but for
    // the one every machine has.
    if (absl::StartsWith(written, "tcp:localhost:")) {
      written = absl::StrCat("tcp:127.0.0.1:",
                             written.substr(std::strlen("tcp:localhost:")));
    }
    absl::StatusOr<ListenEntry> entry =
        ParseListenEntry(absl::StrCat("ready=", written));
    if (!entry.ok()) {
      // The parser's words for --daemon_listen, less its "listen entry
      // 'ready=...': " preamble.
      absl::string_view why = entry.status().message();
      if (const size_t end = why.find("': "); end != why.npos) {
        why.remove_prefix(end + 3);
      }
      return UsageError("ready", absl::StrCat("--ready=", text, ": ", why));
    }
    mode.kind = ReadyMode::Kind::kConnect;
    mode.address = entry->address;
    if (mode.address.family == ListenAddress::Family::kUnix &&
        !mode.address.abstract && !absl::StartsWith(mode.address.path, "/")) {
      // From where daemonkit was started, not from the daemon's workdir.
      char cwd[PATH_MAX];
      if (getcwd(cwd, sizeof(cwd)) == nullptr) {
        return ErrnoError(errno, "getcwd");
      }
      mode.address.path = absl::StrCat(cwd, "/", mode.address.path);
      if (mode.address.path.size() > kMaxUnixPath) {
        return UsageError("ready", absl::StrCat("--ready=", text,
                                                ": the absolute path is too "
                                                "long for a socket"));
      }
    }
    return mode;
  }
  if (text == "notify") {
    mode.kind = ReadyMode::Kind::kNotify;
    return mode;
  }
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "fd:")) {
    int fd;
    // Plain decimal, as the README writes it: "fd:03" or "fd:+3" would be
    // accepted by SimpleAtoi and then named differently everywhere else.
    const bool decimal =
        !rest.empty() && rest[0] != '0' &&
        std::all_of(rest.begin(), rest.end(), absl::ascii_isdigit);
    if (!decimal || !absl::SimpleAtoi(rest, &fd) || fd < 3 || fd > 1023) {
      return UsageError("ready",
                        absl::StrCat("--ready=", text,
                                     ": the descriptor must be a number from 3 "
                                     "to 1023 (0 to 2 are the program's stdin, "
                                     "stdout and stderr)"));
    }
    mode.kind = ReadyMode::Kind::kFd;
    mode.fd = fd;
    return mode;
  }
  return UsageError(
      "ready", absl::StrCat("--ready=", text, ": unknown --ready mode (takes ",
                            kReadyModes, ")"));
}

absl::StatusOr<int> ParseSignal(absl::string_view flag,
                                absl::string_view text) {
  int number;
  if (absl::SimpleAtoi(text, &number)) {
    if (number >= 1 && number < NSIG) return number;
  } else {
    std::string name = absl::AsciiStrToUpper(text);
    absl::string_view bare = name;
    absl::ConsumePrefix(&bare, "SIG");
    for (const SignalName& known : kSignals) {
      if (bare == known.name) return known.number;
    }
  }
  return UsageError(flag, absl::StrCat("--", flag, "=", text,
                                       ": not a signal (a name such as TERM "
                                       "or SIGQUIT, or a number)"));
}

absl::Status CheckReadyFdIsFree(const ReadyMode& ready, size_t socket_count) {
  if (ready.kind != ReadyMode::Kind::kFd ||
      ready.fd >= 3 + static_cast<int>(socket_count)) {
    return absl::OkStatus();
  }
  return UsageError(
      "ready",
      absl::StrCat("--ready=fd:", ready.fd, ": descriptor ", ready.fd,
                   " is a listening socket's (",
                   socket_count == 1
                       ? std::string("the socket of --daemon_listen takes 3")
                       : absl::StrCat("the ", socket_count,
                                      " sockets of --daemon_listen take 3 to ",
                                      2 + socket_count),
                   "); use fd:", 3 + socket_count, " or above"));
}

absl::Status CheckReadyIsNotAListenSocket(
    const ReadyMode& ready, const std::vector<std::string>& listen) {
  if (ready.kind != ReadyMode::Kind::kConnect) return absl::OkStatus();
  const ListenAddress& probe = ready.address;
  for (const std::string& entry : listen) {
    absl::StatusOr<ListenEntry> parsed = ParseListenEntry(entry);
    if (!parsed.ok()) continue;  // validation says so, with its own words
    const ListenAddress& bound = parsed->address;
    bool same = false;
    if (probe.family == ListenAddress::Family::kUnix) {
      std::string path = bound.path;
      if (!bound.abstract && !path.empty() && path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) != nullptr) {
          path = absl::StrCat(cwd, "/", path);
        }
      }
      same = bound.family == ListenAddress::Family::kUnix &&
             bound.abstract == probe.abstract && path == probe.path;
    } else {
      // A wildcard listener takes the probe's connection too.
      same = bound.family == probe.family && bound.port == probe.port &&
             (bound.host == probe.host || bound.host == "0.0.0.0" ||
              bound.host == "::");
    }
    if (same) {
      return UsageError(
          "ready",
          absl::StrCat("--ready=connect:", probe.text,
                       ": --daemon_listen=", entry,
                       " is daemonkit's own socket, which takes a connection "
                       "before the program runs; use --ready=notify or fd:N"));
    }
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
