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
#include "daemon/internal/program_child.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/supervisor.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"
#include "daemon/options.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace internal {
namespace {

// `fd` moved to a number at least `floor` (close-on-exec), the old one
// closed; -1 with errno on failure (the old one closed too).
int MoveAbove(int fd, int floor) {
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor);
  CloseDescriptor(fd);  // keeps fcntl's errno
  return moved;
}

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

}  // namespace

namespace {

// The program's environment, made before the fork: the child only execs.
// The monitor's $NOTIFY_SOCKET and watchdog are the monitor's (it relays).
// LISTEN_PID= and WATCHDOG_PID= name the program, known after the fork:
// the child writes its pid into their placeholders. Neither copied nor
// moved, for envp() points into its strings.
class ProgramEnvironment {
 public:
  explicit ProgramEnvironment(const ReadyMode& ready);
  ProgramEnvironment(const ProgramEnvironment&) = delete;
  ProgramEnvironment& operator=(const ProgramEnvironment&) = delete;

  void Add(std::string entry) { env_.push_back(std::move(entry)); }
  // The sockets' variables, then the array to exec with (nothing may be
  // added after).
  char* const* Finish(const std::vector<ActivatedSocket>& sockets);
  // In the child: its pid into the placeholders, without allocating.
  void SetPid(pid_t pid);

 private:
  std::vector<std::string> env_;
  bool relay_watchdog_ = false;
  // Room for the child's pid, written by the child into its own copy.
  std::string listen_pid_ = "LISTEN_PID=0000000000";
  std::string watchdog_pid_ = "WATCHDOG_PID=0000000000";
  std::vector<char*> envp_;
};

ProgramEnvironment::ProgramEnvironment(const ReadyMode& ready) {
  const bool own_watchdog = ready.kind == ReadyMode::Kind::kNotify &&
                            ready.watchdog > absl::ZeroDuration();
  relay_watchdog_ = ready.kind == ReadyMode::Kind::kNotify &&
                    (getenv("WATCHDOG_USEC") || own_watchdog);
  for (char** var = environ; *var != nullptr; ++var) {
    absl::string_view entry(*var);
    if (absl::StartsWith(entry, "NOTIFY_SOCKET=") ||
        absl::StartsWith(entry, "WATCHDOG_PID=") ||
        absl::StartsWith(entry, "LISTEN_FDS=") ||
        absl::StartsWith(entry, "LISTEN_PID=") ||
        absl::StartsWith(entry, "LISTEN_FDNAMES=") ||
        (absl::StartsWith(entry, "WATCHDOG_USEC=") &&
         (!relay_watchdog_ || own_watchdog))) {
      continue;
    }
    env_.emplace_back(entry);
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
    env_.push_back(absl::StrCat("WATCHDOG_USEC=", usec));
  }
}

char* const* ProgramEnvironment::Finish(
    const std::vector<ActivatedSocket>& sockets) {
  if (!sockets.empty()) {
    std::vector<std::string> names;
    names.reserve(sockets.size());
    for (const ActivatedSocket& socket : sockets) names.push_back(socket.name);
    env_.push_back(absl::StrCat("LISTEN_FDS=", sockets.size()));
    env_.push_back(absl::StrCat("LISTEN_FDNAMES=", absl::StrJoin(names, ":")));
  }
  envp_.reserve(env_.size() + 3);
  for (std::string& entry : env_) envp_.push_back(entry.data());
  if (!sockets.empty()) envp_.push_back(listen_pid_.data());
  if (relay_watchdog_) envp_.push_back(watchdog_pid_.data());
  envp_.push_back(nullptr);
  return envp_.data();
}

void ProgramEnvironment::SetPid(pid_t pid) {
  for (std::string* variable : {&listen_pid_, &watchdog_pid_}) {
    char* digits = variable->data() + variable->find('=') + 1;
    pid_t rest = pid;
    char buffer[16];
    int n = 0;
    do {
      buffer[n++] = static_cast<char>('0' + rest % 10);
      rest /= 10;
    } while (rest > 0);
    for (int i = 0; i < n; ++i) digits[i] = buffer[n - 1 - i];
    digits[n] = '\0';
  }
}

// The monitor's end of the program's readiness channel (kNotify: a
// datagram socket, kFd: a pipe's non-blocking read end; none otherwise),
// the program's end of a pipe, and the variable that names a socket.
struct ReadinessChannel {
  UniqueFd monitor_end;
  UniqueFd program_end;
  std::string variable;
};

absl::StatusOr<ReadinessChannel> OpenReadinessChannel(const ReadyMode& ready) {
  ReadinessChannel channel;
  if (ready.kind == ReadyMode::Kind::kNotify) {
    channel.monitor_end.reset(
        socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!channel.monitor_end.valid()) {
      return ErrnoError(errno, "notify socket");
    }
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
    const int sock = channel.monitor_end.get();
    if (bind(sock, address.get(), address.length()) != 0 ||
        setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) {
      return ErrnoError(errno, absl::StrCat("notify socket @", name));
    }
    channel.variable = absl::StrCat("NOTIFY_SOCKET=@", name);
  } else if (ready.kind == ReadyMode::Kind::kFd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
    channel.monitor_end.reset(fds[0]);
    channel.program_end.reset(fds[1]);
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
      return ErrnoError(errno, "fcntl");
    }
  }
  return channel;
}

}  // namespace

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
  ProgramEnvironment env(ready);
  DAEMONKIT_ASSIGN_OR_RETURN(ReadinessChannel channel,
                             OpenReadinessChannel(ready));
  program->ready_fd_ = std::move(channel.monitor_end);
  if (!channel.variable.empty()) env.Add(channel.variable);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  argp.reserve(args.size() + 1);
  for (std::string& arg : args) argp.push_back(arg.data());
  argp.push_back(nullptr);

  ChildSetup setup;
  setup.argv = argp.data();
  setup.envp = env.Finish(sockets);
  setup.ready = &ready;
  setup.sockets = &sockets;
  setup.identity = &identity;
  setup.cgroup_procs = cgroup.procs_fd;
  setup.outputs = outputs;
  // Descriptors 3.. are the sockets' and N that of --ready=fd:N: the
  // child's own descriptors live above them.
  setup.floor =
      std::max<int>(3 + static_cast<int>(sockets.size()),
                    ready.kind == ReadyMode::Kind::kFd ? ready.fd + 1 : 0);
  UniqueFd ready_write = std::move(channel.program_end);
  if (ready_write.valid() && ready_write.get() < setup.floor) {
    ready_write.reset(MoveAbove(ready_write.release(), setup.floor));
    if (!ready_write.valid()) return ErrnoError(errno, "fcntl");
  }
  setup.ready_write = ready_write.get();
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe");
  UniqueFd report_read(report[0]);
  UniqueFd report_write(
      report[1] < setup.floor ? MoveAbove(report[1], setup.floor) : report[1]);
  if (!report_write.valid()) return ErrnoError(errno, "fcntl");
  setup.report = report_write.get();
  setup.monitor = getpid();
  const pid_t pid = fork();
  if (pid < 0) return ErrnoError(errno, "fork");
  if (pid == 0) {
    report_read.reset();  // this process's copy: the child only writes
    env.SetPid(getpid());
    ExecInChild(setup);
  }
  report_write.reset();
  ready_write.reset();
  program->pid_ = pid;
  // Our unreaped child: its pid cannot be reused.
  program->pidfd_.reset(PidfdOpen(pid));
  bool failed = false;
  absl::Status started = ReadChildFailure(report_read.get(), argv[0], identity,
                                          cgroup.directory, &failed);
  report_read.reset();
  if (failed) {
    ReapChild(pid);
    program->pid_ = -1;
    return started;
  }
  if (!program->pidfd_.valid()) {
    const int saved = errno;
    KillNow(pid);
    ReapChild(pid);
    program->pid_ = -1;
    return ErrnoError(saved, "pidfd_open");
  }
  return program;
}

Program::~Program() {
  // In the order they always closed (members would go the other way).
  pidfd_.reset();
  ready_fd_.reset();
}

absl::Status Program::Signal(int signo) const {
  if (!pidfd_.valid()) return absl::OkStatus();
  if (PidfdSendSignal(pidfd_.get(), signo) != 0 && errno != ESRCH) {
    return ErrnoError(errno, absl::StrCat("send signal ", signo));
  }
  return absl::OkStatus();
}

void Program::Kill() const {
  if (pidfd_.valid()) (void)KillThroughPidfd(pidfd_.get());
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
