// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/environment.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/proc.h"

extern char** environ;

namespace daemonkit {
namespace internal {

absl::StatusOr<std::vector<std::string>> ParseVariableList(
    absl::string_view list) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(list, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (name.empty()) continue;
    for (char c : name) {
      if (c == '=' || c == '\0' ||
          absl::ascii_isspace(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", name, "' is not an environment variable name"));
      }
    }
    names.emplace_back(name);
  }
  return names;
}

namespace {

// The kernel shows /proc/PID/environ from the block the process was started
// with, not from libc's environ: unsetenv alone leaves a removed secret
// readable there (and in memory). This rewrites that block with `kept`
// ("NAME=value" entries, a subset of it, so they fit) and zeroes the rest.
void ScrubInitialEnvironment(const std::vector<std::string>& kept) {
  absl::StatusOr<std::string> stat = ReadSmallFile("/proc/self/stat");
  if (!stat.ok()) return;
  size_t close_paren = stat->rfind(')');
  if (close_paren == std::string::npos) return;
  // After the command come fields 3 onwards; env_start and env_end are
  // fields 50 and 51 (Linux 3.5+).
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close_paren + 2), ' ');
  uintptr_t start = 0, end = 0;
  if (fields.size() < 49 || !absl::SimpleAtoi(fields[47], &start) ||
      !absl::SimpleAtoi(fields[48], &end) || start == 0 || end <= start) {
    return;
  }
  std::string packed;
  for (const std::string& entry : kept) packed.append(entry).push_back('\0');
  // The kernel gave this address: it is where our own environment lives.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  char* block = reinterpret_cast<char*>(start);
  const size_t size = end - start;
  if (packed.size() > size) return;
  // `packed` carries its own NULs; the rest of the block is zeroed below.
  // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
  std::memcpy(block, packed.data(), packed.size());
  std::memset(block + packed.size(), 0, size - packed.size());
}

}  // namespace

void KeepOnlyVariables(const std::vector<std::string>& keep) {
  auto kept = [&keep](absl::string_view name) {
    return std::find(keep.begin(), keep.end(), name) != keep.end() ||
           std::find(std::begin(kSupervisorVariables),
                     std::end(kSupervisorVariables),
                     name) != std::end(kSupervisorVariables);
  };
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    if (kept(variable.substr(0, variable.find('=')))) {
      entries.emplace_back(variable);
    }
  }
  // Rebuild libc's environment from copies, then overwrite the original
  // block, which the copies no longer point into.
  clearenv();
  for (const std::string& entry : entries) {
    const size_t equals = entry.find('=');
    setenv(entry.substr(0, equals).c_str(), entry.substr(equals + 1).c_str(),
           1);
  }
  ScrubInitialEnvironment(entries);
}

}  // namespace internal
}  // namespace daemonkit
