// Copyright 2026 The daemonkit Authors.
//
// The README's library example, kept here so that it is compiled by every
// build: a daemon that prints "working" every second until stopped.

#include <cstdio>
#include <memory>

#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  // Validates the --daemon* flags, runs --daemon_control=stop|reload|status,
  // and detaches; it returns only in the daemon.
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  // Anything that can fail goes here; report it with daemon->FailStartup().
  daemon->NotifyReady();  // now the launcher exits 0
  while (daemon->WaitFor(absl::Seconds(1)) != daemonkit::Event::kStop) {
    std::printf("working\n");
    std::fflush(stdout);
  }
  return 0;  // the pid file is removed
}
