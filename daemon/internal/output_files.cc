// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/options.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr mode_t kOutputFileMode = 0640;
constexpr char kDevNull[] = "/dev/null";

}  // namespace

absl::StatusOr<OutputFiles> OutputFiles::Open(
    const std::optional<std::string>& stdout_path,
    const std::optional<std::string>& stderr_path,
    std::optional<std::pair<uid_t, gid_t>> owner) {
  OutputFiles files;
  files.policy_.what = "output";
  files.policy_.access = O_WRONLY | O_APPEND;
  files.policy_.create = true;
  files.policy_.create_mode = kOutputFileMode;
  files.policy_.create_owner = owner;
  files.policy_.owners = {0, owner ? owner->first : geteuid()};
  files.policy_.single_link = true;
  files.policy_.allow_dev_null = true;
  for (const auto& [target, path] :
       {std::make_pair(1, &stdout_path), std::make_pair(2, &stderr_path)}) {
    if (!path->has_value() || **path == kInheritStream) continue;
    if ((*path)->empty() || (**path)[0] != '/') {
      // Daemonize() resolves every path first; this is the caller's bug, and
      // a kInvalidArgument that no longer means "exit 2" (options.h).
      return absl::InvalidArgumentError(
          absl::StrCat("output ", **path, " is not an absolute path"));
    }
    files.streams_.push_back(Stream{target, **path, UniqueFd(), std::nullopt});
    absl::Status opened =
        files.OpenStream(files.streams_.back(), files.streams_.size() - 1);
    if (!opened.ok()) {
      files.RemoveCreated();
      return opened;
    }
  }
  return files;
}

absl::Status OutputFiles::OpenStream(Stream& stream, size_t index) {
  int fd = -1;
  if (keeper_) {
    DAEMONKIT_ASSIGN_OR_RETURN(fd, keeper_->OpenOutput(index));
  } else {
    DAEMONKIT_ASSIGN_OR_RETURN(OpenedFile file, SafeOpen(stream.path, policy_));
    fd = file.fd;
    // Only the first open counts: a file created by a reopen is the new
    // log of a running daemon, not debris of a failed start.
    if (file.created && !installed_) stream.created = file;
  }
  stream.fd.reset(fd);  // closes the one opened before
  return absl::OkStatus();
}

OutputFiles::~OutputFiles() { CloseOpenFiles(); }

std::vector<int> OutputFiles::fds() const {
  std::vector<int> fds;
  for (const Stream& stream : streams_) {
    if (stream.fd.valid()) fds.push_back(stream.fd.get());
  }
  return fds;
}

std::vector<KeeperOutput> OutputFiles::KeeperOutputs() const {
  std::vector<KeeperOutput> outputs;
  for (const Stream& stream : streams_) {
    outputs.push_back(KeeperOutput{stream.path, policy_});
  }
  return outputs;
}

absl::Status OutputFiles::Install() {
  std::fflush(stdout);
  std::fflush(stderr);
  for (Stream& stream : streams_) {
    if (!stream.fd.valid()) continue;
    DAEMONKIT_RETURN_IF_ERROR(Redirect(stream.fd.get(), stream.target_fd));
  }
  CloseOpenFiles();
  installed_ = true;
  return absl::OkStatus();
}

absl::Status OutputFiles::Reopen() {
  std::vector<std::string> errors;
  for (size_t i = 0; i < streams_.size(); ++i) {
    // The null device never rotates.
    if (streams_[i].path == kDevNull) continue;
    absl::Status opened = OpenStream(streams_[i], i);
    if (!opened.ok()) {
      errors.push_back(absl::StrCat(
          opened.message(), " (still writing to the file opened before)"));
    }
  }
  absl::Status installed = Install();
  if (!errors.empty()) {
    return absl::FailedPreconditionError(absl::StrJoin(errors, "; "));
  }
  return installed;
}

void OutputFiles::RemoveCreated() {
  // The files are not going to be used: their descriptors go first, which
  // leaves the unlink (it walks the path) room under a tight descriptor
  // limit, the very failure that may have brought us here.
  CloseOpenFiles();
  for (Stream& stream : streams_) {
    if (!stream.created) continue;
    struct stat st;
    if (lstat(stream.path.c_str(), &st) == 0 && st.st_size == 0) {
      (void)UnlinkIfSame(stream.path, stream.created->dev, stream.created->ino);
    }
    stream.created.reset();
  }
}

void OutputFiles::Forget() {
  for (Stream& stream : streams_) (void)stream.fd.release();
  if (keeper_) keeper_->Forget();
  keeper_.reset();
}

void OutputFiles::CloseOpenFiles() {
  for (Stream& stream : streams_) {
    stream.fd.reset();
  }
}

}  // namespace internal
}  // namespace daemonkit
