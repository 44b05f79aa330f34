// Copyright 2026 The daemonkit Authors.
//
// An application for the service-manager controls' tests (issue 15). It
// takes the --daemon* flags of //daemon, and after daemonizing:
//
//   --bind_port=N   binds a TCP socket to port N of any address before it
//                   declares itself ready; a failure fails the start
//                   ("bind port N: Permission denied")
//   --log           logs one glog line of each severity INFO, WARNING and
//                   ERROR once ready
//   --log_nul       with --log, the warning line carries a client's text
//                   with a NUL and a forged priority: "a nul\0<0>forged"
//   --print_every=D prints "tick N" with printf every D, never flushing:
//                   what reaches the file when is stdio's buffering alone
//
// and waits to be stopped.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "glog/logging.h"

ABSL_FLAG(int, bind_port, 0, "bind a TCP socket to this port; 0: none");
ABSL_FLAG(bool, log, false, "log a line of each severity once ready");
ABSL_FLAG(bool, log_nul, false, "with --log, a NUL in the warning line");
ABSL_FLAG(absl::Duration, print_every, absl::ZeroDuration(),
          "print a tick with printf this often, never flushing; 0: never");

namespace {

absl::Status BindPort(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  struct sockaddr_in address;
  std::memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) !=
      0) {
    const int saved = errno;
    close(fd);
    return absl::InternalError(
        absl::StrCat("bind port ", port, ": ", std::strerror(saved)));
  }
  // Kept open for the daemon's life, as a server would.
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  if (const int port = absl::GetFlag(FLAGS_bind_port); port != 0) {
    absl::Status bound = BindPort(port);
    if (!bound.ok()) {
      daemon->FailStartup(bound);
      return 1;
    }
    std::printf("bound port %d\n", port);
    std::fflush(stdout);
  }
  daemon->NotifyReady();
  if (absl::GetFlag(FLAGS_log)) {
    LOG(INFO) << "an info line";
    LOG(WARNING) << "a warning line"
                 << (absl::GetFlag(FLAGS_log_nul)
                         ? std::string(" a nul\0<0>forged", 16)
                         : std::string());
    LOG(ERROR) << "an error line";
  }
  const absl::Duration every = absl::GetFlag(FLAGS_print_every);
  for (int tick = 1;; ++tick) {
    const absl::Duration wait =
        every > absl::ZeroDuration() ? every : absl::InfiniteDuration();
    if (daemon->WaitFor(wait) == daemonkit::Event::kStop) break;
    if (every > absl::ZeroDuration()) std::printf("tick %d\n", tick);
  }
  return 0;
}
