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
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/internal/errors.h"

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

// capabilities(7)'s names, indexed by CAP_* number (linux/capability.h).
constexpr const char* kCapabilities[] = {
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
};

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

std::optional<int> CapabilityByName(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  absl::string_view bare = lower;
  absl::ConsumePrefix(&bare, "cap_");
  for (size_t i = 0; i < sizeof(kCapabilities) / sizeof(kCapabilities[0]);
       ++i) {
    if (bare == kCapabilities[i]) return static_cast<int>(i);
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
    const int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      return ErrnoError(errno,
                        absl::StrCat(what, ": open /proc/self/oom_score_adj"));
    }
    const std::string text = absl::StrCat(*oom_score_adj, "\n");
    const ssize_t written = write(fd, text.data(), text.size());
    const int saved = errno;
    close(fd);
    if (written != static_cast<ssize_t>(text.size())) {
      return ErrnoError(written < 0 ? saved : EIO,
                        absl::StrCat(what, ": write /proc/self/oom_score_adj"));
    }
  }
  return absl::OkStatus();
}

absl::Status CapabilityKeeper::Prepare() {
  if (keep_.empty()) return absl::OkStatus();
  // PR_CAPBSET_READ answers EINVAL past the kernel's last capability: no
  // /proc needed (the daemon may already be inside its chroot).
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
    bool kept = false;
    for (int wanted : keep_) kept = kept || wanted == cap;
    if (!kept && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return ErrnoError(
          errno, absl::StrCat("--daemon_capabilities: drop capability ", cap,
                              " from the bounding set"));
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
        return ErrnoError(errno,
                          absl::StrCat("--daemon_capabilities: raise ambient ",
                                       "capability cap_", kCapabilities[cap]));
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
