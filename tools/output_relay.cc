// Copyright 2026 The daemonkit Authors.
//
// The program's output, through the monitor (output_relay.h).

#include "tools/output_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/unique_fd.h"
#include "glog/logging.h"

namespace daemonkit {
namespace {

// Whether the stream `path` names goes to a file that the library reopens
// on reload, which the program cannot follow on its own.
bool IsRelayed(const std::optional<std::string>& path) {
  return path.has_value() && !path->empty() && *path != "/dev/null" &&
         *path != kInheritStream;
}

// The room a pipe gives before the program's write blocks: a monitor busy
// elsewhere (frozen, or ending a tree) holds the program up only after
// this much. Root may raise a pipe to /proc/sys/fs/pipe-max-size, 1 MiB by
// default; a smaller limit keeps the default 64 kB, which is no error.
constexpr int kPipeSize = 1 << 20;

constexpr size_t kMostPerPump = 1 << 20;

// write(2) of all of `text` to `fd`; false on a failure (errno set), with
// `*cut` set when part of it was written (a line left unended).
bool WriteAll(int fd, absl::string_view text, bool* cut) {
  const size_t size = text.size();
  while (!text.empty()) {
    const ssize_t written = write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      *cut = text.size() < size;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

}  // namespace

absl::StatusOr<OutputRelay> OutputRelay::Create(const Options& options) {
  OutputRelay relay;
  const std::optional<std::string>* paths[2] = {&options.stdout_path,
                                                &options.stderr_path};
  bool relayed[2];
  struct stat files[2];
  for (int stream = 0; stream < 2; ++stream) {
    relayed[stream] = IsRelayed(*paths[stream]);
    if (!relayed[stream]) continue;
    if (fstat(stream + 1, &files[stream]) != 0) {
      return absl::ErrnoToStatus(errno,
                                 absl::StrCat("fstat of ", **paths[stream]));
    }
    // The null device by another spelling ("/dev/./null"): nothing to
    // reopen, nothing to relay.
    if (S_ISCHR(files[stream].st_mode) &&
        files[stream].st_rdev == makedev(1, 3)) {
      relayed[stream] = false;
      continue;
    }
    relay.paths_[stream] = **paths[stream];
  }
  // The same file however named (a relative path, a link on the way):
  // one pipe, or their lines would lose their order (the attack of
  // 2026-12-07).
  const bool shared =
      relayed[0] && relayed[1] && internal::SameFile(files[0], files[1]);
  for (int stream = 0; stream < 2; ++stream) {
    if (!relayed[stream] || (shared && stream == 1)) continue;
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) {
      return absl::ErrnoToStatus(
          errno, absl::StrCat("pipe for the program's ",
                              stream == 0 ? "stdout" : "stderr"));
    }
    relay.read_[stream] = ends[0];
    relay.write_[stream] = ends[1];
    if (fcntl(ends[0], F_SETFL, O_NONBLOCK) != 0) {
      return absl::ErrnoToStatus(errno, "fcntl O_NONBLOCK on the output pipe");
    }
    (void)fcntl(ends[1], F_SETPIPE_SZ, kPipeSize);  // EPERM: the default
  }
  if (shared) {
    relay.write_[1] = fcntl(relay.write_[0], F_DUPFD_CLOEXEC, 0);
    if (relay.write_[1] < 0) {
      return absl::ErrnoToStatus(errno, "dup of the output pipe");
    }
  }
  return relay;
}

OutputRelay::OutputRelay(OutputRelay&& other) noexcept
    : read_(std::exchange(other.read_, {-1, -1})),
      write_(std::exchange(other.write_, {-1, -1})),
      paths_(std::move(other.paths_)),
      partial_(std::move(other.partial_)),
      lost_(other.lost_) {}

OutputRelay& OutputRelay::operator=(OutputRelay&& other) noexcept {
  if (this != &other) {
    Close();
    read_ = std::exchange(other.read_, {-1, -1});
    write_ = std::exchange(other.write_, {-1, -1});
    paths_ = std::move(other.paths_);
    partial_ = std::move(other.partial_);
    lost_ = other.lost_;
  }
  return *this;
}

OutputRelay::~OutputRelay() { Close(); }

void OutputRelay::Close() {
  for (int fd : read_) internal::CloseDescriptor(fd);
  for (int fd : write_) internal::CloseDescriptor(fd);
  read_ = {-1, -1};
  write_ = {-1, -1};
}

internal::ProgramOutputs OutputRelay::outputs() const {
  return {write_[0], write_[1]};
}

void OutputRelay::Write(int stream, absl::string_view text) {
  const int target = stream + 1;
  if (lost_[stream] > 0) {
    // Writes work again: the file says what it misses, on a line of its
    // own (what was lost ended whole lines).
    // (After the rest of a line the failure cut, on a line of its own.)
    const std::string note = absl::StrCat(
        cut_[stream] ? "\n" : "", "daemonkit: ", lost_[stream],
        " bytes of the program's output were lost (the file could not be "
        "written)\n");
    bool cut = false;
    if (!WriteAll(target, note, &cut)) {
      lost_[stream] += text.size();
      return;
    }
    lost_[stream] = 0;
    cut_[stream] = false;
  }
  bool cut = false;
  if (!WriteAll(target, text, &cut)) {
    cut_[stream] = cut_[stream] || cut;
    if (lost_[stream] == 0) {
      PLOG(ERROR) << "writing the program's output to " << paths_[stream]
                  << "; it is lost until a write succeeds again";
    }
    lost_[stream] += text.size();
  }
}

void OutputRelay::Pump() {
  char buffer[16384];
  for (int stream = 0; stream < 2; ++stream) {
    if (read_[stream] < 0) continue;
    std::string& partial = partial_[stream];
    size_t copied = 0;
    while (copied < kMostPerPump) {
      const ssize_t n = read(read_[stream], buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EAGAIN: nothing more for now
      copied += static_cast<size_t>(n);
      partial.append(buffer, static_cast<size_t>(n));
      // Up to the last newline; a line too long to keep goes as it is.
      const size_t end = partial.rfind('\n');
      const size_t whole = partial.size() > kLongestLine ? partial.size()
                           : end == std::string::npos    ? 0
                                                         : end + 1;
      if (whole > 0) {
        Write(stream, absl::string_view(partial).substr(0, whole));
        partial.erase(0, whole);
      }
    }
  }
}

void OutputRelay::FinishLines() {
  Pump();
  for (int stream = 0; stream < 2; ++stream) {
    if (partial_[stream].empty()) continue;
    partial_[stream] += '\n';
    Write(stream, partial_[stream]);
    partial_[stream].clear();
  }
}

}  // namespace daemonkit
