// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/comma_list.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace daemonkit {
namespace internal {

std::vector<absl::string_view> SplitCommaList(absl::string_view text,
                                              ItemSpace space) {
  std::vector<absl::string_view> items;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    if (space == ItemSpace::kStrip) item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

}  // namespace internal
}  // namespace daemonkit
