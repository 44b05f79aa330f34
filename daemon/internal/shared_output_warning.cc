// Copyright 2026 The daemonkit Authors.
//
// Runs in the caller of Daemonize(), before the first fork.

#include "daemon/internal/shared_output_warning.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/terminal_text.h"

namespace daemonkit {
namespace internal {

void WarnIfOutputIsAnotherWritersFile(const Options& options) {
  struct Output {
    const char* flag;
    const std::optional<std::string>& path;
  };
  std::vector<std::pair<const char*, struct stat>> files;
  for (const Output& output : {Output{"daemon_stdout", options.stdout_path},
                               Output{"daemon_stderr", options.stderr_path}}) {
    struct stat st;
    if (!output.path || *output.path == kInheritStream ||
        lstat(output.path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    bool same_as_listed = false;
    for (const auto& [flag, seen] : files) {
      same_as_listed = same_as_listed || SameFile(seen, st);
    }
    if (!same_as_listed) files.emplace_back(output.flag, st);
  }
  if (files.empty()) return;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;  // a warning only: nothing to say without it
  std::vector<bool> warned(files.size(), false);
  const pid_t self = getpid();
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == self) continue;
    const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;  // gone, or another user's
    while (struct dirent* fd_entry = readdir(fds)) {
      if (fd_entry->d_name[0] == '.') continue;
      struct stat st;
      if (stat(absl::StrCat(fd_dir, "/", fd_entry->d_name).c_str(), &st) != 0) {
        continue;
      }
      for (size_t i = 0; i < files.size(); ++i) {
        if (warned[i] || !SameFile(st, files[i].second)) {
          continue;
        }
        absl::StatusOr<std::string> info = ReadSmallFile(
            absl::StrCat("/proc/", pid, "/fdinfo/", fd_entry->d_name));
        if (!info.ok()) continue;
        const size_t at = info->find("flags:");
        unsigned int flags = 0;
        if (at == std::string::npos ||
            std::sscanf(info->c_str() + at, "flags: %o", &flags) != 1 ||
            (flags & O_ACCMODE) == O_RDONLY) {
          continue;
        }
        warned[i] = true;
        std::string name = "?";
        if (absl::StatusOr<std::string> comm =
                ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"));
            comm.ok()) {
          // Chosen by that process, maybe another user's (PR_SET_NAME):
          // never raw on root's terminal (the attack of 2026-12-06 cleared
          // the screen and forged a line with one).
          name = TerminalSafe(absl::StripSuffix(*comm, "\n"));
        }
        std::fprintf(stderr,
                     "%s: warning: --%s file %s is open for writing by pid %d "
                     "(%s) too: the two interleave their lines, and a reload "
                     "of one does not reopen it for the other; give each "
                     "daemon a file of its own\n",
                     program_invocation_short_name, files[i].first,
                     TerminalSafe(files[i].first == std::string("daemon_stdout")
                                      ? *options.stdout_path
                                      : *options.stderr_path)
                         .c_str(),
                     static_cast<int>(pid), name.c_str());
      }
    }
    closedir(fds);
  }
  closedir(proc);
}

}  // namespace internal
}  // namespace daemonkit
