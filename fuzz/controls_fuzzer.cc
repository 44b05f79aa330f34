// Copyright 2026 The daemonkit Authors.
//
// Service-manager controls (issue 15). Whatever text reaches
// --daemon_rlimits, --daemon_nice, --daemon_oom_score_adj,
// --daemon_capabilities or --daemon_ready_fd, RequestFromFlags must answer
// with values the daemon can apply as they are, or a usage error (never a
// crash); and $JOURNAL_STREAM, set by whoever starts the process, parses to
// a device and inode or to nothing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "daemon/flags.h"
#include "daemon/internal/journal_sink.h"
#include "daemon/internal/process_controls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)daemonkit::internal::ParseJournalStream(text);
  absl::FlagSaver saver;
  for (absl::Flag<daemonkit::FlagText>* flag :
       {&FLAGS_daemon_rlimits, &FLAGS_daemon_nice, &FLAGS_daemon_oom_score_adj,
        &FLAGS_daemon_capabilities, &FLAGS_daemon_ready_fd}) {
    absl::FlagSaver one;
    absl::SetFlag(flag, daemonkit::FlagText(text));
    absl::StatusOr<daemonkit::FlagRequest> request =
        daemonkit::RequestFromFlags();
    if (!request.ok()) {
      if (!absl::IsInvalidArgument(request.status())) __builtin_trap();
      continue;
    }
    const daemonkit::Options& options = request->options;
    for (const daemonkit::ResourceLimit& limit : options.rlimits) {
      if (!daemonkit::internal::ResourceByName(limit.resource)) {
        __builtin_trap();
      }
      if (limit.hard && limit.soft > *limit.hard) __builtin_trap();
    }
    if (options.nice && (*options.nice < -20 || *options.nice > 19)) {
      __builtin_trap();
    }
    if (options.oom_score_adj &&
        (*options.oom_score_adj < -1000 || *options.oom_score_adj > 1000)) {
      __builtin_trap();
    }
    // Issue 18: kept capabilities need a drop, and only allowed ones pass.
    if (!options.capabilities.empty() && options.user.empty()) {
      __builtin_trap();
    }
    for (const std::string& name : options.capabilities) {
      const std::optional<int> cap =
          daemonkit::internal::CapabilityByName(name);
      if (!cap || !daemonkit::internal::CapabilityVerdictOf(*cap).kept) {
        __builtin_trap();
      }
    }
    if (options.ready_fd != -1 && options.ready_fd < 3) __builtin_trap();
  }
  return 0;
}
