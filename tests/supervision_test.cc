// Copyright 2026 The daemonkit Authors.
//
// --daemon_restart on real processes: a worker that crashes and is started
// again on the backoff schedule, crash-loop protection, stop during a
// backoff, the death of the supervisor, a worker deaf to SIGTERM, signal
// forwarding, status with both pids, what systemd hears (the worker's own
// notifications relayed), and the worker's pid file when a start or a stop
// ends badly.

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/proc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::FileExists;
using ::daemonkit::test_support::IsAlive;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::ReportedStart;
using ::daemonkit::test_support::ReportedStarts;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

class SupervisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test_support::MakeTempDir("supervision");
    pidfile_ = dir_ + "/supervisor.pid";
    child_pidfile_ = dir_ + "/worker.pid";
    report_ = dir_ + "/starts";
    err_ = dir_ + "/stderr";
  }
  void TearDown() override {
    test_support::KillPidFileHolder(pidfile_);
    for (const ReportedStart& start : ReportedStarts(report_)) {
      test_support::KillAndWait(start.pid);
    }
    for (pid_t pid : others_) test_support::KillAndWait(pid);
  }

  std::vector<std::string> Args(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        test_support::RunfilePath("tests/fake_daemon"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_child_pidfile=" + child_pidfile_, "--daemon_stderr=" + err_,
        "--report=" + report_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  RunResult Run(std::vector<std::string> extra,
                const std::map<std::string, std::string>& env = {}) const {
    return RunProgram(Args(std::move(extra)), env);
  }
  size_t Starts() const { return ReportedStarts(report_).size(); }

  // The supervised ticker's command line.
  std::vector<std::string> TickerArgs(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {
        test_support::RunfilePath("examples/ticker"),
        "--daemon_pidfile=" + pidfile_,
        "--daemon_child_pidfile=" + child_pidfile_,
        "--daemon_stdout=" + dir_ + "/ticks", "--daemon_stderr=" + err_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  std::string dir_, pidfile_, child_pidfile_, report_, err_;
  std::vector<pid_t> others_;  // more processes to kill at the end
};

TEST_F(SupervisionTest, CrashingWorkerIsRestartedOnTheBackoffSchedule) {
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=3",
           "--daemon_restart=on-failure", "--daemon_restart_delay=100ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  // Three crashes, three restarts; the fourth worker stays up.
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return Starts() == 4 && ReadPid(child_pidfile_) > 0; }));
  std::vector<ReportedStart> starts = ReportedStarts(report_);
  ASSERT_EQ(starts.size(), 4u);
  EXPECT_EQ(ReadPid(child_pidfile_), starts[3].pid);
  EXPECT_TRUE(IsAlive(starts[3].pid));
  EXPECT_TRUE(IsAlive(supervisor));
  // The delays double: 100 ms, 200 ms, 400 ms between a crash and the next
  // start (never less; more only by scheduling noise).
  for (int i = 1; i <= 3; ++i) {
    const absl::Duration gap =
        absl::Nanoseconds(starts[i].monotonic_ns - starts[i - 1].monotonic_ns);
    const absl::Duration delay = absl::Milliseconds(100 << (i - 1));
    EXPECT_GE(gap, delay) << "restart " << i;
    EXPECT_LT(gap, delay + absl::Seconds(2)) << "restart " << i;
  }
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("restarting in 100ms after signal Aborted, restart 1"));
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("restarting in 400ms after signal Aborted, restart 3"));

  RunResult status = Run({"--daemon_control=status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.stdout_text,
            absl::StrCat("running, pid ", supervisor, ", worker ",
                         starts[3].pid, " (pid file ", pidfile_, ")\n"));

  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
  EXPECT_FALSE(IsAlive(starts[3].pid));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(child_pidfile_));
}

TEST_F(SupervisionTest, CrashLoopHitsTheLimitAndGivesUp) {
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=1000",
           "--daemon_restart=always", "--daemon_restart_delay=10ms",
           "--daemon_restart_limit=2"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(test_support::WaitUntilGone(supervisor));
  EXPECT_EQ(Starts(), 3u) << "the first start and two restarts";
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_THAT(ReadFileOrEmpty(err_), HasSubstr("giving up after 2 restarts"));
  EXPECT_EQ(Run({"--daemon_control=status"}).exit_code, 3);
}

// Issue 23.8: the limit is a sliding window, as systemd's
// StartLimitIntervalSec/StartLimitBurst: it gives up only when more than
// --daemon_restart_limit restarts fall within --daemon_restart_reset_after.
// Here each worker crashes at once (so none resets the count by its
// uptime), but the delay alone spaces the restarts wider than the window:
// no two restarts are ever in one window, and the supervisor never gives up.
TEST_F(SupervisionTest, RestartsSpacedWiderThanTheWindowNeverHitTheLimit) {
  RunResult start = Run(
      {"--behavior=crash_times", "--crash_times=3", "--daemon_restart=always",
       "--daemon_restart_delay=1200ms", "--daemon_restart_max_delay=1200ms",
       "--daemon_restart_reset_after=1s", "--daemon_restart_limit=1"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  // Three crashes, three restarts; the fourth worker stays up.
  ASSERT_TRUE(test_support::WaitFor([&] {
    return !IsAlive(supervisor) ||
           (Starts() == 4 && ReadPid(child_pidfile_) > 0);
  })) << ReadFileOrEmpty(err_);
  EXPECT_TRUE(IsAlive(supervisor)) << ReadFileOrEmpty(err_);
  EXPECT_THAT(ReadFileOrEmpty(err_), Not(HasSubstr("giving up")));
  EXPECT_EQ(Starts(), 4u);
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
}

// Issue 22.16, the rule of s6, runit and daemontools: a worker that ran
// past --daemon_restart_reset_after is restarted at once. Each worker here
// runs a second (--delay) before it is ready and crashes, against a reset
// window of 200ms and a restart delay of an hour: only the rule lets the
// two restarts happen within the wait.
TEST_F(SupervisionTest, AWorkerThatRanLongEnoughRestartsAtOnce) {
  RunResult start = Run(
      {"--behavior=crash_times", "--crash_times=2", "--delay=1s",
       "--daemon_restart=on-failure", "--daemon_restart_delay=1h",
       "--daemon_restart_max_delay=1h", "--daemon_restart_reset_after=200ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return !IsAlive(supervisor) ||
           (Starts() == 3 && ReadPid(child_pidfile_) > 0);
  })) << ReadFileOrEmpty(err_);
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("restarting at once after signal Aborted, restart 2"));
  EXPECT_THAT(ReadFileOrEmpty(err_), Not(HasSubstr("restarting in 1h")));
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
}

// ... and one that died sooner waits the delay, whatever ran before it.
TEST_F(SupervisionTest, AWorkerThatDiedYoungWaitsTheDelay) {
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=1",
           "--daemon_restart=on-failure", "--daemon_restart_delay=1h",
           "--daemon_restart_max_delay=1h", "--daemon_restart_reset_after=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_), "restarting in 1h");
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(Starts(), 1u);
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
}

// Issue 22.16: --daemon_restart_delay=0 is allowed and restarts at once.
TEST_F(SupervisionTest, AZeroRestartDelayRestartsAtOnce) {
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=2",
           "--daemon_restart=on-failure", "--daemon_restart_delay=0",
           "--daemon_restart_max_delay=1h", "--daemon_restart_reset_after=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return !IsAlive(supervisor) ||
           (Starts() == 3 && ReadPid(child_pidfile_) > 0);
  })) << ReadFileOrEmpty(err_);
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("restarting at once after signal Aborted, restart 2"));
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
}

TEST_F(SupervisionTest, StopDuringABackoffWaitIsPrompt) {
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=1",
           "--daemon_restart=on-failure", "--daemon_restart_delay=1h",
           "--daemon_restart_max_delay=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_), "restarting in 1h");
  }));
  // With an hour-long backoff and an hour-long stop timeout, only a prompt
  // stop lets this return.
  RunResult stop = Run({"--daemon_control=stop", "--daemon_stop_timeout=1h"});
  EXPECT_EQ(stop.exit_code, 0);
  EXPECT_FALSE(IsAlive(supervisor));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(SupervisionTest, WorkerDiesWithItsSupervisorAndTheNextStartWorks) {
  RunResult start = Run({"--daemon_restart=always"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);
  kill(supervisor, SIGKILL);
  EXPECT_TRUE(test_support::WaitUntilGone(worker)) << "orphaned worker";
  RunResult again = Run({"--daemon_restart=always"});
  EXPECT_EQ(again.exit_code, 0) << again.stderr_text;
  EXPECT_NE(ReadPid(pidfile_), supervisor);
}

TEST_F(SupervisionTest, StopClearsTheWorkerPidFileAKilledSupervisorLeft) {
  RunResult start = Run({"--daemon_restart=always"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);
  kill(supervisor, SIGKILL);
  ASSERT_TRUE(test_support::WaitUntilGone(supervisor));
  ASSERT_TRUE(FileExists(child_pidfile_));

  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(worker));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(child_pidfile_))
      << "left: '" << ReadFileOrEmpty(child_pidfile_) << "'";
}

TEST_F(SupervisionTest, WorkerDeafToSigtermIsKilledAfterTheStopTimeout) {
  RunResult start = Run({"--behavior=ignore_term", "--daemon_restart=always",
                         "--daemon_stop_timeout=200ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);
  RunResult stop = Run({"--daemon_control=stop", "--daemon_stop_timeout=1h"});
  EXPECT_EQ(stop.exit_code, 0);
  EXPECT_FALSE(IsAlive(worker));
  EXPECT_THAT(ReadFileOrEmpty(err_), HasSubstr("ignored SIGTERM"));
}

// Found by the second independent attack: with the same stop timeout on
// both sides, `stop` SIGKILLed the supervisor just as its worker's time ran
// out, before the supervisor could end what the worker had started, which
// then ran on under pid 1.
TEST_F(SupervisionTest, StopWithTheSameTimeoutEndsWhatADeafWorkerStarted) {
  RunResult start =
      Run({"--behavior=ignore_term", "--helper", "--daemon_restart=always",
           "--daemon_stop_timeout=1s"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  pid_t helper = 0;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrEmpty(report_), '\n')) {
    if (absl::ConsumePrefix(&line, "helper ")) {
      ASSERT_TRUE(absl::SimpleAtoi(line, &helper));
    }
  }
  ASSERT_GT(helper, 0);
  RunResult stop = Run({"--daemon_control=stop", "--daemon_stop_timeout=1s"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_TRUE(test_support::WaitUntilGone(helper, absl::Seconds(5)))
      << "the worker's helper outlived the stop";
  test_support::KillAndWait(helper);
}

TEST_F(SupervisionTest, WorkerFailingBeforeItsFirstReadyIsAFailedStart) {
  RunResult start = Run({"--behavior=fail", "--daemon_restart=always",
                         "--daemon_restart_delay=10ms"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("cannot bind 127.0.0.1:80: in use"));
  EXPECT_EQ(Starts(), 1u) << "no restart loop";
  EXPECT_FALSE(FileExists(pidfile_));

  start = Run({"--behavior=die", "--daemon_restart=always"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("exit code 3 before it was ready"));
}

TEST_F(SupervisionTest, CleanExitIsNotRestartedOnFailureOnly) {
  // A worker stopped by its own SIGTERM (not through the supervisor) ended
  // as asked: on-failure leaves it, and the supervisor goes too.
  RunResult start = Run({"--daemon_restart=on-failure"});
  ASSERT_EQ(start.exit_code, 0);
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  kill(ReadPid(child_pidfile_), SIGTERM);
  EXPECT_TRUE(test_support::WaitUntilGone(supervisor));
  EXPECT_EQ(Starts(), 1u);
  EXPECT_FALSE(FileExists(pidfile_));
}

// A worker that a signal killed and that is not restarted (on-failure
// does not restart SIGTERM, a stop) gives the foreground supervisor its
// exit code by the one rule (wait_status.h): 128 + the signal, as the
// container init and the daemonkit command say it (it said 1 before).
TEST_F(SupervisionTest, AWorkerKilledByASignalIsTheSupervisors128PlusIt) {
  test_support::Spawned supervisor = test_support::SpawnProgram(Args(
      {"--behavior=exec", "--daemon=false", "--daemon_restart=on-failure"}));
  ASSERT_TRUE(test_support::WaitFor([&] {
    const pid_t worker = ReadPid(child_pidfile_);
    return worker > 0 && ReadFileOrEmpty(absl::StrCat("/proc/", worker,
                                                      "/comm")) == "sleep\n";
  })) << ReadFileOrEmpty(err_);
  ASSERT_EQ(kill(ReadPid(child_pidfile_), SIGTERM), 0);
  const RunResult ended = test_support::WaitProgram(supervisor);
  EXPECT_EQ(ended.exit_code, 128 + SIGTERM) << ReadFileOrEmpty(err_);
  EXPECT_EQ(Starts(), 1u);
}

TEST_F(SupervisionTest, SighupIsForwardedToTheWorker) {
  RunResult start = Run({"--daemon_restart=always"});
  ASSERT_EQ(start.exit_code, 0);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);
  EXPECT_EQ(Run({"--daemon_control=reload"}).exit_code, 0);
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_),
                             absl::StrCat(" ", worker, " daemon.cc")) &&
           absl::StrContains(ReadFileOrEmpty(err_), "reloading on SIGHUP");
  }));
  EXPECT_TRUE(IsAlive(worker)) << "a HUP must not kill or restart the worker";
  EXPECT_EQ(Starts(), 1u);
}

TEST_F(SupervisionTest, SystemdHearsTheSupervisorAndTheRestarts) {
  test_support::NotifyReceiver receiver;
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=1",
           "--daemon_restart=on-failure", "--daemon_restart_delay=50ms"},
          {{"NOTIFY_SOCKET", receiver.address()}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  EXPECT_EQ(receiver.Receive(),
            absl::StrCat("READY=1\nMAINPID=", supervisor, "\nSTATUS=running"));
  EXPECT_EQ(receiver.Receive(),
            "STATUS=restarting in 50ms after signal Aborted, restart 1");
  EXPECT_EQ(receiver.Receive(), "STATUS=running, restart 1");
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
  EXPECT_EQ(receiver.Receive(), "STOPPING=1");
}

// Receives messages until one equals `wanted` (or, with `prefix`, starts
// with it), appending each to `*seen`; false if none comes.
bool ReceiveUntil(test_support::NotifyReceiver& receiver,
                  const std::string& wanted, std::vector<std::string>* seen,
                  bool prefix = false) {
  for (int i = 0; i < 100000; ++i) {
    const std::string message = receiver.Receive();
    if (message.empty()) return false;
    seen->push_back(message);
    if (prefix ? absl::StartsWith(message, wanted) : message == wanted) {
      return true;
    }
  }
  return false;
}

// Between workers (a restart delay) the supervisor feeds systemd's watchdog
// itself: it is the one at work, and a service in backoff is not hung (systemd
// applies no watchdog to its own Restart= delay either); a crash loop ends at
// --daemon_restart_limit, as StartLimitBurst=. It sends its first keep-alive
// as soon as the worker is gone, long before the next one starts.
TEST_F(SupervisionTest, TheSupervisorFeedsTheWatchdogOnlyBetweenWorkers) {
  test_support::NotifyReceiver receiver;
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=1",
           "--daemon_restart=on-failure", "--daemon_restart_delay=2s"},
          {{"NOTIFY_SOCKET", receiver.address()}, {"WATCHDOG_USEC", "200000"}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  std::vector<std::string> seen;
  ASSERT_TRUE(ReceiveUntil(receiver, "STATUS=restarting in 2s after", &seen,
                           /*prefix=*/true));
  EXPECT_EQ(receiver.Receive(), "WATCHDOG=1");
  ASSERT_TRUE(ReceiveUntil(receiver, "STATUS=running, restart 1", &seen));
  EXPECT_EQ(Run({"--daemon_control=stop"}).exit_code, 0);
}

// A service manager that stops reading (hung): its socket's queue fills
// (net.unix.max_dgram_qlen datagrams) with the keep-alives the supervisor
// sends between workers, and a supervisor blocked in sendto(2) neither
// restarted a worker nor heard a stop (the model test found it). Each
// message now waits at most kNotifySendTimeout for room: the crashed worker
// is still restarted, and stop still ends the service.
TEST_F(SupervisionTest, AManagerThatStopsReadingStallsNeitherRestartsNorStop) {
  // A socket with a kernel-chosen abstract name (autobind), never read.
  const int manager = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(manager, 0) << std::strerror(errno);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  ASSERT_EQ(bind(manager, reinterpret_cast<struct sockaddr*>(&address),
                 sizeof(sa_family_t)),
            0)
      << std::strerror(errno);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(manager, reinterpret_cast<struct sockaddr*>(&address),
                        &length),
            0)
      << std::strerror(errno);
  const std::string socket_path =
      "@" + std::string(address.sun_path + 1,
                        length - offsetof(struct sockaddr_un, sun_path) - 1);
  RunResult start =
      Run({"--behavior=crash_times", "--crash_times=1",
           "--daemon_restart=on-failure", "--daemon_restart_delay=100ms"},
          {{"NOTIFY_SOCKET", socket_path}, {"WATCHDOG_USEC", "20000"}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 && ReadPid(child_pidfile_) > 0;
  })) << Starts()
      << " starts; " << ReadFileOrEmpty(err_);
  // The queue fills with the worker's keep-alives: one warning says so
  // (when, depends on the machine's pace: waited for, not assumed).
  EXPECT_TRUE(test_support::WaitFor([&] {
    return absl::StrContains(ReadFileOrEmpty(err_), "(its queue is full)");
  })) << ReadFileOrEmpty(err_);
  // A clean stop, not SIGKILL after the timeout (the attack of 2026-12-06:
  // a wait per relayed keep-alive kept SIGTERM waiting for good).
  RunResult stop = Run({"--daemon_control=stop", "--daemon_stop_timeout=5s"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_THAT(stop.stderr_text, Not(HasSubstr("SIGKILL")));
  EXPECT_THAT(ReadFileOrEmpty(err_), HasSubstr("stopping on Terminated"));
  EXPECT_FALSE(IsAlive(supervisor));
  EXPECT_FALSE(FileExists(pidfile_));
  close(manager);
}

// Attack finding 5: the supervisor's STATUS=running (and "running, restart
// N") came 9 ms after the worker's own STATUS=, so systemctl status never
// showed the application's text. The supervisor's own status is said only
// while the worker has said none: between workers (restarting in ...), and
// at a readiness before which the worker sent no STATUS=.
TEST_F(SupervisionTest, TheSupervisorNeverOverwritesTheWorkersStatus) {
  test_support::NotifyReceiver receiver;
  RunResult start =
      RunProgram(TickerArgs({"--interval=1h", "--daemon_restart=always",
                             "--daemon_restart_delay=10ms"}),
                 {{"NOTIFY_SOCKET", receiver.address()}});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  std::vector<std::string> seen;
  ASSERT_TRUE(ReceiveUntil(receiver, "STATUS=ticking every 1h", &seen));
  ASSERT_TRUE(ReceiveUntil(
      receiver, absl::StrCat("READY=1\nMAINPID=", supervisor), &seen));
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t first = ReadPid(child_pidfile_);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  // Between workers the supervisor's word is the only one.
  ASSERT_TRUE(ReceiveUntil(receiver, "STATUS=restarting in 10ms after signal",
                           &seen, /*prefix=*/true));
  // The next worker's own STATUS=, and the worker pid file naming it once
  // it is ready.
  ASSERT_TRUE(ReceiveUntil(receiver, "STATUS=ticking every 1h", &seen));
  ASSERT_TRUE(test_support::WaitFor([&] {
    const pid_t worker = ReadPid(child_pidfile_);
    return worker > 0 && worker != first &&
           absl::StrContains(ReadFileOrEmpty(err_),
                             absl::StrCat("worker ", worker, " ready"));
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(RunProgram(TickerArgs({"--daemon_control=stop"})).exit_code, 0);
  ASSERT_TRUE(ReceiveUntil(receiver, "STOPPING=1", &seen));
  for (const std::string& message : seen) {
    EXPECT_THAT(message, Not(HasSubstr("STATUS=running"))) << message;
  }
}

TEST_F(SupervisionTest,
       TheWorkersNotificationsReachSystemdThroughTheSupervisor) {
  test_support::NotifyReceiver receiver;
  // Keep-alives due every 10 ms while the ticker waits out its hour.
  const std::map<std::string, std::string> env = {
      {"NOTIFY_SOCKET", receiver.address()}, {"WATCHDOG_USEC", "20000"}};
  RunResult start =
      RunProgram(TickerArgs({"--interval=1h", "--daemon_restart=always"}), env);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t worker = ReadPid(child_pidfile_);

  std::vector<std::string> seen;
  // The worker's STATUS= comes before its readiness, which the supervisor
  // announces as systemd's main process (without a STATUS= of its own over
  // the application's).
  ASSERT_TRUE(ReceiveUntil(receiver, "STATUS=ticking every 1h", &seen));
  ASSERT_TRUE(ReceiveUntil(
      receiver, absl::StrCat("READY=1\nMAINPID=", supervisor), &seen));
  // Keep-alives, fed by the worker.
  ASSERT_TRUE(ReceiveUntil(receiver, "WATCHDOG=1", &seen));
  ASSERT_TRUE(ReceiveUntil(receiver, "WATCHDOG=1", &seen));

  // A reload reaches the worker, and systemd hears it begin and end.
  ASSERT_EQ(RunProgram(TickerArgs({"--daemon_control=reload"})).exit_code, 0);
  ASSERT_TRUE(ReceiveUntil(receiver, "RELOADING=1\nMONOTONIC_USEC=", &seen,
                           /*prefix=*/true));
  ASSERT_TRUE(ReceiveUntil(receiver, "READY=1", &seen));

  // A hung worker (stopped here) feeds nothing, and nothing feeds for it:
  // once the keep-alives already on their way are in, silence.
  ASSERT_EQ(kill(worker, SIGSTOP), 0);
  ASSERT_TRUE(test_support::WaitFor(
      [&] { return test_support::StatOf(worker).state() == 'T'; }));
  bool silent = false;
  for (int i = 0; i < 1000 && !silent; ++i) {
    const std::string message = receiver.Receive(absl::Seconds(2));
    silent = message.empty();
    if (!silent) {
      EXPECT_EQ(message, "WATCHDOG=1");
      seen.push_back(message);
    }
  }
  EXPECT_TRUE(silent) << "keep-alives for a stopped worker";
  ASSERT_EQ(kill(worker, SIGCONT), 0);
  EXPECT_TRUE(ReceiveUntil(receiver, "WATCHDOG=1", &seen));

  EXPECT_EQ(RunProgram(TickerArgs({"--daemon_control=stop"})).exit_code, 0);
  EXPECT_TRUE(ReceiveUntil(receiver, "STOPPING=1", &seen));
  // systemd only ever hears of the supervisor as the main process.
  for (const std::string& message : seen) {
    EXPECT_THAT(message, Not(HasSubstr(absl::StrCat("MAINPID=", worker))));
  }
  EXPECT_TRUE(test_support::WaitUntilGone(worker));
}

TEST_F(SupervisionTest, ReadyTimeoutLeavesNoWorkerPidFile) {
  RunResult start = Run({"--behavior=hang", "--daemon_restart=always",
                         "--daemon_ready_timeout=1s"});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("not ready within 1s"));
  for (const ReportedStart& started : ReportedStarts(report_)) {
    EXPECT_TRUE(test_support::WaitUntilGone(started.pid));
  }
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(child_pidfile_))
      << "left: " << ReadFileOrEmpty(child_pidfile_);
}

TEST_F(SupervisionTest, ImpatientStopLeavesNoWorkerPidFile) {
  // The supervisor would give its worker an hour; stop gives the supervisor
  // 200 ms, then SIGKILLs it, and the worker dies with it.
  RunResult start = Run({"--behavior=ignore_term", "--daemon_restart=always",
                         "--daemon_stop_timeout=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t supervisor = ReadPid(pidfile_);
  const pid_t worker = ReadPid(child_pidfile_);
  RunResult stop =
      Run({"--daemon_control=stop", "--daemon_stop_timeout=200ms"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
  EXPECT_TRUE(test_support::WaitUntilGone(worker));
  EXPECT_FALSE(FileExists(pidfile_));
  EXPECT_FALSE(FileExists(child_pidfile_))
      << "left: " << ReadFileOrEmpty(child_pidfile_);
}

TEST_F(SupervisionTest, WorkerPidFileIsLockedForTheWorkersLifeOnly) {
  RunResult start = Run({"--daemon_restart=always", "--daemon_restart_delay=1h",
                         "--daemon_restart_max_delay=1h"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  const pid_t supervisor = ReadPid(pidfile_);
  const pid_t worker = ReadPid(child_pidfile_);
  EXPECT_EQ(Run({"--daemon_control=status"}).stdout_text,
            absl::StrCat("running, pid ", supervisor, ", worker ", worker,
                         " (pid file ", pidfile_, ")\n"));
  kill(worker, SIGKILL);
  ASSERT_TRUE(test_support::WaitUntilGone(worker));
  // Unlocked and emptied once the supervisor has reaped it; no worker now.
  EXPECT_TRUE(test_support::WaitFor([&] {
    return Run({"--daemon_control=status"}).stdout_text ==
           absl::StrCat("running, pid ", supervisor, " (pid file ", pidfile_,
                        ")\n");
  }));
  EXPECT_EQ(ReadFileOrEmpty(child_pidfile_), "");
}

// The pids on the lines of `report` that start with `prefix`, as written by
// //tests:leaves_orphans ("helper <pid> grouped").
std::vector<pid_t> ReportedPids(const std::string& report,
                                absl::string_view prefix) {
  std::vector<pid_t> pids;
  for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(report), '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    pid_t pid;
    if (words.size() >= 2 && words[0] == prefix &&
        absl::SimpleAtoi(words[1], &pid)) {
      pids.push_back(pid);
    }
  }
  return pids;
}

// Issue 23.6: what a crashed worker left behind (a helper in its process
// group, one in a session of its own, both reparented to the supervisor as
// a subreaper) is ended before the next worker starts, as systemd's
// control-group kill: a crash loop does not pile helpers up beside the new
// worker. The second worker itself looks in /proc and reports what still
// ran when it started.
TEST_F(SupervisionTest, WhatACrashedWorkerLeftIsEndedBeforeTheNextWorker) {
  RunResult start = RunProgram(
      {test_support::RunfilePath("tests/leaves_orphans"),
       "--daemon_pidfile=" + pidfile_,
       "--daemon_child_pidfile=" + child_pidfile_, "--daemon_stderr=" + err_,
       "--report=" + report_, "--daemon_restart=on-failure",
       "--daemon_restart_delay=10ms"});
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  // The first worker left two helpers and crashed; the second one serves.
  ASSERT_TRUE(test_support::WaitFor([&] {
    return ReportedPids(report_, "alive").size() == 1 &&
           ReadPid(child_pidfile_) == ReportedPids(report_, "worker")[1];
  })) << ReadFileOrEmpty(report_);
  const std::vector<pid_t> helpers = ReportedPids(report_, "helper");
  ASSERT_EQ(helpers.size(), 2u);
  for (pid_t pid : ReportedPids(report_, "worker")) others_.push_back(pid);
  // The test's own check, in case a helper outlived it: gone by now.
  for (pid_t helper : helpers) {
    EXPECT_FALSE(IsAlive(helper)) << "helper " << helper << " still runs";
    if (IsAlive(helper)) others_.push_back(helper);
  }
  EXPECT_EQ(ReportedPids(report_, "alive"), std::vector<pid_t>{0})
      << "helpers of the crashed worker still ran when the next one started";

  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
}

TEST_F(SupervisionTest, AFailedForkIsRetriedOnTheBackoffSchedule) {
  const std::string fork_failures = dir_ + "/fork_failures";
  RunResult start =
      Run({"--daemon_restart=always", "--daemon_restart_delay=20ms"},
          test_support::FaultShimEnvironment(
              {{"DAEMONKIT_FAULT_FORK_FILE", fork_failures}}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t supervisor = ReadPid(pidfile_);
  ASSERT_GT(supervisor, 0);
  ASSERT_TRUE(
      test_support::WaitFor([&] { return ReadPid(child_pidfile_) > 0; }));
  // The next three forks fail; then the first worker dies.
  ASSERT_TRUE(test_support::WriteFile(fork_failures, "3\n"));
  test_support::KillPidFileHolder(child_pidfile_);
  ASSERT_TRUE(test_support::WaitFor([&] {
    return Starts() == 2 &&
           ReadPid(child_pidfile_) == ReportedStarts(report_)[1].pid;
  })) << ReadFileOrEmpty(err_);
  EXPECT_EQ(ReadFileOrEmpty(fork_failures), "0\n")
      << "the supervisor did not try again after each failure";
  EXPECT_THAT(ReadFileOrEmpty(err_),
              HasSubstr("Resource temporarily unavailable; retrying in"));
  EXPECT_TRUE(IsAlive(supervisor));
  EXPECT_EQ(ReadPid(pidfile_), supervisor);
  RunResult stop = Run({"--daemon_control=stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.stderr_text;
  EXPECT_FALSE(IsAlive(supervisor));
  EXPECT_FALSE(FileExists(pidfile_));
}

TEST_F(SupervisionTest, BadRestartFlagsAreUsageErrors) {
  for (const std::string flag :
       {"--daemon_restart=sometimes", "--daemon_restart_delay=-1s",
        "--daemon_restart_limit=-1", "--daemon_restart_reset_after=never"}) {
    SCOPED_TRACE(flag);
    RunResult result = Run({flag, "--daemon_restart_max_delay=1h"});
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.stderr_text, HasSubstr(flag.substr(0, flag.find('='))));
  }
  RunResult result = RunProgram({test_support::RunfilePath("tests/fake_daemon"),
                                 "--daemon_pidfile=" + pidfile_,
                                 "--daemon_child_pidfile=" + child_pidfile_});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.stderr_text, HasSubstr("needs --daemon_restart"));
}

}  // namespace
}  // namespace daemonkit
