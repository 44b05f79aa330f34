// Copyright 2026 The daemonkit Authors.
//
// The example of daemon/daemon.h's `Daemon::ListenSocket()`, word for word
// between the markers (tests/listen_api_test.cc checks that), in a program:
// it prints the socket names and a line per reload to stdout.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  daemon->SetReloadHook([] {
    std::printf("reloaded\n");
    std::fflush(stdout);
  });
  std::printf("names: %s\n",
              absl::StrJoin(daemon->ListenSocketNames(), ",").c_str());
  std::fflush(stdout);
  // BEGIN daemon.h example
  absl::StatusOr<int> listener = daemon->ListenSocket("web");
  if (!listener.ok()) {
    daemon->FailStartup(listener.status());
    return 1;
  }
  fcntl(*listener, F_SETFL, O_NONBLOCK);
  struct pollfd fds[2] = {{daemon->signal_fd(), POLLIN, 0},
                          {*listener, POLLIN, 0}};
  daemon->NotifyReady();
  while (!daemon->stop_requested()) {
    if (poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[0].revents & POLLIN) {
      daemon->WaitUntil(absl::InfinitePast());  // handles the signal
    }
    if (fds[1].revents & POLLIN) {
      int client = accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        (void)!write(client, "hello\n", 6);  // ... serve it ...
        close(client);
      }
    }
  }
  // END daemon.h example
  return 0;
}
