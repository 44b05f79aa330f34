// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/environment.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/errors.h"
#include "daemon/proc.h"

extern char** environ;

namespace daemonkit {
namespace internal {

namespace {

// The kernel shows /proc/PID/environ from the block the process was started
// with, not from libc's environ: unsetenv alone leaves a removed secret
// readable there (and in memory). So does a setenv() that replaced it before
// (libc then points environ at a new string and leaves the old one in the
// block). This zeroes every entry of that block but the `kept` strings
// themselves (by address), so a second copy of a kept name, an entry
// without '=' and one with an empty name go too; the entries kept do not
// move, so a pointer getenv() returned for them stays valid. Strings the
// application set later (setenv, putenv) live elsewhere and are not ours to
// overwrite. Without /proc/self/stat (inside a chroot: the caller scrubs
// before it) the block cannot be found: an error, never a silent skip that
// leaves the removed values readable.
absl::Status ScrubStartBlock(const std::vector<char*>& kept) {
  absl::StatusOr<ProcStat> stat = ReadOwnProcStat();
  if (!stat.ok()) {
    return absl::Status(
        stat.status().code(),
        absl::StrCat("--daemon_keep_env: cannot find the environment block "
                     "to clear the removed variables from: ",
                     stat.status().message()));
  }
  uintptr_t start = 0, end = 0;
  // env_start and env_end exist since Linux 3.5.
  if (!stat->ParseField(ProcStat::kEnvStart, &start) ||
      !stat->ParseField(ProcStat::kEnvEnd, &end) || start == 0 ||
      end <= start) {
    return absl::InternalError(
        "--daemon_keep_env: /proc/self/stat gives no environment block "
        "(env_start, env_end: Linux 3.5 or later)");
  }
  // The kernel gives the block's bounds as numbers (/proc/self/stat fields
  // 50 and 51): they are addresses in this very process.
  char* entry =
      reinterpret_cast<char*>(start);  // NOLINT(performance-no-int-to-ptr)
  char* const block_end =
      reinterpret_cast<char*>(end);  // NOLINT(performance-no-int-to-ptr)
  while (entry < block_end) {
    const size_t length = strnlen(entry, block_end - entry);
    if (std::find(kept.begin(), kept.end(), entry) == kept.end()) {
      std::memset(entry, 0, length);
    }
    entry += length + 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status KeepOnlyVariables(const std::vector<std::string>& keep) {
  auto kept = [&keep](absl::string_view name) {
    return std::find(keep.begin(), keep.end(), name) != keep.end() ||
           std::find(std::begin(kSupervisorVariables),
                     std::end(kSupervisorVariables),
                     name) != std::end(kSupervisorVariables);
  };
  // Issue 23.3: exactly one well-formed NAME=value per kept name, the one
  // getenv() answers (the first). A second copy would reach a program the
  // daemon executes (a shell takes the last), and an entry without '=' or
  // with an empty name is nobody's variable.
  std::vector<char*> entries;
  std::vector<absl::string_view> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const absl::string_view variable(*entry);
    const size_t equals = variable.find('=');
    if (equals == absl::string_view::npos || equals == 0) continue;
    const absl::string_view name = variable.substr(0, equals);
    if (!kept(name) ||
        std::find(names.begin(), names.end(), name) != names.end()) {
      continue;
    }
    names.push_back(name);
    entries.push_back(*entry);
  }
  // A fresh array of the very same strings: clearenv() drops the array
  // (not the strings), putenv() takes each string itself, not a copy, so
  // the pointers getenv() handed out stay valid.
  if (clearenv() != 0) {
    return absl::InternalError("--daemon_keep_env: clearenv failed");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (putenv(entries[i]) != 0) {
      return ErrnoError(errno,
                        absl::StrCat("--daemon_keep_env: putenv ", names[i]));
    }
  }
  return ScrubStartBlock(entries);
}

}  // namespace internal
}  // namespace daemonkit
