// Copyright 2026 The daemonkit Authors.
//
// The monitor of //tools:daemonkit (program_monitor.h).

#include "tools/program_monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/internal/daemon_access.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/executable_trust.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/program.h"
#include "daemon/internal/program_cgroup.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/internal/wait_status.h"
#include "daemon/internal/watchdog.h"
#include "glog/logging.h"
#include "tools/executable_pages.h"
#include "tools/output_relay.h"
#include "tools/program_control.h"

namespace daemonkit {
namespace {

using internal::Program;
using internal::ProgramCgroup;
using internal::ReadyMode;

// The monitor, in the daemon process (or the foreground process): runs
// the program to its end (again and again under --daemon_restart) and
// returns daemonkit's exit code.
class Monitor {
 public:
  Monitor(std::unique_ptr<Daemon> daemon, const Options& options,
          std::vector<std::string> argv, const ReadyMode& ready,
          internal::ProgramIdentity identity, int stop_signal,
          int reload_signal, std::string cgroup_name)
      : daemon_(std::move(daemon)),
        options_(options),
        argv_(std::move(argv)),
        ready_(ready),
        identity_(std::move(identity)),
        stop_signal_(stop_signal),
        reload_signal_(reload_signal),
        cgroup_name_(std::move(cgroup_name)),
        schedule_(options),
        watchdog_(options.watchdog, options.stop_timeout * 3 / 4) {}

  // Runs the program (again and again under --daemon_restart) and returns
  // daemonkit's exit code, the program's cgroup removed.
  int Run() {
    const int code = RunPrograms();
    relay_.FinishLines();
    AnswerRequests(stopping_ ? "ERR the daemon is stopping\n"
                             : "ERR the program has ended\n");
    // Empty by now (EndTree); a monitor that cannot remove it says so.
    if (cgroup_ != nullptr) {
      if (absl::Status removed = RemoveCgroup(); !removed.ok()) {
        LOG(ERROR) << removed.message();
      }
    }
    return code;
  }

 private:
  int RunPrograms() {
    // The name readers of the pid file trust (proc.h WriteLockHeldFor),
    // whatever this binary was installed as.
    prctl(PR_SET_NAME, internal::kProgramMonitorName);
    // The program's orphans (a daemonizing program's double fork) come
    // here, so that the end of the program can end them too.
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      PLOG(WARNING) << "PR_SET_CHILD_SUBREAPER; the program's orphans escape";
    }
    for (const std::string& name : daemon_->ListenSocketNames()) {
      absl::StatusOr<int> fd = daemon_->ListenSocket(name);
      if (fd.ok()) sockets_.push_back({name, *fd});
    }
    // The program feeds an outer watchdog itself (notify); otherwise
    // keep-alives would say the monitor lives, not that the program works.
    if (ready_.kind == ReadyMode::Kind::kNotify) daemon_->SetHealthy(false);
    // The program's own cgroup (issue 21.3), where the machine lets us
    // make one: a cgroup2 mount we may write. Elsewhere the subreaper
    // alone ends the tree. Without a pid file, the name follows what the
    // launcher's sweep knows (the session its first child made) or, in
    // the foreground, this process.
    absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup =
        ProgramCgroup::Create(
            !cgroup_name_.empty() ? cgroup_name_
            : daemon_->detached()
                ? internal::ProgramCgroupNameForSession(getsid(0))
                : internal::ProgramCgroupNameForMonitor(getpid()));
    if (cgroup.ok()) {
      cgroup_ = std::move(*cgroup);
    } else if (absl::IsUnavailable(cgroup.status())) {
      LOG(INFO) << "no cgroup of the program's own ("
                << cgroup.status().message()
                << "): its tree is ended through the monitor as a child "
                   "subreaper";
    } else {
      return FailStart(cgroup.status());
    }
    // The program's output reaches the files through this monitor, which
    // reopens them on reload (output_relay.h).
    absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options_);
    if (!relay.ok()) return FailStart(relay.status());
    relay_ = std::move(*relay);
    // Upgrades (issue 21.4) replace the program, not this monitor: the
    // library hands their requests here (RunOnce answers them).
    if (!options_.pidfile.empty()) {
      // Said at start too, as the library does, so that the path is fixed
      // before the upgrade that needs it.
      if (absl::Status runnable = CheckProgramBinary(); !runnable.ok()) {
        LOG(WARNING) << "upgrades will be refused: " << runnable.message();
      }
      if (absl::Status taken = internal::DaemonAccess::TakeUpgradeRequests(
              *daemon_, [this](int channel) { requests_.push_back(channel); });
          !taken.ok()) {
        LOG(WARNING) << "upgrades are off: " << taken.message();
      }
    }
    for (;;) {
      const absl::Time started_at = internal::MonotonicNow();
      int wait_status = 0;
      absl::StatusOr<std::unique_ptr<Program>> program = StartRun();
      if (!program.ok()) {
        if (!ready_said_) return FailStart(program.status());
        // A restart that cannot exec: as a run that failed at once.
        LOG(ERROR) << program.status().message();
        wait_status = 127 << 8;
      } else {
        wait_status = RunOnce(*program);
        program->reset();
        relay_.Pump();  // its last words
        // The program is gone: until the next run the pid file names the
        // monitor, which is the service meanwhile (the attack of
        // 2026-12-06: while a descendant that ignores --stop_signal held
        // EndTree for the stop timeout, status said "running" with the
        // dead program's pid).
        if (!options_.pidfile.empty()) WritePid(getpid());
      }
      // The rest of the tree goes with the program (systemd's control
      // group), before anything starts again.
      EndTree();
      for (Draining& old : draining_) RemoveRunCgroup(std::move(old.cgroup));
      draining_.clear();
      RemoveRunCgroup(std::move(run_cgroup_));
      // Nothing of the run writes any more: a line it left unfinished
      // ends here, not in the next run's first line.
      relay_.FinishLines();
      if (!ready_said_) {
        return FailStart(absl::FailedPreconditionError(
            not_ready_reason_.empty()
                ? absl::StrCat(argv_[0], " ",
                               internal::DescribeWaitStatus(wait_status),
                               " before it was ready")
                : absl::StrCat(argv_[0], " ", not_ready_reason_)));
      }
      exit_code_ = internal::ExitCodeOf(wait_status);
      if (stopping_) return exit_code_;
      if (daemon_->detached()) {
        LOG(INFO) << argv_[0] << " "
                  << internal::DescribeWaitStatus(wait_status);
      }
      absl::StatusOr<std::optional<absl::Duration>> next =
          schedule_.Next(wait_status, internal::MonotonicNow() - started_at);
      if (!next.ok()) {
        LOG(ERROR) << next.status().message();
        daemon_->NotifyStatus(next.status().message());
        return kExitFailure;
      }
      if (!next->has_value()) return exit_code_;
      if (!WaitToRestart(**next, wait_status)) return exit_code_;
    }
  }

  // Ends what the program left: its cgroup's processes (`--stop_signal`,
  // SIGKILL after the stop timeout), then the monitor's remaining children
  // (the same), reaping every one.
  void EndTree() {
    if (cgroup_ != nullptr &&
        !cgroup_->End(stop_signal_, options_.stop_timeout, kMonitorGrace)) {
      LOG(ERROR) << cgroup_->Processes().size() << " processes of cgroup "
                 << cgroup_->directory() << " survived SIGKILL";
    }
    internal::EndChildren(stop_signal_, options_.stop_timeout);
  }

  // Starts the program in a cgroup of this run's own (run_cgroup_).
  absl::StatusOr<std::unique_ptr<Program>> StartRun() {
    absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup = NewRunCgroup();
    if (!cgroup.ok()) return cgroup.status();
    run_cgroup_ = std::move(*cgroup);
    return Program::Start(argv_, ready_, sockets_, identity_,
                          EntryOf(run_cgroup_.get()), relay_.outputs());
  }

  // The cgroup of the next run of the program, below the program's (each
  // run has its own, so that an upgrade ends the old program's tree and
  // not the new one's); null in the fallback.
  absl::StatusOr<std::unique_ptr<ProgramCgroup>> NewRunCgroup() {
    if (cgroup_ == nullptr) return std::unique_ptr<ProgramCgroup>();
    return cgroup_->CreateChild(absl::StrCat("run.", ++runs_));
  }

  static internal::CgroupEntry EntryOf(const ProgramCgroup* cgroup) {
    if (cgroup == nullptr) return {};
    return {cgroup->procs_fd(), cgroup->directory()};
  }

  // Ends what is left in a run's cgroup (the program has exited; its
  // tree gets --stop_signal, SIGKILL after the stop timeout) and removes
  // it.
  void RemoveRunCgroup(std::unique_ptr<ProgramCgroup> cgroup) {
    if (cgroup == nullptr) return;
    if (!cgroup->End(stop_signal_, options_.stop_timeout, kMonitorGrace)) {
      LOG(ERROR) << cgroup->Processes().size() << " processes of cgroup "
                 << cgroup->directory() << " survived SIGKILL";
    }
    if (absl::Status removed = cgroup->Remove(); !removed.ok()) {
      LOG(ERROR) << removed.message();
    }
  }

  // Removes the program's cgroup, ending (SIGKILL) what it still holds.
  absl::Status RemoveCgroup() {
    run_cgroup_.reset();
    std::unique_ptr<ProgramCgroup> cgroup = std::move(cgroup_);
    if (!cgroup->End(0, absl::ZeroDuration(), kMonitorGrace)) {
      return absl::InternalError(
          absl::StrCat(cgroup->Processes().size(), " processes of cgroup ",
                       cgroup->directory(), " survived SIGKILL"));
    }
    return cgroup->Remove();
  }

  // A start that fails before the program was ever ready: the launcher's
  // error (or, in the foreground, ours), exit 1. The cgroup this start
  // made goes first.
  int FailStart(const absl::Status& failure) {
    if (cgroup_ != nullptr) {
      if (absl::Status removed = RemoveCgroup(); !removed.ok()) {
        LOG(ERROR) << removed.message();
      }
    }
    if (daemon_->detached()) {
      daemon_->FailStartup(failure);
    } else {
      std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                   std::string(failure.message()).c_str());
    }
    return kExitFailure;  // ~Daemon removes the pid file
  }

  void SayReady() {
    if (!ready_said_) {
      daemon_->NotifyReady();
      // From here the monitor mostly waits: let go of the code and data of
      // its start-up (docs/benchmarks.md, "The daemonkit command's
      // memory"). Only memory is at stake: on failure the pages stay.
      DropExecutablePages().IgnoreError();
    }
    ready_said_ = true;
  }

  // Runs `program` until it exits; returns its wait status. An upgrade
  // (issue 21.4) replaces `program` with the new one once that is ready.
  int RunOnce(std::unique_ptr<Program>& program) {
    if (!options_.pidfile.empty()) WritePid(program->pid());
    if (ready_.kind == ReadyMode::Kind::kStarted) SayReady();
    // The first run's readiness is the launcher's to time; a restarted
    // one gets the ready timeout before the watchdog takes it.
    watchdog_.WorkerStarted(
        internal::MonotonicNow(),
        ready_said_ ? options_.ready_timeout : absl::InfiniteDuration());
    absl::Time kill_at = absl::InfiniteFuture();
    for (;;) {
      // The program, its readiness channel, the signals; an upgrade's new
      // program and its channel; the output relay's pipes; the programs
      // upgrades replaced (from 7 on).
      std::vector<struct pollfd> fds = {{daemon_->signal_fd(), POLLIN, 0},
                                        {program->pidfd(), POLLIN, 0},
                                        {program->ready_fd(), POLLIN, 0}};
      Program* next = upgrade_ ? upgrade_->program.get() : nullptr;
      fds.push_back({next != nullptr ? next->pidfd() : -1, POLLIN, 0});
      fds.push_back({next != nullptr ? next->ready_fd() : -1, POLLIN, 0});
      for (const int output : relay_.read_fds()) {
        fds.push_back({output, POLLIN, 0});
      }
      constexpr size_t kFirstDraining = 7;
      const size_t polled_draining = draining_.size();
      for (const Draining& old : draining_) {
        fds.push_back({old.program->pidfd(), POLLIN, 0});
      }
      // The polled modes try again every kReadyPollInterval until ready.
      const bool polling = program->polled() && !ready_said_;
      absl::Duration wait = polling || (next != nullptr && next->polled())
                                ? internal::kReadyPollInterval
                                : absl::Seconds(1);
      std::vector<absl::Time> deadlines = {
          kill_at, upgrade_ ? upgrade_->deadline : absl::InfiniteFuture(),
          watchdog_.NextWake()};
      for (const Draining& old : draining_) deadlines.push_back(old.kill_at);
      for (const absl::Time at : deadlines) {
        if (at != absl::InfiniteFuture()) {
          wait = std::min(wait, at - internal::MonotonicNow());
        }
      }
      const int n = poll(fds.data(), fds.size(), internal::PollTimeoutMs(wait));
      if (n < 0 && errno != EINTR) PLOG(ERROR) << "poll";
      auto readable = [&](size_t i) {
        return n > 0 && fds[i].fd >= 0 &&
               (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
      };
      // Before a reload below reopens the files: what the program wrote
      // until now belongs in the file it wrote to.
      if (readable(5) || readable(6)) relay_.Pump();
      // Until the first ready, the library also looks whether the start
      // was abandoned (its launcher SIGKILLed, the ready timeout past):
      // then it says kStop, as for a signal.
      if (readable(0) || !ready_said_) {
        const Event event = daemon_->WaitUntil(absl::InfinitePast());
        if (event == Event::kStop && !stopping_) {
          stopping_ = true;
          // A program that drains is not hung: the stop timeout bounds it
          // now, as systemd's watchdog stops at a stop (the attack of
          // 2026-12-07: aborted one period into its drain).
          watchdog_.WorkerEnded();
          kill_at = internal::MonotonicNow() + options_.stop_timeout;
          if (upgrade_) AbandonUpgrade("the daemon is stopping");
          if (absl::Status sent = program->Signal(stop_signal_); !sent.ok()) {
            LOG(ERROR) << sent;
          }
          program->Signal(SIGCONT).IgnoreError();
        } else if (event == Event::kReload) {
          if (absl::Status sent = program->Signal(reload_signal_); !sent.ok()) {
            LOG(ERROR) << sent;
          }
          // The new program of an upgrade may have opened its outputs
          // before a rotation: it gets the reload once ready (its handler
          // is in place by then; the default action of SIGHUP is death).
          if (upgrade_) upgrade_->reload_pending = true;
        }
      }
      if (readable(2) && program->ready_fd() >= 0) {
        internal::ReadinessInput input = program->ReadReadiness();
        if (!input.relay.empty()) {
          internal::DaemonAccess::Notify(*daemon_, input.relay);
          if (internal::ReportsProgress(input.relay)) {
            watchdog_.Progress(internal::MonotonicNow());
          }
          // STOPPING=1: it is on its way out, on its own.
          if (absl::StrContains(absl::StrCat("\n", input.relay, "\n"),
                                "\nSTOPPING=1\n")) {
            watchdog_.WorkerEnded();
          }
        }
        if (input.ready) {
          SayReady();
          watchdog_.WorkerReady(internal::MonotonicNow());
        }
        if (input.closed && !ready_said_) {
          not_ready_reason_ = absl::StrCat("closed descriptor ", ready_.fd,
                                           " before it wrote the newline "
                                           "that says it is ready");
          program->Kill();
        }
      }
      if (readable(1)) {
        int wait_status = 0;
        internal::ReapChild(program->pid(), &wait_status);
        // A program the watchdog ended failed, whatever its status says
        // (it may catch SIGABRT and exit 0), as the supervisor's worker.
        if (watchdog_.WorkerEnded() && WIFEXITED(wait_status) &&
            WEXITSTATUS(wait_status) == 0) {
          wait_status = SIGABRT;  // as if killed by it
        }
        if (upgrade_) {
          AbandonUpgrade(absl::StrCat("the running program ",
                                      internal::DescribeWaitStatus(wait_status),
                                      " meanwhile"),
                         /*reaped=*/false, /*serving=*/false);
        }
        return wait_status;
      }
      if (internal::MonotonicNow() >= kill_at) {
        program->Kill();
        kill_at = absl::InfiniteFuture();
      }
      CheckWatchdog(*program);
      if (polling && program->PollReady()) SayReady();
      // The upgrade under way, the program it replaced, new requests.
      // (A stop above may have abandoned the upgrade.)
      if (next != nullptr && upgrade_ && upgrade_->program.get() == next) {
        StepUpgrade(program, readable(3), readable(4));
      }
      // Backwards: StepDraining removes the one that is gone, and a
      // handover above appended the newest after those polled.
      for (size_t i = polled_draining; i-- > 0;) {
        StepDraining(i, readable(kFirstDraining + i));
      }
      TakeRequests(program);
      std::vector<pid_t> keep = {program->pid(), program->command_pid()};
      if (upgrade_) {
        keep.push_back(upgrade_->program->pid());
        keep.push_back(upgrade_->program->command_pid());
      }
      for (const Draining& old : draining_) {
        keep.push_back(old.program->pid());
      }
      internal::ReapExitedChildren(keep);
    }
  }

  // --daemon_watchdog: SIGABRT to a program silent for the whole period (a
  // core dump shows where it hung, where --daemon_core_dumps allows one),
  // SIGKILL three quarters of the stop timeout later; --daemon_restart
  // then applies, as for the supervisor's worker.
  void CheckWatchdog(const Program& program) {
    switch (watchdog_.Check(internal::MonotonicNow())) {
      case internal::ProgressWatchdog::Action::kNone:
        return;
      case internal::ProgressWatchdog::Action::kAbort:
        LOG(ERROR) << "watchdog: " << argv_[0] << " (pid " << program.pid()
                   << ") sent no WATCHDOG=1 for "
                   << absl::FormatDuration(options_.watchdog)
                   << "; aborting it";
        daemon_->NotifyStatus("watchdog: the program hung, aborting it");
        if (absl::Status sent = program.Signal(SIGABRT); !sent.ok()) {
          LOG(ERROR) << sent;
        }
        program.Signal(SIGCONT).IgnoreError();
        return;
      case internal::ProgressWatchdog::Action::kKill:
        LOG(ERROR) << "watchdog: " << argv_[0] << " (pid " << program.pid()
                   << ") outlived SIGABRT; killing it";
        program.Kill();
        return;
    }
  }

  void WritePid(pid_t pid) {
    if (absl::Status written = internal::DaemonAccess::WritePid(*daemon_, pid);
        !written.ok()) {
      LOG(ERROR) << "pid file: " << written;
    }
  }

  // Answers the channel of an upgrade request with `reply` and closes it.
  static void Answer(int channel, absl::string_view reply) {
    const internal::UniqueFd owned(channel);
    if (send(channel, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
      PLOG(WARNING) << "upgrade: answer the control process";
    }
  }

  // Refuses every request not yet taken up.
  void AnswerRequests(absl::string_view reply) {
    for (int channel : std::exchange(requests_, {})) Answer(channel, reply);
  }

  // Takes up the requests that came: the first starts the new program
  // beside `program` (with the same sockets, in a cgroup of its own), the
  // others are refused.
  void TakeRequests(std::unique_ptr<Program>& program) {
    while (!requests_.empty()) {
      const int channel = requests_.front();
      requests_.erase(requests_.begin());
      std::string refusal;
      if (stopping_) {
        refusal = "the daemon is stopping";
      } else if (!ready_said_) {
        refusal = "the program is not ready yet";
      } else if (upgrade_) {
        // (Not the programs earlier upgrades replaced, which may drain for
        // up to the stop timeout: a rollback right after a bad release
        // must not wait for them, as the library's upgrade does not.)
        refusal = "an upgrade is already in progress";
      } else if (ready_.kind == ReadyMode::Kind::kConnect ||
                 ready_.kind == ReadyMode::Kind::kCommand) {
        // The attack of 2026-12-07: the old program, which still serves,
        // answered the new one's probe, and a release that never served
        // replaced it.
        refusal =
            "--ready=connect and --ready=command cannot tell the new program "
            "from the old one, which still serves; upgrade needs "
            "--ready=notify, fd:N or started";
      } else if (absl::Status runnable = CheckProgramBinary(); !runnable.ok()) {
        refusal = std::string(runnable.message());
      }
      if (!refusal.empty()) {
        Answer(channel, absl::StrCat("ERR ", refusal, "\n"));
        continue;
      }
      LOG(INFO) << "upgrading: starting " << argv_[0] << " beside pid "
                << program->pid();
      Upgrade upgrade;
      upgrade.channel = channel;
      upgrade.deadline = internal::MonotonicNow() + options_.ready_timeout;
      absl::StatusOr<std::unique_ptr<ProgramCgroup>> cgroup = NewRunCgroup();
      absl::StatusOr<std::unique_ptr<Program>> started =
          cgroup.ok() ? Program::Start(argv_, ready_, sockets_, identity_,
                                       EntryOf(cgroup->get()), relay_.outputs())
                      : cgroup.status();
      if (cgroup.ok()) upgrade.cgroup = std::move(*cgroup);
      if (!started.ok()) {
        std::string why(started.status().message());
        if (absl::StrContains(why, std::strerror(EMFILE))) {
          struct rlimit limit;
          if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
            absl::StrAppend(&why, " (the monitor's RLIMIT_NOFILE ",
                            limit.rlim_cur,
                            ": an upgrade runs the new program beside the "
                            "old one; start daemonkit with a higher one)");
          }
        }
        LOG(ERROR) << "upgrade failed, still serving: " << why;
        RemoveRunCgroup(std::move(upgrade.cgroup));
        Answer(channel, absl::StrCat("ERR ", why, "\n"));
        continue;
      }
      upgrade.program = std::move(*started);
      upgrade_ = std::move(upgrade);
      if (ready_.kind == ReadyMode::Kind::kStarted) HandOver(program);
    }
  }

  // Issue 18.19 for the program: an upgrade runs the binary now at the
  // program's path (argv[0], searched in $PATH as the exec does), as the
  // program's user, root most often, so only a binary that root (or this
  // user) alone could have put there is run.
  absl::Status CheckProgramBinary() const {
    if (identity_.root.empty()) return CheckProgramBinaryHere();
    return CheckProgramBinaryInRoot();
  }

  // The binary the exec would run from here: argv[0], searched in $PATH.
  absl::Status CheckProgramBinaryHere() const {
    std::string path = argv_[0];
    if (path.find('/') == std::string::npos) {
      const char* search = getenv("PATH");
      std::string found;
      for (absl::string_view dir :
           absl::StrSplit(search != nullptr ? search : "/usr/bin:/bin", ':')) {
        const std::string candidate =
            absl::StrCat(dir.empty() ? "." : dir, "/", path);
        if (access(candidate.c_str(), X_OK) == 0) {
          found = candidate;
          break;
        }
      }
      if (found.empty()) {
        return absl::NotFoundError(absl::StrCat(path, ": not found in $PATH"));
      }
      path = found;
    }
    if (path[0] != '/') {
      char cwd[PATH_MAX];
      if (getcwd(cwd, sizeof(cwd)) == nullptr) {
        return absl::InternalError("getcwd failed");
      }
      path = absl::StrCat(cwd, "/", path);
    }
    return internal::CheckRunnableByRootAlone(path, "program");
  }

  // Under --daemon_chroot the exec looks inside the new root, where an
  // absolute symbolic link names a file of the root, not of the monitor's
  // "/" (the model test's chroot rows: every upgrade was refused, the
  // binary "not found" through the run directory's link to "/"). So the
  // check runs where the exec will: in a child that enters the root and
  // the working directory first, and reports one line back.
  absl::Status CheckProgramBinaryInRoot() const {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
      return absl::ErrnoToStatus(errno, "pipe for the program's check");
    }
    internal::UniqueFd report_read(report[0]);
    internal::UniqueFd report_write(report[1]);
    const pid_t child = fork();
    if (child < 0) {
      return absl::ErrnoToStatus(errno, "fork for the program's check");
    }
    if (child == 0) {
      report_read.reset();
      // Named as the path keeper is, so that nobody takes it for the
      // monitor or the program, and gone with the monitor: conveniences,
      // without which the check is as good.
      (void)prctl(PR_SET_NAME, "daemonkit-check");
      (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
      const char* workdir =
          identity_.workdir.empty() ? "/" : identity_.workdir.c_str();
      absl::Status checked;
      if (chroot(identity_.root.c_str()) != 0 || chdir(workdir) != 0) {
        checked = absl::ErrnoToStatus(errno, "enter the root");
      } else {
        checked = CheckProgramBinaryHere();
      }
      const std::string said =
          checked.ok()
              ? std::string()
              : absl::StrCat(checked.message(),
                             " (inside --daemon_chroot=", identity_.root, ")");
      (void)!write(report_write.get(), said.data(), said.size());
      _exit(checked.ok() ? 0 : 1);
    }
    // The child's copy is then the only writer: EOF when it exits.
    report_write.reset();
    std::string said;
    char buffer[512];
    for (;;) {
      const ssize_t n = read(report_read.get(), buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      said.append(buffer, static_cast<size_t>(n));
    }
    report_read.reset();
    int status = 0;
    if (!internal::ReapChild(child, &status)) {
      return absl::InternalError("the program's check: its process was lost");
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        said.empty() ? absl::StrCat("the program's check inside "
                                    "--daemon_chroot=",
                                    identity_.root, " ",
                                    internal::DescribeWaitStatus(status))
                     : said);
  }

  // The new program of an upgrade: ready (hand over), gone or late
  // (abandon). `exited`, `said`: its pidfd, its readiness channel polled
  // readable.
  void StepUpgrade(std::unique_ptr<Program>& program, bool exited, bool said) {
    Program& next = *upgrade_->program;
    bool ready = false;
    // Past the deadline, a last look: a monitor that was frozen meanwhile
    // may wake to a poll that reported nothing, with the program's word
    // waiting (the attack of 2026-12-07: ready after 1 s, called late).
    const bool late = internal::MonotonicNow() >= upgrade_->deadline;
    if ((said || late) && next.ready_fd() >= 0) {
      internal::ReadinessInput input = next.ReadReadiness();
      ready = input.ready;
      // Its STATUS= and the like are the service's once it is handed
      // over (the attack of 2026-12-07: they were dropped).
      if (!input.relay.empty()) {
        absl::StrAppend(&upgrade_->held_relay,
                        upgrade_->held_relay.empty() ? "" : "\n", input.relay);
      }
      if (input.closed && !ready) {
        AbandonUpgrade(absl::StrCat("the new ", argv_[0], " closed descriptor ",
                                    ready_.fd,
                                    " before it wrote the newline that says "
                                    "it is ready"));
        return;
      }
    }
    if (!ready && next.polled()) ready = next.PollReady();
    if (exited) {
      int wait_status = 0;
      internal::ReapChild(next.pid(), &wait_status);
      AbandonUpgrade(absl::StrCat("the new ", argv_[0], " ",
                                  internal::DescribeWaitStatus(wait_status),
                                  " before it was ready"),
                     /*reaped=*/true);
      return;
    }
    if (ready) {
      HandOver(program);
    } else if (internal::MonotonicNow() >= upgrade_->deadline) {
      AbandonUpgrade(absl::StrCat("the new ", argv_[0],
                                  " was not ready within ",
                                  absl::FormatDuration(options_.ready_timeout),
                                  " (--daemon_ready_timeout)"));
    }
  }

  // The new program is ready: the pid file names it, the control process
  // hears its pid, and the old one gets --stop_signal (SIGKILL after the
  // stop timeout) and drains while the new one serves.
  void HandOver(std::unique_ptr<Program>& program) {
    Upgrade upgrade = std::move(*upgrade_);
    upgrade_.reset();
    const pid_t successor = upgrade.program->pid();
    if (!options_.pidfile.empty()) WritePid(successor);
    LOG(INFO) << "upgraded: pid " << successor << " serves; stopping pid "
              << program->pid();
    Answer(upgrade.channel, absl::StrCat("OK ", successor, "\n"));
    // The watchdog follows the program that serves now, ready this moment.
    watchdog_.WorkerEnded();
    watchdog_.WorkerStarted(internal::MonotonicNow(), absl::InfiniteDuration());
    watchdog_.WorkerReady(internal::MonotonicNow());
    Draining draining;
    draining.program = std::exchange(program, std::move(upgrade.program));
    draining.cgroup = std::exchange(run_cgroup_, std::move(upgrade.cgroup));
    draining.kill_at = internal::MonotonicNow() + options_.stop_timeout;
    if (absl::Status sent = draining.program->Signal(stop_signal_);
        !sent.ok()) {
      LOG(ERROR) << sent;
    }
    draining.program->Signal(SIGCONT).IgnoreError();
    draining_.push_back(std::move(draining));
    if (!upgrade.held_relay.empty()) {
      internal::DaemonAccess::Notify(*daemon_, upgrade.held_relay);
    }
    if (upgrade.reload_pending) {
      LOG(INFO) << "passing the reload that came during the upgrade on to "
                << successor;
      if (absl::Status sent = program->Signal(reload_signal_); !sent.ok()) {
        LOG(ERROR) << sent;
      }
    }
  }

  // Ends the new program of an upgrade that failed (its tree, reaped, its
  // cgroup removed) and answers "ERR `why`"; the running program serves on.
  void AbandonUpgrade(absl::string_view why, bool reaped = false,
                      bool serving = true) {
    Upgrade upgrade = std::move(*upgrade_);
    upgrade_.reset();
    LOG(ERROR) << "upgrade failed, "
               << (stopping_ ? "stopping: "
                   : serving ? "still serving: "
                             : "the running program ended: ")
               << why;
    if (!reaped) {
      upgrade.program->Kill();
      internal::ReapChild(upgrade.program->pid());
    }
    if (upgrade.program->command_pid() > 0) {
      internal::KillNow(upgrade.program->command_pid());
      internal::ReapChild(upgrade.program->command_pid());
    }
    if (upgrade.cgroup != nullptr) {
      upgrade.cgroup->End(0, absl::ZeroDuration(), kMonitorGrace);
    }
    RemoveRunCgroup(std::move(upgrade.cgroup));
    Answer(upgrade.channel, absl::StrCat("ERR ", why, "\n"));
  }

  // The program an upgrade replaced: SIGKILL at the stop timeout; once it
  // has exited (`exited`: its pidfd polled readable), reaped, and what it
  // left ended with its cgroup.
  void StepDraining(size_t i, bool exited) {
    Draining& draining = draining_[i];
    Program& old = *draining.program;
    if (exited) {
      int wait_status = 0;
      internal::ReapChild(old.pid(), &wait_status);
      LOG(INFO) << "the replaced pid " << old.pid() << " "
                << internal::DescribeWaitStatus(wait_status);
      std::unique_ptr<ProgramCgroup> cgroup = std::move(draining.cgroup);
      draining_.erase(draining_.begin() + static_cast<ptrdiff_t>(i));
      RemoveRunCgroup(std::move(cgroup));
    } else if (internal::MonotonicNow() >= draining.kill_at) {
      old.Kill();
      draining.kill_at = absl::InfiniteFuture();
    }
  }

  // Between two runs the monitor is the service: the pid file names it,
  // so that `kill $(cat P)` and stop end the wait. False when stopped.
  bool WaitToRestart(absl::Duration delay, int wait_status) {
    const std::string status = schedule_.Describe(delay, wait_status);
    LOG(WARNING) << status;
    daemon_->NotifyStatus(status);
    if (delay <= absl::ZeroDuration()) return true;
    if (!options_.pidfile.empty()) {
      internal::DaemonAccess::WritePid(*daemon_, getpid()).IgnoreError();
    }
    const absl::Time restart_at = internal::MonotonicNow() + delay;
    // No program feeds an outer watchdog meanwhile: the monitor does, as
    // the library's supervisor between workers (the attack of 2026-12-07:
    // silent for the whole delay, which systemd would take for a hang).
    daemon_->SetHealthy(true);
    absl::Cleanup program_feeds_it_again = [this] {
      if (ready_.kind == ReadyMode::Kind::kNotify) daemon_->SetHealthy(false);
    };
    while (internal::MonotonicNow() < restart_at) {
      const Event event =
          daemon_->WaitFor(restart_at - internal::MonotonicNow());
      AnswerRequests(
          "ERR the program is not running (the monitor waits to restart "
          "it)\n");
      if (event == Event::kStop) {
        stopping_ = true;
        return false;
      }
    }
    return true;
  }

  std::unique_ptr<Daemon> daemon_;
  const Options options_;
  const std::vector<std::string> argv_;
  const ReadyMode ready_;
  const internal::ProgramIdentity identity_;
  const int stop_signal_;
  const int reload_signal_;
  const std::string cgroup_name_;  // empty: no pid file
  internal::RestartSchedule schedule_;
  // --daemon_watchdog (watchdog.h), fed by the running program's WATCHDOG=1
  // on its notify socket; off (0) by default.
  internal::ProgressWatchdog watchdog_;
  std::unique_ptr<ProgramCgroup> cgroup_;      // null: none (the fallback)
  std::unique_ptr<ProgramCgroup> run_cgroup_;  // the running program's
  int runs_ = 0;                               // runs, for their names
  // Answer channels of upgrade requests not yet taken up (the library's
  // WaitUntil queues them here).
  std::vector<int> requests_;
  // A new program of an upgrade, not yet ready; the channel answered once
  // it is (or is not).
  struct Upgrade {
    std::unique_ptr<Program> program;
    std::unique_ptr<ProgramCgroup> cgroup;
    int channel = -1;
    absl::Time deadline;          // monotonic: --daemon_ready_timeout
    bool reload_pending = false;  // a reload came meanwhile
    std::string held_relay;       // its sd_notify lines for the manager
  };
  std::optional<Upgrade> upgrade_;
  // The programs upgrades replaced, each told to stop, until it has exited
  // (oldest first).
  struct Draining {
    std::unique_ptr<Program> program;
    std::unique_ptr<ProgramCgroup> cgroup;
    absl::Time kill_at;  // monotonic: --daemon_stop_timeout
  };
  std::vector<Draining> draining_;
  std::vector<internal::ActivatedSocket> sockets_;
  OutputRelay relay_;  // none until RunPrograms makes it
  bool ready_said_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
  std::string not_ready_reason_;
};

}  // namespace

int RunProgramMonitor(std::unique_ptr<Daemon> daemon, const Options& options,
                      MonitoredProgram program) {
  return Monitor(std::move(daemon), options, std::move(program.argv),
                 program.ready, std::move(program.identity),
                 program.stop_signal, program.reload_signal,
                 std::move(program.cgroup_name))
      .Run();
}

}  // namespace daemonkit
