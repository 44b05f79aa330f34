// Copyright 2026 The daemonkit Authors.
//
// The daemonizer benchmark: daemonkit's ticker against the peers a user
// would otherwise pick, on the same machine, in the same run, interleaved
// (every round runs every peer once, in a shuffled order, so drift of the
// machine cancels out). bench/run.sh builds the peers and runs this.
//
// start-to-ready: from spawning the start command until it has exited AND
// the pid file holds the pid of a live, non-zombie process in another
// session without a controlling terminal.
//
// With --daemonkit, the daemonkit command (//tools:daemonkit) also starts
// bench/peers/fg_ticker, unchanged, in the same rounds as start-stop-daemon
// and daemonize(1) start it; and the memory that each tool keeps beside the
// running program (daemonkit's monitor, s6-supervise, runsv) is read from
// /proc/PID/smaps_rollup.

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/proc.h"

ABSL_FLAG(std::string, peers, "",
          "directory holding the built peers (bench/run.sh)");
ABSL_FLAG(std::string, ticker, "", "daemonkit's //examples:ticker");
ABSL_FLAG(int, rounds, 50, "interleaved rounds per metric");
ABSL_FLAG(std::string, only, "", "comma list of peer names to run; empty: all");
ABSL_FLAG(std::string, baseline_ticker, "",
          "optional: another build of the ticker (say, of main) measured in "
          "the same rounds as \"daemonkit, baseline\", for before/after");
ABSL_FLAG(std::string, daemonkit, "",
          "optional: the daemonkit command (//tools:daemonkit), measured "
          "starting fg_ticker against start-stop-daemon and daemonize(1), "
          "and its monitor's memory against s6-supervise and runsv");
ABSL_FLAG(int, memory_rounds, 3,
          "with --daemonkit: rounds of the memory kept beside a running "
          "program (each a 2 s wait per tool)");
ABSL_FLAG(int, foreground_runs, 5,
          "foreground runs of every program per round (start-up floor)");

namespace {

// Rounds in which every daemon's memory is read, 2 s after its start.
constexpr int kMemoryRounds = 3;

struct Peer {
  std::string name;
  std::vector<std::string> start;  // {pidfile} is replaced
  std::vector<std::string> stop;   // empty: SIGTERM to the pid
  bool ours = false;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A value in kB from /proc/PID/status or /proc/PID/smaps_rollup.
double ProcKb(pid_t pid, const std::string& file, absl::string_view key) {
  for (absl::string_view line :
       absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/", file)), '\n')) {
    int kb;
    if (absl::ConsumePrefix(&line, key) &&
        absl::SimpleAtoi(
            absl::StripSuffix(absl::StripAsciiWhitespace(line), " kB"), &kb)) {
      return kb;
    }
  }
  return 0;
}

// What a process keeps resident, from /proc/PID/smaps_rollup: the pages
// mapped by it alone (Private_Clean + Private_Dirty), its proportional
// share of every page (Pss) and all its resident pages (Rss).
struct Memory {
  double private_kb = 0, pss_kb = 0, rss_kb = 0;
};

Memory ReadMemory(pid_t pid) {
  Memory memory;
  memory.private_kb = ProcKb(pid, "smaps_rollup", "Private_Clean:") +
                      ProcKb(pid, "smaps_rollup", "Private_Dirty:");
  memory.pss_kb = ProcKb(pid, "smaps_rollup", "Pss:");
  memory.rss_kb = ProcKb(pid, "smaps_rollup", "Rss:");
  return memory;
}

// Ready by the benchmark's definition: a live, non-zombie process in
// another session than ours, without a controlling terminal.
pid_t ReadyPid(const std::string& pidfile) {
  int pid = 0;
  std::string content = ReadFile(pidfile);
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(content), &pid) ||
      pid <= 0) {
    return 0;
  }
  absl::StatusOr<daemonkit::ProcStat> stat = daemonkit::ReadProcStat(pid);
  using daemonkit::ProcStat;
  if (!stat.ok() || !stat->running()) return 0;
  if (stat->field(ProcStat::kSession) == absl::StrCat(getsid(0)) ||
      stat->field(ProcStat::kTtyNr) != "0") {
    return 0;
  }
  return pid;
}

pid_t Spawn(const std::vector<std::string>& argv, rlim_t nofile,
            const std::map<std::string, std::string>& env) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min(nofile, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

bool AwaitGone(pid_t pid, absl::Duration timeout) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return true;
  struct pollfd pfd = {pidfd, POLLIN, 0};
  bool gone =
      poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) > 0;
  close(pidfd);
  return gone;
}

std::vector<std::string> Expand(const std::vector<std::string>& argv,
                                const std::string& pidfile) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const std::string& arg : argv) {
    out.push_back(absl::StrReplaceAll(arg, {{"{pidfile}", pidfile}}));
  }
  return out;
}

struct StartResult {
  absl::Duration to_exit;   // the start command's own run time
  absl::Duration to_ready;  // until the benchmark's readiness holds
  pid_t pid = 0;
};

StartResult Start(const Peer& peer, const std::string& pidfile, rlim_t nofile,
                  const std::map<std::string, std::string>& env) {
  unlink(pidfile.c_str());
  StartResult result;
  const absl::Time begin = absl::Now();
  pid_t launcher = Spawn(Expand(peer.start, pidfile), nofile, env);
  int status;
  waitpid(launcher, &status, 0);
  result.to_exit = absl::Now() - begin;
  const absl::Time deadline = begin + absl::Seconds(30);
  while ((result.pid = ReadyPid(pidfile)) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Microseconds(50));
  }
  result.to_ready = absl::Now() - begin;
  return result;
}

absl::Duration Stop(const Peer& peer, const std::string& pidfile, pid_t pid) {
  const absl::Time begin = absl::Now();
  if (peer.stop.empty()) {
    kill(pid, SIGTERM);
  } else {
    pid_t stopper = Spawn(Expand(peer.stop, pidfile), 1024, {});
    int status;
    waitpid(stopper, &status, 0);
  }
  if (!AwaitGone(pid, absl::Seconds(20))) {
    kill(pid, SIGKILL);
    AwaitGone(pid, absl::Seconds(5));
  }
  const absl::Duration took = absl::Now() - begin;
  unlink(pidfile.c_str());
  return took;
}

struct Summary {
  double p10, p50, p90;
};

Summary Summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto at = [&values](double q) {
    return values.empty() ? 0.0
                          : values[static_cast<size_t>(
                                std::lround(q * (values.size() - 1)))];
  };
  return {at(0.1), at(0.5), at(0.9)};
}

std::string Ms(double ms) { return absl::StrFormat("%.2f", ms); }

void TickAccuracy(const std::string& ticker, const std::string& dir,
                  const std::string& label) {
  const std::string out = dir + "/ticks.txt";
  // --daemon_stdout appends: start from an empty file.
  unlink(out.c_str());
  std::string command =
      absl::StrCat(ticker, " --daemon=false --daemon_pidfile= --interval=10ms",
                   " --count=1000 --daemon_stdout=", out);
  std::vector<std::string> argv = absl::StrSplit(command, ' ');
  pid_t pid = Spawn(argv, 1024, {});
  int status;
  waitpid(pid, &status, 0);
  std::vector<absl::Time> ticks;
  for (absl::string_view line : absl::StrSplit(ReadFile(out), '\n')) {
    absl::Time t;
    std::string error;
    if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*S%Ez", line, &t, &error)) {
      ticks.push_back(t);
    }
  }
  if (ticks.size() < 2) {
    std::printf("tick accuracy: no ticks read\n");
    return;
  }
  std::vector<double> deviations;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const absl::Time scheduled =
        ticks[0] + absl::Milliseconds(10) * static_cast<int64_t>(i);
    deviations.push_back(
        absl::ToDoubleMilliseconds(absl::AbsDuration(ticks[i] - scheduled)));
  }
  const double drift = absl::ToDoubleMilliseconds(
      ticks.back() - (ticks[0] + absl::Milliseconds(10) *
                                     static_cast<int64_t>(ticks.size() - 1)));
  std::vector<double> sorted = deviations;
  std::sort(sorted.begin(), sorted.end());
  const double p50 = sorted[sorted.size() / 2];
  const double p99 = sorted[sorted.size() * 99 / 100];
  std::printf("\n### Tick accuracy (%s, %zu ticks at 10 ms)\n\n", label.c_str(),
              ticks.size());
  std::printf(
      "| p50 deviation | p99 deviation | end-to-end drift | target |\n| --- | "
      "--- | --- | --- |\n");
  std::printf("| %s ms | %s ms | %s ms | p99 < 1 ms, no drift: %s |\n",
              Ms(p50).c_str(), Ms(p99).c_str(), Ms(drift).c_str(),
              p99 < 1.0 && std::abs(drift) < 1.0 ? "PASS" : "MISS");
}

// Process start-up alone: each program run in the foreground until it
// exits, interleaved and shuffled like the daemonizers. The first is the
// reference of the per-round ratio.
struct Foreground {
  std::string name;
  std::vector<std::string> argv;
};

std::map<std::string, std::vector<double>> ForegroundRuns(
    const std::vector<Foreground>& programs, int rounds, int runs,
    std::map<std::string, std::vector<double>>* ratios) {
  std::map<std::string, std::vector<double>> ms;
  std::mt19937 random(20261127);
  std::vector<size_t> order(programs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int round = 0; round < rounds * runs; ++round) {
    std::shuffle(order.begin(), order.end(), random);
    std::map<std::string, double> this_round;
    for (size_t index : order) {
      const absl::Time begin = absl::Now();
      pid_t pid = Spawn(programs[index].argv, 1024, {});
      int status;
      waitpid(pid, &status, 0);
      const double took = absl::ToDoubleMilliseconds(absl::Now() - begin);
      ms[programs[index].name].push_back(took);
      this_round[programs[index].name] = took;
    }
    for (const auto& [name, took] : this_round) {
      (*ratios)[name].push_back(took / this_round[programs[0].name]);
    }
  }
  return ms;
}

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
struct NotifySocket {
  int fd = -1;
  std::string path;
};

NotifySocket OpenNotifySocket(const std::string& path) {
  NotifySocket socket_out;
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return socket_out;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_out;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return socket_out;
  }
  socket_out.fd = fd;
  socket_out.path = path;
  return socket_out;
}

// Waits for a datagram that contains `want`; false on timeout.
bool AwaitNotify(int fd, absl::string_view want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <=
        0) {
      continue;
    }
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0 && absl::StrContains(
                     absl::string_view(buffer, static_cast<size_t>(n)), want)) {
      return true;
    }
  }
}

struct Supervised {
  std::vector<double> restart_ms;  // SIGKILL to the worker -> next ready
  double supervisor_pss = 0, worker_pss = 0;
  double supervisor_rss = 0, worker_rss = 0;
};

// The ticker under --daemon_restart=always: its worker is killed `rounds`
// times; each time, from the kill to the next worker's sd_notify
// "STATUS=ticking every 10s", which the ticker sends right before it says
// ready (no start-up delay), and the supervisor relays. (The supervisor's
// own "STATUS=running, restart N" no longer follows a worker's STATUS=: it
// would overwrite the application's text, attack finding 5.)
Supervised MeasureSupervision(const std::string& ticker, const std::string& dir,
                              int rounds) {
  Supervised result;
  NotifySocket notify = OpenNotifySocket(dir + "/notify");
  if (notify.fd < 0) return result;
  const std::string pidfile = dir + "/supervisor.pid";
  const std::string child_pidfile = dir + "/worker.pid";
  std::vector<std::string> start = {ticker,
                                    "--daemon_pidfile=" + pidfile,
                                    "--daemon_child_pidfile=" + child_pidfile,
                                    "--daemon_restart=always",
                                    "--daemon_restart_delay=1ms",
                                    "--daemon_restart_max_delay=1ms",
                                    "--daemon_stdout=/dev/null",
                                    "--interval=10s"};
  pid_t launcher = Spawn(start, 1024, {{"NOTIFY_SOCKET", notify.path}});
  int status;
  waitpid(launcher, &status, 0);
  if (!AwaitNotify(notify.fd, "READY=1", absl::Seconds(10))) {
    close(notify.fd);
    return result;
  }
  int supervisor = 0;
  absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(pidfile)), &supervisor);
  auto worker_pid = [&]() {
    int pid = 0;
    absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(child_pidfile)), &pid);
    // Only the supervisor's own child is ever signalled.
    absl::StatusOr<daemonkit::ProcStat> stat = daemonkit::ReadProcStat(pid);
    return stat.ok() && stat->field(daemonkit::ProcStat::kPpid) ==
                            absl::StrCat(supervisor)
               ? pid
               : 0;
  };
  absl::SleepFor(absl::Seconds(2));
  if (pid_t worker = worker_pid(); worker > 0 && supervisor > 0) {
    result.supervisor_pss = ProcKb(supervisor, "smaps_rollup", "Pss:");
    result.worker_pss = ProcKb(worker, "smaps_rollup", "Pss:");
    result.supervisor_rss = ProcKb(supervisor, "status", "VmRSS:");
    result.worker_rss = ProcKb(worker, "status", "VmRSS:");
  }
  for (int round = 1; round <= rounds; ++round) {
    pid_t worker = worker_pid();
    if (worker <= 0) break;
    const absl::Time begin = absl::Now();
    kill(worker, SIGKILL);
    // Each worker sends it once; the one before this round's was read.
    if (!AwaitNotify(notify.fd, "STATUS=ticking every 10s",
                     absl::Seconds(10))) {
      break;
    }
    result.restart_ms.push_back(
        absl::ToDoubleMilliseconds(absl::Now() - begin));
    // Let the new worker settle as a crash-looping service would not.
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_t stopper =
      Spawn({ticker, "--daemon_pidfile=" + pidfile, "--daemon_control=stop"},
            1024, {});
  waitpid(stopper, &status, 0);
  close(notify.fd);
  unlink(notify.path.c_str());
  return result;
}

// --- The daemonkit command: the memory it keeps beside a running program.

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  if (DIR* d = opendir("/proc")) {
    while (struct dirent* e = readdir(d)) {
      int pid;
      if (absl::SimpleAtoi(e->d_name, &pid) && pid > 0) pids.push_back(pid);
    }
    closedir(d);
  }
  return pids;
}

std::string ExeOf(pid_t pid) {
  char target[4096];
  const ssize_t n = readlink(absl::StrCat("/proc/", pid, "/exe").c_str(),
                             target, sizeof(target) - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

// How many other processes run the executable that `pid` runs: pages of it
// that they map too are shared, not private, so a count above 0 flatters
// the private figure.
int OthersRunningSameExe(pid_t pid) {
  const std::string exe = ExeOf(pid);
  if (exe.empty()) return 0;
  int count = 0;
  for (pid_t other : AllPids()) count += other != pid && ExeOf(other) == exe;
  return count;
}

// /proc/PID/smaps by mapping: private kB (clean + dirty) and RSS kB of each
// named mapping with its permissions ("[anon]" for anonymous ones), largest
// private first.
struct MappingMemory {
  std::string mapping;
  double private_kb = 0, rss_kb = 0;
};

std::vector<MappingMemory> SmapsByMapping(pid_t pid) {
  std::map<std::string, MappingMemory> by_name;
  std::string current;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(absl::StrCat("/proc/", pid, "/smaps")), '\n')) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.empty()) continue;
    if (words[0].find('-') != absl::string_view::npos && words.size() >= 5 &&
        !absl::EndsWith(words[0], ":")) {
      // "start-end perms offset dev inode [path]"
      std::string path = words.size() >= 6 ? std::string(words[5]) : "[anon]";
      if (path[0] == '/') path = path.substr(path.rfind('/') + 1);
      current = absl::StrCat(path, " ", words[1]);
      by_name[current].mapping = current;
      continue;
    }
    if (current.empty() || words.size() < 2) continue;
    double kb;
    if (!absl::SimpleAtod(words[1], &kb)) continue;
    if (words[0] == "Private_Clean:" || words[0] == "Private_Dirty:") {
      by_name[current].private_kb += kb;
    } else if (words[0] == "Rss:") {
      by_name[current].rss_kb += kb;
    }
  }
  std::vector<MappingMemory> out;
  for (const auto& [name, memory] : by_name) {
    if (memory.rss_kb > 0) out.push_back(memory);
  }
  std::sort(out.begin(), out.end(),
            [](const MappingMemory& a, const MappingMemory& b) {
              return a.private_kb != b.private_kb ? a.private_kb > b.private_kb
                                                  : a.mapping < b.mapping;
            });
  return out;
}

// A tool keeping fg_ticker running: the daemonkit command (its start and
// stop commands, the program's pid in the pid file), or a supervisor that
// runs a service directory whose `run` is fg_ticker (a symbolic link: the
// program runs unchanged).
struct Keeper {
  enum class Kind { kDaemonkit, kS6, kRunsv };
  std::string name;
  Kind kind;
  Peer peer;  // kDaemonkit only
};

struct KeptSample {
  Memory program;
  // Every process the tool keeps beside the program, by role.
  std::vector<std::pair<std::string, Memory>> beside;
  std::vector<std::pair<std::string, std::vector<MappingMemory>>> mappings;
  int sharing = 0;  // others running a beside process's executable
};

void MeasureBeside(const std::vector<pid_t>& beside_pids,
                   const std::vector<std::string>& roles, KeptSample* sample) {
  for (size_t i = 0; i < beside_pids.size(); ++i) {
    sample->beside.emplace_back(roles[i], ReadMemory(beside_pids[i]));
    sample->mappings.emplace_back(roles[i], SmapsByMapping(beside_pids[i]));
    sample->sharing += OthersRunningSameExe(beside_pids[i]);
  }
}

// The daemonkit command: every process in the program's session or its
// parent's, or its parent, besides the program (the monitor; a path keeper,
// were there one).
bool SampleDaemonkit(const Keeper& keeper, const std::string& dir,
                     KeptSample* sample) {
  const std::string pidfile = dir + "/kept.pid";
  StartResult started = Start(keeper.peer, pidfile, 1024, {});
  if (started.pid <= 0) return false;
  absl::SleepFor(absl::Seconds(2));
  int parent = 0;
  std::vector<std::string> sessions;
  if (absl::StatusOr<daemonkit::ProcStat> stat =
          daemonkit::ReadProcStat(started.pid);
      stat.ok()) {
    stat->ParseField(daemonkit::ProcStat::kPpid, &parent);
    sessions.emplace_back(stat->field(daemonkit::ProcStat::kSession));
  }
  if (absl::StatusOr<daemonkit::ProcStat> stat =
          daemonkit::ReadProcStat(parent);
      parent > 0 && stat.ok()) {
    sessions.emplace_back(stat->field(daemonkit::ProcStat::kSession));
  }
  std::vector<pid_t> pids;
  std::vector<std::string> roles;
  for (pid_t pid : AllPids()) {
    if (pid == started.pid) continue;
    absl::StatusOr<daemonkit::ProcStat> stat = daemonkit::ReadProcStat(pid);
    if (!stat.ok() || !stat->running()) continue;
    const bool in_session =
        std::find(sessions.begin(), sessions.end(),
                  stat->field(daemonkit::ProcStat::kSession)) != sessions.end();
    if ((pid != parent || parent <= 1) && !in_session) continue;
    pids.push_back(pid);
    roles.push_back(pid == parent
                        ? absl::StrCat("monitor (",
                                       stat->field(daemonkit::ProcStat::kComm),
                                       ")")
                        : std::string(stat->field(daemonkit::ProcStat::kComm)));
  }
  sample->program = ReadMemory(started.pid);
  MeasureBeside(pids, roles, sample);
  Stop(keeper.peer, pidfile, started.pid);
  return true;
}

// s6-supervise DIR or runsv DIR, started by us: the supervisor is our
// child, the program its child (pinned by a pidfd once found).
bool SampleSupervisor(const Keeper& keeper, const std::string& dir,
                      const std::string& program, KeptSample* sample) {
  const std::string service = absl::StrCat(dir, "/service-", keeper.name);
  mkdir(service.c_str(), 0755);
  const std::string run = service + "/run";
  unlink(run.c_str());
  if (symlink(program.c_str(), run.c_str()) != 0) return false;
  const std::string tool =
      keeper.kind == Keeper::Kind::kS6 ? "s6-supervise" : "runsv";
  const pid_t supervisor = Spawn({tool, service}, 1024, {});
  if (supervisor <= 0) return false;
  // The program: the supervisor's child once it runs fg_ticker.
  int program_fd = -1;
  pid_t program_pid = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (program_fd < 0 && absl::Now() < deadline) {
    for (absl::string_view word :
         absl::StrSplit(ReadFile(absl::StrCat("/proc/", supervisor, "/task/",
                                              supervisor, "/children")),
                        ' ', absl::SkipEmpty())) {
      int child;
      if (!absl::SimpleAtoi(word, &child) || ExeOf(child) != program) continue;
      const int fd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
      absl::StatusOr<daemonkit::ProcStat> stat = daemonkit::ReadProcStat(child);
      if (fd >= 0 && stat.ok() &&
          stat->field(daemonkit::ProcStat::kPpid) == absl::StrCat(supervisor)) {
        program_fd = fd;
        program_pid = child;
        break;
      }
      if (fd >= 0) close(fd);
    }
    if (program_fd < 0) absl::SleepFor(absl::Milliseconds(1));
  }
  bool measured = false;
  if (program_fd >= 0) {
    absl::SleepFor(absl::Seconds(2));
    sample->program = ReadMemory(program_pid);
    MeasureBeside({supervisor}, {tool}, sample);
    measured = true;
  }
  // Down and exit: s6-supervise takes SIGTERM as `s6-svc -xd`; runsv takes
  // "d" then "x" on its control pipe (its SIGTERM alone is "x": it would
  // wait for the program to go down by itself).
  if (keeper.kind == Keeper::Kind::kS6) {
    kill(supervisor, SIGTERM);
  } else {
    const int control = open((service + "/supervise/control").c_str(),
                             O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (control >= 0) {
      if (write(control, "dx", 2) != 2) kill(supervisor, SIGKILL);
      close(control);
    } else {
      kill(supervisor, SIGKILL);
    }
  }
  if (program_fd >= 0) {
    struct pollfd pfd = {program_fd, POLLIN, 0};
    if (poll(&pfd, 1, 10000) <= 0) {
      syscall(SYS_pidfd_send_signal, program_fd, SIGKILL, nullptr, 0);
      poll(&pfd, 1, 5000);
    }
    close(program_fd);
  }
  if (!AwaitGone(supervisor, absl::Seconds(10))) kill(supervisor, SIGKILL);
  int status;
  waitpid(supervisor, &status, 0);
  return measured;
}

struct KeptSummary {
  std::vector<std::string> roles;
  std::map<std::string, std::vector<Memory>> beside;  // by role
  std::vector<Memory> total, program;
  std::vector<std::pair<std::string, std::vector<MappingMemory>>> mappings;
  int sharing = 0;
};

// Each round runs every tool once, in a shuffled order, one at a time (a
// second copy of a binary running meanwhile would share its pages).
std::map<std::string, KeptSummary> MeasureKept(
    const std::vector<Keeper>& keepers, const std::string& dir,
    const std::string& program, int rounds) {
  std::map<std::string, KeptSummary> kept;
  std::mt19937 random(20261206);
  std::vector<size_t> order(keepers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(order.begin(), order.end(), random);
    for (size_t index : order) {
      const Keeper& keeper = keepers[index];
      KeptSample sample;
      const bool ok = keeper.kind == Keeper::Kind::kDaemonkit
                          ? SampleDaemonkit(keeper, dir, &sample)
                          : SampleSupervisor(keeper, dir, program, &sample);
      if (!ok) continue;
      KeptSummary& summary = kept[keeper.name];
      Memory total;
      for (const auto& [role, memory] : sample.beside) {
        if (summary.beside.count(role) == 0) summary.roles.push_back(role);
        summary.beside[role].push_back(memory);
        total.private_kb += memory.private_kb;
        total.pss_kb += memory.pss_kb;
        total.rss_kb += memory.rss_kb;
      }
      summary.total.push_back(total);
      summary.program.push_back(sample.program);
      if (summary.mappings.empty()) summary.mappings = sample.mappings;
      summary.sharing = std::max(summary.sharing, sample.sharing);
    }
  }
  return kept;
}

// The median of each figure on its own.
Memory MedianMemory(const std::vector<Memory>& samples) {
  std::vector<double> private_kb, pss_kb, rss_kb;
  for (const Memory& m : samples) {
    private_kb.push_back(m.private_kb);
    pss_kb.push_back(m.pss_kb);
    rss_kb.push_back(m.rss_kb);
  }
  return {Summarize(private_kb).p50, Summarize(pss_kb).p50,
          Summarize(rss_kb).p50};
}

// The median over rounds of a's start-to-ready over b's in the same round
// (every peer has one value per round); 0 when either did not run.
double RoundRatio(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size(); ++i) ratios.push_back(a[i] / b[i]);
  return Summarize(ratios).p50;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string peers_dir = absl::GetFlag(FLAGS_peers);
  const std::string ticker = absl::GetFlag(FLAGS_ticker);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  char dir_template[] = "/tmp/daemonkit-bench.XXXXXX";
  const std::string dir = mkdtemp(dir_template);

  std::vector<Peer> peers = {
      {"daemon(3)", {peers_dir + "/daemon3_ticker", "{pidfile}"}, {}},
      {"double fork", {peers_dir + "/doublefork_ticker", "{pidfile}"}, {}},
      {"double fork, close loop",
       {peers_dir + "/doublefork_ticker", "{pidfile}", "loop"},
       {}},
      {"libdaemon", {peers_dir + "/libdaemon_ticker", "{pidfile}"}, {}},
      {"start-stop-daemon --background",
       {"start-stop-daemon", "--start", "--quiet", "--background",
        "--make-pidfile", "--pidfile", "{pidfile}", "--exec",
        peers_dir + "/fg_ticker"},
       {"start-stop-daemon", "--stop", "--quiet", "--pidfile", "{pidfile}",
        "--retry", "TERM/5/KILL/5"}},
      {"start-stop-daemon --notify-await",
       {"start-stop-daemon", "--start", "--quiet", "--background",
        "--make-pidfile", "--notify-await", "--pidfile", "{pidfile}", "--exec",
        peers_dir + "/fg_ticker"},
       {"start-stop-daemon", "--stop", "--quiet", "--pidfile", "{pidfile}",
        "--retry", "TERM/5/KILL/5"}},
      {"daemonize(1)",
       {"daemonize", "-p", "{pidfile}", peers_dir + "/fg_ticker"},
       {}},
      {"python-daemon",
       {"/usr/bin/python3", peers_dir + "/python_daemon_ticker.py",
        "{pidfile}"},
       {}},
      {"go-daemon", {peers_dir + "/go_daemon_ticker", "{pidfile}"}, {}},
      {"daemonkit",
       {ticker, "--daemon_pidfile={pidfile}", "--daemon_stdout=/dev/null",
        "--interval=10s"},
       {ticker, "--daemon_pidfile={pidfile}", "--daemon_control=stop"},
       true},
  };
  // The daemonkit command starts the program that start-stop-daemon and
  // daemonize(1) start, fg_ticker, unchanged (it sends READY=1 to
  // $NOTIFY_SOCKET, which daemonkit and start-stop-daemon give it).
  const std::string command = absl::GetFlag(FLAGS_daemonkit);
  const std::string fg_ticker_path = peers_dir + "/fg_ticker";
  const std::string command_started = "daemonkit --ready=started";
  const std::string command_notify = "daemonkit --ready=notify";
  if (!command.empty()) {
    for (const std::string& name : {command_started, command_notify}) {
      peers.push_back(
          {name,
           {command, "--daemon_pidfile={pidfile}", "--daemon_stdout=/dev/null",
            absl::StrCat("--ready=",
                         absl::StripPrefix(name, "daemonkit --ready=")),
            "--", fg_ticker_path},
           {command, "--daemon_pidfile={pidfile}", "--daemon_control=stop"}});
    }
  }
  const std::string baseline = absl::GetFlag(FLAGS_baseline_ticker);
  if (!baseline.empty()) {
    peers.push_back(
        {"daemonkit, baseline",
         {baseline, "--daemon_pidfile={pidfile}", "--daemon_stdout=/dev/null",
          "--interval=10s"},
         {baseline, "--daemon_pidfile={pidfile}", "--daemon_control=stop"},
         true});
  }
  if (!absl::GetFlag(FLAGS_only).empty()) {
    std::vector<std::string> only =
        absl::StrSplit(absl::GetFlag(FLAGS_only), ',');
    peers.erase(std::remove_if(peers.begin(), peers.end(),
                               [&](const Peer& p) {
                                 return std::find(only.begin(), only.end(),
                                                  p.name) == only.end();
                               }),
                peers.end());
  }

  struct rlimit limit;
  getrlimit(RLIMIT_NOFILE, &limit);
  const rlim_t hard = limit.rlim_max;
  std::map<std::string, std::vector<double>> ready_1024, ready_hard, ratio_1024,
      stop_ms;
  std::map<std::string, std::vector<double>> rss_kb, pss_kb, fds;
  std::mt19937 random(20261125);
  std::vector<size_t> order(peers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;

  for (int round = 0; round < rounds; ++round) {
    std::shuffle(order.begin(), order.end(), random);
    std::map<std::string, double> this_round;
    for (size_t index : order) {
      const Peer& peer = peers[index];
      const std::string pidfile = absl::StrCat(dir, "/", index, ".pid");
      for (rlim_t nofile : {rlim_t{1024}, hard}) {
        StartResult started = Start(peer, pidfile, nofile, {});
        const double ms = absl::ToDoubleMilliseconds(started.to_ready);
        (nofile == 1024 ? ready_1024 : ready_hard)[peer.name].push_back(ms);
        if (nofile == 1024) this_round[peer.name] = ms;
        if (round < kMemoryRounds && nofile == 1024 && started.pid > 0) {
          // Resident memory and descriptors once it has settled; the median
          // of the first rounds (one sample moves with the page cache).
          absl::SleepFor(absl::Seconds(2));
          rss_kb[peer.name].push_back(ProcKb(started.pid, "status", "VmRSS:"));
          pss_kb[peer.name].push_back(
              ProcKb(started.pid, "smaps_rollup", "Pss:"));
          int count = 0;
          if (DIR* d =
                  opendir(absl::StrCat("/proc/", started.pid, "/fd").c_str())) {
            while (struct dirent* e = readdir(d)) count += e->d_name[0] != '.';
            closedir(d);
          }
          fds[peer.name].push_back(count);
        }
        if (started.pid > 0) {
          const double stop =
              absl::ToDoubleMilliseconds(Stop(peer, pidfile, started.pid));
          if (nofile == 1024) stop_ms[peer.name].push_back(stop);
        }
      }
    }
    for (const auto& [name, ms] : this_round) {
      ratio_1024[name].push_back(ms / this_round["daemon(3)"]);
    }
  }

  // The readiness probe: with a 300 ms application start-up, does the start
  // command wait for it?
  std::map<std::string, bool> waits;
  for (size_t index = 0; index < peers.size(); ++index) {
    const Peer& peer = peers[index];
    const std::string pidfile = absl::StrCat(dir, "/probe", index, ".pid");
    std::vector<std::string> start = peer.start;
    if (peer.ours) start.push_back("--startup_delay=300ms");
    Peer probe = peer;
    probe.start = start;
    StartResult started =
        Start(probe, pidfile, 1024, {{"READY_DELAY_MS", "300"}});
    waits[peer.name] = started.to_exit >= absl::Milliseconds(300);
    if (started.pid > 0) Stop(peer, pidfile, started.pid);
  }

  // Start-up alone, in the foreground: the floor a C++ daemon cannot go
  // below, and the ticker for one tick.
  const std::string hello_cxx = "hello, C++ (g++ defaults: libstdc++.so)";
  const std::string ticker_fg = "ticker --daemon=false, one tick";
  std::vector<Foreground> programs = {
      {hello_cxx, {peers_dir + "/hello_cxx_dynamic"}},
      {"hello, C++ (this toolchain)", {peers_dir + "/hello_cxx_toolchain"}},
      {"hello, C++ (static)", {peers_dir + "/hello_cxx_static"}},
      {"hello, C", {peers_dir + "/hello_c"}},
      {ticker_fg,
       {ticker, "--daemon=false", "--daemon_pidfile=", "--count=1",
        "--interval=1ms", "--daemon_stdout=/dev/null"}},
  };
  if (!baseline.empty()) {
    programs.push_back(
        {"ticker, baseline",
         {baseline, "--daemon=false", "--daemon_pidfile=", "--count=1",
          "--interval=1ms", "--daemon_stdout=/dev/null"}});
  }
  std::map<std::string, std::vector<double>> fg_ratio;
  std::map<std::string, std::vector<double>> fg_ms = ForegroundRuns(
      programs, rounds, absl::GetFlag(FLAGS_foreground_runs), &fg_ratio);

  // What each tool keeps resident beside the running program.
  std::vector<Keeper> keepers;
  for (const Peer& peer : peers) {
    if (peer.name == command_started || peer.name == command_notify) {
      keepers.push_back({peer.name, Keeper::Kind::kDaemonkit, peer});
    }
  }
  std::map<std::string, KeptSummary> kept;
  if (!keepers.empty()) {
    keepers.push_back({"s6-supervise", Keeper::Kind::kS6, {}});
    keepers.push_back({"runsv", Keeper::Kind::kRunsv, {}});
    kept = MeasureKept(keepers, dir, fg_ticker_path,
                       absl::GetFlag(FLAGS_memory_rounds));
  }

  const bool run_ours = ready_1024.count("daemonkit") > 0;
  Supervised supervised;
  if (run_ours) supervised = MeasureSupervision(ticker, dir, rounds);

  std::printf("### Start-to-ready (%d interleaved rounds, ms)\n\n", rounds);
  std::printf(
      "| peer | p10 | median | p90 | ratio to daemon(3) | at hard NOFILE "
      "(%llu), median | waits for app ready | stop, median | RSS kB | PSS kB "
      "| fds |\n",
      static_cast<unsigned long long>(hard));
  std::printf(
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
      "|\n");
  auto median_or_dash = [](const std::vector<double>& values) {
    return values.empty() ? std::string("-")
                          : absl::StrFormat("%.0f", Summarize(values).p50);
  };
  for (const Peer& peer : peers) {
    Summary ready = Summarize(ready_1024[peer.name]);
    Summary ratio = Summarize(ratio_1024[peer.name]);
    Summary at_hard = Summarize(ready_hard[peer.name]);
    Summary stop = Summarize(stop_ms[peer.name]);
    std::printf("| %s | %s | %s | %s | %.2fx | %s | %s | %s | %s | %s | %s |\n",
                peer.name.c_str(), Ms(ready.p10).c_str(), Ms(ready.p50).c_str(),
                Ms(ready.p90).c_str(), ratio.p50, Ms(at_hard.p50).c_str(),
                waits[peer.name] ? "yes" : "no", Ms(stop.p50).c_str(),
                median_or_dash(rss_kb[peer.name]).c_str(),
                median_or_dash(pss_kb[peer.name]).c_str(),
                median_or_dash(fds[peer.name]).c_str());
  }

  std::printf(
      "\n### Start-up alone: foreground, to exit (%d runs each, interleaved, "
      "ms)\n\n| program | p10 | median | p90 | ratio to %s |\n| --- | --- | "
      "--- | --- | --- |\n",
      rounds * absl::GetFlag(FLAGS_foreground_runs), hello_cxx.c_str());
  for (const Foreground& program : programs) {
    Summary took = Summarize(fg_ms[program.name]);
    Summary ratio = Summarize(fg_ratio[program.name]);
    std::printf("| %s | %s | %s | %s | %.2fx |\n", program.name.c_str(),
                Ms(took.p10).c_str(), Ms(took.p50).c_str(),
                Ms(took.p90).c_str(), ratio.p50);
  }

  if (!keepers.empty()) {
    std::printf(
        "\n### Memory kept beside the running program (fg_ticker), median "
        "of %d rounds, kB\n\n| tool | process beside the program | private "
        "(Private_Clean + Private_Dirty) | PSS | RSS | the program's own "
        "PSS |\n| --- | --- | --- | --- | --- | --- |\n",
        absl::GetFlag(FLAGS_memory_rounds));
    for (const Keeper& keeper : keepers) {
      auto found = kept.find(keeper.name);
      if (found == kept.end()) {
        std::printf("| %s | (not measured: it did not start) | | | | |\n",
                    keeper.name.c_str());
        continue;
      }
      const KeptSummary& summary = found->second;
      const Memory program = MedianMemory(summary.program);
      for (const std::string& role : summary.roles) {
        const Memory m = MedianMemory(summary.beside.at(role));
        std::printf("| %s | %s | %.0f | %.0f | %.0f | %.0f |\n",
                    keeper.name.c_str(), role.c_str(), m.private_kb, m.pss_kb,
                    m.rss_kb, program.pss_kb);
      }
      const Memory total = MedianMemory(summary.total);
      std::printf(
          "| %s | total beside the program%s | %.0f | %.0f | %.0f | |\n",
          keeper.name.c_str(),
          summary.sharing > 0
              ? absl::StrCat(" (", summary.sharing,
                             " other processes ran the same binary: "
                             "its shared pages are not private)")
                    .c_str()
              : "",
          total.private_kb, total.pss_kb, total.rss_kb);
    }
    // Where the private memory goes, mapping by mapping (the first round).
    for (const Keeper& keeper : keepers) {
      auto found = kept.find(keeper.name);
      if (found == kept.end()) continue;
      for (const auto& [role, mappings] : found->second.mappings) {
        std::printf(
            "\n#### %s: %s, /proc/PID/smaps by mapping (first round)\n\n| "
            "mapping | private kB | RSS kB |\n| --- | --- | --- |\n",
            keeper.name.c_str(), role.c_str());
        for (const MappingMemory& m : mappings) {
          std::printf("| %s | %.0f | %.0f |\n", m.mapping.c_str(), m.private_kb,
                      m.rss_kb);
        }
      }
    }
    // The command's targets (issue 21): no slower to start than
    // start-stop-daemon or daemonize(1) starting the same program, no more
    // memory beside it than s6-supervise or runsv.
    std::printf(
        "\n### The daemonkit command's targets\n\n| target | measured: "
        "median ms (median of the per-round ratios) | verdict |\n| --- | "
        "--- | --- |\n");
    const std::vector<std::pair<std::string, std::string>> races = {
        {command_started, "start-stop-daemon --background"},
        {command_started, "daemonize(1)"},
        {command_notify, "start-stop-daemon --notify-await"}};
    for (const auto& [ours_name, other_name] : races) {
      if (ready_1024[ours_name].empty() || ready_1024[other_name].empty()) {
        continue;
      }
      const double ratio =
          RoundRatio(ready_1024[ours_name], ready_1024[other_name]);
      std::printf(
          "| %s start-to-ready no slower than %s | %s vs %s ms (%.2fx) | %s "
          "|\n",
          ours_name.c_str(), other_name.c_str(),
          Ms(Summarize(ready_1024[ours_name]).p50).c_str(),
          Ms(Summarize(ready_1024[other_name]).p50).c_str(), ratio,
          ratio > 0 && ratio <= 1.0 ? "PASS" : "MISS");
    }
    for (const std::string& ours_name : {command_started, command_notify}) {
      if (kept.count(ours_name) == 0) continue;
      const Memory ours_total = MedianMemory(kept[ours_name].total);
      for (const char* other_name : {"s6-supervise", "runsv"}) {
        if (kept.count(other_name) == 0) continue;
        const Memory other = MedianMemory(kept[other_name].total);
        std::printf(
            "| %s: private memory beside the program no more than %s's | "
            "%.0f vs %.0f kB (%.2fx) | %s |\n",
            ours_name.c_str(), other_name, ours_total.private_kb,
            other.private_kb, ours_total.private_kb / other.private_kb,
            ours_total.private_kb <= other.private_kb ? "PASS" : "MISS");
      }
    }
  }

  if (!run_ours) {
    std::string rm = "rm -rf " + dir;
    return std::system(rm.c_str()) == 0 ? 0 : 1;
  }

  // daemonkit's targets (docs/benchmarks.md, "Targets").
  const Summary ours = Summarize(ready_1024["daemonkit"]);
  const Summary ours_ratio = Summarize(ratio_1024["daemonkit"]);
  const Summary ours_hard = Summarize(ready_hard["daemonkit"]);
  const Summary ours_stop = Summarize(stop_ms["daemonkit"]);
  const Summary fg = Summarize(fg_ratio[ticker_fg]);
  const Summary fg_toolchain = Summarize(fg_ms["hello, C++ (this toolchain)"]);
  const Summary fg_ticker = Summarize(fg_ms[ticker_fg]);
  const Summary restart = Summarize(supervised.restart_ms);
  const double ours_rss =
      rss_kb["daemonkit"].empty() ? 0 : Summarize(rss_kb["daemonkit"]).p50;
  const double base_rss =
      rss_kb["daemon(3)"].empty() ? 1 : Summarize(rss_kb["daemon(3)"]).p50;
  auto verdict = [](bool met) { return met ? "PASS" : "MISS"; };
  std::printf(
      "\n### daemonkit's targets\n\n| # | target | measured | verdict |\n| "
      "--- | --- | --- | --- |\n");
  std::printf("| 1 | start-to-ready <= 1.2x daemon(3) | %.2fx | %s |\n",
              ours_ratio.p50, verdict(ours_ratio.p50 <= 1.2));
  for (const char* peer : {"libdaemon", "start-stop-daemon --notify-await"}) {
    if (ready_1024[peer].empty()) continue;  // left out by --only
    Summary other = Summarize(ready_1024[peer]);
    std::printf("| 1 | below %s (handshake) | %s vs %s ms | %s |\n", peer,
                Ms(ours.p50).c_str(), Ms(other.p50).c_str(),
                verdict(ours.p50 < other.p50));
  }
  std::printf(
      "| 2 | foreground, one tick <= 1.3x C++ hello world (g++ defaults) | "
      "%.2fx | %s |\n",
      fg.p50, verdict(fg.p50 <= 1.3));
  std::printf(
      "| 2 | (for reference) against hello world of this toolchain | %s vs "
      "%s ms (%.2fx) | - |\n",
      Ms(fg_ticker.p50).c_str(), Ms(fg_toolchain.p50).c_str(),
      fg_toolchain.p50 > 0 ? fg_ticker.p50 / fg_toolchain.p50 : 0.0);
  std::printf("| 3 | RSS <= 1.5x daemon(3) | %.0f vs %.0f kB (%.2fx) | %s |\n",
              ours_rss, base_rss, ours_rss / base_rss,
              verdict(ours_rss <= 1.5 * base_rss));
  std::printf(
      "| 3 | (for reference) supervised pair: supervisor + worker | PSS %.0f "
      "+ %.0f kB, RSS %.0f + %.0f kB | - |\n",
      supervised.supervisor_pss, supervised.worker_pss,
      supervised.supervisor_rss, supervised.worker_rss);
  std::printf(
      "| 4 | restart (SIGKILL to next worker ready, %zu restarts) <= 2x "
      "start-to-ready | %s ms (p90 %s) vs 2 x %s ms | %s |\n",
      supervised.restart_ms.size(), Ms(restart.p50).c_str(),
      Ms(restart.p90).c_str(), Ms(ours.p50).c_str(),
      verdict(!supervised.restart_ms.empty() && restart.p50 <= 2 * ours.p50));
  std::printf(
      "| 5 | no growth from 1024 to %llu descriptors | %s -> %s ms | %s |\n",
      static_cast<unsigned long long>(hard), Ms(ours.p50).c_str(),
      Ms(ours_hard.p50).c_str(),
      verdict(ours_hard.p50 <= ours.p50 * 1.1 + 0.2));
  std::printf("| 5 | stop under 20 ms median | %s ms | %s |\n",
              Ms(ours_stop.p50).c_str(), verdict(ours_stop.p50 < 20));
  TickAccuracy(ticker, dir, "daemonkit ticker");
  // The same, right after, for the baseline build: scheduling noise of a
  // loaded machine shows in both alike.
  if (!baseline.empty()) TickAccuracy(baseline, dir, "daemonkit, baseline");
  std::string rm = "rm -rf " + dir;
  return std::system(rm.c_str()) == 0 ? 0 : 1;
}
