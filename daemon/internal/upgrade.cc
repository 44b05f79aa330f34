// Copyright 2026 The daemonkit Authors.
//
// Runs in the old daemon (capturing its command line at start, starting its
// successor on an upgrade request) and in the new one (taking the handover).

#include "daemon/internal/upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/executable_trust.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/ready_channel.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/wait_status.h"

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

// kUpgradeVariable's descriptors when it names this process, untouched.
std::optional<UpgradeHandover> ParseUpgradeVariable() {
  const char* value = getenv(kUpgradeVariable);
  if (value == nullptr) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  pid_t pid;
  UpgradeHandover handover;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &pid) ||
      pid != getpid() || !absl::SimpleAtoi(parts[1], &handover.pidfile_fd) ||
      !absl::SimpleAtoi(parts[2], &handover.ready_fd) ||
      handover.pidfile_fd < 3 || handover.ready_fd < 3) {
    return std::nullopt;
  }
  return handover;
}

// Ends `pid` (this process's child) and what it started: the group first,
// for the leader's death would not end the rest; then reaps it.
void KillAndReap(pid_t pid, int pidfd) {
  (void)kill(-pid, SIGKILL);
  if (pidfd >= 0) {
    (void)PidfdSendSignal(pidfd, SIGKILL);
  } else {
    (void)kill(pid, SIGKILL);
  }
  ReapChild(pid);
}

// Writes `byte` to the pipe `fd`, whose reader may be gone, without the
// SIGPIPE that would kill this process (a pipe has no MSG_NOSIGNAL): the
// signal is blocked for the write and a SIGPIPE it raised is taken back.
bool WriteWithoutSigpipe(int fd, char byte) {
  sigset_t pipe_only, old_mask, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  if (pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask) != 0) return false;
  sigemptyset(&pending);
  const bool was_pending =
      sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  ssize_t n;
  do {
    n = write(fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  (void)pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved;
  return n == 1;
}

}  // namespace

bool IsUpgradeSuccessor() { return ParseUpgradeVariable().has_value(); }

std::optional<UpgradeHandover> TakeUpgradeHandover() {
  std::optional<UpgradeHandover> parsed = ParseUpgradeVariable();
  if (!parsed) return std::nullopt;
  UpgradeHandover handover = *parsed;
  unsetenv(kUpgradeVariable);
  // The confirm pipe, when the old daemon knows of it (see
  // kUpgradeConfirmVariable); without it the handover counts as confirmed
  // at once, as it did before.
  if (const char* confirm = getenv(kUpgradeConfirmVariable);
      confirm != nullptr) {
    int fd = -1;
    struct stat st;
    if (absl::SimpleAtoi(confirm, &fd) && fd >= 3 &&
        fd != handover.pidfile_fd && fd != handover.ready_fd &&
        fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
      const int flags = fcntl(fd, F_GETFL);
      if (flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0) {
        handover.confirm_fd = fd;
      }
    }
    unsetenv(kUpgradeConfirmVariable);
  }
  // What an old daemon hands over: a regular file (the pid file, whose
  // lock PidFile::Adopt checks) and a pipe. Anything else is not an
  // upgrade, and the ready pipe's "R" must not land in somebody's file.
  struct stat pidfile, ready;
  if (fstat(handover.pidfile_fd, &pidfile) != 0 ||
      fstat(handover.ready_fd, &ready) != 0 || !S_ISREG(pidfile.st_mode) ||
      !S_ISFIFO(ready.st_mode)) {
    return std::nullopt;
  }
  for (int fd : {handover.pidfile_fd, handover.ready_fd, handover.confirm_fd}) {
    if (fd < 0) continue;
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return std::nullopt;
    (void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
  return handover;
}

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
  const std::string& exe = source.exe;
  // Issue 18.19: what runs next runs as this process's user (root, most
  // often), so it must be what only root (or that user) could have put
  // there. Checked at each upgrade: the path's state then is what counts.
  // By path, not by a descriptor: nobody else can change anything on a
  // path that passes (that is the check), and the successor's AT_EXECFN
  // must stay this path for its own upgrades to follow a release link.
  if (absl::Status runnable = CheckRunnableByRootAlone(exe, "binary");
      !runnable.ok()) {
    return absl::Status(runnable.code(),
                        absl::StrCat("refusing to run ", runnable.message()));
  }
  const std::vector<int> fds = sockets.fds();
  const int count = static_cast<int>(fds.size());
  // Everything the child needs is made here: after fork it only moves
  // descriptors, writes its pid into two prepared strings and execs.
  std::vector<std::string> env;
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
    env.emplace_back(variable);
  }
  env.push_back(absl::StrCat("LISTEN_FDS=", count));
  env.push_back(
      absl::StrCat("LISTEN_FDNAMES=", absl::StrJoin(sockets.names(), ":")));
  std::string listen_pid = "LISTEN_PID=" + std::string(kPidDigits, '\0');
  std::string watchdog_pid_entry =
      "WATCHDOG_PID=" + std::string(kPidDigits, '\0');
  // Room for "PID:PIDFILE_FD:READY_FD": a pid has at most 7 digits.
  std::string handover =
      absl::StrCat(kUpgradeVariable, "=", std::string(kPidDigits, '\0'));
  const int pidfile_target = 3 + count;
  const int ready_target = 4 + count;
  const int confirm_target = 5 + count;
  const std::string handover_tail =
      absl::StrCat(":", pidfile_target, ":", ready_target);
  std::vector<char*> envp;
  envp.reserve(env.size() + 4);
  env.push_back(absl::StrCat(kUpgradeConfirmVariable, "=", confirm_target));
  for (std::string& variable : env) envp.push_back(variable.data());
  envp.push_back(listen_pid.data());
  if (watchdog_pid) envp.push_back(watchdog_pid_entry.data());
  envp.push_back(handover.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = source.argv;
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  char* const listen_pid_digits =
      listen_pid.data() + std::strlen("LISTEN_PID=");
  char* const watchdog_pid_digits =
      watchdog_pid_entry.data() + std::strlen("WATCHDOG_PID=");
  char* const handover_digits =
      handover.data() + std::strlen(kUpgradeVariable) + 1;

  // A copy the fork handler does not know (it closes the library's own
  // descriptors in every child): the same open file description, so the
  // same lock.
  const int pidfile_copy = fcntl(pidfile_fd, F_DUPFD_CLOEXEC, 3);
  if (pidfile_copy < 0) return ErrnoError(errno, "dup the pid file");
  // ready: the new daemon's "R" or error. exec_failure: close-on-exec, so
  // end-of-file says the exec happened; otherwise the child writes what
  // failed and its errno.
  // confirm: the old daemon's "H" once the handover is done.
  int ready[2];
  int exec_failure[2];
  int confirm[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    const int saved = errno;
    close(pidfile_copy);
    return ErrnoError(saved, "pipe");
  }
  if (pipe2(exec_failure, O_CLOEXEC) != 0) {
    const int saved = errno;
    close(pidfile_copy);
    close(ready[0]);
    close(ready[1]);
    return ErrnoError(saved, "pipe");
  }
  if (pipe2(confirm, O_CLOEXEC) != 0) {
    const int saved = errno;
    for (int fd :
         {pidfile_copy, ready[0], ready[1], exec_failure[0], exec_failure[1]}) {
      close(fd);
    }
    return ErrnoError(saved, "pipe");
  }
  // Sources above every target, so no dup2 overwrites a source still to
  // be moved; the failure pipe last, just above the targets.
  std::vector<int> sources = fds;
  sources.push_back(pidfile_copy);
  sources.push_back(ready[1]);
  sources.push_back(confirm[0]);
  const int failure_target = confirm_target + 1;
  const int floor =
      std::max({failure_target + 1,
                *std::max_element(sources.begin(), sources.end()) + 1,
                exec_failure[1] + 1});
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int saved = errno;
    for (int fd : {ready[0], ready[1], exec_failure[0], exec_failure[1],
                   pidfile_copy, confirm[0], confirm[1]}) {
      close(fd);
    }
    return ErrnoError(saved, "fork the new daemon");
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to the exec.
    int failure = fcntl(exec_failure[1], F_DUPFD_CLOEXEC, floor);
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
    FormatPid(getpid(), listen_pid_digits);
    FormatPid(getpid(), watchdog_pid_digits);
    FormatPid(getpid(), handover_digits);
    // Append ":PIDFILE_FD:READY_FD" after the pid.
    char* end = handover_digits + std::strlen(handover_digits);
    std::memcpy(end, handover_tail.c_str(), handover_tail.size() + 1);
    execve(exe.c_str(), argv.data(), envp.data());
    fail(3);
  }
  // Also here, so that a kill of the group cannot come before the child's
  // own setpgid (EACCES: it has already exec'd, and did it itself).
  (void)setpgid(pid, pid);
  close(ready[1]);
  close(exec_failure[1]);
  close(pidfile_copy);
  close(confirm[0]);
  const int pidfd = PidfdOpen(pid);
  int report[2] = {0, 0};
  ssize_t got_report;
  do {
    got_report = read(exec_failure[0], report, sizeof(report));
  } while (got_report < 0 && errno == EINTR);
  close(exec_failure[0]);
  ReadyDecoder decoder;
  const Deadline deadline = Deadline::In(ready_timeout);
  absl::Status error;
  bool ready_seen = false;
  if (got_report == sizeof(report)) {
    constexpr const char* kSteps[] = {"move descriptors for", "detach",
                                      "enter the directory of", "run"};
    const int step = std::clamp(report[0], 0, 3);
    error = ErrnoError(report[1], absl::StrCat("cannot ", kSteps[step], " ",
                                               step == 2 ? source.cwd : exe));
  }
  while (error.ok()) {
    if (deadline.Passed()) {
      error = absl::DeadlineExceededError(
          absl::StrCat("the new daemon was not ready within ",
                       absl::FormatDuration(ready_timeout)));
      break;
    }
    // poll(2) skips a negative descriptor: no pidfd, no interrupt_fd.
    struct pollfd pfds[3] = {
        {ready[0], POLLIN, 0}, {pidfd, POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    const int n = poll(pfds, 3, deadline.PollTimeoutMs());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = ErrnoError(errno, "poll the new daemon's ready pipe");
      break;
    }
    if (n == 0) continue;
    if ((pfds[2].revents & POLLIN) != 0 && interrupted()) {
      error = absl::AbortedError(
          "the daemon was told to stop before the new one was ready");
      break;
    }
    if (pfds[0].revents != 0) {
      char buffer[4096];
      const ssize_t got = read(ready[0], buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        decoder.Append(absl::string_view(buffer, static_cast<size_t>(got)));
        while (std::optional<ReadyDecoder::Message> message = decoder.Next()) {
          if (message->kind == ReadyDecoder::Message::Kind::kReady) {
            ready_seen = true;
          }
        }
        if (ready_seen) break;
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
      error = absl::FailedPreconditionError(*text);
    } else {
      error = absl::FailedPreconditionError(
          "the new daemon exited before it was ready");
    }
    break;
  }
  close(ready[0]);
  // Attack 4: "ready" is a past state; a successor killed since (its old
  // daemon was frozen meanwhile) serves nothing, and must not be handed
  // the service.
  if (ready_seen && !SuccessorAlive(pid)) {
    ready_seen = false;
    error = absl::FailedPreconditionError(absl::StrCat(
        "the new daemon (pid ", pid, ") died after it said it was ready"));
  }
  if (ready_seen) {
    if (pidfd >= 0) close(pidfd);
    Successor successor;
    successor.pid = pid;
    successor.confirm_fd = confirm[1];
    return successor;
  }
  close(confirm[1]);
  KillAndReap(pid, pidfd);
  if (pidfd >= 0) close(pidfd);
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
  close(std::exchange(successor.confirm_fd, -1));
  return result;
}

void AbandonSuccessor(Successor& successor) {
  if (successor.confirm_fd >= 0) close(std::exchange(successor.confirm_fd, -1));
  if (successor.pid > 0) {
    const int pidfd = PidfdOpen(successor.pid);
    KillAndReap(successor.pid, pidfd);
    if (pidfd >= 0) close(pidfd);
  }
}

uint64_t UpgradeDescriptorsNeeded(size_t sockets) {
  // Measured with one socket: an upgrade fails at 16 and succeeds at 20.
  // Each socket is held up to three times over (the old daemon, the moved
  // copy and the placed one in its child); the rest is margin for the
  // application's own files.
  return 32 + 3 * static_cast<uint64_t>(sockets);
}

std::string DescriptorHeadroomRefusal(uint64_t soft, size_t sockets) {
  const uint64_t needed = UpgradeDescriptorsNeeded(sockets);
  if (soft >= needed) return "";
  return absl::StrCat(
      "upgrade needs RLIMIT_NOFILE of at least ", needed, " (it is ", soft,
      "); raise it with --daemon_rlimits=nofile=", needed, " or more");
}

void SurviveTheOldDaemon() { (void)prctl(PR_SET_PDEATHSIG, 0); }

absl::StatusOr<uint64_t> NewUpgradeToken() {
  uint64_t token = 0;
  while (token == 0) {
    const ssize_t n = getrandom(&token, sizeof(token), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof(token))) {
      return ErrnoError(n < 0 ? errno : EIO, "getrandom");
    }
  }
  return token;
}

std::string UpgradeChannelName(dev_t dev, ino_t ino, uint64_t token) {
  return absl::StrCat("daemonkit-upgrade-", dev, "-", ino, "-",
                      absl::Hex(token, absl::kZeroPad16));
}

int ConnectUpgradeChannel(dev_t dev, ino_t ino, uint64_t token) {
  if (ino == 0 || token == 0) return -1;
  const absl::StatusOr<SocketAddress> address =
      SocketAddress::UnixAbstract(UpgradeChannelName(dev, ino, token));
  if (!address.ok()) return -1;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // The main loop waits here: not for long, should others fill the
  // listener's backlog (its name is visible once bound).
  const struct timeval timeout = {1, 0};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0) {
    close(fd);
    return -1;
  }
  if (connect(fd, address->get(), address->length()) != 0) {
    close(fd);
    return -1;
  }
  // Whoever listens there gets the new daemon's error text: only root or
  // this daemon's own user (who could signal it anyway).
  struct ucred peer;
  socklen_t peer_length = sizeof(peer);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0 ||
      (peer.uid != 0 && peer.uid != geteuid())) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace internal
}  // namespace daemonkit
