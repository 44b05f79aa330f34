// Copyright 2026 The daemonkit Authors.
//
// Runs in the launcher after the first fork, and only there.

#include "daemon/internal/launcher.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/session.h"
#include "daemon/internal/signals.h"
#include "daemon/internal/terminal_text.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"
#include "daemon/internal/worker_pidfile.h"

namespace daemonkit {
namespace internal {

namespace {
FailedStartSweep failed_start_sweep = nullptr;
}  // namespace

void SetFailedStartSweep(FailedStartSweep sweep) { failed_start_sweep = sweep; }

namespace {

// The daemon's own words (FailStartup) among them: never raw on the
// terminal.
void PrintError(absl::string_view message) { PrintProgramError(message); }

// Where the daemon's stderr went, for the reader of "it died": a file worth
// looking at, or nothing.
std::string StderrHint(const Options& options) {
  if (!options.stderr_path || *options.stderr_path == kInheritStream ||
      *options.stderr_path == "/dev/null") {
    return "";
  }
  // An empty file says nothing, and one this start made is removed below
  // (the attack of stop 33: the hint named a file gone by then).
  struct stat st;
  if (stat(options.stderr_path->c_str(), &st) != 0 || st.st_size == 0) {
    return "";
  }
  return absl::StrCat(" (its stderr: ", *options.stderr_path, ")");
}

// The signals that end a launcher from outside: its terminal (INT, QUIT,
// HUP) and kill or timeout(1) (TERM).
constexpr int kInterruptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Called with every signal blocked (since the fork): leaves only the
// interrupting signals blocked and returns a signalfd that reports them,
// or -1 with every signal unblocked (they then keep their default action:
// the launcher dies, and the daemon, finding nobody to report its
// readiness to, stops itself). Never unblocked in between: a SIGHUP that
// came after the fork stays pending for the signalfd (under load, one
// killed the launcher between an unblocking and the signalfd).
int InterruptSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : kInterruptSignals) sigaddset(&set, signo);
  UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC));
  if (!fd.valid() || sigprocmask(SIG_SETMASK, &set, nullptr) != 0) {
    fd.reset();
    (void)UnblockAllSignals();
    return -1;
  }
  // The launcher keeps it until it exits.
  return fd.release();
}

int ReadInterrupt(int fd) {
  struct signalfd_siginfo info;
  ssize_t n;
  do {
    n = read(fd, &info, sizeof(info));
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof(info))
             ? static_cast<int>(info.ssi_signo)
             : SIGTERM;
}

std::string SignalName(int signo) {
  const char* name = sigabbrev_np(signo);
  return name != nullptr ? absl::StrCat("SIG", name) : absl::StrCat(signo);
}

// Ends the launcher by `signo`, as it would have ended without the cleanup,
// so that a shell or a supervisor sees what really happened.
[[noreturn]] void DieOf(int signo) {
  signal(signo, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  (void)sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(signo);
  _exit(128 + signo);
}

// What the launcher learns of the start: the daemon's verdict on the ready
// pipe, or the reason there was none.
struct LaunchOutcome {
  ReadyOutcome ready;
  // Whether the first child was reaped in time; if not, it may still be
  // about to fork the daemon.
  bool first_child_reaped = false;
};

// The first child only forks the daemon, hands the launcher its pid and
// exits: reap it first, so it is not a zombie through the start-up and the
// daemon's pid is in the pipe before the ready timeout can pass. Then waits
// for the daemon's verdict, an interrupt on `interrupt_fd` or the timeout.
LaunchOutcome AwaitOutcome(pid_t first_child, UniqueFd read_fd,
                           const Options& options, int interrupt_fd) {
  LaunchOutcome outcome;
  const Deadline deadline = Deadline::In(options.ready_timeout);
  outcome.first_child_reaped = ReapChildBefore(first_child, deadline);
  if (outcome.first_child_reaped) {
    outcome.ready = AwaitReady(read_fd.get(), deadline, interrupt_fd);
  } else {
    outcome.ready.kind = ReadyOutcome::Kind::kTimedOut;
  }
  return outcome;
}

// Says on stderr (or, when ready, with the ready message on stdout) how the
// start ended. Returns the signal that interrupted it, or 0.
int ReportOutcome(const ReadyOutcome& outcome, const Options& options,
                  int interrupt_fd) {
  int interrupted_by = 0;
  switch (outcome.kind) {
    case ReadyOutcome::Kind::kReady:
      if (!options.ready_message.empty()) {
        std::fputs(options.ready_message.c_str(), stdout);
        std::fflush(stdout);
      }
      break;
    case ReadyOutcome::Kind::kFailed:
      PrintError(outcome.message);
      // It said so itself and is exiting: let it clean up (close its
      // connections, remove what it made) before anything is killed.
      if (outcome.daemon_pidfd >= 0) {
        AwaitExit(outcome.daemon_pidfd, options.stop_timeout);
      }
      break;
    case ReadyOutcome::Kind::kDied:
      PrintError(absl::StrCat("the daemon exited before it was ready",
                              StderrHint(options)));
      break;
    case ReadyOutcome::Kind::kTimedOut:
      PrintError(absl::StrCat("the daemon was not ready within ",
                              absl::FormatDuration(options.ready_timeout),
                              "; killed it"));
      break;
    case ReadyOutcome::Kind::kInterrupted:
      interrupted_by = ReadInterrupt(interrupt_fd);
      PrintError(absl::StrCat("interrupted by ", SignalName(interrupted_by),
                              " before the daemon was ready; stopped it"));
      break;
  }
  return interrupted_by;
}

// Nothing of a failed start may run on: not the daemon, not what it
// started, nor the files it was given and left empty.
void EndFailedStart(pid_t first_child, const LaunchOutcome& outcome,
                    const Options& options, OutputFiles& outputs,
                    ListenSockets& sockets) {
  // The first child, if it has not even forked yet, goes first, so that no
  // new member can join the session after the sweep.
  if (!outcome.first_child_reaped) {
    KillNow(first_child);
    ReapChild(first_child);
  }
  if (!KillSession(first_child, outcome.ready.daemon_pidfd, kKillGrace)) {
    PrintError("some processes of the failed start survived SIGKILL");
  }
  // A daemon that reported its failure itself has ended what it made.
  if (failed_start_sweep != nullptr &&
      outcome.ready.kind != ReadyOutcome::Kind::kFailed) {
    failed_start_sweep(first_child);
  }
  // Every process of the start is gone. Should the lock still be held
  // (once in the gate's ten processwrapper runs the file was left behind
  // a tiny ready timeout, the holder unknown), wait for it as a stop
  // does, and say why when the file has to stay.
  if (!options.pidfile.empty()) {
    RemovePidFileOnceReleased(options.pidfile, kKillGrace);
  }
  // What this start created and nobody wrote to (a daemon's error stays).
  outputs.RemoveCreated();
  sockets.RemoveFiles();
  if (!options.child_pidfile.empty()) {
    RemoveWorkerPidFile(options.child_pidfile, kKillGrace);
  }
}

}  // namespace

void RunLauncher(pid_t first_child, ReadyPipe pipe, const Options& options,
                 std::optional<PidFile> pidfile, OutputFiles outputs,
                 ListenSockets sockets) {
  UniqueFd read_fd(pipe.read_fd);
  // Closed at once: end-of-file on the pipe then means the daemon's end is
  // gone, not the launcher's own copy.
  UniqueFd(pipe.write_fd).reset();
  sockets.Close();
  // The caller's handlers and mask were kept for a failed fork; the launcher
  // never returns to the caller. (The mask: InterruptSignalFd.)
  (void)ResetSignalDispositions();
  // Ctrl-C, a closed terminal, kill or timeout(1) ending the launcher while
  // the daemon starts would leave a daemon running behind an exit code that
  // says otherwise. Those signals are taken as events instead: the start is
  // failed, all of it ended, and then the launcher dies of the signal.
  const int interrupt_fd = InterruptSignalFd();
  // Only the daemon holds the lock from now on, so a lock test below tells
  // whether it is gone.
  if (pidfile) pidfile->Close();

  // The read end is closed once the wait is over (AwaitOutcome owns it).
  const LaunchOutcome outcome =
      AwaitOutcome(first_child, std::move(read_fd), options, interrupt_fd);
  const int interrupted_by =
      ReportOutcome(outcome.ready, options, interrupt_fd);
  if (outcome.ready.kind != ReadyOutcome::Kind::kReady) {
    EndFailedStart(first_child, outcome, options, outputs, sockets);
  }
  if (interrupted_by != 0) DieOf(interrupted_by);
  _exit(outcome.ready.kind == ReadyOutcome::Kind::kReady ? kExitSuccess
                                                         : kExitFailure);
}

}  // namespace internal
}  // namespace daemonkit
