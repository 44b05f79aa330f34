// Copyright 2026 The daemonkit Authors.
//
// Flag values come from command lines, flagfiles and unit files. Whatever
// text reaches --daemon_umask, --daemon_ready_timeout, --daemon_stop_timeout,
// --daemon_control or --daemon_keep_env, RequestFromFlags must answer with a
// request that keeps the invariants, or a usage error (never a crash).

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "daemon/flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::FlagSaver saver;
  for (absl::Flag<daemonkit::FlagText>* flag :
       {&FLAGS_daemon_umask, &FLAGS_daemon_ready_timeout,
        &FLAGS_daemon_stop_timeout, &FLAGS_daemon_control,
        &FLAGS_daemon_keep_env}) {
    absl::FlagSaver one;
    absl::SetFlag(flag, daemonkit::FlagText(text));
    absl::StatusOr<daemonkit::FlagRequest> request =
        daemonkit::RequestFromFlags();
    if (!request.ok()) {
      if (!absl::IsInvalidArgument(request.status())) __builtin_trap();
      continue;
    }
    const daemonkit::Options& options = request->options;
    if (!options.umask || *options.umask > 0777) __builtin_trap();
    if (options.ready_timeout <= absl::ZeroDuration() ||
        options.ready_timeout == absl::InfiniteDuration()) {
      __builtin_trap();
    }
    if (request->stop_timeout < absl::ZeroDuration() ||
        request->stop_timeout == absl::InfiniteDuration()) {
      __builtin_trap();
    }
    if (options.keep_env) {
      for (const std::string& name : *options.keep_env) {
        if (name.empty() || name.find('=') != std::string::npos) {
          __builtin_trap();
        }
      }
    }
  }
  return 0;
}
