// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/flag_values.h
// -----------------------------------------------------------------------------
//
// The text of one `--daemon_*` flag turned into its value: a duration, a
// file-mode mask, a restart policy, a path as the user meant it. A text
// that is no such value is a usage error naming the flag and the text as
// given ("--daemon_umask=abc: not an octal mode from 0 to 0777 (example:
// 022)"), exit code 2. Pure functions of the text (and, for paths, of
// $BUILD_WORKING_DIRECTORY): `RequestFromFlags()` (daemon/flags.cc) reads
// the flags, in whatever process parses its command line, and calls these.
//
// Example:
//
//   absl::StatusOr<absl::Duration> timeout =
//       ParseDurationFlag("daemon_ready_timeout", "1m30s");  // 90 s
//   if (!timeout.ok()) return timeout.status();  // a usage error

#ifndef DAEMONKIT_DAEMON_INTERNAL_FLAG_VALUES_H_
#define DAEMONKIT_DAEMON_INTERNAL_FLAG_VALUES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {

// A flag's text that does not translate into an `Options` value: a usage
// error whose field is the flag `name` ("daemon_umask"), saying
// "--NAME=VALUE: WHY".
absl::Status BadFlag(absl::string_view name, absl::string_view value,
                     absl::string_view why);

// A duration as Abseil writes it ("30s", "1m30s", "250ms"), or a bare
// number of seconds ("2.5"). Infinite, or past int64 microseconds (the
// finest unit a duration reaches its users in, WATCHDOG_USEC), is out of
// range. The sign is not judged here (ValidateOptions does).
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view name,
                                                 absl::string_view text);

// ParseDurationFlag into `*out`, for a run of flags read one after another.
absl::Status ReadDurationFlag(absl::string_view name, absl::string_view text,
                              absl::Duration* out);

// `--daemon_umask`: one to four octal digits, 0 to 0777 (a larger value
// such as 01000 is refused by ValidateOptions, not here).
absl::StatusOr<mode_t> ParseUmaskFlag(absl::string_view text);

// `--daemon_restart`: no, on-failure or always.
absl::StatusOr<RestartPolicy> ParseRestartFlag(absl::string_view text);

// A path as the user meant it: relative to $BUILD_WORKING_DIRECTORY when
// that is set and not empty (`bazel run` runs the program in its runfiles
// tree, not where the user typed the command); otherwise as given. Empty
// and absolute paths are never changed.
std::string FromUserDirectory(const std::string& path);

// An output flag's value: "inherit" as is, or a path (FromUserDirectory).
std::string StreamPath(const std::string& text);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_FLAG_VALUES_H_
