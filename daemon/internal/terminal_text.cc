// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/terminal_text.h"

#include <errno.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace daemonkit {
namespace internal {

size_t Utf8SequenceLength(absl::string_view text) {
  auto byte = [&text](size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
  };
  auto continuation = [&byte](size_t i) { return (byte(i) & 0xc0) == 0x80; };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return continuation(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const unsigned char b1 = byte(1);
    if (b0 == 0xe0 && b1 < 0xa0) return 0;  // overlong
    if (b0 == 0xed && b1 > 0x9f) return 0;  // surrogate
    return continuation(1) && continuation(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const unsigned char b1 = byte(1);
    if (b0 == 0xf0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xf4 && b1 > 0x8f) return 0;  // above U+10FFFF
    return continuation(1) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

bool IsC1Control(absl::string_view sequence) {
  return sequence.size() == 2 &&
         static_cast<unsigned char>(sequence[0]) == 0xc2 &&
         static_cast<unsigned char>(sequence[1]) <= 0x9f;
}

uint32_t ThreeByteCodePoint(absl::string_view sequence) {
  if (sequence.size() != 3) return 0;
  return (static_cast<uint32_t>(static_cast<unsigned char>(sequence[0]) & 0x0f)
          << 12) |
         (static_cast<uint32_t>(static_cast<unsigned char>(sequence[1]) & 0x3f)
          << 6) |
         (static_cast<uint32_t>(static_cast<unsigned char>(sequence[2]) &
                                0x3f));
}

bool IsLineReordering(absl::string_view sequence) {
  const uint32_t code = ThreeByteCodePoint(sequence);
  return (code >= 0x2028 && code <= 0x202e) ||
         (code >= 0x2066 && code <= 0x2069);
}

const char* ShortEscape(unsigned char c) {
  switch (c) {
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case '\r':
      return "\\r";
    default:
      return nullptr;
  }
}

std::string TerminalSafe(absl::string_view text, Backslashes backslashes) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0 || (length == 1 && (c < 0x20 || c == 0x7f)) ||
        IsC1Control(text.substr(i, length)) ||
        IsLineReordering(text.substr(i, length))) {
      const size_t bytes = length == 0 ? 1 : length;
      for (size_t k = 0; k < bytes; ++k) {
        const unsigned char b = static_cast<unsigned char>(text[i + k]);
        if (const char* escape = ShortEscape(b)) {
          out += escape;
        } else {
          absl::StrAppendFormat(&out, "\\x%02x", b);
        }
      }
      i += bytes;
      continue;
    }
    if (c == '\\' && backslashes == Backslashes::kDoubled) {
      out += "\\\\";
    } else {
      out.append(text.data() + i, length);
    }
    i += length;
  }
  return out;
}

void PrintProgramError(absl::string_view message) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name,
               TerminalSafe(message).c_str());
  std::fflush(stderr);
}

}  // namespace internal
}  // namespace daemonkit
