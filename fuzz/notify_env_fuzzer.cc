// Copyright 2026 The daemonkit Authors.
//
// $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID come from whoever started
// the daemon. The input is split at its first two newlines into the three.

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "daemon/internal/notify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t first = input.find('\n');
  absl::string_view socket = input.substr(0, first);
  absl::string_view rest =
      first == absl::string_view::npos ? "" : input.substr(first + 1);
  const size_t second = rest.find('\n');
  absl::string_view usec = rest.substr(0, second);
  absl::string_view pid =
      second == absl::string_view::npos ? "" : rest.substr(second + 1);

  absl::StatusOr<daemonkit::internal::NotifyAddress> address =
      daemonkit::internal::ParseNotifySocket(socket);
  if (address.ok() &&
      (address->length <= offsetof(struct sockaddr_un, sun_path) ||
       address->length > sizeof(struct sockaddr_un))) {
    __builtin_trap();
  }
  std::optional<absl::Duration> interval =
      daemonkit::internal::WatchdogInterval(usec, pid, 100, 99);
  if (interval && *interval < absl::ZeroDuration()) __builtin_trap();
  return 0;
}
