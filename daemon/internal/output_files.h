// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/output_files.h
// -----------------------------------------------------------------------------
//
// The daemon's stdout and stderr files: opened for append before forking (so
// a bad path is an error on the terminal), moved onto descriptors 1 and 2 in
// the daemon, and reopened on SIGHUP so that logrotate's rename-then-HUP
// loses no line. Reopening goes through the files' directories, held open,
// so it still works after chroot.

#ifndef DAEMONKIT_DAEMON_INTERNAL_OUTPUT_FILES_H_
#define DAEMONKIT_DAEMON_INTERNAL_OUTPUT_FILES_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/internal/pinned_path.h"

namespace daemonkit {
namespace internal {

class OutputFiles {
 public:
  // Opens the targets of stdout and stderr: unset or "inherit" leaves the
  // stream alone. A file this call creates gets mode 0640 whatever the
  // umask and, when `owner` is given, that owner, so the daemon can reopen
  // it after dropping privileges.
  static absl::StatusOr<OutputFiles> Open(
      const std::optional<std::string>& stdout_path,
      const std::optional<std::string>& stderr_path,
      std::optional<std::pair<uid_t, gid_t>> owner = std::nullopt);

  OutputFiles() = default;
  OutputFiles(OutputFiles&&) noexcept = default;
  OutputFiles& operator=(OutputFiles&&) noexcept = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  ~OutputFiles();

  // Every descriptor this object holds (files and their directories), for
  // the list of descriptors the daemon keeps.
  std::vector<int> fds() const;

  // Moves the open files onto descriptors 1 and 2, after flushing stdio so
  // nothing buffered for the old stream lands in the new one.
  absl::Status Install();

  // Opens the files anew through their directories and installs them.
  absl::Status Reopen();

  // Drops the descriptor numbers without closing them (a forked child).
  void Forget();

 private:
  struct Stream {
    int target_fd;  // 1 or 2
    PinnedPath path;
    int fd = -1;  // open until installed
  };

  absl::Status OpenStream(Stream& stream);
  void CloseOpenFiles();

  std::vector<Stream> streams_;
  std::optional<std::pair<uid_t, gid_t>> owner_;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_OUTPUT_FILES_H_
