// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/comma_list.h
// -----------------------------------------------------------------------------
//
// The one reading of a comma-separated flag value (--daemon_capabilities,
// --daemon_listen, --daemon_keep_env, --daemon_rlimits, --flagfile=a,b):
// items split at each comma, empty items skipped, so that "a,,b," and
// "a, b" mean the same two items wherever a list is taken.
//
// Example:
//
//   for (absl::string_view name : SplitCommaList(" cap_chown , cap_kill,")) {
//     // "cap_chown", then "cap_kill"
//   }

#ifndef DAEMONKIT_DAEMON_INTERNAL_COMMA_LIST_H_
#define DAEMONKIT_DAEMON_INTERNAL_COMMA_LIST_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// What happens to the white space around an item.
enum class ItemSpace {
  // Stripped (ASCII white space), and an item of white space alone is
  // skipped as empty: what every --daemon_* list does.
  kStrip,
  // Kept as part of the item: --flagfile's file names, which Abseil reads
  // the same way (a file name may hold spaces).
  kKeep,
};

// The non-empty items of `text`, in order, as views into `text`.
std::vector<absl::string_view> SplitCommaList(
    absl::string_view text, ItemSpace space = ItemSpace::kStrip);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_COMMA_LIST_H_
