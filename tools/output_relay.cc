// Copyright 2026 The daemonkit Authors.
//
// The program's output, through the monitor (output_relay.h).

#include "tools/output_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

absl::StatusOr<OutputRelay> OutputRelay::Create(const Options& options) {
  OutputRelay relay;
  const bool relayed[2] = {IsRelayed(options.stdout_path),
                           IsRelayed(options.stderr_path)};
  const bool shared =
      relayed[0] && relayed[1] && *options.stdout_path == *options.stderr_path;
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
      failing_(other.failing_) {}

OutputRelay& OutputRelay::operator=(OutputRelay&& other) noexcept {
  if (this != &other) {
    Close();
    read_ = std::exchange(other.read_, {-1, -1});
    write_ = std::exchange(other.write_, {-1, -1});
    failing_ = other.failing_;
  }
  return *this;
}

OutputRelay::~OutputRelay() { Close(); }

void OutputRelay::Close() {
  for (int fd : read_) {
    if (fd >= 0) close(fd);
  }
  for (int fd : write_) {
    if (fd >= 0) close(fd);
  }
  read_ = {-1, -1};
  write_ = {-1, -1};
}

internal::ProgramOutputs OutputRelay::outputs() const {
  return {write_[0], write_[1]};
}

void OutputRelay::Pump() {
  char buffer[16384];
  for (int stream = 0; stream < 2; ++stream) {
    if (read_[stream] < 0) continue;
    const int target = stream + 1;
    size_t copied = 0;
    while (copied < kMostPerPump) {
      const ssize_t n = read(read_[stream], buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EAGAIN: nothing more for now
      copied += static_cast<size_t>(n);
      for (ssize_t done = 0; done < n;) {
        const ssize_t written =
            write(target, buffer + done, static_cast<size_t>(n - done));
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
          if (!failing_) {
            PLOG(ERROR) << "writing the program's output to descriptor "
                        << target << "; lines are lost until a write succeeds";
          }
          failing_ = true;
          break;
        }
        done += written;
        failing_ = false;
      }
    }
  }
}

}  // namespace daemonkit
