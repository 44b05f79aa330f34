// Copyright 2026 The daemonkit Authors.
//
// A daemon that misbehaves on request, to drive the launcher and the
// supervisor from tests. It takes the --daemon* flags of //daemon, and:
//
//   --behavior=ready        declare itself ready and wait to be stopped
//              fail         report a start-up error
//              die          exit 3 before it is ready
//              hang         never become ready
//              threads      start a thread before daemonizing
//              ignore_term  ready, then deaf to SIGTERM
//              child        reap a child of its own, then ready
//              kill_between_forks  SIGKILL itself between the two forks
//              slow_keeper  with a path keeper (--daemon_user): the keeper's
//                           intermediate process records "keeper starting"
//                           in --report, then sleeps --delay before it
//                           forks the keeper (a keeper slow to start); then
//                           as ready
//              crash_times  ready, then abort while fewer than --crash_times
//                           starts are recorded in --report
//              children     run `yes` into a closed pipe (posix_spawn) and
//                           record how it ended ("yes: signal 13"), fork a
//                           helper that waits forever ("helper <pid>"), then
//                           ready; records "event reload" / "event stop"
//              keep_env     record whether a getenv("KEPT") pointer taken
//                           before daemonizing still reads the same value,
//                           and each entry of environ ("environ [A=b]")
//              exec         ready, then exec `sleep 3600` (the daemon is
//                           another program from then on, with none of
//                           the library's close-on-exec descriptors)
//              drain_forever  ready; once told to stop, never finishes
//                           draining (records "draining"): an upgraded old
//                           daemon with a client that never goes
//              wall_deadline  ready, then WaitUntil(now + 1h), a deadline on
//                           the wall clock ("waiting for the deadline" once
//                           it is set); records "event timeout" when it
//                           returns kTimeout (issue 23.5: a clock stepped
//                           past the deadline), then waits to be stopped
//              fork_fails   make fork() fail (seccomp), call Daemonize, and
//                           print whether the caller's descriptors, signal
//                           handlers and mask are as they were
//              fork_waits   ready, then fork a child that opens a file of
//                           its own and calls WaitFor(1s) on the handle it
//                           inherited, then polls signal_fd() for 200ms;
//                           it records "child PID event E ms N cpu_ticks T
//                           signal_fd R" (T: its utime + stime); the
//                           daemon reaps it ("child exited N"), then as
//                           ready
//              log_lines    ready, then LOG(INFO) "line N" and 40 x's
//                           every 2 ms until stopped (issue 23.11: a log
//                           file on a file system that fills up)
//
//   --helper                fork a helper that waits forever during start-up
//                           ("helper <pid>"), in the daemon's session
//   --cleanup_delay         with --behavior=fail: clean up this long after
//                           FailStartup, then record "cleaned up"
//   --wait_for              before it declares itself ready, wait (in
//                           WaitFor, so signals are noted) until this file
//                           exists: a start as slow as a test needs
//   --status                once ready, NotifyStatus() this text, C escapes
//                           (\n, \0) decoded: an application that puts a
//                           client's text in its status
//
// Each process that gets past daemonizing appends "<pid> <monotonic ns>" to
// --report, so tests can see every daemon (and every restarted worker).

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "daemon/internal/testing_hooks.h"
#include "daemon/proc.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, behavior, "ready", "what to do; see the file comment");
ABSL_FLAG(std::string, report, "",
          "file to append each started daemon's pid to");
ABSL_FLAG(absl::Duration, delay, absl::ZeroDuration(),
          "wait this long before acting");
ABSL_FLAG(int, keep_fd, -1, "a descriptor to keep open across daemonizing");
ABSL_FLAG(int, crash_times, 0,
          "with --behavior=crash_times: how many starts crash");
ABSL_FLAG(bool, helper, false,
          "fork a helper that waits forever during start-up");
ABSL_FLAG(std::string, wait_for, "",
          "before ready, wait until this file exists");
ABSL_FLAG(std::string, status, "",
          "once ready, NotifyStatus() this text with C escapes decoded");
ABSL_FLAG(absl::Duration, cleanup_delay, absl::ZeroDuration(),
          "with --behavior=fail: time spent cleaning up after FailStartup");

extern char** environ;

namespace {

int64_t MonotonicNanos() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

void Record(const std::string& report, const std::string& line) {
  std::ofstream(report, std::ios::app) << line << "\n";
}

// A process forked by the application that only waits to be killed.
// Returns once the helper runs its own code (fork handlers done) and holds
// nothing of this function, so that what a test reads in /proc is the
// helper's settled state: the end-of-file on the pipe is its close.
pid_t ForkHelper() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t helper = fork();
  if (helper == 0) {
    close(fds[0]);
    close(fds[1]);
    for (;;) pause();
  }
  close(fds[1]);
  char byte;
  while (read(fds[0], &byte, 1) < 0 && errno == EINTR) {
  }
  close(fds[0]);
  return helper;
}

// Runs `yes` with its stdout on a pipe whose reader goes away after one
// byte, through posix_spawn (no fork handler runs): what an exec'd program
// inherits. Returns "yes: signal N" or "yes: exit N".
std::string RunYesIntoClosedPipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "yes: pipe failed";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  char arg0[] = "yes";
  char* argv[] = {arg0, nullptr};
  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, "yes", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) return "yes: spawn failed";
  char byte;
  (void)read(fds[0], &byte, 1);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    return "yes: signal " + std::to_string(WTERMSIG(status));
  }
  return "yes: exit " + std::to_string(WEXITSTATUS(status));
}

// From here on fork(), vfork() and clone() fail with EAGAIN (threads too).
bool MakeForkFail() {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fork, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_vfork, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {
      static_cast<uint16_t>(sizeof(filter) / sizeof(filter[0])), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

extern "C" void CallerHandler(int) {}

// Daemonize with fork() failing: prints "error: ..." and then "intact" or
// what the caller lost. Exit 0 when intact.
int ForkFails(const daemonkit::Options& options) {
  // The caller's state: a descriptor of its own, a handler, a blocked
  // signal, and a closed stdin that Daemonize must not leave filled.
  const int own_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  struct sigaction action = {};
  action.sa_handler = CallerHandler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGUSR1, &action, nullptr);
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  sigprocmask(SIG_BLOCK, &blocked, nullptr);
  close(0);
  if (!MakeForkFail()) {
    std::printf("seccomp: %s\n", std::strerror(errno));
    return 2;
  }
  absl::StatusOr<std::unique_ptr<daemonkit::Daemon>> daemon =
      daemonkit::Daemonize(options);
  std::printf("error: %s\n", std::string(daemon.status().message()).c_str());
  std::string lost;
  if (fcntl(own_fd, F_GETFD) < 0) lost += " descriptor";
  if (fcntl(0, F_GETFD) >= 0) lost += " stdin-reopened";
  struct sigaction now = {};
  sigaction(SIGUSR1, nullptr, &now);
  if (now.sa_handler != CallerHandler) lost += " handler";
  sigset_t mask;
  sigprocmask(SIG_BLOCK, nullptr, &mask);
  if (sigismember(&mask, SIGUSR2) != 1 || sigismember(&mask, SIGTERM) == 1) {
    lost += " mask";
  }
  std::printf("%s\n", lost.empty() ? "intact" : ("lost:" + lost).c_str());
  std::fflush(stdout);
  // Not exit(): LeakSanitizer's exit-time check needs clone(), which the
  // filter refuses.
  _exit(lost.empty() ? 0 : 1);
}

// This process's utime + stime in clock ticks (/proc/self/stat), or -1.
int64_t OwnCpuTicks() {
  absl::StatusOr<daemonkit::ProcStat> stat = daemonkit::ReadOwnProcStat();
  int64_t user = 0, system = 0;
  if (!stat.ok() || !stat->ParseField(14, &user) ||
      !stat->ParseField(15, &system)) {
    return -1;
  }
  return user + system;
}

// A child forked by the application that waits on the daemon's handle, as
// a pre-forking server's children might.
void ForkedChildWaits(daemonkit::Daemon& daemon, const std::string& report) {
  // The application's own file takes the lowest free number: likely one the
  // fork handler just closed.
  const int own = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  const int64_t cpu_before = OwnCpuTicks();
  const int64_t start = MonotonicNanos();
  const daemonkit::Event event = daemon.WaitFor(absl::Seconds(1));
  const int64_t waited_ms = (MonotonicNanos() - start) / 1000000;
  const int64_t cpu = OwnCpuTicks() - cpu_before;
  struct pollfd pfd = {daemon.signal_fd(), POLLIN, 0};
  const int polled = poll(&pfd, 1, 200);
  const char* name = event == daemonkit::Event::kTimeout ? "timeout"
                     : event == daemonkit::Event::kStop  ? "stop"
                                                         : "reload";
  Record(report, "child " + std::to_string(getpid()) + " event " + name +
                     " ms " + std::to_string(waited_ms) + " cpu_ticks " +
                     std::to_string(cpu) + " signal_fd " +
                     std::to_string(polled) + " " +
                     std::to_string(pfd.revents));
  if (own >= 0) close(own);
}

int RecordedStarts(const std::string& report) {
  std::ifstream in(report);
  std::string line;
  int starts = 0;
  while (std::getline(in, line)) ++starts;
  return starts;
}

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  const std::string behavior = absl::GetFlag(FLAGS_behavior);
  const std::string report_path = absl::GetFlag(FLAGS_report);
  absl::StatusOr<daemonkit::FlagRequest> request =
      daemonkit::RequestFromFlags();
  if (request.ok() && absl::GetFlag(FLAGS_keep_fd) >= 0) {
    request->options.keep_fds.push_back(absl::GetFlag(FLAGS_keep_fd));
  }
  if (behavior == "kill_between_forks") {
    daemonkit::internal::SetBetweenForksHookForTesting([] { raise(SIGKILL); });
  }
  if (behavior == "slow_keeper") {
    daemonkit::internal::SetKeeperStartHookForTesting([] {
      Record(absl::GetFlag(FLAGS_report), "keeper starting");
      absl::SleepFor(absl::GetFlag(FLAGS_delay));
    });
  }
  if (behavior == "fork_fails") {
    if (!request.ok()) return 2;
    return ForkFails(request->options);
  }
  // A pointer taken before daemonizing, as an application's configuration
  // code might keep it.
  const char* kept_pointer = std::getenv("KEPT");
  const std::string kept_value = kept_pointer ? kept_pointer : "";
  std::thread helper;
  if (behavior == "threads") {
    helper = std::thread([] { absl::SleepFor(absl::Seconds(1)); });
  }
  // DaemonizeFromRequest exits on failure; the thread must be joined first.
  if (helper.joinable()) {
    absl::StatusOr<std::unique_ptr<daemonkit::Daemon>> daemon =
        daemonkit::Daemonize(request->options);
    helper.join();
    std::fprintf(stderr, "fake_daemon: %s\n",
                 std::string(daemon.status().message()).c_str());
    return daemonkit::ExitCodeFor(daemon.status());
  }
  std::unique_ptr<daemonkit::Daemon> daemon =
      daemonkit::DaemonizeFromRequest(std::move(request));

  const int earlier_starts = RecordedStarts(report_path);
  {
    std::ofstream report(report_path, std::ios::app);
    report << getpid() << " " << MonotonicNanos() << "\n";
  }
  if (absl::GetFlag(FLAGS_helper)) {
    Record(report_path, "helper " + std::to_string(ForkHelper()));
  }
  if (behavior != "slow_keeper") absl::SleepFor(absl::GetFlag(FLAGS_delay));

  if (behavior == "fail") {
    daemon->FailStartup(
        absl::UnavailableError("cannot bind 127.0.0.1:80: in use"));
    absl::SleepFor(absl::GetFlag(FLAGS_cleanup_delay));
    Record(report_path, "cleaned up");
    return 1;
  }
  if (behavior == "keep_env") {
    Record(report_path, kept_pointer != nullptr && kept_value == kept_pointer
                            ? "kept pointer intact"
                            : "kept pointer changed");
    // What every program the daemon executes would be given.
    for (char** entry = environ; entry != nullptr && *entry != nullptr;
         ++entry) {
      Record(report_path, "environ [" + std::string(*entry) + "]");
    }
  }
  if (behavior == "children") {
    Record(report_path, RunYesIntoClosedPipe());
    Record(report_path, "helper " + std::to_string(ForkHelper()));
    daemon->NotifyReady();
    for (;;) {
      daemonkit::Event event = daemon->WaitFor(absl::Hours(1));
      if (event == daemonkit::Event::kReload) {
        Record(report_path, "event reload");
      }
      if (event == daemonkit::Event::kStop) break;
    }
    Record(report_path, "event stop");
    return 0;
  }
  if (behavior == "die") _exit(3);
  if (behavior == "hang") {
    for (;;) pause();
  }
  if (behavior == "child") {
    // SIGCHLD must not be ignored behind the application's back, or the
    // kernel would reap the child and waitpid would fail with ECHILD.
    pid_t child = fork();
    if (child == 0) _exit(7);
    int status = 0;
    if (waitpid(child, &status, 0) == child && WIFEXITED(status)) {
      std::ofstream(report_path, std::ios::app)
          << "child exited " << WEXITSTATUS(status) << "\n";
    }
  }
  if (const std::string wait_for = absl::GetFlag(FLAGS_wait_for);
      !wait_for.empty()) {
    Record(report_path, "waiting for " + wait_for);
    while (access(wait_for.c_str(), F_OK) != 0) {
      if (daemon->WaitFor(absl::Milliseconds(10)) == daemonkit::Event::kStop) {
        return 0;
      }
    }
  }
  daemon->NotifyReady();
  if (!absl::GetFlag(FLAGS_status).empty()) {
    std::string status;
    if (!absl::CUnescape(absl::GetFlag(FLAGS_status), &status)) return 2;
    daemon->NotifyStatus(status);
    Record(report_path, "status sent");
  }
  if (behavior == "crash_times" &&
      earlier_starts < absl::GetFlag(FLAGS_crash_times)) {
    std::abort();
  }
  if (behavior == "fork_waits") {
    const pid_t child = fork();
    if (child == 0) {
      ForkedChildWaits(*daemon, report_path);
      _exit(0);
    }
    int status = 0;
    while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    Record(report_path, "child exited " + std::to_string(WEXITSTATUS(status)));
  }
  if (behavior == "ignore_term") {
    signal(SIGTERM, SIG_IGN);
    for (;;) pause();
  }
  if (behavior == "wall_deadline") {
    const absl::Time deadline = absl::Now() + absl::Hours(1);
    Record(report_path, "waiting for the deadline");
    for (;;) {
      const daemonkit::Event event = daemon->WaitUntil(deadline);
      if (event == daemonkit::Event::kStop) return 0;
      if (event == daemonkit::Event::kTimeout) break;
    }
    Record(report_path, "event timeout");
  }
  if (behavior == "log_lines") {
    for (int line = 0;; ++line) {
      LOG(INFO) << "line " << line << " " << std::string(40, 'x');
      if (daemon->WaitFor(absl::Milliseconds(2)) == daemonkit::Event::kStop) {
        return 0;
      }
    }
  }
  if (behavior == "exec") {
    execl("/bin/sleep", "sleep", "3600", static_cast<char*>(nullptr));
    return 1;
  }
  while (daemon->WaitFor(absl::Hours(1)) != daemonkit::Event::kStop) {
  }
  if (behavior == "drain_forever") {
    Record(report_path, "draining " + std::to_string(getpid()));
    for (;;) pause();
  }
  return 0;
}
