// Copyright 2026 The daemonkit Authors.

#include "daemon/proc.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace {

absl::StatusOr<ProcStat> ReadProcStatAt(const std::string& path) {
  absl::StatusOr<std::string> line = ReadProcFile(path);
  if (!line.ok()) return line.status();
  absl::StatusOr<ProcStat> stat = ProcStat::Parse(*line);
  if (!stat.ok()) {
    return absl::InternalError(
        absl::StrCat("malformed ", path, ": ", stat.status().message()));
  }
  return stat;
}

}  // namespace

absl::StatusOr<std::string> ReadProcFile(const std::string& path) {
  const internal::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return internal::ErrnoError(errno, absl::StrCat("open ", path));
  }
  std::string content;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return internal::ErrnoError(errno, absl::StrCat("read ", path));
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

absl::StatusOr<ProcStat> ProcStat::Parse(absl::string_view line) {
  absl::ConsumeSuffix(&line, "\n");
  // The command name may hold " (" and ") " itself: it runs from the first
  // '(' to the last ')'.
  const size_t open_paren = line.find('(');
  const size_t close_paren = line.rfind(')');
  if (open_paren == absl::string_view::npos || open_paren == 0 ||
      close_paren == absl::string_view::npos || close_paren < open_paren ||
      close_paren + 2 >= line.size() || line[close_paren + 1] != ' ') {
    return absl::InvalidArgumentError("no \"PID (COMMAND) STATE\"");
  }
  ProcStat stat;
  stat.fields_.emplace_back(line.substr(0, open_paren - 1));
  stat.fields_.emplace_back(
      line.substr(open_paren + 1, close_paren - open_paren - 1));
  for (absl::string_view field :
       absl::StrSplit(line.substr(close_paren + 2), ' ')) {
    stat.fields_.emplace_back(field);
  }
  return stat;
}

absl::StatusOr<ProcStat> ReadProcStat(pid_t pid) {
  return ReadProcStatAt(absl::StrCat("/proc/", pid, "/stat"));
}

absl::StatusOr<ProcStat> ReadOwnProcStat() {
  return ReadProcStatAt("/proc/self/stat");
}

}  // namespace daemonkit
