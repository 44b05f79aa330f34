// Copyright 2026 The daemonkit Authors.
//
// The program //tools:daemonkit runs, seen from its monitor (issue 21).

#include "daemon/internal/program.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/listen_address.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/process_controls.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/wait_status.h"
#include "daemon/options.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr char kReadyModes[] =
    "started, notify, fd:N, connect:tcp:HOST:PORT, connect:unix:PATH or "
    "command";

// The most listening sockets handed to a program (systemd's limit is far
// above what a program listens on; the child moves them without allocating).
constexpr int kMaxSockets = 64;

// `fd` moved to a number at least `floor` (close-on-exec), the old one
// closed; -1 with errno on failure (the old one closed too).
int MoveAbove(int fd, int floor) {
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor);
  const int saved = errno;
  close(fd);
  errno = saved;
  return moved;
}

// Whether a line of a program's notification goes on to an outer service
// manager (issue 21.2): STATUS= and the four documented flags, each matched
// as a whole line, as the supervisor relays (issue 18.3). MAINPID=,
// FDSTORE=, ERRNO= and the rest speak for the service, which the monitor
// is; WATCHDOG=trigger would fire systemd's watchdog action, and systemd
// reads a datagram only up to a NUL.
bool IsRelayed(absl::string_view line) {
  if (line.find('\0') != absl::string_view::npos) return false;
  return absl::StartsWith(line, "STATUS=") || line == "RELOADING=1" ||
         line == "STOPPING=1" || line == "WATCHDOG=1" || line == "READY=1";
}

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
    {"TERM", SIGTERM}, {"ALRM", SIGALRM},   {"CONT", SIGCONT},
    {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}, {"PWR", SIGPWR},
    {"ABRT", SIGABRT}, {"TSTP", SIGTSTP},   {"PIPE", SIGPIPE},
};

// The live and zombie children of this process, from /proc (the kernel's
// per-task "children" list is not built into every kernel).
std::vector<std::pair<pid_t, char>> Children() {
  std::vector<std::pair<pid_t, char>> children;
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0) continue;
    absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
    pid_t parent = 0;
    if (!stat.ok() || !stat->ParseField(ProcStat::kPpid, &parent) ||
        parent != self) {
      continue;
    }
    children.emplace_back(pid, stat->state());
  }
  closedir(proc);
  return children;
}

// What the child reports when it cannot become the program: one write,
// under PIPE_BUF, so it arrives whole.
struct ChildFailure {
  enum Stage : int { kSetup = 0, kPrivileges = 1, kExec = 2, kCgroup = 3 };
  int stage = kSetup;
  int error = 0;
  // kPrivileges: a message (DropPrivileges', a chroot's naming its path).
  char text[2048] = {};
};
static_assert(sizeof(ChildFailure) < PIPE_BUF);

// In the child, between fork and exec (the monitor is single-threaded, so
// the child may allocate): what it cannot do is reported through `report`
// before _exit(127). The environment is prepared before the fork.
[[noreturn]] void ExecInChild(char* const argv[], char* const envp[],
                              const ReadyMode& ready, int ready_write,
                              const std::vector<ActivatedSocket>& sockets,
                              const ProgramIdentity& identity, int cgroup_procs,
                              const ProgramOutputs& outputs, int floor,
                              int report, pid_t monitor) {
  auto fail = [report](int stage, int error, absl::string_view text = "") {
    ChildFailure failure;
    failure.stage = stage;
    failure.error = error;
    text.copy(failure.text, sizeof(failure.text) - 1);
    (void)!write(report, &failure, sizeof(failure));
    _exit(127);
  };
  // The lock lives in the monitor: a program without it would run unseen
  // and a second one could start beside it.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    fail(ChildFailure::kSetup, errno);
  }
  if (getppid() != monitor) _exit(127);
  // Into the program's own cgroup before anything else (issue 21.3): as
  // the monitor's user, which may move it (a dropped user may not), and
  // before anything could fork, so that nothing of the program starts
  // outside it.
  if (cgroup_procs >= 0 && write(cgroup_procs, "0", 1) != 1) {
    fail(ChildFailure::kCgroup, errno);
  }
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    (void)sigaction(signo, &action, nullptr);  // EINVAL for glibc's own
  }
  // --daemon_user, --daemon_group: the program's, not the monitor's, which
  // keeps the pid file's lock and its right to write it.
  // A `nofile` limit is set last, once the descriptors are in place: the
  // set-up below moves them through numbers above the program's own, which
  // a small limit refused with a bare EINVAL or EBADF (the attack of
  // 2026-12-07). Only its raise of the hard limit comes now, while the
  // process may still raise one. Lowering a limit needs no privilege.
  std::vector<LimitRequest> descriptor_limits;
  std::vector<LimitRequest> other_limits;
  for (const LimitRequest& limit : identity.limits) {
    (limit.name == "nofile" ? descriptor_limits : other_limits)
        .push_back(limit);
  }
  if (absl::Status limited = ApplyResourceLimits(other_limits); !limited.ok()) {
    fail(ChildFailure::kPrivileges, 0, limited.message());
  }
  if (absl::Status raised = RaiseHardLimits(descriptor_limits); !raised.ok()) {
    fail(ChildFailure::kPrivileges, 0, raised.message());
  }
  // --daemon_chroot, before the drop (which takes the right to chroot) and
  // before the exec, which then finds the program inside the new root.
  if (!identity.root.empty()) {
    // In the foreground the caller's descriptors are handed down as they
    // are: a directory among them would lead out of the root.
    if (absl::Status closed = CloseDirectoryDescriptors(); !closed.ok()) {
      fail(ChildFailure::kPrivileges, 0, closed.message());
    }
    if (chroot(identity.root.c_str()) != 0) {
      fail(ChildFailure::kPrivileges, 0,
           absl::StrCat("--daemon_chroot=", identity.root,
                        ": chroot: ", strerror(errno)));
    }
    const std::string workdir =
        identity.workdir.empty() ? "/" : identity.workdir;
    if (chdir(workdir.c_str()) != 0) {
      fail(ChildFailure::kPrivileges, 0,
           absl::StrCat("--daemon_workdir=", workdir,
                        " inside --daemon_chroot=", identity.root, ": ",
                        strerror(errno)));
    }
  }
  if (identity.credentials) {
    // The library's own order (daemon_startup.cc): the bounding set and
    // PR_SET_KEEPCAPS before the drop, the kept sets (ambient too) and
    // PR_SET_NO_NEW_PRIVS after it.
    CapabilityKeeper capabilities(
        identity.capabilities,
        identity.no_new_privs && identity.credentials->uid != 0);
    if (absl::Status prepared = capabilities.Prepare(); !prepared.ok()) {
      fail(ChildFailure::kPrivileges, 0, prepared.message());
    }
    if (absl::Status dropped = DropPrivileges(*identity.credentials);
        !dropped.ok()) {
      fail(ChildFailure::kPrivileges, 0, dropped.message());
    }
    if (absl::Status finished = capabilities.Finish(); !finished.ok()) {
      fail(ChildFailure::kPrivileges, 0, finished.message());
    }
    // A kept capability must not undo the drop (cap_setuid).
    if (!identity.capabilities.empty() && setuid(0) == 0) {
      fail(ChildFailure::kPrivileges, 0,
           "--daemon_capabilities: the program could regain root after "
           "dropping privileges; refusing to run it");
    }
    // The kernel clears the parent-death signal when the credentials
    // change: without this a program that dropped to --daemon_user
    // outlived a SIGKILLed monitor, unseen, and a second start ran beside
    // it (the second attack of 2026-12-06).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
      fail(ChildFailure::kSetup, errno);
    }
    if (getppid() != monitor) _exit(127);
  }
  // The output relay's pipes first: their numbers may be among the
  // sockets' targets below (dup2 clears CLOEXEC on 1 and 2 only).
  if ((outputs.stdout_fd >= 0 && dup2(outputs.stdout_fd, 1) < 0) ||
      (outputs.stderr_fd >= 0 && dup2(outputs.stderr_fd, 2) < 0)) {
    fail(ChildFailure::kSetup, errno);
  }
  // Sockets to 3.., by way of numbers above every target so that no dup2
  // overwrites a socket not yet moved (the parent put `report` and
  // `ready_write` above the targets too).
  const int n = static_cast<int>(sockets.size());
  int moved[kMaxSockets];
  for (int i = 0; i < n; ++i) {
    moved[i] = fcntl(sockets[i].fd, F_DUPFD_CLOEXEC, floor);
    if (moved[i] < 0) fail(ChildFailure::kSetup, errno);
  }
  for (int i = 0; i < n; ++i) {
    // dup2 clears CLOEXEC.
    if (dup2(moved[i], 3 + i) < 0) {
      fail(ChildFailure::kSetup, errno);
    }
    close(moved[i]);
  }
  if (ready.kind == ReadyMode::Kind::kFd) {
    if (ready_write == ready.fd) {
      if (fcntl(ready_write, F_SETFD, 0) != 0) {
        fail(ChildFailure::kSetup, errno);
      }
    } else if (dup2(ready_write, ready.fd) < 0) {
      fail(ChildFailure::kSetup, errno);
    }
  }
  if (absl::Status limited = ApplyResourceLimits(descriptor_limits);
      !limited.ok()) {
    fail(ChildFailure::kPrivileges, 0, limited.message());
  }
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) {
    fail(ChildFailure::kSetup, errno);
  }
  execvpe(argv[0], argv, envp);
  // ENOENT for a file that is there: what is missing is what runs it (the
  // attack of 2026-12-07: a root without the ELF loader said only that the
  // program was missing).
  if (errno == ENOENT && std::strchr(argv[0], '/') != nullptr &&
      access(argv[0], F_OK) == 0) {
    fail(ChildFailure::kPrivileges, 0,
         absl::StrCat(
             argv[0],
             ": its interpreter (the ELF loader, or the program "
             "on its #! line) was not found",
             identity.root.empty()
                 ? ""
                 : absl::StrCat(" inside --daemon_chroot=", identity.root)));
  }
  fail(ChildFailure::kExec, errno);
  _exit(127);  // not reached
}

}  // namespace

absl::StatusOr<ReadyMode> ParseReadyMode(absl::string_view text,
                                         absl::string_view ready_command) {
  ReadyMode mode;
  if (text == "started") return mode;
  if (text == "command") {
    if (ready_command.empty()) {
      return UsageError("ready",
                        "--ready=command: needs --ready_command, "
                        "the command whose exit 0 says ready");
    }
    mode.kind = ReadyMode::Kind::kCommand;
    mode.command = std::string(ready_command);
    return mode;
  }
  absl::string_view target = text;
  if (absl::ConsumePrefix(&target, "connect:")) {
    std::string written(target);
    // Names are not resolved (a start must not wait on DNS), but for
    // the one every machine has.
    if (absl::StartsWith(written, "tcp:localhost:")) {
      written = absl::StrCat("tcp:127.0.0.1:",
                             written.substr(std::strlen("tcp:localhost:")));
    }
    absl::StatusOr<ListenEntry> entry =
        ParseListenEntry(absl::StrCat("ready=", written));
    if (!entry.ok()) {
      // The parser's words for --daemon_listen, less its "listen entry
      // 'ready=...': " preamble.
      absl::string_view why = entry.status().message();
      if (const size_t end = why.find("': "); end != why.npos) {
        why.remove_prefix(end + 3);
      }
      return UsageError("ready", absl::StrCat("--ready=", text, ": ", why));
    }
    mode.kind = ReadyMode::Kind::kConnect;
    mode.address = entry->address;
    if (mode.address.family == ListenAddress::Family::kUnix &&
        !mode.address.abstract && !absl::StartsWith(mode.address.path, "/")) {
      // From where daemonkit was started, not from the daemon's workdir.
      char cwd[PATH_MAX];
      if (getcwd(cwd, sizeof(cwd)) == nullptr) {
        return ErrnoError(errno, "getcwd");
      }
      mode.address.path = absl::StrCat(cwd, "/", mode.address.path);
      if (mode.address.path.size() > kMaxUnixPath) {
        return UsageError("ready", absl::StrCat("--ready=", text,
                                                ": the absolute path is too "
                                                "long for a socket"));
      }
    }
    return mode;
  }
  if (text == "notify") {
    mode.kind = ReadyMode::Kind::kNotify;
    return mode;
  }
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "fd:")) {
    int fd;
    // Plain decimal, as the README writes it: "fd:03" or "fd:+3" would be
    // accepted by SimpleAtoi and then named differently everywhere else.
    const bool decimal =
        !rest.empty() && rest[0] != '0' &&
        std::all_of(rest.begin(), rest.end(), absl::ascii_isdigit);
    if (!decimal || !absl::SimpleAtoi(rest, &fd) || fd < 3 || fd > 1023) {
      return UsageError("ready",
                        absl::StrCat("--ready=", text,
                                     ": the descriptor must be a number from 3 "
                                     "to 1023 (0 to 2 are the program's stdin, "
                                     "stdout and stderr)"));
    }
    mode.kind = ReadyMode::Kind::kFd;
    mode.fd = fd;
    return mode;
  }
  return UsageError(
      "ready", absl::StrCat("--ready=", text, ": unknown --ready mode (takes ",
                            kReadyModes, ")"));
}

absl::StatusOr<int> ParseSignal(absl::string_view flag,
                                absl::string_view text) {
  int number;
  if (absl::SimpleAtoi(text, &number)) {
    if (number >= 1 && number < NSIG) return number;
  } else {
    std::string name = absl::AsciiStrToUpper(text);
    absl::string_view bare = name;
    absl::ConsumePrefix(&bare, "SIG");
    for (const SignalName& known : kSignals) {
      if (bare == known.name) return known.number;
    }
  }
  return UsageError(flag, absl::StrCat("--", flag, "=", text,
                                       ": not a signal (a name such as TERM "
                                       "or SIGQUIT, or a number)"));
}

absl::Status CheckReadyFdIsFree(const ReadyMode& ready, size_t socket_count) {
  if (ready.kind != ReadyMode::Kind::kFd ||
      ready.fd >= 3 + static_cast<int>(socket_count)) {
    return absl::OkStatus();
  }
  return UsageError(
      "ready",
      absl::StrCat("--ready=fd:", ready.fd, ": descriptor ", ready.fd,
                   " is a listening socket's (",
                   socket_count == 1
                       ? std::string("the socket of --daemon_listen takes 3")
                       : absl::StrCat("the ", socket_count,
                                      " sockets of --daemon_listen take 3 to ",
                                      2 + socket_count),
                   "); use fd:", 3 + socket_count, " or above"));
}

absl::Status CheckReadyIsNotAListenSocket(
    const ReadyMode& ready, const std::vector<std::string>& listen) {
  if (ready.kind != ReadyMode::Kind::kConnect) return absl::OkStatus();
  const ListenAddress& probe = ready.address;
  for (const std::string& entry : listen) {
    absl::StatusOr<ListenEntry> parsed = ParseListenEntry(entry);
    if (!parsed.ok()) continue;  // validation says so, with its own words
    const ListenAddress& bound = parsed->address;
    bool same = false;
    if (probe.family == ListenAddress::Family::kUnix) {
      std::string path = bound.path;
      if (!bound.abstract && !path.empty() && path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) != nullptr) {
          path = absl::StrCat(cwd, "/", path);
        }
      }
      same = bound.family == ListenAddress::Family::kUnix &&
             bound.abstract == probe.abstract && path == probe.path;
    } else {
      // A wildcard listener takes the probe's connection too.
      same = bound.family == probe.family && bound.port == probe.port &&
             (bound.host == probe.host || bound.host == "0.0.0.0" ||
              bound.host == "::");
    }
    if (same) {
      return UsageError(
          "ready",
          absl::StrCat("--ready=connect:", probe.text,
                       ": --daemon_listen=", entry,
                       " is daemonkit's own socket, which takes a connection "
                       "before the program runs; use --ready=notify or fd:N"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Program>> Program::Start(
    const std::vector<std::string>& argv, const ReadyMode& ready,
    const std::vector<ActivatedSocket>& sockets,
    const ProgramIdentity& identity, const CgroupEntry& cgroup,
    const ProgramOutputs& outputs) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to run");
  if (sockets.size() > kMaxSockets) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxSockets, " listening sockets"));
  }
  DAEMONKIT_RETURN_IF_ERROR(CheckReadyFdIsFree(ready, sockets.size()));
  std::unique_ptr<Program> program(new Program());
  program->mode_ = ready;
  program->identity_ = identity;
  program->uid_ = identity.credentials ? identity.credentials->uid : geteuid();

  // The environment, made before the fork: the child only execs. The
  // monitor's $NOTIFY_SOCKET and watchdog are the monitor's (it relays).
  std::vector<std::string> env;
  const bool own_watchdog = ready.kind == ReadyMode::Kind::kNotify &&
                            ready.watchdog > absl::ZeroDuration();
  const bool relay_watchdog = ready.kind == ReadyMode::Kind::kNotify &&
                              (getenv("WATCHDOG_USEC") || own_watchdog);
  for (char** var = environ; *var != nullptr; ++var) {
    absl::string_view entry(*var);
    if (absl::StartsWith(entry, "NOTIFY_SOCKET=") ||
        absl::StartsWith(entry, "WATCHDOG_PID=") ||
        absl::StartsWith(entry, "LISTEN_FDS=") ||
        absl::StartsWith(entry, "LISTEN_PID=") ||
        absl::StartsWith(entry, "LISTEN_FDNAMES=") ||
        (absl::StartsWith(entry, "WATCHDOG_USEC=") &&
         (!relay_watchdog || own_watchdog))) {
      continue;
    }
    env.emplace_back(entry);
  }
  if (own_watchdog) {
    // The shorter period wins: the program keeps both watchdogs fed.
    int64_t usec =
        std::max<int64_t>(1, absl::ToInt64Microseconds(ready.watchdog));
    int64_t outer = 0;
    const char* outer_text = getenv("WATCHDOG_USEC");
    if (outer_text != nullptr && absl::SimpleAtoi(outer_text, &outer) &&
        outer > 0) {
      usec = std::min(usec, outer);
    }
    env.push_back(absl::StrCat("WATCHDOG_USEC=", usec));
  }

  int ready_write = -1;
  if (ready.kind == ReadyMode::Kind::kNotify) {
    const int sock =
        socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0) return ErrnoError(errno, "notify socket");
    program->ready_fd_ = sock;
    uint64_t token = 0;
    if (getrandom(&token, sizeof(token), 0) != sizeof(token)) {
      return ErrnoError(errno, "getrandom");
    }
    // Abstract: nothing on disk to leave behind or to plant. Anybody may
    // find the name in /proc/net/unix; only the program's user (or root)
    // is heard (SO_PASSCRED).
    const std::string name =
        absl::StrCat("daemonkit-notify/", getpid(), "/", absl::Hex(token));
    DAEMONKIT_ASSIGN_OR_RETURN(const SocketAddress address,
                               SocketAddress::UnixAbstract(name));
    const int on = 1;
    if (bind(sock, address.get(), address.length()) != 0 ||
        setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) {
      return ErrnoError(errno, absl::StrCat("notify socket @", name));
    }
    env.push_back(absl::StrCat("NOTIFY_SOCKET=@", name));
  } else if (ready.kind == ReadyMode::Kind::kFd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
    program->ready_fd_ = fds[0];
    ready_write = fds[1];
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
      close(ready_write);
      return ErrnoError(errno, "fcntl");
    }
  }
  if (!sockets.empty()) {
    std::vector<std::string> names;
    names.reserve(sockets.size());
    for (const ActivatedSocket& socket : sockets) names.push_back(socket.name);
    env.push_back(absl::StrCat("LISTEN_FDS=", sockets.size()));
    env.push_back(absl::StrCat("LISTEN_FDNAMES=", absl::StrJoin(names, ":")));
    // LISTEN_PID= and WATCHDOG_PID= name the program, known after the
    // fork: the child fills in the placeholder's digits (below).
  }
  std::vector<char*> envp;
  envp.reserve(env.size() + 3);
  for (std::string& entry : env) envp.push_back(entry.data());
  // Room for the child's pid, written by the child into its own copy.
  std::string listen_pid = "LISTEN_PID=0000000000";
  std::string watchdog_pid = "WATCHDOG_PID=0000000000";
  if (!sockets.empty()) envp.push_back(listen_pid.data());
  if (relay_watchdog) envp.push_back(watchdog_pid.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  argp.reserve(args.size() + 1);
  for (std::string& arg : args) argp.push_back(arg.data());
  argp.push_back(nullptr);

  // Descriptors 3.. are the sockets' and N that of --ready=fd:N: the
  // child's own descriptors live above them.
  const int floor =
      std::max<int>(3 + static_cast<int>(sockets.size()),
                    ready.kind == ReadyMode::Kind::kFd ? ready.fd + 1 : 0);
  if (ready_write >= 0 && ready_write < floor) {
    ready_write = MoveAbove(ready_write, floor);
    if (ready_write < 0) return ErrnoError(errno, "fcntl");
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    if (ready_write >= 0) close(ready_write);
    return ErrnoError(errno, "pipe");
  }
  if (report[1] < floor) report[1] = MoveAbove(report[1], floor);
  if (report[1] < 0) {
    const int saved = errno;
    close(report[0]);
    if (ready_write >= 0) close(ready_write);
    return ErrnoError(saved, "fcntl");
  }
  const pid_t monitor = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(report[0]);
    close(report[1]);
    if (ready_write >= 0) close(ready_write);
    return ErrnoError(error, "fork");
  }
  if (pid == 0) {
    close(report[0]);
    // The pid into the placeholders, without allocating.
    auto put_pid = [](std::string& var) {
      char* digits = var.data() + var.find('=') + 1;
      pid_t self = getpid();
      char buffer[16];
      int n = 0;
      do {
        buffer[n++] = static_cast<char>('0' + self % 10);
        self /= 10;
      } while (self > 0);
      for (int i = 0; i < n; ++i) digits[i] = buffer[n - 1 - i];
      digits[n] = '\0';
    };
    put_pid(listen_pid);
    put_pid(watchdog_pid);
    ExecInChild(argp.data(), envp.data(), ready, ready_write, sockets, identity,
                cgroup.procs_fd, outputs, floor, report[1], monitor);
  }
  close(report[1]);
  if (ready_write >= 0) close(ready_write);
  program->pid_ = pid;
  program->pidfd_ = PidfdOpen(pid);  // our unreaped child: cannot be reused
  ChildFailure failure;
  ssize_t n;
  do {
    n = read(report[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == sizeof(failure)) {
    ReapChild(pid);
    program->pid_ = -1;
    failure.text[sizeof(failure.text) - 1] = '\0';
    switch (failure.stage) {
      case ChildFailure::kExec:
        return ErrnoError(
            failure.error,
            identity.root.empty()
                ? argv[0]
                : absl::StrCat(argv[0], " (inside --daemon_chroot=",
                               identity.root, ")"));
      case ChildFailure::kPrivileges:
        return absl::InternalError(failure.text);
      case ChildFailure::kCgroup:
        return ErrnoError(
            failure.error,
            absl::StrCat("move the program into cgroup ", cgroup.directory));
      default:
        return ErrnoError(failure.error, "set up the program's process");
    }
  }
  if (program->pidfd_ < 0) {
    const int saved = errno;
    KillNow(pid);
    ReapChild(pid);
    program->pid_ = -1;
    return ErrnoError(saved, "pidfd_open");
  }
  return program;
}

Program::~Program() {
  if (pidfd_ >= 0) close(pidfd_);
  if (ready_fd_ >= 0) close(ready_fd_);
}

absl::Status Program::Signal(int signo) const {
  if (pidfd_ < 0) return absl::OkStatus();
  if (PidfdSendSignal(pidfd_, signo) != 0 && errno != ESRCH) {
    return ErrnoError(errno, absl::StrCat("send signal ", signo));
  }
  return absl::OkStatus();
}

void Program::Kill() const {
  if (pidfd_ >= 0) (void)KillThroughPidfd(pidfd_);
}

namespace {

// One connection attempt to `address`, of up to `timeout`.
bool Connects(const ListenAddress& listen, absl::Duration timeout) {
  const absl::StatusOr<SocketAddress> address = SocketAddress::Of(listen);
  if (!address.ok()) return false;
  const int fd =
      socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  bool connected = connect(fd, address->get(), address->length()) == 0;
  if (!connected && errno == EINPROGRESS) {
    struct pollfd pfd = {fd, POLLOUT, 0};
    int error = 0;
    socklen_t error_length = sizeof(error);
    connected =
        poll(&pfd, 1, PollTimeoutMs(timeout)) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) == 0 &&
        error == 0;
  }
  close(fd);
  return connected;
}

}  // namespace

bool Program::PollReady() {
  if (mode_.kind == ReadyMode::Kind::kConnect) {
    return Connects(mode_.address, kReadyPollInterval);
  }
  if (mode_.kind != ReadyMode::Kind::kCommand) return false;
  if (command_pid_ > 0) {
    int status = 0;
    const pid_t reaped = waitpid(command_pid_, &status, WNOHANG);
    if (reaped == 0 || (reaped < 0 && errno == EINTR)) return false;
    command_pid_ = -1;
    next_command_ = MonotonicNow() + kReadyPollInterval;
    return reaped > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (MonotonicNow() < next_command_) return false;
  // As the program runs: its user, default signals, no descriptor of the
  // monitor's (all are close-on-exec), stdin from /dev/null.
  const pid_t pid = fork();
  if (pid < 0) {
    next_command_ = MonotonicNow() + kReadyPollInterval;
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    for (int signo = 1; signo < NSIG; ++signo) {
      if (signo == SIGKILL || signo == SIGSTOP) continue;
      (void)sigaction(signo, &action, nullptr);
    }
    if (identity_.credentials) {
      if (!DropPrivileges(*identity_.credentials).ok()) _exit(126);
      // Cleared by the change of credentials (see ExecInChild).
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(126);
    }
    const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl("/bin/sh", "sh", "-c", mode_.command.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  command_pid_ = pid;
  return false;
}

ReadinessInput Program::ReadReadiness() {
  if (ready_fd_ < 0) return {};
  return mode_.kind == ReadyMode::Kind::kNotify ? ReadNotify() : ReadFdPipe();
}

ReadinessInput Program::ReadFdPipe() {
  ReadinessInput input;
  char buffer[256];
  for (;;) {
    const ssize_t n = read(ready_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return input;  // EAGAIN: nothing more now
    if (n == 0) {
      input.closed = true;
      break;
    }
    if (std::memchr(buffer, '\n', static_cast<size_t>(n)) != nullptr) {
      input.ready = true;
      break;
    }
  }
  close(ready_fd_);
  ready_fd_ = -1;
  return input;
}

ReadinessInput Program::ReadNotify() {
  ReadinessInput input;
  std::vector<std::string> relay;
  for (;;) {
    char buffer[4096];
    struct iovec iov = {buffer, sizeof(buffer) - 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct ucred)) +
                                         CMSG_SPACE(sizeof(int) * 16)];
    struct msghdr message = {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t n =
        recvmsg(ready_fd_, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // EAGAIN: all read
    const struct ucred* credentials = nullptr;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
         c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS) {
        credentials = reinterpret_cast<const struct ucred*>(CMSG_DATA(c));
      } else if (c->cmsg_type == SCM_RIGHTS) {
        // FDSTORE=1 and the like: not ours to keep.
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int* fds = reinterpret_cast<const int*>(CMSG_DATA(c));
        for (size_t i = 0; i < count; ++i) close(fds[i]);
      }
    }
    if (credentials == nullptr ||
        (credentials->uid != uid_ && credentials->uid != 0)) {
      continue;  // a stranger who found the name in /proc/net/unix
    }
    for (absl::string_view line :
         absl::StrSplit(absl::string_view(buffer, static_cast<size_t>(n)), '\n',
                        absl::SkipEmpty())) {
      if (line == "READY=1" && !ready_seen_) {
        ready_seen_ = true;
        input.ready = true;
        continue;  // the monitor's own NotifyReady() says it
      }
      if (IsRelayed(line)) relay.emplace_back(line);
    }
  }
  input.relay = absl::StrJoin(relay, "\n");
  return input;
}

RestartSchedule::RestartSchedule(const Options& options)
    : options_(options), delay_(options.restart_delay) {}

absl::StatusOr<std::optional<absl::Duration>> RestartSchedule::Next(
    int wait_status, absl::Duration uptime) {
  if (!ShouldRestart(options_.restart, wait_status)) return std::nullopt;
  const bool ran_long = uptime >= options_.restart_reset_after;
  if (ran_long) delay_ = options_.restart_delay;
  ++restarts_;
  if (options_.restart_limit > 0) {
    const size_t limit = static_cast<size_t>(options_.restart_limit);
    const absl::Time now = MonotonicNow();
    const bool reached = recent_.size() >= limit &&
                         recent_.front() > now - options_.restart_reset_after;
    recent_.push_back(now);
    while (recent_.size() > limit) recent_.pop_front();
    if (reached) {
      return absl::FailedPreconditionError(absl::StrCat(
          "giving up after ", options_.restart_limit, " restarts within ",
          absl::FormatDuration(options_.restart_reset_after), "; last ",
          DescribeWaitStatus(wait_status)));
    }
  }
  const absl::Duration wait = ran_long ? absl::ZeroDuration() : delay_;
  if (!ran_long) delay_ = std::min(delay_ * 2, options_.restart_max_delay);
  return wait;
}

std::string RestartSchedule::Describe(absl::Duration delay,
                                      int wait_status) const {
  return RestartStatus(delay, wait_status, restarts_);
}

void ReapExitedChildren(const std::vector<pid_t>& keep) {
  // A look without reaping (WNOWAIT) first: the program's and the
  // command's statuses are their owners' to collect. No /proc scan: this
  // runs on every wake of the monitor.
  for (;;) {
    siginfo_t info = {};
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return;
    if (info.si_pid == 0 ||
        std::find(keep.begin(), keep.end(), info.si_pid) != keep.end()) {
      return;
    }
    int status;
    if (waitpid(info.si_pid, &status, WNOHANG) <= 0) return;
  }
}

void EndChildren(int signo, absl::Duration grace) {
  // One look at the children: reaps what exited first (a child's pid stays
  // ours, so safe to signal by number, until this process reaps it), then
  // calls `act` on each live one. Returns whether any child is left.
  const auto look = [](absl::FunctionRef<void(pid_t)> act) {
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
    const std::vector<std::pair<pid_t, char>> children = Children();
    for (const auto& [pid, state] : children) {
      if (state != 'Z') act(pid);
    }
    return !children.empty();
  };
  const Deadline deadline = Deadline::In(grace);
  std::set<pid_t> signalled;
  while (!deadline.Passed()) {
    bool alive = false;
    const bool left = look([&](pid_t pid) {
      alive = true;
      if (signalled.insert(pid).second) {
        kill(pid, signo);
        // A stopped process acts on nothing but SIGKILL until continued.
        if (signo != SIGCONT) kill(pid, SIGCONT);
      }
    });
    if (!left) return;
    // Zombies only: reaped on the next look, at once.
    if (alive) absl::SleepFor(absl::Milliseconds(10));
  }
  // Orphans keep arriving as their parents die, so there is no bound once
  // SIGKILL is sent (as before kill_and_reap gathered the sweeps).
  KillUntilGone([&] { return look([](pid_t pid) { KillNow(pid); }); },
                Deadline::Never());
}

}  // namespace internal
}  // namespace daemonkit
