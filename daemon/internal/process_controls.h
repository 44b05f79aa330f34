// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/process_controls.h
// -----------------------------------------------------------------------------
//
// What a service manager would otherwise set on the process (issue 15):
// resource limits, niceness, the OOM score adjustment, capabilities,
// no_new_privs. The name tables are pure (`ValidateOptions` judges names
// with them); the `Apply*` calls run in the daemon, or the foreground
// process, before (limits, scheduling) and around (capabilities) the
// privilege drop (daemon_startup.cc).
//
// Errors of the `Apply*` calls name the flag the value came from
// ("--daemon_rlimits nofile=30000: setrlimit: Invalid argument"): most
// programs set these through the flags, and a start error must tell the
// operator which of their settings the kernel refused.

#ifndef DAEMONKIT_DAEMON_INTERNAL_PROCESS_CONTROLS_H_
#define DAEMONKIT_DAEMON_INTERNAL_PROCESS_CONTROLS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// The RLIMIT_* number of a resource named as in `--daemon_rlimits`
// ("nofile", "nproc", "core", "memlock", "as", "stack", "cpu", "fsize",
// "data", "rtprio", "nice", "msgqueue", "sigpending", "locks"); nullopt for
// any other name.
std::optional<int> ResourceByName(absl::string_view name);

// The CAP_* number of a capability named as capabilities(7) writes it, in
// any case, with or without the "cap_" prefix ("cap_net_bind_service",
// "NET_BIND_SERVICE"); nullopt for any other name.
std::optional<int> CapabilityByName(absl::string_view name);

// Whether a daemon dropped to another user may keep a capability (issue
// 18.1), and why: the one table of all of capabilities(7), which
// docs/security.md repeats.
struct CapabilityVerdict {
  const char* name;    // capabilities(7)'s, without "cap_": "net_raw"
  bool kept;           // may be kept after a drop, with a chroot or not
  const char* reason;  // what it lets the daemon do: "it <reason>"
};

// The verdict on CAP_* number `cap`, one CapabilityByName() returned.
const CapabilityVerdict& CapabilityVerdictOf(int cap);

// One resource limit to set; `soft` and `hard` in the units of
// setrlimit(2), RLIM_INFINITY for "unlimited"; `hard` unset keeps the
// current hard limit.
struct LimitRequest;

// Only the hard limits that `limits` raise above the current ones, soft
// limits untouched: what a supervisor does before its privilege drop, so
// that each worker (forked after it) can then apply `limits` in full with
// ApplyResourceLimits, while the supervisor itself keeps its own limits (a
// small fsize or cpu limit meant for the application would end it).
// Errors as ApplyResourceLimits.
absl::Status RaiseHardLimits(const std::vector<LimitRequest>& limits);

struct LimitRequest {
  std::string name;
  uint64_t soft = 0;
  std::optional<uint64_t> hard;
};

// setrlimit(2) for each request, in order. A refusal (a soft limit above the
// hard one, raising a hard limit without CAP_SYS_RESOURCE) is an error
// naming `--daemon_rlimits` and the entry.
absl::Status ApplyResourceLimits(const std::vector<LimitRequest>& limits);

// setpriority(2) of the process (`nice`) and /proc/self/oom_score_adj
// (`oom_score_adj`), each only when set. Lowering either below its current
// value needs privileges (CAP_SYS_NICE, CAP_SYS_RESOURCE): without them, an
// error naming the flag.
absl::Status ApplyScheduling(std::optional<int> nice,
                             std::optional<int> oom_score_adj);

// Capabilities kept across a privilege drop. Call `Prepare()` as root just
// before the drop and `Finish()` right after it (or, without a drop, the
// two one after the other).
class CapabilityKeeper {
 public:
  // `keep`: CAP_* numbers (CapabilityByName); empty: capabilities are left
  // to the kernel's rules (a drop to another user loses them all).
  // `no_new_privs`: set PR_SET_NO_NEW_PRIVS in `Finish()`.
  CapabilityKeeper(std::vector<int> keep, bool no_new_privs)
      : keep_(std::move(keep)), no_new_privs_(no_new_privs) {}

  // With capabilities to keep: removes every other one from the bounding
  // set (no program the daemon executes can gain them back, not even a
  // setuid-root one) and asks the kernel to keep the permitted set across
  // the coming setuid (PR_SET_KEEPCAPS).
  absl::Status Prepare();

  // With capabilities to keep: makes them exactly the permitted, effective,
  // inheritable and ambient sets (the ambient set is what survives
  // execve(2) of an ordinary program as a non-root user), and clears
  // PR_SET_KEEPCAPS. Then PR_SET_NO_NEW_PRIVS when asked.
  absl::Status Finish();

 private:
  std::vector<int> keep_;
  bool no_new_privs_;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_PROCESS_CONTROLS_H_
