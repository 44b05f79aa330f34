// A consumer's daemon: writes "hello" once a second until stopped.

#include <cstdio>
#include <memory>

#include "absl/flags/parse.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  daemon->NotifyReady();
  do {
    std::printf("hello\n");
    std::fflush(stdout);
  } while (daemon->WaitFor(absl::Seconds(1)) != daemonkit::Event::kStop);
  return 0;
}
