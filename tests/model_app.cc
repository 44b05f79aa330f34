// Copyright 2026 The daemonkit Authors.
//
// The application of the model test of the daemon's life
// (tests/model_test.cc). It takes the --daemon* flags of //daemon and writes
// to its standard output (the --daemon_stdout file, which the library
// reopens on reload) what an outside observer cannot read from /proc, one
// whole line per write(2):
//
//   unready <pid>          before it, when DIR/never_ready holds it back
//   start <pid>            after NotifyReady()
//   serving <pid>          after the first turn of its loop: the daemon
//                          did not stop at once (as it does when its
//                          launcher died before the ready)
//   reload <pid> <n>       after its n-th reload, into the reopened file
//   stop <pid>             when the handle says kStop, before it drains
//
// With a listening socket named "app" (--daemon_listen=app=...) it serves
// it beside signal_fd(), as daemon.h's poll loop does: each connection
// sends one line and gets "<pid> <line>" back, then is closed; the line
// "hold" gets "held" and the connection is kept open, and a stop (an
// upgrade's handover too) then drains: the process exits only once every
// held connection is closed by its client (or the library's bound on the
// drain SIGKILLs it). That is the busy client of an upgrade.
//
// --model_control=DIR names a directory of files the test writes to steer
// it (each read at every turn of the loop, ~5 times a second; by path, also
// under --daemon_chroot=DIR, where the test makes DIR's own absolute path
// lead back to DIR inside the new root):
//
//   DIR/slow_start   exists: sleep a second before NotifyReady(), so that
//                    the test can act while a start (an upgrade's
//                    successor) is under way
//   DIR/never_ready  exists: before NotifyReady() say "unready <pid>" and
//                    wait on the handle (a stop ends it) as long as the
//                    file is there: a start that is not ready within its
//                    ready timeout
//   DIR/hang         holds this process's pid: it stops its loop and
//                    sleeps, alive, until killed (a watchdog's case)
//   DIR/fork         holds this process's pid: it forks once a child that
//                    waits on the Daemon handle it inherited, forever
//                    (issue 23.7: a pre-forking server), and says
//                    "forked <pid> <child>"; the child dies with it
//
// It sets a status text holding a newline and assignments after the ready
// (issue 18.3: they must never become assignments of their own).
//
// Everything else the model checks (credentials, descriptors, environment,
// limits, signal state) the test reads from /proc.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"

ABSL_FLAG(std::string, model_control, "",
          "directory of the files by which the model test steers this app");

#if defined(__SANITIZE_ADDRESS__)
// Under --config=asan the daemonkit command execs this application inside
// its --daemon_chroot, where there is no /proc, and AddressSanitizer reads
// ASAN_OPTIONS from /proc/self/environ: there the model's options never
// arrive, and the runtime refused the preloaded fault shim ("ASan runtime
// does not come first") and would check leaks through /proc at exit. These
// are the options the model gives every such run (FaultShimEnvironment,
// and no leak checking in a chroot); wherever /proc is, ASAN_OPTIONS is
// read after them and decides.
extern "C" const char* __asan_default_options() {
  return "verify_asan_link_order=0:detect_leaks=0";
}
#endif

namespace {

void Say(const std::string& line) {
  const std::string whole = line + "\n";
  // One write: the reader never sees half a line. A failed write (a full
  // disk) is the test's to notice by the missing line.
  (void)!write(STDOUT_FILENO, whole.data(), whole.size());
}

// Whether DIR/`name` names this process.
bool ControlFileNamesMe(const std::string& name) {
  const std::string dir = absl::GetFlag(FLAGS_model_control);
  if (dir.empty()) return false;
  FILE* file = std::fopen((dir + "/" + name).c_str(), "re");
  if (file == nullptr) return false;
  int pid = 0;
  const bool named = std::fscanf(file, "%d", &pid) == 1 && pid == getpid();
  std::fclose(file);
  return named;
}

bool ControlFileExists(const std::string& name) {
  const std::string dir = absl::GetFlag(FLAGS_model_control);
  return !dir.empty() && access((dir + "/" + name).c_str(), F_OK) == 0;
}

// Reads one line from a fresh connection (a second at most), answers it,
// and closes it, unless it asked to be held: then it is kept in `held`.
void Serve(int client, std::vector<int>* held) {
  std::string line;
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  // A line is short: a client that sends without end (and never reads)
  // gets its first 4 KiB answered, and no more of our memory.
  while (line.find('\n') == std::string::npos && line.size() < 4096) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    struct pollfd pfd = {client, POLLIN, 0};
    const int ready =
        poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char buffer[256];
    const ssize_t n = read(client, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buffer, static_cast<size_t>(n));
  }
  line = line.substr(0, line.find('\n'));
  if (line == "hold") {
    (void)!write(client, "held\n", 5);
    held->push_back(client);
    return;
  }
  const std::string answer = absl::StrCat(getpid(), " ", line, "\n");
  (void)!send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
  close(client);
}

// After kStop: waits until every held client has closed its end.
void Drain(std::vector<int>* held) {
  while (!held->empty()) {
    std::vector<struct pollfd> fds;
    for (int fd : *held) fds.push_back({fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    std::vector<int> open;
    for (const struct pollfd& pfd : fds) {
      char buffer[64];
      if (pfd.revents == 0 || read(pfd.fd, buffer, sizeof(buffer)) > 0) {
        open.push_back(pfd.fd);
      } else {
        close(pfd.fd);
      }
    }
    *held = open;
  }
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  int listener = -1;
  absl::StatusOr<int> socket = daemon->ListenSocket("app");
  if (socket.ok()) {
    listener = *socket;
    if (fcntl(listener, F_SETFL, O_NONBLOCK) != 0) {
      daemon->FailStartup(absl::InternalError("fcntl O_NONBLOCK"));
      return 1;
    }
  }
  if (ControlFileExists("slow_start")) absl::SleepFor(absl::Seconds(1));
  if (ControlFileExists("never_ready")) {
    Say(absl::StrCat("unready ", getpid()));
    while (ControlFileExists("never_ready")) {
      if (daemon->WaitFor(absl::Milliseconds(200)) == daemonkit::Event::kStop) {
        Say(absl::StrCat("stop ", getpid()));
        return 0;
      }
    }
  }
  int reloads = 0;
  bool serving = false;
  bool forked = false;
  std::vector<int> held;
  daemon->NotifyReady();
  Say(absl::StrCat("start ", getpid()));
  constexpr char kStatus[] = "serving\nREADY=1\nWATCHDOG=trigger\0ERRNO=5";
  daemon->NotifyStatus(absl::string_view(kStatus, sizeof(kStatus) - 1));
  for (;;) {
    struct pollfd fds[2] = {{daemon->signal_fd(), POLLIN, 0},
                            {listener, POLLIN, 0}};
    const int ready = poll(fds, listener >= 0 ? 2 : 1, 200);
    switch (daemon->WaitUntil(absl::InfinitePast())) {
      case daemonkit::Event::kStop:
        Say(absl::StrCat("stop ", getpid()));
        Drain(&held);
        return 0;
      case daemonkit::Event::kReload:
        Say(absl::StrCat("reload ", getpid(), " ", ++reloads));
        break;
      case daemonkit::Event::kTimeout:
        break;
    }
    if (!serving) {
      serving = true;
      Say(absl::StrCat("serving ", getpid()));
    }
    if (ControlFileNamesMe("hang")) {
      for (;;) pause();
    }
    if (!forked && ControlFileNamesMe("fork")) {
      forked = true;
      const pid_t parent = getpid();
      const pid_t child = fork();
      if (child == 0) {
        // Dies with the application; until then waits on the handle as a
        // pre-forked worker would.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
          _exit(1);
        }
        for (;;) daemon->WaitFor(absl::Milliseconds(100));
      }
      if (child > 0) Say(absl::StrCat("forked ", getpid(), " ", child));
    }
    if (ready > 0 && listener >= 0 && (fds[1].revents & POLLIN) != 0) {
      const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) Serve(client, &held);
    }
  }
}
