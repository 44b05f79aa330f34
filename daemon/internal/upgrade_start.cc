// Copyright 2026 The daemonkit Authors.
//
// Runs in the old daemon (capturing its command line at start, starting its
// successor on an upgrade request) and, between fork and exec, in the
// successor-to-be.

#include "daemon/internal/upgrade_start.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/executable_trust.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/upgrade.h"

extern char** environ;

namespace daemonkit {
namespace internal {
namespace {

// Room for a pid written in the child, where nothing may allocate.
constexpr size_t kPidDigits = 20;

// Writes `value` in decimal at `out` (room for kPidDigits), NUL-terminated.
// Async-signal-safe.
void FormatPid(pid_t value, char* out) {
  char digits[kPidDigits];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < kPidDigits - 1);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

// The successor's command line and environment, made before the fork:
// after it, the child only writes its pid into the placeholders and execs.
// Neither copied nor moved, for the pointer arrays point into its strings.
class SuccessorCommand {
 public:
  SuccessorCommand(const UpgradeSource& source, const ListenSockets& sockets);
  SuccessorCommand(const SuccessorCommand&) = delete;
  SuccessorCommand& operator=(const SuccessorCommand&) = delete;

  // Where the successor finds the pid file, its ready pipe and its confirm
  // pipe: right after its LISTEN_FDS sockets (3 on).
  int pidfile_target() const { return 3 + sockets_; }
  int ready_target() const { return 4 + sockets_; }
  int confirm_target() const { return 5 + sockets_; }

  // In the child: its pid into LISTEN_PID, WATCHDOG_PID and the handover
  // variable. Async-signal-safe.
  void SetPid(pid_t pid);
  char* const* argv() const { return argv_.data(); }
  char* const* envp() const { return envp_.data(); }

 private:
  int sockets_;
  std::vector<std::string> env_;
  std::vector<std::string> args_;
  // Placeholders of kPidDigits NULs after the '='.
  std::string listen_pid_ = "LISTEN_PID=" + std::string(kPidDigits, '\0');
  std::string watchdog_pid_ = "WATCHDOG_PID=" + std::string(kPidDigits, '\0');
  std::string handover_ =
      absl::StrCat(kUpgradeVariable, "=", std::string(kPidDigits, '\0'));
  // ":PIDFILE_FD:READY_FD", appended after the pid.
  std::string handover_tail_;
  std::vector<char*> envp_;
  std::vector<char*> argv_;
};

SuccessorCommand::SuccessorCommand(const UpgradeSource& source,
                                   const ListenSockets& sockets)
    : sockets_(static_cast<int>(sockets.fds().size())), args_(source.argv) {
  bool watchdog_pid = false;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    if (absl::StartsWith(variable, "LISTEN_") ||
        absl::StartsWith(variable, absl::StrCat(kUpgradeVariable, "=")) ||
        absl::StartsWith(variable,
                         absl::StrCat(kUpgradeConfirmVariable, "="))) {
      continue;
    }
    // Issue 18.9: systemd's watchdog is the main pid's, which the successor
    // becomes; with the old pid it would take the watchdog for another
    // process's and never feed it. Its own pid, as LISTEN_PID.
    if (absl::StartsWith(variable, "WATCHDOG_PID=")) {
      watchdog_pid = true;
      continue;
    }
    env_.emplace_back(variable);
  }
  env_.push_back(absl::StrCat("LISTEN_FDS=", sockets_));
  env_.push_back(
      absl::StrCat("LISTEN_FDNAMES=", absl::StrJoin(sockets.names(), ":")));
  env_.push_back(absl::StrCat(kUpgradeConfirmVariable, "=", confirm_target()));
  handover_tail_ = absl::StrCat(":", pidfile_target(), ":", ready_target());
  envp_.reserve(env_.size() + 4);
  for (std::string& variable : env_) envp_.push_back(variable.data());
  envp_.push_back(listen_pid_.data());
  if (watchdog_pid) envp_.push_back(watchdog_pid_.data());
  envp_.push_back(handover_.data());
  envp_.push_back(nullptr);
  argv_.reserve(args_.size() + 1);
  for (std::string& arg : args_) argv_.push_back(arg.data());
  argv_.push_back(nullptr);
}

void SuccessorCommand::SetPid(pid_t pid) {
  FormatPid(pid, listen_pid_.data() + std::strlen("LISTEN_PID="));
  FormatPid(pid, watchdog_pid_.data() + std::strlen("WATCHDOG_PID="));
  char* const digits = handover_.data() + std::strlen(kUpgradeVariable) + 1;
  FormatPid(pid, digits);
  char* const end = digits + std::strlen(digits);
  std::memcpy(end, handover_tail_.c_str(), handover_tail_.size() + 1);
}

// The descriptors of one start, each closed with this object in the old
// daemon. pidfile_copy: a copy the fork handler does not know (it closes
// the library's own descriptors in every child), the same open file
// description, so the same lock. ready: the new daemon's "R" or error.
// exec_failure: close-on-exec, so end-of-file says the exec happened;
// otherwise the child writes what failed and its errno. confirm: the old
// daemon's "H" once the handover is done.
struct SuccessorPipes {
  UniqueFd pidfile_copy;
  UniqueFd ready_read, ready_write;
  UniqueFd failure_read, failure_write;
  UniqueFd confirm_read, confirm_write;
};

absl::StatusOr<SuccessorPipes> OpenSuccessorPipes(int pidfile_fd) {
  SuccessorPipes pipes;
  pipes.pidfile_copy.reset(fcntl(pidfile_fd, F_DUPFD_CLOEXEC, 3));
  if (!pipes.pidfile_copy.valid()) {
    return ErrnoError(errno, "dup the pid file");
  }
  const std::pair<UniqueFd*, UniqueFd*> ends[] = {
      {&pipes.ready_read, &pipes.ready_write},
      {&pipes.failure_read, &pipes.failure_write},
      {&pipes.confirm_read, &pipes.confirm_write}};
  for (const auto& [read_end, write_end] : ends) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
    read_end->reset(fds[0]);
    write_end->reset(fds[1]);
  }
  return pipes;
}

// The successor-to-be, between fork and exec: only async-signal-safe
// calls. `sources` go to 3, 4, ... in order (the sockets, then the pid
// file, the ready pipe and the confirm pipe); each is first moved to or
// above `floor`, above every target, so that no dup2 overwrites a source
// still to be moved. What fails is written to the failure pipe as {step,
// errno}, the steps ReadExecFailure names.
[[noreturn]] void ExecSuccessor(const UpgradeSource& source,
                                SuccessorCommand& command,
                                const std::vector<int>& sources,
                                int failure_pipe, int floor, pid_t parent) {
  int failure = fcntl(failure_pipe, F_DUPFD_CLOEXEC, floor);
  const auto fail = [&failure](int step) {
    const int report[2] = {step, errno};
    if (failure >= 0) {
      ssize_t ignored = write(failure, report, sizeof(report));
      (void)ignored;
    }
    _exit(127);
  };
  if (failure < 0) fail(0);
  int moved[256 + 2];
  if (sources.size() > sizeof(moved) / sizeof(moved[0])) {
    errno = EMFILE;
    fail(0);
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    moved[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, floor);
    if (moved[i] < 0) fail(0);
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    if (dup2(moved[i], 3 + static_cast<int>(i)) < 0) fail(0);
  }
  // The failure pipe last, just above the targets.
  const int failure_target = command.confirm_target() + 1;
  if (dup3(failure, failure_target, O_CLOEXEC) < 0) fail(0);
  failure = failure_target;
  syscall(SYS_close_range, failure_target + 1, ~0U, 0);
  // A group of its own: a failed start is ended with what it started.
  if (setpgid(0, 0) != 0) fail(1);
  // Until it is ready, it does not outlive an old daemon that was
  // SIGKILLed meanwhile (the old one's pid file would name nothing).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(1);
  if (getppid() != parent) _exit(127);
  if (chdir(source.cwd.c_str()) != 0) fail(2);
  command.SetPid(getpid());
  execve(source.exe.c_str(), command.argv(), command.envp());
  fail(3);
  _exit(127);  // not reached: fail() exits
}

// What the child reported on the failure pipe: OK once it exec'd
// (end-of-file), else the step that failed and why.
absl::Status ReadExecFailure(int failure_pipe, const UpgradeSource& source) {
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = read(failure_pipe, report, sizeof(report));
  } while (got < 0 && errno == EINTR);
  if (got != sizeof(report)) return absl::OkStatus();
  constexpr const char* kSteps[] = {"move descriptors for", "detach",
                                    "enter the directory of", "run"};
  const int step = std::clamp(report[0], 0, 3);
  return ErrnoError(report[1],
                    absl::StrCat("cannot ", kSteps[step], " ",
                                 step == 2 ? source.cwd : source.exe));
}

// Waits for the new daemon's "R" on `ready_pipe`: OK once it came; the
// error it reported, its death, the ready timeout, or an interruption
// (`interrupt_fd` readable and `interrupted()` true) otherwise.
absl::Status AwaitSuccessorReady(int ready_pipe, int pidfd, int interrupt_fd,
                                 const std::function<bool()>& interrupted,
                                 absl::Duration ready_timeout) {
  ReadyDecoder decoder;
  const Deadline deadline = Deadline::In(ready_timeout);
  for (;;) {
    if (deadline.Passed()) {
      return absl::DeadlineExceededError(
          absl::StrCat("the new daemon was not ready within ",
                       absl::FormatDuration(ready_timeout)));
    }
    // poll(2) skips a negative descriptor: no pidfd, no interrupt_fd.
    struct pollfd pfds[3] = {
        {ready_pipe, POLLIN, 0}, {pidfd, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    const int n = poll(pfds, 3, deadline.PollTimeoutMs());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(errno, "poll the new daemon's ready pipe");
    if (n == 0) continue;
    if ((pfds[2].revents & POLLIN) != 0 && interrupted()) {
      return absl::AbortedError(
          "the daemon was told to stop before the new one was ready");
    }
    if (pfds[0].revents != 0) {
      char buffer[4096];
      const ssize_t got = read(ready_pipe, buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        decoder.Append(absl::string_view(buffer, static_cast<size_t>(got)));
        bool ready_seen = false;
        while (std::optional<ReadyDecoder::Message> message = decoder.Next()) {
          if (message->kind == ReadyDecoder::Message::Kind::kReady) {
            ready_seen = true;
          }
        }
        if (ready_seen) return absl::OkStatus();
        continue;
      }
      // End-of-file (or a broken pipe): the new daemon is done writing.
    } else if (pfds[1].revents == 0) {
      continue;
    }
    // The pipe's end, or the new daemon's exit with nothing more to read
    // (what it started may hold the pipe open): an error message, or it
    // died.
    if (std::optional<std::string> text = decoder.ErrorAtEnd()) {
      return absl::FailedPreconditionError(*text);
    }
    return absl::FailedPreconditionError(
        "the new daemon exited before it was ready");
  }
}

}  // namespace

absl::StatusOr<UpgradeSource> CaptureUpgradeSource() {
  UpgradeSource source;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError(errno, "getcwd");
  source.cwd = cwd;
  // The path execve(2) was given, unresolved: /proc/self/exe would pin the
  // release a symlink named at start. A path that named a descriptor
  // (fexecve) names nothing later; then the binary's own path it is.
  const char* executed =
      // The auxiliary vector holds the address as an integer.
      // NOLINTNEXTLINE(performance-no-int-to-ptr)
      reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  if (executed != nullptr && *executed != '\0' &&
      !absl::StartsWith(executed, "/dev/fd/") &&
      !absl::StartsWith(executed, "/proc/")) {
    source.exe = executed[0] == '/' ? std::string(executed)
                                    : absl::StrCat(source.cwd, "/", executed);
  } else {
    char exe[4096];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0) return ErrnoError(errno, "readlink /proc/self/exe");
    source.exe.assign(exe, static_cast<size_t>(n));
    // Replaced since it started: the kernel shows " (deleted)" after the
    // path, where the new binary now is.
    if (absl::EndsWith(source.exe, " (deleted)")) {
      source.exe.resize(source.exe.size() - std::strlen(" (deleted)"));
    }
  }
  DAEMONKIT_ASSIGN_OR_RETURN(std::string cmdline,
                             ReadSmallFile("/proc/self/cmdline"));
  if (!cmdline.empty() && cmdline.back() == '\0') cmdline.pop_back();
  source.argv = absl::StrSplit(cmdline, '\0');
  return source;
}

absl::StatusOr<Successor> StartSuccessor(
    const UpgradeSource& source, int pidfile_fd, const ListenSockets& sockets,
    absl::Duration ready_timeout, int interrupt_fd,
    const std::function<bool()>& interrupted) {
  // Issue 18.19: what runs next runs as this process's user (root, most
  // often), so it must be what only root (or that user) could have put
  // there. Checked at each upgrade: the path's state then is what counts.
  // By path, not by a descriptor: nobody else can change anything on a
  // path that passes (that is the check), and the successor's AT_EXECFN
  // must stay this path for its own upgrades to follow a release link.
  if (absl::Status runnable = CheckRunnableByRootAlone(source.exe, "binary");
      !runnable.ok()) {
    return absl::Status(runnable.code(),
                        absl::StrCat("refusing to run ", runnable.message()));
  }
  // Everything the child needs is made here.
  SuccessorCommand command(source, sockets);
  absl::StatusOr<SuccessorPipes> pipes = OpenSuccessorPipes(pidfile_fd);
  if (!pipes.ok()) return pipes.status();
  std::vector<int> sources = sockets.fds();
  sources.push_back(pipes->pidfile_copy.get());
  sources.push_back(pipes->ready_write.get());
  sources.push_back(pipes->confirm_read.get());
  const int floor =
      std::max({command.confirm_target() + 2,
                *std::max_element(sources.begin(), sources.end()) + 1,
                pipes->failure_write.get() + 1});
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return ErrnoError(errno, "fork the new daemon");
  if (pid == 0) {
    ExecSuccessor(source, command, sources, pipes->failure_write.get(), floor,
                  parent);
  }
  // Also here, so that a kill of the group cannot come before the child's
  // own setpgid (EACCES: it has already exec'd, and did it itself).
  (void)setpgid(pid, pid);
  pipes->ready_write.reset();
  pipes->failure_write.reset();
  pipes->pidfile_copy.reset();
  pipes->confirm_read.reset();
  const UniqueFd pidfd(PidfdOpen(pid));
  absl::Status error = ReadExecFailure(pipes->failure_read.get(), source);
  pipes->failure_read.reset();
  if (error.ok()) {
    error = AwaitSuccessorReady(pipes->ready_read.get(), pidfd.get(),
                                interrupt_fd, interrupted, ready_timeout);
  }
  pipes->ready_read.reset();
  // Attack 4: "ready" is a past state; a successor killed since (its old
  // daemon was frozen meanwhile) serves nothing, and must not be handed
  // the service.
  if (error.ok() && !SuccessorAlive(pid)) {
    error = absl::FailedPreconditionError(absl::StrCat(
        "the new daemon (pid ", pid, ") died after it said it was ready"));
  }
  if (error.ok()) {
    Successor successor;
    successor.pid = pid;
    successor.confirm_fd = pipes->confirm_write.release();
    return successor;
  }
  pipes->confirm_write.reset();
  KillAndReap(pid, pidfd.get());
  return error;
}

bool SuccessorAlive(pid_t pid) {
  // The child's state without reaping it: a zombie (or a child already
  // reaped, ECHILD) is dead. /proc would say the same with more parsing.
  siginfo_t info = {};
  int result;
  do {
    result = waitid(P_PID, static_cast<id_t>(pid), &info,
                    WEXITED | WNOHANG | WNOWAIT);
  } while (result < 0 && errno == EINTR);
  if (result < 0) return false;
  return info.si_pid == 0;
}

absl::Status ConfirmHandover(Successor& successor) {
  absl::Status result;
  if (!SuccessorAlive(successor.pid)) {
    result = absl::FailedPreconditionError(absl::StrCat(
        "the new daemon (pid ", successor.pid, ") died before the handover"));
  } else if (!WriteWithoutSigpipe(successor.confirm_fd, 'H')) {
    // EPIPE: nothing reads its end any more, so it is dead (or was never
    // going to listen); anything else leaves it unconfirmed for good.
    result = ErrnoError(
        errno, absl::StrCat("confirm the handover to pid ", successor.pid));
  }
  if (!result.ok()) {
    AbandonSuccessor(successor);
    return result;
  }
  CloseDescriptor(std::exchange(successor.confirm_fd, -1));
  return result;
}

void AbandonSuccessor(Successor& successor) {
  CloseDescriptor(std::exchange(successor.confirm_fd, -1));
  if (successor.pid > 0) {
    const UniqueFd pidfd(PidfdOpen(successor.pid));
    KillAndReap(successor.pid, pidfd.get());
  }
}

}  // namespace internal
}  // namespace daemonkit
