// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/environment.h"

#include <stdlib.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace daemonkit {
namespace internal {

absl::StatusOr<std::vector<std::string>> ParseVariableList(absl::string_view list) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(list, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (name.empty()) continue;
    for (char c : name) {
      if (c == '=' || c == '\0' || absl::ascii_isspace(static_cast<unsigned char>(c))) {
        return absl::InvalidArgumentError(
            absl::StrCat("'", name, "' is not an environment variable name"));
      }
    }
    names.emplace_back(name);
  }
  return names;
}

void KeepOnlyVariables(const std::vector<std::string>& keep) {
  auto kept = [&keep](const std::string& name) {
    return std::find(keep.begin(), keep.end(), name) != keep.end() ||
           std::find(std::begin(kSupervisorVariables), std::end(kSupervisorVariables),
                     name) != std::end(kSupervisorVariables);
  };
  // Collect first: unsetenv rearranges environ.
  std::vector<std::string> doomed;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable(*entry);
    std::string name(variable.substr(0, variable.find('=')));
    if (!kept(name)) doomed.push_back(std::move(name));
  }
  for (const std::string& name : doomed) unsetenv(name.c_str());
}

}  // namespace internal
}  // namespace daemonkit
