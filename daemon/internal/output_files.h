// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/output_files.h
// -----------------------------------------------------------------------------
//
// The daemon's stdout and stderr files: opened for append before forking (so
// a bad path is an error on the terminal), moved onto descriptors 1 and 2 in
// the daemon, and reopened on SIGHUP so that logrotate's rename-then-HUP
// loses no line.
//
// Every open, at start and at every reopen, goes through SafeOpen
// (safe_open.h): never through a symbolic link, only a regular file (or
// /dev/null), never blocking. An existing file must have one link and be
// owned by root or by the user the daemon runs as (--daemon_user, or the
// caller without one); anything else is a start error naming the path. At a
// reopen, a refused or failing path keeps the old descriptor, and Reopen()
// says why in one error.
//
// No descriptor of a directory is held: the paths are absolute, and a
// reopen opens them again by path. After a chroot the daemon cannot see
// them, so it asks the path keeper (path_keeper.h) for fresh descriptors.

#ifndef DAEMONKIT_DAEMON_INTERNAL_OUTPUT_FILES_H_
#define DAEMONKIT_DAEMON_INTERNAL_OUTPUT_FILES_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

class OutputFiles {
 public:
  // Opens the targets of stdout and stderr: unset or `kInheritStream` leaves
  // the stream alone. A file this call creates gets mode 0640 whatever the
  // umask and, when `owner` is given, that owner, so the daemon can reopen
  // it after dropping privileges; `owner` (or the caller) and root are who
  // may own an existing file.
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

  // The files opened and not yet installed, for the list of descriptors the
  // daemon keeps.
  std::vector<int> fds() const;

  // Moves the open files onto descriptors 1 and 2, after flushing stdio so
  // nothing buffered for the old stream lands in the new one.
  absl::Status Install();

  // Opens the files anew (by path, or through the keeper when one is set)
  // and installs those that opened; the others keep their old descriptor.
  // The error names every path that failed.
  absl::Status Reopen();

  // After a failed start: unlinks the files that Open() created, while the
  // path still names them (device and inode) and they are still empty.
  void RemoveCreated();

  // From now on, Reopen() asks `keeper` (the daemon is about to chroot).
  void UseKeeper(std::shared_ptr<PathKeeperClient> keeper) {
    keeper_ = std::move(keeper);
  }
  // The keeper's descriptor, or -1.
  int keeper_fd() const { return keeper_ ? keeper_->fd() : -1; }
  // The keeper's pidfd, or -1.
  int keeper_pidfd() const { return keeper_ ? keeper_->keeper_pidfd() : -1; }
  // PathKeeperClient::Exited(); false without a keeper.
  bool keeper_exited() const { return keeper_ && keeper_->Exited(); }

  // What the keeper may open, by index: the paths and their policy.
  std::vector<KeeperOutput> KeeperOutputs() const;

  // Drops the descriptor numbers without closing them (a forked child).
  void Forget();

 private:
  struct Stream {
    int target_fd;  // 1 or 2
    std::string path;
    UniqueFd fd;                        // open until installed
    std::optional<OpenedFile> created;  // what Open() created
  };

  absl::Status OpenStream(Stream& stream, size_t index);
  void CloseOpenFiles();

  std::vector<Stream> streams_;
  OpenPolicy policy_;
  bool installed_ = false;  // files created after this are not debris
  std::shared_ptr<PathKeeperClient> keeper_;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_OUTPUT_FILES_H_
