// Copyright 2026 The daemonkit Authors.

#include "tests/testing.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/program_cgroup.h"
#include "gtest/gtest.h"

extern char** environ;

namespace daemonkit {
namespace test_support {

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  if (dir != nullptr && *dir != '\0') return dir;
  static const std::string fallback = [] {
    char templ[] = "/tmp/daemonkit_test.XXXXXX";
    const char* made = mkdtemp(templ);
    return std::string(made != nullptr ? made : "/tmp");
  }();
  return fallback;
}

std::string MakeTempDir(const std::string& name) {
  static int counter = 0;
  std::string dir =
      absl::StrCat(TestTmpDir(), "/", name, ".", getpid(), ".", ++counter);
  EXPECT_EQ(mkdir(dir.c_str(), 0755), 0) << dir << ": " << std::strerror(errno);
  return dir;
}

std::string RunfilePath(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return absl::StrCat(srcdir, "/", workspace, "/", path);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool WriteFile(const std::string& path, const std::string& content) {
  FILE* file = std::fopen(path.c_str(), "we");
  if (file == nullptr) return false;
  const bool written =
      std::fwrite(content.data(), 1, content.size(), file) == content.size();
  return std::fclose(file) == 0 && written;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

namespace {

// Set in the environment of every program SpawnProgram starts, and so
// inherited by the daemons they become: "<variable>=<pid of the test>".
constexpr char kSpawnedByVariable[] = "DAEMONKIT_TEST_SPAWNED_BY";

std::string SpawnMarker() {
  return absl::StrCat(kSpawnedByVariable, "=", getpid());
}

}  // namespace

Spawned SpawnProgram(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env,
                     const std::string& stdin_path) {
  static int counter = 0;
  Spawned spawned;
  spawned.out_path =
      absl::StrCat(TestTmpDir(), "/run.", getpid(), ".", ++counter, ".out");
  spawned.err_path = absl::StrCat(spawned.out_path, ".err");
  // Everything the child needs is prepared before fork: the child only
  // makes async-signal-safe calls.
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    if (env.count(text.substr(0, text.find('='))) == 0) {
      environment.push_back(text);
    }
  }
  for (const auto& [key, value] : env) {
    environment.push_back(absl::StrCat(key, "=", value));
  }
  environment.push_back(SpawnMarker());
  std::vector<char*> args, envp;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  for (const std::string& entry : environment) {
    envp.push_back(const_cast<char*>(entry.c_str()));
  }
  envp.push_back(nullptr);
  const std::string& out_path = spawned.out_path;
  const std::string& err_path = spawned.err_path;

  spawned.pid = fork();
  if (spawned.pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return spawned;
  }
  if (spawned.pid == 0) {
    int in = open(stdin_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (int fd : {in, out, err}) {
      if (fd > 2) close(fd);
    }
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  return spawned;
}

RunResult WaitProgram(const Spawned& spawned) {
  RunResult result;
  if (spawned.pid <= 0) return result;
  int status = 0;
  while (waitpid(spawned.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  result.stdout_text = ReadFileOrEmpty(spawned.out_path);
  result.stderr_text = ReadFileOrEmpty(spawned.err_path);
  unlink(spawned.out_path.c_str());
  unlink(spawned.err_path.c_str());
  return result;
}

std::map<std::string, std::string> FaultShimEnvironment(
    std::map<std::string, std::string> extra) {
  extra["LD_PRELOAD"] = RunfilePath("tests/fault_shim.so");
  const char* asan = std::getenv("ASAN_OPTIONS");
  extra["ASAN_OPTIONS"] = absl::StrCat(
      asan != nullptr ? asan : "", asan != nullptr && *asan != '\0' ? ":" : "",
      "verify_asan_link_order=0");
  return extra;
}

RunResult RunProgram(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env,
                     const std::string& stdin_path) {
  return WaitProgram(SpawnProgram(argv, env, stdin_path));
}

std::string WhyNoContainerHere() {
  constexpr char kUnshare[] = "/usr/bin/unshare";
  if (!FileExists(kUnshare)) {
    return absl::StrCat(kUnshare, " (util-linux) is missing");
  }
  // Under --config=asan as PidNamespace::Start runs it (no leak checking
  // in a namespace): the probe once failed there with "LeakSanitizer has
  // encountered a fatal error", and every container row was skipped.
  std::map<std::string, std::string> env;
  if (const char* asan = std::getenv("ASAN_OPTIONS"); asan != nullptr) {
    env["ASAN_OPTIONS"] = absl::StrCat(asan, ":detect_leaks=0");
  }
  RunResult probe = RunProgram(
      {kUnshare, "--pid", "--fork", "--mount-proc", "/bin/true"}, env);
  if (probe.exit_code == 0) return "";
  return absl::StrCat(kUnshare, " exited ", probe.exit_code, ": ",
                      probe.stderr_text);
}

pid_t ReadPid(const std::string& pidfile) {
  int pid = 0;
  std::string content = ReadFileOrEmpty(pidfile);
  if (!absl::SimpleAtoi(absl::StripSuffix(content, "\n"), &pid)) return 0;
  return pid;
}

pid_t TickerPidFromLog(const std::string& log) {
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(log), '\n')) {
    pid_t pid;
    if (absl::ConsumePrefix(&line, "Process id: ") &&
        absl::SimpleAtoi(line.substr(0, line.find(' ')), &pid)) {
      return pid;
    }
  }
  return 0;
}

std::vector<ReportedStart> ReportedStarts(const std::string& report) {
  std::vector<ReportedStart> starts;
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(report), '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    ReportedStart start;
    if (fields.size() == 2 && absl::SimpleAtoi(fields[0], &start.pid) &&
        absl::SimpleAtoi(fields[1], &start.monotonic_ns)) {
      starts.push_back(start);
    }
  }
  return starts;
}

pid_t FirstReportedPid(const std::string& report) {
  std::vector<ReportedStart> starts = ReportedStarts(report);
  return starts.empty() ? 0 : starts.front().pid;
}

ProcStat StatOf(pid_t pid) {
  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  return stat.ok() ? *std::move(stat) : ProcStat();
}

std::string SignalStateOf(pid_t pid) {
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  DIR* tasks = opendir(task_dir.c_str());
  if (tasks == nullptr) return absl::StrCat("pid ", pid, ": no /proc entry");
  std::string state;
  while (const struct dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const std::string task = absl::StrCat(task_dir, "/", entry->d_name);
    absl::StrAppend(&state, "thread ", entry->d_name);
    for (absl::string_view line :
         absl::StrSplit(ReadFileOrEmpty(task + "/status"), '\n')) {
      for (absl::string_view field :
           {"Name:", "State:", "SigPnd:", "ShdPnd:", "SigBlk:", "SigCgt:"}) {
        if (absl::StartsWith(line, field)) {
          absl::StrAppend(&state, " ", absl::StrReplaceAll(line, {{"\t", ""}}));
        }
      }
    }
    absl::StrAppend(&state, " wchan:", ReadFileOrEmpty(task + "/wchan"), "\n");
  }
  closedir(tasks);
  return state;
}

bool SleepsInPoll(pid_t pid) {
  const std::string wchan =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/wchan"));
  return absl::StrContains(wchan, "poll") ||
         ((wchan.empty() || wchan == "0") && StatOf(pid).state() == 'S');
}

bool IsAlive(pid_t pid) {
  const ProcStat stat = StatOf(pid);
  if (stat.running()) return true;
  if (stat.state() != 'Z') return false;
  // A zombie main thread while other threads still exit: they hold the
  // process's descriptors (and its pid-file lock) until the last one is
  // gone, which only the pidfd tells.
  const int pidfd = internal::PidfdOpen(pid);
  if (pidfd < 0) return false;
  const bool exited = internal::AwaitExit(pidfd, absl::ZeroDuration());
  close(pidfd);
  return !exited;
}

std::vector<pid_t> PidfdTargetsOf(pid_t pid) {
  absl::StatusOr<std::vector<pid_t>> targets = internal::PidfdTargets(pid);
  return targets.ok() ? *std::move(targets) : std::vector<pid_t>();
}

std::vector<pid_t> DescendantsOf(pid_t ancestor) {
  std::map<pid_t, pid_t> parent_of;
  DIR* proc = opendir("/proc");
  while (struct dirent* entry = proc ? readdir(proc) : nullptr) {
    pid_t pid, parent;
    if (absl::SimpleAtoi(entry->d_name, &pid) && IsAlive(pid) &&
        StatOf(pid).ParseField(ProcStat::kPpid, &parent)) {
      parent_of[pid] = parent;
    }
  }
  if (proc) closedir(proc);
  std::vector<pid_t> descendants;
  for (const auto& [pid, parent] : parent_of) {
    for (pid_t up = parent; up > 1;
         up = parent_of.count(up) ? parent_of[up] : 0) {
      if (up == ancestor) {
        descendants.push_back(pid);
        break;
      }
    }
  }
  return descendants;
}

bool WaitUntilGone(pid_t pid, absl::Duration timeout) {
  return WaitFor([pid] { return !IsAlive(pid); }, timeout);
}

void KillAndWait(pid_t pid) {
  if (pid <= 0 || !IsAlive(pid)) return;
  kill(pid, SIGKILL);
  EXPECT_TRUE(WaitUntilGone(pid)) << "pid " << pid << " survived SIGKILL";
}

std::vector<std::string> ProgramCgroupsOf(const std::string& pidfile) {
  return internal::FindProgramCgroups(internal::ProgramCgroupName(pidfile));
}

void RemoveProgramCgroups(const std::string& pidfile) {
  for (const std::string& directory : ProgramCgroupsOf(pidfile)) {
    std::unique_ptr<internal::ProgramCgroup> cgroup =
        internal::ProgramCgroup::At(directory);
    EXPECT_TRUE(cgroup->End(SIGKILL, absl::ZeroDuration(), absl::Seconds(5)))
        << directory;
    const absl::Status removed = cgroup->Remove();
    EXPECT_TRUE(removed.ok()) << removed;
  }
}

void KillPidFileHolder(const std::string& pidfile) {
  absl::StatusOr<internal::PidFileProbe> probe =
      internal::ProbePidFile(pidfile);
  if (probe.ok() && probe->pid_verified && probe->pid.has_value()) {
    KillAndWait(*probe->pid);
  }
}

bool IsWriteLocked(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  struct flock lock = {};
  lock.l_type = F_RDLCK;
  lock.l_whence = SEEK_SET;
  const bool held =
      fcntl(fd, F_OFD_GETLK, &lock) == 0 && lock.l_type == F_WRLCK;
  close(fd);
  return held;
}

std::vector<pid_t> LiveProcessesSpawnedByThisTest() {
  const std::string marker = SpawnMarker();
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  EXPECT_NE(proc, nullptr) << std::strerror(errno);
  while (struct dirent* entry = proc ? readdir(proc) : nullptr) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || !IsAlive(pid)) continue;
    const std::string environ =
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/environ"));
    for (absl::string_view variable : absl::StrSplit(environ, '\0')) {
      if (variable == marker) {
        pids.push_back(pid);
        break;
      }
    }
  }
  if (proc) closedir(proc);
  return pids;
}

std::map<int, std::string> OpenDescriptors(pid_t pid) {
  std::map<int, std::string> fds;
  const std::string dir_path = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return fds;
  while (struct dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd)) continue;
    char target[PATH_MAX];
    ssize_t n = readlink(absl::StrCat(dir_path, "/", fd).c_str(), target,
                         sizeof(target));
    if (n >= 0) fds[fd] = std::string(target, static_cast<size_t>(n));
  }
  closedir(dir);
  return fds;
}

void PidNamespace::Start(const std::vector<std::string>& argv) {
  // --kill-child: should the test (or unshare) die first, the kernel
  // SIGKILLs pid 1 (PR_SET_PDEATHSIG), and the namespace with it.
  std::vector<std::string> command = {"/usr/bin/unshare", "--pid", "--fork",
                                      "--mount-proc", "--kill-child"};
  command.insert(command.end(), argv.begin(), argv.end());
  // LeakSanitizer cannot stop the world in pid 1 of a pid namespace ("has
  // encountered a fatal error"), and the program there then exits 1 under
  // --config=asan however cleanly it stopped. Leaks stay checked in every
  // process outside a namespace.
  std::map<std::string, std::string> env;
  if (const char* asan = std::getenv("ASAN_OPTIONS"); asan != nullptr) {
    env["ASAN_OPTIONS"] = absl::StrCat(asan, ":detect_leaks=0");
  }
  unshare_ = SpawnProgram(command, env);
}

pid_t PidNamespace::Init() {
  if (init_pidfd_ >= 0) {
    return internal::AwaitExit(init_pidfd_, absl::ZeroDuration()) ? 0 : init_;
  }
  if (unshare_.pid <= 0) return 0;
  pid_t child = 0;
  const std::string children = ReadFileOrEmpty(absl::StrCat(
      "/proc/", unshare_.pid, "/task/", unshare_.pid, "/children"));
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(children), &child)) {
    return 0;
  }
  const int pidfd = internal::PidfdOpen(child);
  if (pidfd < 0) return 0;
  // Still unshare's child once pinned, so the pidfd is that process's: its
  // pid cannot have been reaped and reused before pidfd_open.
  pid_t parent = 0;
  if (!StatOf(child).ParseField(ProcStat::kPpid, &parent) ||
      parent != unshare_.pid) {
    close(pidfd);
    return 0;
  }
  init_ = child;
  init_pidfd_ = pidfd;
  return init_;
}

RunResult PidNamespace::Wait() {
  RunResult result = WaitProgram(unshare_);
  unshare_.pid = -1;
  if (init_pidfd_ >= 0) close(init_pidfd_);
  init_pidfd_ = -1;
  init_ = 0;
  return result;
}

void PidNamespace::Kill() {
  if (unshare_.pid > 0) Init();  // pin pid 1, if it is there, to wait for it
  if (init_pidfd_ >= 0) {
    internal::PidfdSendSignal(init_pidfd_, SIGKILL);
    EXPECT_TRUE(internal::AwaitExit(init_pidfd_, absl::Seconds(30)))
        << "the namespace's pid 1 (" << init_ << ") survived SIGKILL";
  }
  if (unshare_.pid > 0) {
    kill(unshare_.pid, SIGKILL);
    (void)WaitProgram(unshare_);
  }
  unshare_.pid = -1;
  if (init_pidfd_ >= 0) close(init_pidfd_);
  init_pidfd_ = -1;
  init_ = 0;
}

NotifyReceiver::NotifyReceiver() {
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  EXPECT_GE(fd_, 0) << std::strerror(errno);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  // Binding with only the family asks the kernel for a unique abstract name.
  EXPECT_EQ(
      bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(sa_family_t)), 0)
      << std::strerror(errno);
  socklen_t length = sizeof(address);
  EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length),
            0);
  const size_t name_length = length - offsetof(struct sockaddr_un, sun_path);
  address_ = "@" + std::string(address.sun_path + 1, name_length - 1);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  EXPECT_GE(stop_fd_, 0) << std::strerror(errno);
  reader_ = std::thread([this] { ReadUntilStopped(); });
}

NotifyReceiver::~NotifyReceiver() {
  const uint64_t one = 1;
  EXPECT_EQ(write(stop_fd_, &one, sizeof(one)),
            static_cast<ssize_t>(sizeof(one)))
      << std::strerror(errno);
  reader_.join();
  for (const Message& message : messages_) {
    if (message.fd >= 0) close(message.fd);
  }
  close(stop_fd_);
  if (fd_ >= 0) close(fd_);
}

void NotifyReceiver::ReadUntilStopped() {
  for (;;) {
    struct pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      ADD_FAILURE() << "poll the notify socket: " << std::strerror(errno);
      return;
    }
    if (fds[1].revents != 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    ReadQueued();
  }
}

void NotifyReceiver::ReadQueued() {
  for (;;) {
    char buffer[4096];
    struct iovec iov = {buffer, sizeof(buffer)};
    alignas(struct cmsghdr) char
        control[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      EXPECT_EQ(errno, EAGAIN) << std::strerror(errno);
      return;
    }
    Message message;
    message.text.assign(buffer, static_cast<size_t>(n));
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
         cmsg = CMSG_NXTHDR(&msg, cmsg)) {
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
        // The first descriptor is the message's; any more are closed.
        const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int received = -1;
          std::memcpy(&received, CMSG_DATA(cmsg) + i * sizeof(int),
                      sizeof(int));
          if (message.fd < 0) {
            message.fd = received;
          } else {
            close(received);
          }
        }
      }
      if (cmsg->cmsg_level == SOL_SOCKET &&
          cmsg->cmsg_type == SCM_CREDENTIALS) {
        struct ucred credentials;
        std::memcpy(&credentials, CMSG_DATA(cmsg), sizeof(credentials));
        message.sender = credentials.pid;
      }
    }
    messages_.push_back(std::move(message));
    arrived_.notify_all();
  }
}

std::string NotifyReceiver::Receive(absl::Duration timeout) {
  int fd = -1;
  pid_t sender = 0;
  std::string text = Receive(&fd, &sender, timeout);
  if (fd >= 0) close(fd);
  return text;
}

std::string NotifyReceiver::Receive(int* fd, absl::Duration timeout) {
  pid_t sender = 0;
  return Receive(fd, &sender, timeout);
}

std::string NotifyReceiver::Receive(int* fd, pid_t* sender,
                                    absl::Duration timeout) {
  *fd = -1;
  *sender = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  // What was sent before this call counts even when the reader has not
  // woken for it yet.
  ReadQueued();
  if (!arrived_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                         [this] { return !messages_.empty(); })) {
    return "";
  }
  Message message = std::move(messages_.front());
  messages_.pop_front();
  *fd = message.fd;
  *sender = message.sender;
  return message.text;
}

void NotifyReceiver::PassCredentials() {
  const int on = 1;
  EXPECT_EQ(setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0)
      << std::strerror(errno);
}

std::string NotifyReceiver::ReceiveFrom(pid_t* sender, absl::Duration timeout) {
  int fd = -1;
  std::string text = Receive(&fd, sender, timeout);
  if (fd >= 0) close(fd);
  return text;
}

std::vector<pid_t> LiveSessionMembers(pid_t sid) {
  std::vector<pid_t> members;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return members;
  while (struct dirent* entry = readdir(proc)) {
    pid_t pid = 0, session = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const ProcStat stat = StatOf(pid);
    if (stat.running() && stat.ParseField(ProcStat::kSession, &session) &&
        session == sid) {
      members.push_back(pid);
    }
  }
  closedir(proc);
  return members;
}

PausedChild::PausedChild(const std::function<bool()>& setup) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {
    close(ready[0]);
    if (!setup()) _exit(1);
    if (write(ready[1], "r", 1) != 1) _exit(1);
    for (;;) pause();
  }
  close(ready[1]);
  if (pid_ < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
  } else {
    char byte;
    EXPECT_EQ(read(ready[0], &byte, 1), 1) << "the child's setup failed";
  }
  close(ready[0]);
}

void PausedChild::KillButDoNotReap() {
  ASSERT_GT(pid_, 0);
  ASSERT_EQ(kill(pid_, SIGKILL), 0);
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, pid_, &info, WEXITED | WNOWAIT), 0);
}

pid_t PausedChild::Reap() {
  const pid_t pid = pid_;
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  return pid;
}

int ReapChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "waitpid " << pid << ": " << std::strerror(errno);
      return 0;
    }
  }
  return status;
}

int ExitCodeInChild(const std::function<int()>& body) {
  const pid_t child = fork();
  if (child < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return -1;
  }
  if (child == 0) _exit(body());
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace test_support
}  // namespace daemonkit
