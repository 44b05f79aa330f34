// Copyright 2026 The daemonkit Authors.
//
// Pure: runs wherever `ValidateOptions()` or the binding code asks.

#include "daemon/internal/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace daemonkit {
namespace internal {
namespace {

absl::Status Bad(absl::string_view entry, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("listen entry '", entry, "': ", why));
}

}  // namespace

bool IsValidListenName(absl::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::StatusOr<ListenEntry> ParseListenEntry(absl::string_view entry) {
  const size_t equals = entry.find('=');
  if (equals == absl::string_view::npos) {
    return Bad(entry, "not NAME=ADDRESS");
  }
  ListenEntry parsed;
  parsed.name = std::string(entry.substr(0, equals));
  if (!IsValidListenName(parsed.name)) {
    return Bad(entry, "a name is 1 to 255 of A-Z a-z 0-9 _ . -");
  }
  const absl::string_view text = entry.substr(equals + 1);
  ListenAddress& address = parsed.address;
  address.text = std::string(text);
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "unix:")) {
    address.family = ListenAddress::Family::kUnix;
    address.abstract = absl::ConsumePrefix(&rest, "@");
    if (rest.empty()) return Bad(entry, "the Unix socket path is empty");
    if (rest.size() > kMaxUnixPath) {
      return Bad(entry, absl::StrCat("a Unix socket path is at most ",
                                     kMaxUnixPath, " bytes"));
    }
    if (rest.find('\0') != absl::string_view::npos) {
      return Bad(entry, "the Unix socket path holds a NUL");
    }
    if (!address.abstract && rest.back() == '/') {
      return Bad(entry, "the Unix socket path names a directory");
    }
    address.path = std::string(rest);
    return parsed;
  }
  if (!absl::ConsumePrefix(&rest, "tcp:")) {
    return Bad(entry,
               "the address is not tcp:HOST:PORT, tcp:[V6]:PORT, "
               "unix:PATH or unix:@NAME");
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    return Bad(entry, "tcp: needs HOST:PORT");
  }
  absl::string_view host = rest.substr(0, colon);
  const absl::string_view port = rest.substr(colon + 1);
  if (absl::ConsumePrefix(&host, "[")) {
    if (!absl::ConsumeSuffix(&host, "]")) {
      return Bad(entry, "an IPv6 address ends with ']'");
    }
    struct in6_addr v6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return Bad(entry, absl::StrCat("'", host, "' is not an IPv6 address"));
    }
    address.family = ListenAddress::Family::kInet6;
  } else {
    struct in_addr v4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1) {
      return Bad(entry,
                 absl::StrCat("'", host,
                              "' is not a numeric IPv4 address (IPv6 goes in "
                              "brackets; host names are not resolved)"));
    }
    address.family = ListenAddress::Family::kInet;
  }
  address.host = std::string(host);
  uint32_t number = 0;
  // SimpleAtoi takes a sign and spaces; a port is digits only.
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return absl::ascii_isdigit(c); }) ||
      !absl::SimpleAtoi(port, &number) || number == 0 || number > 65535) {
    return Bad(entry, absl::StrCat("port '", port, "' is not 1 to 65535"));
  }
  address.port = static_cast<uint16_t>(number);
  return parsed;
}

}  // namespace internal
}  // namespace daemonkit
