// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: daemon/command_line.h
// -----------------------------------------------------------------------------
//
// The one command-line parse of every daemonkit program: Abseil's, with the
// checks around it that a daemon's command line needs. Its own target,
// `//daemon:command_line`, so that a program without the `--daemon*` flags
// (`//tools:inspect`) parses the same way; daemon/flags.h includes it.

#ifndef DAEMONKIT_DAEMON_COMMAND_LINE_H_
#define DAEMONKIT_DAEMON_COMMAND_LINE_H_

#include <string>
#include <vector>

namespace daemonkit {

// ParseCommandLine()
//
// absl::ParseCommandLine() with the checks a daemon's command line needs,
// for every program of daemonkit and every program built on it. Each failure
// is one line on stderr that names the word, the file or the line:
//
//   * a word the program does not take (`--daemon false`, `ticker stop`):
//     exit 2, "ticker: unexpected argument 'false' (did you mean
//     --daemon=false?)". Abseil would leave it in the positional arguments,
//     where nothing reads it: `--daemon false` detached.
//   * a --flagfile that includes itself, directly or through others, or
//     files nested deeper than kMaxFlagFileDepth: exit 2, the file named.
//     Abseil expands flag files without bound (until the OOM killer).
//   * a flag-file line with trailing whitespace, or whitespace in the flag's
//     name (`--daemon_pidfile = t.pid`): exit 2, "FILE:LINE:" and the line
//     with its whitespace shown (\x20, \t, \r). Abseil keeps trailing
//     whitespace in the value: a pid file named "t.pid ".
//   * `-h`: exit 1 (Abseil's code for an unknown flag), pointing to --help.
//
// `--version` prints "PROGRAM (VersionText())" and exits 0.
//
// Returns what absl::ParseCommandLine returns: argv[0] alone, since every
// other positional word is refused.
inline constexpr int kMaxFlagFileDepth = 8;
std::vector<char*> ParseCommandLine(int argc, char* argv[]);

// The version and build mode: daemonkit's VERSION file and how this binary
// was compiled, e.g. "daemonkit 0.1.0, optimised build, assertions off".
std::string VersionText();

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_COMMAND_LINE_H_
