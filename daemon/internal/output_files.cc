// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr mode_t kOutputFileMode = 0640;
constexpr char kInherit[] = "inherit";

}  // namespace

absl::StatusOr<OutputFiles> OutputFiles::Open(
    const std::optional<std::string>& stdout_path,
    const std::optional<std::string>& stderr_path,
    std::optional<std::pair<uid_t, gid_t>> owner) {
  OutputFiles files;
  files.owner_ = owner;
  for (const auto& [target, path] :
       {std::make_pair(1, &stdout_path), std::make_pair(2, &stderr_path)}) {
    if (!path->has_value() || **path == kInherit) continue;
    DAEMONKIT_ASSIGN_OR_RETURN(PinnedPath pinned,
                               PinnedPath::Pin(**path, "output"));
    files.streams_.push_back(Stream{target, std::move(pinned)});
    DAEMONKIT_RETURN_IF_ERROR(files.OpenStream(files.streams_.back()));
  }
  return files;
}

absl::Status OutputFiles::OpenStream(Stream& stream) {
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;
  const std::string& path = stream.path.path();
  int fd = stream.path.Open(flags | O_CREAT | O_EXCL, kOutputFileMode);
  if (fd >= 0) {
    // Created here: the exact mode whatever the umask, and the daemon's
    // owner so that it may reopen the file after dropping privileges.
    if (fchmod(fd, kOutputFileMode) != 0 ||
        (owner_ && fchown(fd, owner_->first, owner_->second) != 0)) {
      int saved = errno;
      close(fd);
      return ErrnoError(saved,
                        absl::StrCat("set mode and owner of output ", path));
    }
  } else if (errno == EEXIST) {
    fd = stream.path.Open(flags);
  }
  if (fd < 0) return ErrnoError(errno, absl::StrCat("output ", path));
  if (stream.fd >= 0) close(stream.fd);
  stream.fd = fd;
  return absl::OkStatus();
}

OutputFiles::~OutputFiles() { CloseOpenFiles(); }

std::vector<int> OutputFiles::fds() const {
  std::vector<int> fds;
  for (const Stream& stream : streams_) {
    fds.push_back(stream.path.dir_fd());
    if (stream.fd >= 0) fds.push_back(stream.fd);
  }
  return fds;
}

absl::Status OutputFiles::Install() {
  std::fflush(stdout);
  std::fflush(stderr);
  for (Stream& stream : streams_) {
    if (stream.fd < 0) continue;
    DAEMONKIT_RETURN_IF_ERROR(Redirect(stream.fd, stream.target_fd));
  }
  CloseOpenFiles();
  return absl::OkStatus();
}

absl::Status OutputFiles::Reopen() {
  absl::Status result = absl::OkStatus();
  for (Stream& stream : streams_) {
    absl::Status opened = OpenStream(stream);
    if (!opened.ok() && result.ok()) result = opened;
  }
  absl::Status installed = Install();
  return result.ok() ? installed : result;
}

void OutputFiles::Forget() {
  for (Stream& stream : streams_) {
    stream.fd = -1;
    stream.path.Forget();
  }
}

void OutputFiles::CloseOpenFiles() {
  for (Stream& stream : streams_) {
    if (stream.fd >= 0) close(stream.fd);
    stream.fd = -1;
  }
}

}  // namespace internal
}  // namespace daemonkit
