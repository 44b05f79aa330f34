// Copyright 2026 The daemonkit Authors.
//
// Runs in the process that reads its command line's flags.

#include "daemon/internal/flag_values.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace internal {

absl::Status BadFlag(absl::string_view name, absl::string_view value,
                     absl::string_view why) {
  return UsageError(name, absl::StrCat("--", name, "=", value, ": ", why));
}

absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view name,
                                                 absl::string_view text) {
  absl::Duration duration;
  double seconds;
  if (absl::SimpleAtod(text, &seconds) && std::isfinite(seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &duration)) {
    return BadFlag(name, text, "not a duration (examples: 30s, 1m30s, 250ms)");
  }
  // A duration reaches its users in microseconds at the finest
  // (WATCHDOG_USEC): one past int64's was cut to its largest in silence
  // (`99999999999h`, the attack of 2026-12-07), so it is refused as the
  // infinite one is.
  if (duration == absl::InfiniteDuration() ||
      duration == -absl::InfiniteDuration() ||
      absl::AbsDuration(duration) >
          absl::Microseconds(std::numeric_limits<int64_t>::max())) {
    return BadFlag(name, text, "out of range (over about 292,000 years)");
  }
  return duration;
}

absl::Status ReadDurationFlag(absl::string_view name, absl::string_view text,
                              absl::Duration* out) {
  absl::StatusOr<absl::Duration> value = ParseDurationFlag(name, text);
  if (!value.ok()) return value.status();
  *out = *value;
  return absl::OkStatus();
}

absl::StatusOr<mode_t> ParseUmaskFlag(absl::string_view text) {
  bool octal = !text.empty() && text.size() <= 4;
  int value = 0;
  // Stops at the first non-octal digit: at most four digits, no overflow
  // (libFuzzer found the unbounded loop overflowing on long input).
  for (size_t i = 0; octal && i < text.size(); ++i) {
    octal = text[i] >= '0' && text[i] <= '7';
    value = value * 8 + (text[i] - '0');
  }
  if (!octal) {
    return BadFlag("daemon_umask", text,
                   "not an octal mode from 0 to 0777 (example: 022)");
  }
  return static_cast<mode_t>(value);
}

absl::StatusOr<RestartPolicy> ParseRestartFlag(absl::string_view text) {
  if (text == "no") return RestartPolicy::kNo;
  if (text == "on-failure") return RestartPolicy::kOnFailure;
  if (text == "always") return RestartPolicy::kAlways;
  return BadFlag("daemon_restart", text, "not no, on-failure or always");
}

std::string FromUserDirectory(const std::string& path) {
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || user_dir == nullptr ||
      *user_dir == '\0') {
    return path;
  }
  return absl::StrCat(user_dir, "/", path);
}

std::string StreamPath(const std::string& text) {
  if (text == kInheritStream) return text;
  return FromUserDirectory(text);
}

}  // namespace internal
}  // namespace daemonkit
