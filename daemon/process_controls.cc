// Copyright 2026 The daemonkit Authors.
//
// Service-manager controls (issue 15): parsing and judging their values.
// Pure: runs in the caller of `Daemonize()` or of the flags layer.

#include "daemon/process_controls.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/internal/comma_list.h"
#include "daemon/internal/process_controls.h"

namespace daemonkit {
namespace {

bool ParseLimitValue(absl::string_view text, uint64_t* value) {
  if (text == "unlimited" || text == "infinity") {
    *value = kUnlimited;
    return true;
  }
  return !text.empty() && text[0] != '-' && text[0] != '+' &&
         absl::SimpleAtoi(text, value) && *value != kUnlimited;
}

}  // namespace

absl::StatusOr<std::vector<ResourceLimit>> ParseResourceLimits(
    absl::string_view list) {
  std::vector<ResourceLimit> limits;
  for (absl::string_view entry : internal::SplitCommaList(list)) {
    const std::vector<absl::string_view> sides =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    ResourceLimit limit;
    bool parsed = sides.size() == 2 && !sides[0].empty();
    if (parsed) {
      limit.resource = std::string(sides[0]);
      const std::vector<absl::string_view> values =
          absl::StrSplit(sides[1], absl::MaxSplits(':', 1));
      parsed = ParseLimitValue(values[0], &limit.soft);
      if (parsed && values.size() == 2) {
        uint64_t hard;
        parsed = ParseLimitValue(values[1], &hard);
        limit.hard = hard;
      }
    }
    if (!parsed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", entry,
          "' is not RESOURCE=SOFT or RESOURCE=SOFT:HARD (a number or "
          "unlimited)"));
    }
    limits.push_back(std::move(limit));
  }
  return limits;
}

namespace internal {

absl::Status ValidateProcessControls(const Options& options) {
  for (size_t i = 0; i < options.rlimits.size(); ++i) {
    const ResourceLimit& limit = options.rlimits[i];
    if (!ResourceByName(limit.resource)) {
      return UsageError(
          "rlimits",
          absl::StrCat("unknown resource '", limit.resource,
                       "' (nofile, nproc, core, memlock, as, stack, cpu, "
                       "fsize, data, rtprio, nice, msgqueue, sigpending, "
                       "locks)"));
    }
    // One of two values would win silently (issue 23.11), as two sockets of
    // one name would in --daemon_listen.
    for (size_t j = 0; j < i; ++j) {
      if (options.rlimits[j].resource == limit.resource) {
        return UsageError(
            "rlimits",
            absl::StrCat("the resource '", limit.resource, "' is given twice"));
      }
    }
    if (limit.hard && limit.soft > *limit.hard) {
      return UsageError("rlimits",
                        absl::StrCat("the soft limit of ", limit.resource,
                                     " is above its hard limit"));
    }
  }
  if (options.nice && (*options.nice < -20 || *options.nice > 19)) {
    return UsageError("nice", absl::StrCat("niceness ", *options.nice,
                                           " is not from -20 to 19"));
  }
  if (options.oom_score_adj &&
      (*options.oom_score_adj < -1000 || *options.oom_score_adj > 1000)) {
    return UsageError(
        "oom_score_adj",
        absl::StrCat("OOM score adjustment ", *options.oom_score_adj,
                     " is not from -1000 to 1000"));
  }
  // Kept capabilities confine only a dropped daemon (issue 18.2): as root,
  // with or without them, the daemon (and anything it runs) reads and
  // writes every file. A user that is root is refused in Prepare
  // (daemonize.cc), once the name is resolved.
  if (!options.capabilities.empty() && options.user.empty()) {
    return UsageError(
        "capabilities",
        "kept capabilities confine only a daemon dropped to another user: "
        "add --daemon_user=USER (a user other than root)");
  }
  for (const std::string& name : options.capabilities) {
    const std::optional<int> cap = CapabilityByName(name);
    if (!cap) {
      return UsageError("capabilities",
                        absl::StrCat("unknown capability '", name,
                                     "' (see capabilities(7))"));
    }
    const CapabilityVerdict& verdict = CapabilityVerdictOf(*cap);
    if (!verdict.kept) {
      return UsageError(
          "capabilities",
          absl::StrCat("cap_", verdict.name,
                       " is refused after a drop to --daemon_user: it ",
                       verdict.reason,
                       " (docs/security.md lists what a dropped daemon may "
                       "keep)"));
    }
  }
  if (options.ready_fd != -1 && options.ready_fd < 3) {
    return UsageError("ready_fd",
                      absl::StrCat("ready descriptor ", options.ready_fd,
                                   " is not -1 (none) or above 2"));
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace daemonkit
