// Copyright 2026 The daemonkit Authors.
//
// Runs in the daemon (or the foreground process), before and around the
// privilege drop; the name tables also in the caller of ValidateOptions.

#include "daemon/internal/process_controls.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

struct NamedResource {
  const char* name;
  int resource;
};
constexpr NamedResource kResources[] = {
    {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},
    {"core", RLIMIT_CORE},
    {"memlock", RLIMIT_MEMLOCK},
    {"as", RLIMIT_AS},
    {"stack", RLIMIT_STACK},
    {"cpu", RLIMIT_CPU},
    {"fsize", RLIMIT_FSIZE},
    {"data", RLIMIT_DATA},
    {"rtprio", RLIMIT_RTPRIO},
    {"nice", RLIMIT_NICE},
    {"msgqueue", RLIMIT_MSGQUEUE},
    {"sigpending", RLIMIT_SIGPENDING},
    {"locks", RLIMIT_LOCKS},
};

// What a daemon dropped to another user may keep (issue 18.1): all of
// capabilities(7), indexed by CAP_* number (linux/capability.h), with the
// verdict and its reason. An allow-list: only a capability that can
// neither lead back to root, read or write a file its user could not,
// leave a chroot, nor signal, trace or change another user's process is
// kept. No capability is kept without a chroot and refused with one: each
// that leaves a chroot also breaks the drop without one. docs/security.md
// has the same table, which //tests:capabilities_test holds to this one.
constexpr CapabilityVerdict kCapabilityVerdicts[] = {
    {"chown", false,
     "gives any file to its own user (chown /etc/shadow), then writes it"},
    {"dac_override", false, "reads and writes any file, whatever its mode"},
    {"dac_read_search", false,
     "reads any file: open_by_handle_at reaches the real / even from inside a "
     "chroot"},
    {"fowner", false, "changes the mode of any file (chmod /etc/shadow)"},
    {"fsetid", false,
     "sets the set-group-ID bit for groups it is not in, and keeps set-user-ID "
     "bits through its own writes"},
    {"kill", false, "signals any process, root's path keeper included"},
    {"setgid", false, "becomes any group, group 0 included"},
    {"setuid", false, "becomes any user, root included"},
    {"setpcap", false,
     "changes its own capability sets and securebits, undoing what the drop "
     "fixed"},
    {"linux_immutable", false,
     "makes files immutable or append-only, which root's tools (logrotate, "
     "package upgrades) then fail on"},
    {"net_bind_service", true,
     "binds ports below 1024, and reaches no file and no other process"},
    {"net_broadcast", true,
     "makes socket broadcasts and listens to multicast, and reaches no file "
     "and no other process"},
    {"net_admin", false,
     "reconfigures the host's interfaces, routes and firewall, and so can "
     "redirect root's connections to itself"},
    {"net_raw", true,
     "opens raw and packet sockets (ping, DHCP): it sees and forges the host's "
     "packets, but reaches no file and no other process"},
    {"ipc_lock", true,
     "locks its own memory beyond RLIMIT_MEMLOCK, and reaches no file and no "
     "other process"},
    {"ipc_owner", false,
     "reads and writes every System V IPC object, root's shared memory "
     "included"},
    {"sys_module", false, "loads kernel modules, running code in the kernel"},
    {"sys_rawio", false,
     "reads and writes raw devices and I/O ports (/dev/mem, a disk)"},
    {"sys_chroot", false,
     "leaves a chroot (chroot into a subdirectory, chdir(\"..\"), "
     "chroot(\".\")), and becomes root with a setuid program in a root it "
     "forged"},
    {"sys_ptrace", false,
     "traces any process, root's path keeper included, and runs code in it"},
    {"sys_pacct", false,
     "switches root's process accounting off or onto another file"},
    {"sys_admin", false,
     "mounts, enters namespaces and much more: it is nearly root"},
    {"sys_boot", false, "reboots the machine or loads another kernel (kexec)"},
    {"sys_nice", false,
     "changes the priority, scheduling policy and CPU placement of any "
     "process, root's included"},
    {"sys_resource", false,
     "changes other processes' resource limits (prlimit) and uses the disk "
     "space and quotas kept for root"},
    {"sys_time", false,
     "sets the system clock, which root's certificates, timers and logs rely "
     "on"},
    {"sys_tty_config", false,
     "reconfigures and hangs up terminals, root's console included"},
    {"mknod", false,
     "creates device files (a disk's), through which it reads and writes any "
     "file"},
    {"lease", false,
     "takes leases on any file it can open, stalling root's opens of that "
     "file"},
    {"audit_write", true,
     "writes records to the kernel's audit log, which stamps each with its uid "
     "and pid, and reaches no file and no other process"},
    {"audit_control", false,
     "switches auditing off and changes its rules, blinding root's audit"},
    {"setfcap", false,
     "gives a program file capabilities, which it then runs with"},
    {"mac_override", false,
     "overrides the mandatory access control (SELinux, AppArmor, Smack) meant "
     "to confine it"},
    {"mac_admin", false, "changes the mandatory access control policy"},
    {"syslog", false,
     "reads and clears the kernel log and sees kernel addresses"},
    {"wake_alarm", true,
     "sets timers that wake the machine from suspend, and reaches no file and "
     "no other process"},
    {"block_suspend", true,
     "keeps the machine from suspending, and reaches no file and no other "
     "process"},
    {"audit_read", false,
     "reads the audit log, what root types at an audited terminal included"},
    {"perfmon", false,
     "observes any process and the kernel with perf, root's data included"},
    {"bpf", false, "loads BPF programs and maps, which read kernel memory"},
    {"checkpoint_restore", false,
     "chooses the pid of the processes it creates (ns_last_pid, clone3's "
     "set_tid), so it can place one at a pid a root tool trusts"},
};
static_assert(sizeof(kCapabilityVerdicts) / sizeof(kCapabilityVerdicts[0]) ==
                  CAP_LAST_CAP + 1,
              "a verdict for every capability the kernel headers name");

std::string LimitText(uint64_t value) {
  return value == RLIM_INFINITY ? "unlimited" : absl::StrCat(value);
}

// capget/capset through syscall(2): glibc wraps neither, and libcap would
// be a dependency for two system calls.
struct CapabilitySets {
  __user_cap_header_struct header;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
};

absl::Status SetCapabilities(const std::vector<int>& keep) {
  CapabilitySets sets;
  std::memset(&sets, 0, sizeof(sets));
  sets.header.version = _LINUX_CAPABILITY_VERSION_3;
  sets.header.pid = 0;
  for (int cap : keep) {
    const uint32_t bit = 1u << (cap % 32);
    sets.data[cap / 32].permitted |= bit;
    sets.data[cap / 32].effective |= bit;
    sets.data[cap / 32].inheritable |= bit;
  }
  if (syscall(SYS_capset, &sets.header, sets.data) != 0) {
    return ErrnoError(errno, "--daemon_capabilities: capset");
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<int> ResourceByName(absl::string_view name) {
  for (const NamedResource& entry : kResources) {
    if (name == entry.name) return entry.resource;
  }
  return std::nullopt;
}

const CapabilityVerdict& CapabilityVerdictOf(int cap) {
  return kCapabilityVerdicts[cap];
}

std::optional<int> CapabilityByName(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  absl::string_view bare = lower;
  absl::ConsumePrefix(&bare, "cap_");
  for (size_t i = 0;
       i < sizeof(kCapabilityVerdicts) / sizeof(kCapabilityVerdicts[0]); ++i) {
    if (bare == kCapabilityVerdicts[i].name) return static_cast<int>(i);
  }
  return std::nullopt;
}

absl::Status ApplyResourceLimits(const std::vector<LimitRequest>& limits) {
  for (const LimitRequest& request : limits) {
    const std::optional<int> resource = ResourceByName(request.name);
    if (!resource) {
      return absl::InvalidArgumentError(
          absl::StrCat("--daemon_rlimits: unknown resource ", request.name));
    }
    const std::string entry = absl::StrCat(
        request.name, "=", LimitText(request.soft),
        request.hard ? absl::StrCat(":", LimitText(*request.hard)) : "");
    struct rlimit limit;
    if (getrlimit(*resource, &limit) != 0) {
      return ErrnoError(
          errno, absl::StrCat("--daemon_rlimits ", entry, ": getrlimit"));
    }
    limit.rlim_cur = request.soft;
    if (request.hard) limit.rlim_max = *request.hard;
    if (setrlimit(*resource, &limit) != 0) {
      const int saved = errno;
      return ErrnoError(
          saved, absl::StrCat("--daemon_rlimits ", entry, ": setrlimit",
                              saved == EINVAL && !request.hard
                                  ? absl::StrCat(" (the hard limit is ",
                                                 LimitText(limit.rlim_max), ")")
                                  : ""));
    }
  }
  return absl::OkStatus();
}

absl::Status RaiseHardLimits(const std::vector<LimitRequest>& limits) {
  std::vector<LimitRequest> raises;
  for (const LimitRequest& request : limits) {
    const std::optional<int> resource = ResourceByName(request.name);
    struct rlimit limit;
    if (!resource || !request.hard || getrlimit(*resource, &limit) != 0 ||
        *request.hard <= limit.rlim_max) {
      continue;  // unknown or unreadable: the worker's full apply says so
    }
    LimitRequest raise = request;
    raise.soft = limit.rlim_cur;
    raises.push_back(raise);
  }
  return ApplyResourceLimits(raises);
}

absl::Status ApplyScheduling(std::optional<int> nice,
                             std::optional<int> oom_score_adj) {
  if (nice && setpriority(PRIO_PROCESS, 0, *nice) != 0) {
    return ErrnoError(errno,
                      absl::StrCat("--daemon_nice=", *nice, ": setpriority"));
  }
  if (oom_score_adj) {
    const std::string what =
        absl::StrCat("--daemon_oom_score_adj=", *oom_score_adj);
    UniqueFd fd(open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
    if (!fd.valid()) {
      return ErrnoError(errno,
                        absl::StrCat(what, ": open /proc/self/oom_score_adj"));
    }
    const std::string text = absl::StrCat(*oom_score_adj, "\n");
    const ssize_t written = write(fd.get(), text.data(), text.size());
    const int saved = errno;
    fd.reset();
    if (written != static_cast<ssize_t>(text.size())) {
      return ErrnoError(written < 0 ? saved : EIO,
                        absl::StrCat(what, ": write /proc/self/oom_score_adj"));
    }
  }
  return absl::OkStatus();
}

absl::Status CapabilityKeeper::Prepare() {
  if (keep_.empty()) return absl::OkStatus();
  // A capability the process itself cannot have (a container, a unit's
  // CapabilityBoundingSet=) would fail capset with a bare EPERM.
  for (int cap : keep_) {
    const int bounded = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (bounded < 0) {
      return ErrnoError(errno, absl::StrCat("--daemon_capabilities: read cap_",
                                            kCapabilityVerdicts[cap].name,
                                            " in the bounding set"));
    }
    if (bounded == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--daemon_capabilities: cap_", kCapabilityVerdicts[cap].name,
          " is not in this process's bounding set (CapBnd in "
          "/proc/self/status): whatever started it took it away, so the "
          "daemon cannot keep it"));
    }
  }
  // PR_CAPBSET_READ answers EINVAL past the kernel's last capability: no
  // /proc needed (the daemon may already be inside its chroot).
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    bool kept = false;
    for (int wanted : keep_) kept = kept || wanted == cap;
    if (!kept && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      // Named, as everywhere (issue 22.9): a number says nothing to the
      // reader; one past this build's table is named by its number.
      const std::string name =
          cap < static_cast<int>(std::size(kCapabilityVerdicts))
              ? absl::StrCat("cap_", kCapabilityVerdicts[cap].name)
              : absl::StrCat("capability ", cap, " (unnamed in this build)");
      return ErrnoError(errno, absl::StrCat("--daemon_capabilities: drop ",
                                            name, " from the bounding set"));
    }
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return ErrnoError(errno, "--daemon_capabilities: prctl PR_SET_KEEPCAPS");
  }
  return absl::OkStatus();
}

absl::Status CapabilityKeeper::Finish() {
  if (!keep_.empty()) {
    // setuid kept the permitted set (PR_SET_KEEPCAPS) and emptied the
    // effective one; from now on exactly `keep_`, in every set.
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
      return ErrnoError(errno, "--daemon_capabilities: prctl PR_SET_KEEPCAPS");
    }
    DAEMONKIT_RETURN_IF_ERROR(SetCapabilities(keep_));
    for (int cap : keep_) {
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
        return ErrnoError(
            errno,
            absl::StrCat("--daemon_capabilities: raise ambient ",
                         "capability cap_", kCapabilityVerdicts[cap].name));
      }
    }
  }
  if (no_new_privs_ && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError(errno,
                      "--daemon_no_new_privs: prctl PR_SET_NO_NEW_PRIVS");
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
