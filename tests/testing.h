// Copyright 2026 The daemonkit Authors.
//
// File: tests/testing.h
// -----------------------------------------------------------------------------
//
// Helpers for tests that run real programs and look at real processes: spawn
// a binary from the runfiles, capture its exit code and output, read /proc,
// wait for a process to be gone. Everything lives under $TEST_TMPDIR.

#ifndef DAEMONKIT_TESTS_TESTING_H_
#define DAEMONKIT_TESTS_TESTING_H_

#include <sys/types.h>

#include <condition_variable>  // NOLINT(build/c++11)
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>  // NOLINT(build/c++11)
#include <optional>
#include <string>
#include <thread>  // NOLINT(build/c++11)
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace test_support {

// $TEST_TMPDIR, or a fresh directory under /tmp outside Bazel.
std::string TestTmpDir();

// A new empty directory under TestTmpDir().
std::string MakeTempDir(const std::string& name);

// The path of a binary of this workspace in the test's runfiles, for
// example "examples/ticker".
std::string RunfilePath(const std::string& path);

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int term_signal = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `argv` to completion with stdin on /dev/null (or `stdin_path`) and
// stdout/stderr captured through files, so a daemon that keeps a stream
// cannot make the call hang. `env` entries are added to the environment.
RunResult RunProgram(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env = {},
                     const std::string& stdin_path = "/dev/null");

// The two halves of RunProgram, for running several programs at once:
// Spawn starts `argv` and returns a handle; Wait collects its result.
struct Spawned {
  pid_t pid = -1;
  std::string out_path, err_path;
};
Spawned SpawnProgram(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env = {},
                     const std::string& stdin_path = "/dev/null");
RunResult WaitProgram(const Spawned& spawned);

// The environment that makes a program load //tests:fault_shim.so (issue
// 23: fork failures, wall-clock steps), with `extra` (the shim's control
// files) added. Under AddressSanitizer the shim comes before the ASan
// runtime, which ASan accepts only when told to (verify_asan_link_order=0,
// appended to the test's own ASAN_OPTIONS). The test needs the shim in its
// data.
std::map<std::string, std::string> FaultShimEnvironment(
    std::map<std::string, std::string> extra);

// Reads a whole file; empty when missing.
std::string ReadFileOrEmpty(const std::string& path);
bool FileExists(const std::string& path);
// Whether some process holds a write lock (an OFD or POSIX lock, as a
// daemon holds on its pid file) on the file at `path`, never followed
// through a link.
bool IsWriteLocked(const std::string& path);
// Replaces the file at `path` with `content`; whether it all went in.
bool WriteFile(const std::string& path, const std::string& content);

// The pid in `pidfile`, or 0.
pid_t ReadPid(const std::string& pidfile);

// The pid in the "Process id: <pid> <ppid>" line that //examples:ticker
// writes to its stdout before it declares itself ready, or 0. Unlike the pid
// file, it is still there after a daemon that ran briefly has exited.
pid_t TickerPidFromLog(const std::string& log);

// The lines "<pid> <monotonic ns>" that //tests:fake_daemon appends to its
// --report file, one per started daemon or worker; other lines are skipped.
struct ReportedStart {
  pid_t pid;
  int64_t monotonic_ns;
};
std::vector<ReportedStart> ReportedStarts(const std::string& report);
// The pid of the first start in `report`, or 0.
pid_t FirstReportedPid(const std::string& report);

// /proc/PID/stat through daemonkit::ReadProcStat (fields numbered as in
// proc(5), from 1); no fields when the process cannot be read.
ProcStat StatOf(pid_t pid);

// What a test prints when a signal it sent seems not acted on: for each
// thread of `pid`, its name, state, pending (own and process-wide), blocked
// and caught signal sets and where it sleeps (wchan), one line each. Tells a
// blocked or still pending signal from one that was taken and lost.
std::string SignalStateOf(pid_t pid);

// Whether `pid`'s main thread sleeps in poll(2) or ppoll(2), its wait for
// events (or sleeps at all where the kernel hides wchan). A test that claims
// "a signal during the wait" sends it then: ThreadSanitizer defers a handler
// for a signal that comes outside a blocking call, and such signals were
// lost now and then in TSan builds (never in plain ones).
bool SleepsInPoll(pid_t pid);

// Whether `pid` exists and its thread group has not wholly exited: running,
// or a zombie main thread whose other threads still run (and still hold its
// descriptors and locks).
bool IsAlive(pid_t pid);

// The processes `pid` holds a pidfd of (internal::PidfdTargets); empty when
// it cannot be read.
std::vector<pid_t> PidfdTargetsOf(pid_t pid);

// The live descendants of `pid` (children, their children, ...), by the
// parent field of /proc/PID/stat.
std::vector<pid_t> DescendantsOf(pid_t pid);

// Waits until `pid` is no longer alive; false after `timeout`.
bool WaitUntilGone(pid_t pid, absl::Duration timeout = absl::Seconds(30));

// Waits until `predicate` holds; false after `timeout`.
template <typename Predicate>
bool WaitFor(Predicate predicate, absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!predicate()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// SIGKILLs `pid` if it still runs and waits for it to be gone: for test
// tear-down, so that nothing is left behind even when an assertion failed.
// Only for a pid the test knows is its own: a pid it started, or one
// KillPidFileHolder verified.
void KillAndWait(pid_t pid);

// KillAndWait of the daemon `pidfile` names, only when that process (in
// this pid namespace) holds the file's write lock, itself or through its
// path keeper. A number nobody verifies is never signalled: a stale file's
// pid may have gone to an unrelated process since, and a pid written in
// another pid namespace ("2" in a container) names another process here
// (the host's kthreadd, without a pid namespace of the test's own).
void KillPidFileHolder(const std::string& pidfile);

// Ends (SIGKILL) and removes the cgroup //tools:daemonkit made for the
// program of `pidfile` (issue 21.3), if one is left: for tear-down after
// the daemon's processes were ended, and after a test that SIGKILLed a
// monitor, which leaves its (empty) cgroup behind. EXPECTs that it goes.
void RemoveProgramCgroups(const std::string& pidfile);

// The cgroup directories //tools:daemonkit made for the program of
// `pidfile` that are still there: none once a stop of it has returned.
std::vector<std::string> ProgramCgroupsOf(const std::string& pidfile);

// Every live process that SpawnProgram (or RunProgram) started in this test
// process, however it detached since, and what those started in turn: they
// carry a marker in their environment that names this process. Never look
// for processes by name: without a pid namespace of its own (the
// processwrapper sandbox, a chroot, a container) a test sees every process
// of the machine, other tests' daemons and the README's ticker among them.
// A process that emptied its environment (--daemon_keep_env) is not found.
std::vector<pid_t> LiveProcessesSpawnedByThisTest();

// The target of /proc/PID/fd/N for every open descriptor N.
std::map<int, std::string> OpenDescriptors(pid_t pid);

// The live (neither zombie nor dead) processes of session `sid`, from /proc.
std::vector<pid_t> LiveSessionMembers(pid_t sid);

// PausedChild
//
// A forked child that runs `setup`, tells the parent it is done, then waits
// to be killed: a real process holding whatever `setup` opened or locked. A
// failed `setup` (false) is a test failure. The destructor kills and reaps
// the child, so nothing outlives the test.
class PausedChild {
 public:
  explicit PausedChild(const std::function<bool()>& setup = [] {
    return true;
  });
  ~PausedChild() { Reap(); }
  PausedChild(const PausedChild&) = delete;
  PausedChild& operator=(const PausedChild&) = delete;

  // The child's pid; -1 once reaped.
  pid_t pid() const { return pid_; }

  // SIGKILLs the child and waits until it is a zombie, not yet reaped.
  void KillButDoNotReap();

  // SIGKILLs and reaps the child. Returns the pid it had, from now on no
  // longer ours to signal (it may name another process).
  pid_t Reap();

 private:
  pid_t pid_ = -1;
};

// Waits for the child `pid` (retrying on EINTR), reaps it and returns its
// wait status (WIFEXITED, WTERMSIG, ...); 0 with a test failure when it is
// not the caller's child.
int ReapChild(pid_t pid);

// Runs `body` in a forked child and returns its exit code (the value
// `body` returns), or -1 when the child died of a signal. For code that
// changes the process itself: descriptors 1 and 2, credentials.
int ExitCodeInChild(const std::function<int()>& body);

// Why this place cannot run a program as pid 1 of a new pid namespace with
// its own /proc (`unshare --pid --fork --mount-proc`), or "" when it can.
// In a chroot (tools/check_fresh.sh) "/" is no mount point, so unshare
// cannot make its propagation private; tests of containers skip there, and
// say so, rather than fail on something that says nothing of the library.
// Any other failure (not root, a sandbox that forbids namespaces) is
// returned too: the caller decides whether that is a skip or a failure.
std::string WhyNoContainerHere();

// PidNamespace
//
// A program run as pid 1 of a new pid namespace with its own /proc, as a
// container runs its entrypoint (`unshare --pid --fork --mount-proc
// --kill-child PROGRAM...`), and ended, with every process in the
// namespace, when the object goes: by the processes the test holds
// (unshare, its child through a pidfd), never by a number read from a file
// that a process of the namespace wrote, which names another process here.
//
//   test_support::PidNamespace container;
//   container.Start({ticker, "--daemon=false", ...});
//   ... container.Init() is the namespace's pid 1 as this test sees it
//   RunResult result = container.Wait();  // or nothing: the destructor kills
class PidNamespace {
 public:
  PidNamespace() = default;
  ~PidNamespace() { Kill(); }
  PidNamespace(const PidNamespace&) = delete;
  PidNamespace& operator=(const PidNamespace&) = delete;

  // Spawns `argv` as the namespace's pid 1 (SpawnProgram: output captured,
  // the test's marker in its environment).
  void Start(const std::vector<std::string>& argv);

  // The namespace's pid 1 in this test's pid namespace (unshare's one
  // child), pinned by a pidfd once found; 0 while unshare has not forked
  // it yet, or once it is gone.
  pid_t Init();

  // unshare's pid, while it is not yet reaped; -1 after.
  pid_t unshare_pid() const { return unshare_.pid; }
  // Where unshare's standard error goes (what the program said, too).
  const std::string& stderr_path() const { return unshare_.err_path; }

  // Waits for the container to end and reaps unshare, which passes on its
  // pid 1's exit code (128 + the signal that killed it).
  RunResult Wait();

  // SIGKILLs the namespace's pid 1 (which ends every process in the
  // namespace) and waits for it, then unshare, and reaps unshare. Safe to
  // call again.
  void Kill();

 private:
  Spawned unshare_;
  pid_t init_ = 0;
  int init_pidfd_ = -1;
};

// NotifyReceiver
//
// The supervisor's end of sd_notify: a datagram socket with a kernel-chosen
// (autobind) abstract name, unique even when many runs of a test share a
// network namespace. Like a service manager, it reads every message as it
// comes (a thread of its own), so no sender ever waits for room in the
// socket's queue (net.unix.max_dgram_qlen, 10 here) and a test that asks
// late still gets every message, in order.
class NotifyReceiver {
 public:
  NotifyReceiver();
  ~NotifyReceiver();
  NotifyReceiver(const NotifyReceiver&) = delete;
  NotifyReceiver& operator=(const NotifyReceiver&) = delete;

  // The value for $NOTIFY_SOCKET: "@" and the name.
  const std::string& address() const { return address_; }

  // The next message, or "" when none arrives within `timeout` (zero: one
  // already sent, if any).
  std::string Receive(absl::Duration timeout = absl::Seconds(30));

  // The next message and the descriptor that came with it (SCM_RIGHTS, the
  // caller's to close; -1 when none).
  std::string Receive(int* fd, absl::Duration timeout = absl::Seconds(30));
  // The same, and the sender's pid too when PassCredentials() was called
  // (0 otherwise), as systemd judges WATCHDOG=1 by its sender.
  std::string Receive(int* fd, pid_t* sender, absl::Duration timeout);

  // Has the kernel attach each sender's credentials from now on (as
  // systemd's NotifyAccess= checks need), for ReceiveFrom.
  void PassCredentials();
  // The next message and its sender's pid (0 when it came without
  // credentials).
  std::string ReceiveFrom(pid_t* sender,
                          absl::Duration timeout = absl::Seconds(30));

 private:
  struct Message {
    std::string text;
    int fd = -1;
    pid_t sender = 0;
  };
  // Moves what the socket holds into messages_. Needs mutex_ held.
  void ReadQueued();
  void ReadUntilStopped();

  int fd_ = -1;
  int stop_fd_ = -1;  // an eventfd that ends the reader
  std::string address_;
  // std::mutex, not absl::Mutex: the system's Abseil is not built for
  // ThreadSanitizer, which then sees no order between the reader thread's
  // push_back and a waiter's look at messages_ (a false data race that
  // failed every --config=tsan run of the model test).
  std::mutex mutex_;
  std::condition_variable arrived_;  // a message was queued
  std::deque<Message> messages_;
  std::thread reader_;
};

}  // namespace test_support
}  // namespace daemonkit

#endif  // DAEMONKIT_TESTS_TESTING_H_
