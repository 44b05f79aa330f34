// Copyright 2026 The daemonkit Authors.
//
// The application of the model test of the daemon's life
// (tests/model_test.cc). It takes the --daemon* flags of //daemon and writes
// to its standard output (the --daemon_stdout file, which the library
// reopens on reload) what an outside observer cannot read from /proc, one
// whole line per write(2):
//
//   start <pid>            after NotifyReady()
//   reload <pid> <n>       after its n-th reload, into the reopened file
//   stop <pid>             when WaitFor() returns kStop, before it exits 0
//
// Everything else the model checks (credentials, descriptors, environment,
// limits, signal state) the test reads from /proc.

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

namespace {

void Say(const std::string& line) {
  const std::string whole = line + "\n";
  // One write: the reader never sees half a line. A failed write (a full
  // disk) is the test's to notice by the missing line.
  (void)!write(STDOUT_FILENO, whole.data(), whole.size());
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  int reloads = 0;
  daemon->NotifyReady();
  Say(absl::StrCat("start ", getpid()));
  for (;;) {
    switch (daemon->WaitFor(absl::Seconds(1))) {
      case daemonkit::Event::kStop:
        Say(absl::StrCat("stop ", getpid()));
        return 0;
      case daemonkit::Event::kReload:
        Say(absl::StrCat("reload ", getpid(), " ", ++reloads));
        break;
      case daemonkit::Event::kTimeout:
        break;
    }
  }
}
