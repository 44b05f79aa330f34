// Copyright 2026 The daemonkit Authors.
//
// The model test of the daemon's life (docs/design.md, "The model of the
// daemon's life"): random sequences of operations from a seed, over a
// pairwise cover of configurations, with the model's invariants checked
// against real processes and /proc after every step.
//
// A configuration is a launch mode (detached, foreground, supervised, pid 1
// of a pid namespace) and four switches (user drop, a unix listening socket,
// --daemon_keep_env, --daemon_rlimits); kConfigurations covers every pair of
// values at least once (a test proves it). The operations are the control
// actions, a logrotate-style rename before each reload, and signals to a
// role of the process tree (the application, the supervisor, the path
// keeper: SIGKILL, SIGTERM, SIGSTOP then SIGCONT), two control actions at
// once, and removing the pid file (a tmpfiles cleaner), which must come back.
// The application is tests/model_app.cc.
//
// On a violation the test prints the configuration, the seed, the sequence
// shrunk to the shortest one that still fails, and the command that replays
// it:
//
//   tools/bazel test //tests:model_test --test_filter='*Replay*'
//     --test_env=MODEL_REPLAY='3:start,kill_keeper,start'
//
// CI runs a fixed set of seeds (MODEL_SEEDS, default 2 per configuration);
// tools/soak.sh DURATION runs random ones for as long as asked.

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/proc.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;

enum class Mode { kDetached, kForeground, kSupervised, kContainer };

struct Configuration {
  Mode mode;
  bool drop_user;
  bool unix_listen;
  bool keep_env;
  bool rlimits;
};

// A pairwise cover: every value of every dimension meets every value of
// every other dimension in at least one row (PairwiseCoverIsComplete).
constexpr Configuration kConfigurations[] = {
    {Mode::kDetached, false, false, false, false},
    {Mode::kDetached, true, true, true, true},
    {Mode::kForeground, false, true, false, true},
    {Mode::kForeground, true, false, true, false},
    {Mode::kSupervised, false, false, true, true},
    {Mode::kSupervised, true, true, false, false},
    {Mode::kContainer, false, true, true, false},
    {Mode::kContainer, true, false, false, true},
};
constexpr int kConfigurationCount =
    sizeof(kConfigurations) / sizeof(kConfigurations[0]);

std::string Describe(const Configuration& config) {
  const char* modes[] = {"detached", "foreground", "supervised", "container"};
  std::vector<std::string> parts = {modes[static_cast<int>(config.mode)]};
  if (config.drop_user) parts.push_back("user=nobody");
  if (config.unix_listen) parts.push_back("listen=unix");
  if (config.keep_env) parts.push_back("keep_env");
  if (config.rlimits) parts.push_back("rlimits");
  return absl::StrJoin(parts, " ");
}

// The operations. Each is valid in every state; the model says what the
// outcome must be.
enum class Op {
  kStart,
  kStop,
  kStatus,
  kReload,  // rename the log, then reload
  kRestart,
  kKillApp,     // SIGKILL to the application (the worker when supervised)
  kTermApp,     // SIGTERM straight to the application
  kFreezeApp,   // SIGSTOP, a status, SIGCONT
  kKillKeeper,  // SIGKILL to the path keeper (with a user drop)
  kKillSupervisor,
  kTwoStarts,      // two starts at once
  kStopAndStatus,  // a stop and a status at once
  kDeletePidfile,  // rm the pid file (a tmpfiles cleaner): it comes back
};

struct OpName {
  Op op;
  const char* name;
};
constexpr OpName kOpNames[] = {
    {Op::kStart, "start"},
    {Op::kStop, "stop"},
    {Op::kStatus, "status"},
    {Op::kReload, "reload"},
    {Op::kRestart, "restart"},
    {Op::kKillApp, "kill_app"},
    {Op::kTermApp, "term_app"},
    {Op::kFreezeApp, "freeze_app"},
    {Op::kKillKeeper, "kill_keeper"},
    {Op::kKillSupervisor, "kill_supervisor"},
    {Op::kTwoStarts, "two_starts"},
    {Op::kStopAndStatus, "stop_and_status"},
    {Op::kDeletePidfile, "delete_pidfile"},
};

std::string NameOf(Op op) {
  for (const OpName& entry : kOpNames) {
    if (entry.op == op) return entry.name;
  }
  return "?";
}

std::optional<Op> OpNamed(absl::string_view name) {
  for (const OpName& entry : kOpNames) {
    if (name == entry.name) return entry.op;
  }
  return std::nullopt;
}

std::string Join(const std::vector<Op>& ops) {
  std::vector<std::string> names;
  names.reserve(ops.size());
  for (Op op : ops) names.push_back(NameOf(op));
  return absl::StrJoin(names, ",");
}

// The operations that mean something in `config`.
std::vector<Op> OpsFor(const Configuration& config) {
  std::vector<Op> ops = {Op::kStart,         Op::kStart,        Op::kStop,
                         Op::kStatus,        Op::kReload,       Op::kReload,
                         Op::kKillApp,       Op::kTermApp,      Op::kFreezeApp,
                         Op::kStopAndStatus, Op::kDeletePidfile};
  const bool detaches =
      config.mode == Mode::kDetached || config.mode == Mode::kSupervised;
  if (detaches) {
    ops.push_back(Op::kRestart);
    ops.push_back(Op::kTwoStarts);
  }
  if (config.drop_user) ops.push_back(Op::kKillKeeper);
  if (config.mode == Mode::kSupervised) ops.push_back(Op::kKillSupervisor);
  return ops;
}

std::vector<Op> RandomSequence(const Configuration& config, uint32_t seed,
                               int length) {
  std::mt19937 random(seed);
  const std::vector<Op> ops = OpsFor(config);
  std::uniform_int_distribution<size_t> pick(0, ops.size() - 1);
  std::vector<Op> sequence = {Op::kStart};  // most of the life is running
  while (static_cast<int>(sequence.size()) < length) {
    sequence.push_back(ops[pick(random)]);
  }
  return sequence;
}

int EnvironmentInt(const char* name, int fallback) {
  int value = 0;
  const char* text = std::getenv(name);
  return text != nullptr && absl::SimpleAtoi(text, &value) && value > 0
             ? value
             : fallback;
}

// One run of a sequence in one configuration, in a fresh directory. Every
// check that fails records a violation (the first one ends the run) rather
// than a gtest failure, so that the driver can shrink the sequence.
class ModelRun {
 public:
  ModelRun(const Configuration& config, const std::string& dir)
      : config_(config),
        dir_(dir),
        app_(test_support::RunfilePath("tests/model_app")),
        pidfile_(dir + "/model.pid"),
        log_(dir + "/model.log"),
        socket_(dir + "/model.sock") {}

  ~ModelRun() { EndEverything(); }

  // Runs `ops`; the first violated invariant, or "" when all held.
  std::string Run(const std::vector<Op>& ops) {
    for (size_t step = 0; step < ops.size() && violation_.empty(); ++step) {
      step_ = absl::StrCat("step ", step + 1, " (", NameOf(ops[step]), ")");
      Apply(ops[step]);
      if (violation_.empty()) CheckInvariants();
    }
    return violation_;
  }

 private:
  bool detaches() const {
    return config_.mode == Mode::kDetached || config_.mode == Mode::kSupervised;
  }

  void Violated(const std::string& what) {
    if (violation_.empty()) violation_ = absl::StrCat(step_, ": ", what);
  }

  std::vector<std::string> StartFlags() const {
    std::vector<std::string> flags = {
        "--daemon_pidfile=" + pidfile_, "--daemon_stdout=" + log_,
        "--daemon_stderr=" + dir_ + "/model.err", "--daemon_stop_timeout=20s"};
    if (!detaches()) flags.push_back("--daemon=false");
    if (config_.mode == Mode::kSupervised) {
      flags.push_back("--daemon_restart=always");
      flags.push_back("--daemon_restart_delay=100ms");
    }
    if (config_.drop_user) flags.push_back("--daemon_user=nobody");
    if (config_.unix_listen) {
      flags.push_back("--daemon_listen=app=unix:" + socket_);
    }
    if (config_.keep_env) flags.push_back("--daemon_keep_env=MODEL_KEEP");
    if (config_.rlimits) flags.push_back("--daemon_rlimits=nofile=256");
    return flags;
  }

  std::map<std::string, std::string> StartEnvironment() const {
    return {{"MODEL_KEEP", "kept"}, {"MODEL_DROP", "dropped"}};
  }

  RunResult Control(const std::string& action) {
    return RunProgram({app_, "--daemon_pidfile=" + pidfile_,
                       "--daemon_stop_timeout=20s",
                       "--daemon_control=" + action});
  }

  // The processes of this run's tree: their command line names this run's
  // pid file (the path keeper renames itself, so it is found by its
  // descriptor on the pid file instead). Zombies do not count.
  std::vector<pid_t> Instances() const {
    std::vector<pid_t> pids;
    for (pid_t pid : AllPids()) {
      const std::string comm = Comm(pid);
      if (comm == "unshare" || comm == "daemonkit-keep") continue;
      const std::string cmdline =
          ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/cmdline"));
      // (Control invocations are done by the time anything looks.)
      if (absl::StrContains(cmdline, "--daemon_pidfile=" + pidfile_) &&
          IsAlive(pid)) {
        pids.push_back(pid);
      }
    }
    return pids;
  }

  std::vector<pid_t> Keepers() const {
    std::vector<pid_t> pids;
    for (pid_t pid : AllPids()) {
      if (Comm(pid) != "daemonkit-keep" || !IsAlive(pid)) continue;
      for (const auto& [fd, target] : test_support::OpenDescriptors(pid)) {
        if (target == pidfile_ || target == pidfile_ + " (deleted)") {
          pids.push_back(pid);
          break;
        }
      }
    }
    return pids;
  }

  static std::vector<pid_t> AllPids() {
    std::vector<pid_t> pids;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return pids;
    while (struct dirent* entry = readdir(proc)) {
      pid_t pid;
      if (absl::SimpleAtoi(entry->d_name, &pid)) pids.push_back(pid);
    }
    closedir(proc);
    return pids;
  }

  static std::string Comm(pid_t pid) {
    return std::string(absl::StripTrailingAsciiWhitespace(
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/comm"))));
  }

  // The pid a process knows itself by (in its own pid namespace): what
  // the application writes in its lines.
  static pid_t OwnPid(pid_t pid) {
    const std::string status =
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
    for (absl::string_view line : absl::StrSplit(status, '\n')) {
      if (!absl::ConsumePrefix(&line, "NSpid:")) continue;
      std::vector<absl::string_view> pids =
          absl::StrSplit(line, '\t', absl::SkipEmpty());
      pid_t own = 0;
      if (!pids.empty() && absl::SimpleAtoi(pids.back(), &own)) return own;
    }
    return pid;
  }

  static pid_t ParentOf(pid_t pid) {
    pid_t parent = 0;
    test_support::StatOf(pid).ParseField(ProcStat::kPpid, &parent);
    return parent;
  }

  // The application: the instance that is no other instance's parent.
  pid_t Application() const {
    const std::vector<pid_t> instances = Instances();
    std::set<pid_t> parents;
    for (pid_t pid : instances) parents.insert(ParentOf(pid));
    for (pid_t pid : instances) {
      if (parents.count(pid) == 0) return pid;
    }
    return 0;
  }

  pid_t Supervisor() const {
    const pid_t application = Application();
    return application > 0 ? ParentOf(application) : 0;
  }

  // How many processes a running service has, the path keeper and unshare
  // aside: the application, and its supervisor or the container's init.
  size_t ExpectedInstances() const {
    return config_.mode == Mode::kSupervised || config_.mode == Mode::kContainer
               ? 2
               : 1;
  }

  // Starts the service as the mode does; whether the model now expects it
  // to run (a start beside a running one must be refused).
  void Start() {
    std::vector<std::string> argv = {app_};
    for (std::string& flag : StartFlags()) argv.push_back(std::move(flag));
    if (detaches()) {
      RunResult result = RunProgram(argv, StartEnvironment());
      if (running_) {
        if (result.exit_code != 1 ||
            !absl::StrContains(result.stderr_text, "already running")) {
          Violated(
              absl::StrCat("a second start exited ", result.exit_code,
                           " (want 1, already running): ", result.stderr_text));
        }
        return;
      }
      if (result.exit_code != 0) {
        Violated(absl::StrCat("start exited ", result.exit_code, ": ",
                              result.stderr_text));
        return;
      }
      running_ = true;
      return;
    }
    if (running_) {
      // A second foreground instance must be refused at once.
      RunResult result = RunProgram(argv, StartEnvironment());
      if (result.exit_code != 1 ||
          !absl::StrContains(result.stderr_text, "already running")) {
        Violated(absl::StrCat("a second foreground start exited ",
                              result.exit_code, ": ", result.stderr_text));
      }
      return;
    }
    if (config_.mode == Mode::kForeground) {
      foreground_ = test_support::SpawnProgram(argv, StartEnvironment());
    } else {
      container_ = std::make_unique<test_support::PidNamespace>();
      // PidNamespace::Start takes no environment: this process's own
      // carries the kept and dropped variables through unshare.
      for (const auto& [name, value] : StartEnvironment()) {
        setenv(name.c_str(), value.c_str(), 1);
      }
      container_->Start(argv);
    }
    running_ = true;
    const bool up = test_support::WaitFor([&] {
      if (FailedToStart()) return true;
      return Control("status").exit_code == 0 &&
             Instances().size() == ExpectedInstances() &&
             absl::StrContains(
                 ReadFileOrEmpty(log_),
                 absl::StrCat("start ", OwnPid(Application()), "\n"));
    });
    if (!up || FailedToStart()) {
      Violated("the foreground service never came up: " + Stderr());
    }
  }

  // Whether the foreground process (or the container) already ended.
  bool FailedToStart() {
    if (foreground_.pid > 0) return !IsAlive(foreground_.pid);
    return container_ && container_->Init() == 0 &&
           !IsAlive(container_->unshare_pid());
  }

  std::string Stderr() const {
    if (foreground_.pid > 0) return ReadFileOrEmpty(foreground_.err_path);
    if (container_) return ReadFileOrEmpty(container_->stderr_path());
    return ReadFileOrEmpty(dir_ + "/model.err");
  }

  // After a stop, a kill or an exit: the foreground process (or unshare)
  // ends on its own, and is reaped here.
  void ReapForeground(bool clean) {
    if (foreground_.pid > 0) {
      const bool gone =
          test_support::WaitFor([&] { return !IsAlive(foreground_.pid); });
      if (!gone) Violated("the foreground process outlived its service");
      RunResult result = test_support::WaitProgram(foreground_);
      if (clean && result.exit_code != 0) {
        Violated(absl::StrCat("the foreground process exited ",
                              result.exit_code, " after a clean stop"));
      }
      foreground_ = {};
    }
    if (container_) {
      if (test_support::WaitFor([&] { return container_->Init() == 0; })) {
        RunResult result = container_->Wait();
        if (clean && result.exit_code != 0) {
          Violated(absl::StrCat("the container exited ", result.exit_code,
                                " after a clean stop"));
        }
      } else {
        Violated("the container's init outlived its service");
      }
      container_.reset();
    }
  }

  void Stop() {
    RunResult result = Control("stop");
    if (result.exit_code != 0) {
      Violated(absl::StrCat("stop exited ", result.exit_code, ": ",
                            result.stderr_text));
      return;
    }
    // A stop ends a running service cleanly; of one that a kill already
    // ended it cannot know the socket files (they are the start's flags),
    // which the next start replaces.
    const bool was_running = running_;
    running_ = false;
    if (was_running) clean_ = true;
    ReapForeground(/*clean=*/was_running);
  }

  // The service ended without a stop: by a signal to one of its roles.
  void EndedDirtily() {
    running_ = false;
    clean_ = false;
    if (!test_support::WaitFor([&] { return Instances().empty(); })) {
      Violated(absl::StrCat("processes of the tree outlived its end: ",
                            absl::StrJoin(Instances(), " ")));
    }
    ReapForeground(/*clean=*/false);
  }

  void Reload() {
    // logrotate's way: rename, then reload; every later line must reach
    // the new file.
    const std::string rotated = absl::StrCat(log_, ".", ++rotations_);
    if (FileExists(log_) && rename(log_.c_str(), rotated.c_str()) != 0) {
      Violated("rename the log");
      return;
    }
    const pid_t application = Application();
    RunResult result = Control("reload");
    if (!running_) {
      if (result.exit_code != 7) {
        Violated(absl::StrCat("reload of a stopped service exited ",
                              result.exit_code, " (want 7)"));
      }
      return;
    }
    if (result.exit_code != 0) {
      Violated(absl::StrCat("reload exited ", result.exit_code, ": ",
                            result.stderr_text));
      return;
    }
    const std::string expected = absl::StrCat(
        "reload ", OwnPid(application), " ", ++reloads_[application], "\n");
    if (!test_support::WaitFor([&] {
          return absl::StrContains(ReadFileOrEmpty(log_), expected);
        })) {
      Violated(absl::StrCat("'", expected, "' never reached the new log"));
    }
  }

  void Signal(pid_t pid, int signal) {
    if (pid > 0 && kill(pid, signal) != 0) {
      Violated(absl::StrCat("kill ", pid, ": ", errno));
    }
  }

  // The application was killed or told to stop; supervised, a new worker
  // must take its place.
  void ApplicationEnded(pid_t old_application, bool clean_exit) {
    if (config_.mode == Mode::kSupervised) {
      const bool replaced = test_support::WaitFor([&] {
        const pid_t now = Application();
        return now != 0 && now != old_application &&
               Instances().size() == ExpectedInstances() &&
               absl::StrContains(ReadFileOrEmpty(log_),
                                 absl::StrCat("start ", OwnPid(now), "\n"));
      });
      if (!replaced) Violated("the supervisor did not start a new worker");
      return;
    }
    if (clean_exit) {
      running_ = false;
      clean_ = true;
      if (!test_support::WaitFor([&] { return Instances().empty(); })) {
        Violated("the application outlived its SIGTERM");
      }
      ReapForeground(/*clean=*/true);
      return;
    }
    EndedDirtily();
  }

  void Apply(Op op) {
    switch (op) {
      case Op::kStart:
        Start();
        return;
      case Op::kStop:
        Stop();
        return;
      case Op::kStatus:
        return;  // the invariants run a status after every step
      case Op::kReload:
        Reload();
        return;
      case Op::kRestart: {
        // As an operator restarts: with the start's flags (restart is a
        // stop, then this start).
        std::vector<std::string> argv = {app_};
        for (std::string& flag : StartFlags()) argv.push_back(flag);
        argv.push_back("--daemon_control=restart");
        RunResult result = RunProgram(argv, StartEnvironment());
        if (result.exit_code != 0) {
          Violated(absl::StrCat("restart exited ", result.exit_code, ": ",
                                result.stderr_text));
          running_ = false;
          return;
        }
        running_ = true;
        clean_ = true;
        return;
      }
      case Op::kKillApp:
      case Op::kTermApp: {
        if (!running_) return;
        const pid_t application = Application();
        Signal(application, op == Op::kKillApp ? SIGKILL : SIGTERM);
        ApplicationEnded(application, op == Op::kTermApp);
        return;
      }
      case Op::kFreezeApp: {
        if (!running_) return;
        const pid_t application = Application();
        Signal(application, SIGSTOP);
        CheckInvariants();
        Signal(application, SIGCONT);
        return;
      }
      case Op::kKillKeeper: {
        const std::vector<pid_t> keepers = Keepers();
        if (!running_ || keepers.empty()) return;
        for (pid_t keeper : keepers) Signal(keeper, SIGKILL);
        // Its daemon must not outlive the keeper that holds its lock: it
        // stops (docs/design.md), as if told to.
        EndedDirtily();
        return;
      }
      case Op::kKillSupervisor: {
        if (!running_) return;
        Signal(Supervisor(), SIGKILL);
        EndedDirtily();
        return;
      }
      case Op::kTwoStarts: {
        std::vector<std::string> argv = {app_};
        for (std::string& flag : StartFlags()) argv.push_back(flag);
        test_support::Spawned first =
            test_support::SpawnProgram(argv, StartEnvironment());
        test_support::Spawned second =
            test_support::SpawnProgram(argv, StartEnvironment());
        RunResult a = test_support::WaitProgram(first);
        RunResult b = test_support::WaitProgram(second);
        const int started = (a.exit_code == 0) + (b.exit_code == 0);
        const int refused =
            (a.exit_code == 1 &&
             absl::StrContains(a.stderr_text, "already running")) +
            (b.exit_code == 1 &&
             absl::StrContains(b.stderr_text, "already running"));
        if (started != (running_ ? 0 : 1) || started + refused != 2) {
          Violated(absl::StrCat("two starts exited ", a.exit_code, " and ",
                                b.exit_code, ": ", a.stderr_text, " | ",
                                b.stderr_text));
        }
        running_ = true;
        return;
      }
      case Op::kDeletePidfile: {
        // Issue 18.18: whoever holds the lock (the daemon, its supervisor,
        // its path keeper) puts the file back, locked, within about a
        // second; a stopped service's leftover just goes.
        if (unlink(pidfile_.c_str()) != 0 && errno != ENOENT) {
          Violated(absl::StrCat("unlink the pid file: ", strerror(errno)));
          return;
        }
        if (!running_) return;
        if (!test_support::WaitFor(
                [&] {
                  return FileExists(pidfile_) &&
                         Control("status").exit_code == 0;
                },
                absl::Seconds(10))) {
          Violated("the removed pid file did not come back within 10 s");
        }
        return;
      }
      case Op::kStopAndStatus: {
        test_support::Spawned stop = test_support::SpawnProgram(
            {app_, "--daemon_pidfile=" + pidfile_, "--daemon_stop_timeout=20s",
             "--daemon_control=stop"});
        RunResult status = Control("status");
        RunResult stopped = test_support::WaitProgram(stop);
        if (stopped.exit_code != 0) {
          Violated(absl::StrCat("stop beside a status exited ",
                                stopped.exit_code, ": ", stopped.stderr_text));
        }
        // The status raced the stop: running, or not (either code), but
        // never "dead" with a process still there, and never a crash.
        if (status.exit_code != 0 && status.exit_code != 1 &&
            status.exit_code != 3) {
          Violated(
              absl::StrCat("status beside a stop exited ", status.exit_code));
        }
        const bool was_running = running_;
        running_ = false;
        if (was_running) clean_ = true;  // as Stop()
        ReapForeground(/*clean=*/was_running);
        return;
      }
    }
  }

  // The model's invariants (docs/design.md).
  void CheckInvariants() {
    if (!violation_.empty()) return;
    RunResult status = Control("status");
    if (!running_) {
      // Not running: status says so, with LSB's 3 (or 1 while a killed
      // daemon's pid file is left), and nothing of the tree is alive.
      if (status.exit_code != 3 && !(status.exit_code == 1 && !clean_)) {
        Violated(absl::StrCat("status of a stopped service exited ",
                              status.exit_code, ": ", status.stdout_text));
        return;
      }
      if (!Instances().empty()) {
        Violated(absl::StrCat("stopped, yet alive: ",
                              absl::StrJoin(Instances(), " ")));
        return;
      }
      if (!Keepers().empty()) {
        Violated("stopped, yet its path keeper is alive");
        return;
      }
      if (clean_ && FileExists(pidfile_)) {
        Violated("a clean stop left the pid file");
        return;
      }
      if (clean_ && config_.unix_listen && FileExists(socket_)) {
        Violated("a clean stop left the socket file");
      }
      return;
    }
    // Running: one instance, the one status names, as its flags say.
    if (status.exit_code != 0) {
      Violated(absl::StrCat("status of a running service exited ",
                            status.exit_code, ": ", status.stdout_text,
                            status.stderr_text));
      return;
    }
    const std::vector<pid_t> instances = Instances();
    if (instances.size() != ExpectedInstances()) {
      Violated(absl::StrCat(instances.size(), " processes of the tree (",
                            absl::StrJoin(instances, " "), "), want ",
                            ExpectedInstances()));
      return;
    }
    pid_t named = 0;
    absl::string_view line = status.stdout_text;
    // "running, pid N", and in a container " (the pid file says 2)".
    if (!absl::ConsumePrefix(&line, "running, pid ") ||
        !absl::SimpleAtoi(line.substr(0, line.find_first_of(" \n")), &named) ||
        std::find(instances.begin(), instances.end(), named) ==
            instances.end()) {
      Violated(absl::StrCat("status names no process of the tree: ",
                            status.stdout_text));
      return;
    }
    if (!FileExists(pidfile_)) {
      Violated("running without its pid file");
      return;
    }
    if (config_.unix_listen && !FileExists(socket_)) {
      Violated("running without its socket file");
      return;
    }
    const pid_t application = Application();
    const std::string proc_status =
        ReadFileOrEmpty(absl::StrCat("/proc/", application, "/status"));
    if (config_.drop_user) {
      if (!absl::StrContains(proc_status, "Uid:\t65534\t65534\t65534\t65534") ||
          !absl::StrContains(proc_status, "NoNewPrivs:\t1") ||
          !absl::StrContains(proc_status, "CapEff:\t0000000000000000")) {
        Violated("the application is not the dropped user:\n" + proc_status);
        return;
      }
    } else if (!absl::StrContains(proc_status, "Uid:\t0\t0\t0\t0")) {
      Violated("the application changed user unasked");
      return;
    }
    if (!absl::StrContains(proc_status, "SigBlk:\t0000000000000000")) {
      Violated("the application runs with signals blocked:\n" + proc_status);
      return;
    }
    const std::string environ =
        ReadFileOrEmpty(absl::StrCat("/proc/", application, "/environ"));
    const bool kept = absl::StrContains(environ, "MODEL_KEEP=kept");
    const bool dropped = absl::StrContains(environ, "MODEL_DROP=dropped");
    if (!kept || dropped != !config_.keep_env) {
      Violated(absl::StrCat("environment: MODEL_KEEP ", kept ? "kept" : "lost",
                            ", MODEL_DROP ", dropped ? "kept" : "removed"));
      return;
    }
    const std::string limits =
        ReadFileOrEmpty(absl::StrCat("/proc/", application, "/limits"));
    if (config_.rlimits &&
        !absl::StrContains(
            absl::StrJoin(absl::StrSplit(limits, ' ', absl::SkipEmpty()), " "),
            "Max open files 256 ")) {
      Violated("--daemon_rlimits=nofile=256 is not in force:\n" + limits);
      return;
    }
    // Descriptors: the same count at every look in one process's life (a
    // reload or a stop of a neighbour leaks none), and none on a terminal.
    const std::map<int, std::string> fds =
        test_support::OpenDescriptors(application);
    for (const auto& [fd, target] : fds) {
      if (absl::StartsWith(target, "/dev/pts") ||
          absl::StartsWith(target, "/dev/tty")) {
        Violated(absl::StrCat("descriptor ", fd, " is a terminal: ", target));
        return;
      }
    }
    auto [seen, inserted] = descriptor_counts_.emplace(application, fds.size());
    if (!inserted && seen->second != fds.size()) {
      std::vector<std::string> listed;
      listed.reserve(fds.size());
      for (const auto& [fd, target] : fds) {
        listed.push_back(absl::StrCat(fd, " ", target));
      }
      Violated(absl::StrCat("descriptors went from ", seen->second, " to ",
                            fds.size(), ": ", absl::StrJoin(listed, ", ")));
    }
  }

  // Ends whatever the run left, by what it holds: its own spawned
  // processes, the container, and this run's tree found by its pid file's
  // path (unique to this run).
  void EndEverything() {
    if (container_) container_->Kill();
    container_.reset();
    for (int round = 0; round < 3; ++round) {
      for (pid_t pid : Keepers()) kill(pid, SIGKILL);
      for (pid_t pid : Instances()) {
        kill(pid, SIGCONT);
        kill(pid, SIGKILL);
      }
      test_support::WaitFor(
          [&] { return Instances().empty() && Keepers().empty(); },
          absl::Seconds(10));
    }
    if (foreground_.pid > 0) test_support::WaitProgram(foreground_);
    foreground_ = {};
  }

  const Configuration config_;
  const std::string dir_, app_, pidfile_, log_, socket_;
  bool running_ = false;
  bool clean_ = true;
  int rotations_ = 0;
  std::map<pid_t, int> reloads_;
  std::map<pid_t, size_t> descriptor_counts_;
  test_support::Spawned foreground_;
  std::unique_ptr<test_support::PidNamespace> container_;
  std::string step_;
  std::string violation_;
};

std::string RunOnce(const Configuration& config, const std::vector<Op>& ops) {
  // Short, for the unix socket's path; root's and 0755, as /run: the
  // dropped user reaches its files but cannot plant any.
  test_support::ShortTempDir dir;
  if (chmod(dir.path().c_str(), 0755) != 0) return "chmod the run directory";
  std::string violation;
  {
    ModelRun run(config, dir.path());
    violation = run.Run(ops);
  }  // everything the run started has ended before its directory goes
  return violation;
}

// Shrinks a failing sequence: drops one operation at a time while it still
// fails (with any violation), until no single drop keeps it failing.
std::vector<Op> Shrink(const Configuration& config, std::vector<Op> ops) {
  bool shrunk = true;
  while (shrunk && ops.size() > 1) {
    shrunk = false;
    for (size_t i = 0; i < ops.size(); ++i) {
      std::vector<Op> shorter = ops;
      shorter.erase(shorter.begin() + i);
      if (!RunOnce(config, shorter).empty()) {
        ops = shorter;
        shrunk = true;
        break;
      }
    }
  }
  return ops;
}

void RunAndReport(int config_index, const std::vector<Op>& ops,
                  const std::string& origin) {
  const Configuration& config = kConfigurations[config_index];
  const std::string violation = RunOnce(config, ops);
  if (violation.empty()) return;
  const std::vector<Op> shortest = Shrink(config, ops);
  const std::string shortest_violation = RunOnce(config, shortest);
  ADD_FAILURE() << "model violated in configuration " << config_index << " ("
                << Describe(config) << "), " << origin
                << "\n  sequence: " << Join(ops) << "\n  " << violation
                << "\n  shrunk to: " << Join(shortest) << "\n  "
                << (shortest_violation.empty() ? "(passes alone: flaky?)"
                                               : shortest_violation)
                << "\n  replay: tools/bazel test //tests:model_test "
                   "--test_filter='*Replay*' --test_env=MODEL_REPLAY='"
                << config_index << ":" << Join(shortest) << "'";
}

TEST(ModelTest, PairwiseCoverIsComplete) {
  // Every value of each dimension, against every value of every other.
  auto values = [](const Configuration& c) {
    return std::vector<int>{static_cast<int>(c.mode), c.drop_user,
                            c.unix_listen, c.keep_env, c.rlimits};
  };
  const std::vector<int> sizes = {4, 2, 2, 2, 2};
  for (size_t a = 0; a < sizes.size(); ++a) {
    for (size_t b = a + 1; b < sizes.size(); ++b) {
      for (int va = 0; va < sizes[a]; ++va) {
        for (int vb = 0; vb < sizes[b]; ++vb) {
          bool covered = false;
          for (const Configuration& config : kConfigurations) {
            const std::vector<int> v = values(config);
            covered = covered || (v[a] == va && v[b] == vb);
          }
          EXPECT_TRUE(covered)
              << "dimensions " << a << "=" << va << " and " << b << "=" << vb;
        }
      }
    }
  }
}

class ModelConfigurationTest : public ::testing::TestWithParam<int> {};

TEST_P(ModelConfigurationTest, RandomSequencesKeepEveryInvariant) {
  if (GetParam() >= 6 && !test_support::WhyNoContainerHere().empty()) {
    GTEST_SKIP() << test_support::WhyNoContainerHere();
  }
  const Configuration& config = kConfigurations[GetParam()];
  const int seeds = EnvironmentInt("MODEL_SEEDS", 2);
  const int first_seed = EnvironmentInt("MODEL_FIRST_SEED", 1);
  const int length = EnvironmentInt("MODEL_LENGTH", 12);
  for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
    SCOPED_TRACE(absl::StrCat(Describe(config), ", seed ", seed));
    const uint32_t mixed = static_cast<uint32_t>(seed) * 2654435761u +
                           static_cast<uint32_t>(GetParam());
    RunAndReport(GetParam(), RandomSequence(config, mixed, length),
                 absl::StrCat("seed ", seed));
  }
}

INSTANTIATE_TEST_SUITE_P(Pairwise, ModelConfigurationTest,
                         ::testing::Range(0, kConfigurationCount),
                         [](const ::testing::TestParamInfo<int>& info) {
                           std::string name =
                               Describe(kConfigurations[info.param]);
                           std::replace_if(
                               name.begin(), name.end(),
                               [](char c) { return !std::isalnum(c); }, '_');
                           return absl::StrCat(info.param, "_", name);
                         });

// Replays one sequence: MODEL_REPLAY='CONFIG:op,op,...' (what a violation
// prints).
TEST(ModelTest, Replay) {
  const char* replay = std::getenv("MODEL_REPLAY");
  if (replay == nullptr) GTEST_SKIP() << "set MODEL_REPLAY to replay";
  std::vector<std::string> parts = absl::StrSplit(replay, ':');
  int config_index = -1;
  ASSERT_EQ(parts.size(), 2u) << replay;
  ASSERT_TRUE(absl::SimpleAtoi(parts[0], &config_index) && config_index >= 0 &&
              config_index < kConfigurationCount)
      << replay;
  std::vector<Op> ops;
  for (absl::string_view name : absl::StrSplit(parts[1], ',')) {
    std::optional<Op> op = OpNamed(name);
    ASSERT_TRUE(op.has_value()) << "no operation named " << name;
    ops.push_back(*op);
  }
  const std::string violation = RunOnce(kConfigurations[config_index], ops);
  EXPECT_TRUE(violation.empty()) << violation;
}

}  // namespace
}  // namespace daemonkit
