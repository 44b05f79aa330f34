// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/environment.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/proc.h"

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
// readable there (and in memory). This zeroes, in that block, the bytes of
// each entry in `removed` (pointers taken from environ before the removal)
// that lies inside it. Kept entries do not move: a pointer getenv() returned
// for them before stays valid.
void ScrubRemovedEntries(const std::vector<char*>& removed) {
  absl::StatusOr<ProcStat> stat = ReadOwnProcStat();
  uintptr_t start = 0, end = 0;
  // env_start and env_end exist since Linux 3.5.
  if (!stat.ok() || !stat->ParseField(ProcStat::kEnvStart, &start) ||
      !stat->ParseField(ProcStat::kEnvEnd, &end) || start == 0 ||
      end <= start) {
    return;
  }
  for (char* entry : removed) {
    // Entries set later by the application (setenv, putenv) live elsewhere
    // and are not ours to overwrite.
    const uintptr_t at = reinterpret_cast<uintptr_t>(entry);
    if (at < start || at >= end) continue;
    const size_t length = strnlen(entry, end - at);
    std::memset(entry, 0, length);
  }
}

}  // namespace

void KeepOnlyVariables(const std::vector<std::string>& keep) {
  auto kept = [&keep](absl::string_view name) {
    return std::find(keep.begin(), keep.end(), name) != keep.end() ||
           std::find(std::begin(kSupervisorVariables),
                     std::end(kSupervisorVariables),
                     name) != std::end(kSupervisorVariables);
  };
  std::vector<std::string> names;
  std::vector<char*> removed;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    absl::string_view name = variable.substr(0, variable.find('='));
    if (!name.empty() && !kept(name)) {
      names.emplace_back(name);
      removed.push_back(*entry);
    }
  }
  // unsetenv only takes entries out of the environ array: the kept strings
  // stay where they are, and so do the pointers getenv() handed out.
  for (const std::string& name : names) unsetenv(name.c_str());
  ScrubRemovedEntries(removed);
}

}  // namespace internal
}  // namespace daemonkit
