// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/kill_and_reap.h
// -----------------------------------------------------------------------------
//
// The one module that sends SIGKILL. Every way daemonkit ends a process goes
// through it, so its grace periods are named here once:
//
//   - an escalation (EndProcess): a first signal (SIGTERM, the program's
//     --stop_signal, or SIGCONT alone for a keeper left stopped), optionally a
//     SIGCONT so a stopped process can act on it, a grace, then SIGKILL and
//     a bounded wait for the kernel to finish it. `--daemon_control=stop`,
//     the supervisor stopping its worker, a path keeper left behind, and a
//     stop of a `daemonkit` program are each one EndPolicy;
//   - a sweep (KillUntilGone): SIGKILL again and again over a set that may
//     grow while the kill is on its way (a failed start's session, what a
//     worker left behind), until none of it runs or a deadline passes;
//   - an immediate kill (KillNow, KillGroupNow, KillThroughPidfd,
//     KillAndReap): when nothing is to be asked first (a child that failed
//     between fork and exec, a successor given up, an old daemon draining
//     after a stop), and from an event loop whose own timer decided that the
//     grace is over (the supervisor's watchdog, the `daemonkit` monitor).
//     These are async-signal-safe, for forked children.
//
// The container init's forwarding (container_init.cc) is the one other
// sender: it runs as pid 1 and may not link glog or allocate.
//
//   EndPolicy policy;
//   policy.first_signal = stop_signal;
//   policy.then_continue = true;
//   policy.grace = stop_timeout;
//   const absl::StatusOr<EndOutcome> ended = EndProcess(
//       pidfd, policy, "the program",
//       [] { LOG(WARNING) << "the program outlived its stop timeout"; });

#ifndef DAEMONKIT_DAEMON_INTERNAL_KILL_AND_REAP_H_
#define DAEMONKIT_DAEMON_INTERNAL_KILL_AND_REAP_H_

#include <signal.h>
#include <sys/types.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/deadline.h"

namespace daemonkit {
namespace internal {

// After SIGKILL the kernel needs only a moment; this bounds a process stuck
// in uninterruptible sleep (or an unkillable zombie's parent).
inline constexpr absl::Duration kKillGrace = absl::Seconds(5);

// What a path keeper left behind (control.cc) is given after SIGKILL. Longer
// than kKillGrace as it always was; kept when issue 20 gathered the
// escalations here, which was to change no behaviour.
inline constexpr absl::Duration kKeeperKillGrace = absl::Seconds(10);

// How often a sweep looks again for what still runs.
inline constexpr absl::Duration kKillSweepTick = absl::Milliseconds(1);

// How one process is asked to end, and how long it gets.
struct EndPolicy {
  // The request: SIGTERM, the program's --stop_signal, or SIGCONT for a
  // process that only has to be resumed to finish on its own.
  int first_signal = SIGTERM;
  // A SIGCONT right after `first_signal`: a stopped process acts on
  // nothing but SIGKILL until continued.
  bool then_continue = false;
  // From the request to SIGKILL.
  absl::Duration grace = absl::ZeroDuration();
  // From SIGKILL to giving up.
  absl::Duration kill_grace = kKillGrace;
};

enum class EndOutcome {
  kExited,  // within the grace (or it was gone already)
  kKilled,  // by SIGKILL
};

// Ends the process behind `pidfd` as `policy` says. `before_kill` runs once,
// just before SIGKILL, to say why (the caller knows what to call it).
// Returns how it ended; an errno error "send SIGNAME to <what>" when a signal
// could not be sent (ESRCH is not one: the process is gone); kDeadlineExceeded
// "<what> survived SIGKILL" when it outlived `kill_grace`.
absl::StatusOr<EndOutcome> EndProcess(int pidfd, const EndPolicy& policy,
                                      absl::string_view what,
                                      absl::FunctionRef<void()> before_kill);

// EndProcess with SIGTERM, a grace of `stop_timeout` and kKillGrace, logging
// the escalation to SIGKILL as a warning naming `what` ("the daemon",
// "worker 42"). OK once the process is gone.
absl::Status TerminateProcess(int pidfd, absl::Duration stop_timeout,
                              absl::string_view what);

// A sweep: calls `kill_round` every kKillSweepTick until it returns false
// (it found nothing running) or `deadline` passes. Each round SIGKILLs,
// through the functions below, whatever of its set still runs, and returns
// whether it found any. Returns whether the set was found empty.
bool KillUntilGone(absl::FunctionRef<bool()> kill_round,
                   const Deadline& deadline);

// SIGKILL now, without asking first. Async-signal-safe; each returns what
// kill(2) or pidfd_send_signal(2) returned, errno set on -1.
int KillNow(pid_t pid);
int KillGroupNow(pid_t process_group);
int KillThroughPidfd(int pidfd);

// Ends `child` (the caller's child, pidfd may be -1) and its process group,
// for the leader's death would not end the rest, then reaps it. Blocks until
// the kernel has finished it. Async-signal-safe.
void KillAndReap(pid_t child, int pidfd);

// Arms a timer that SIGKILLs this process `delay` from now (at least 1 ms):
// the bound on an old daemon draining after its handover. The timer is
// never disarmed; the process is meant to exit before it fires.
absl::Status KillSelfAfter(absl::Duration delay);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_KILL_AND_REAP_H_
