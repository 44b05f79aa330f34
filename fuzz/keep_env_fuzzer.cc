// Copyright 2026 The daemonkit Authors.
//
// The --daemon_keep_env list: every name it yields must be usable with
// setenv(3), or the list must be refused.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "daemon/internal/environment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::vector<std::string>> names =
      daemonkit::internal::ParseVariableList(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!names.ok()) return 0;
  for (const std::string& name : *names) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      __builtin_trap();
    }
    for (char c : name) {
      if (std::isspace(static_cast<unsigned char>(c))) __builtin_trap();
    }
  }
  return 0;
}
