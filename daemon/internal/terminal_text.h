// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/terminal_text.h
// -----------------------------------------------------------------------------
//
// Text that another process chose (a daemon's start-up failure message, a
// process name, a path) made safe to print on a terminal line: it cannot
// send the terminal an escape sequence, break the line, show the rest of it
// backwards ("Trojan Source") or hide bytes that are not UTF-8. The one
// place that knows which bytes those are: `inspect`'s text report and
// every "program: message" line of the library print through it.
//
// Example:
//
//   PrintProgramError(status.message());  // "ticker: <message>\n"

#ifndef DAEMONKIT_DAEMON_INTERNAL_TERMINAL_TEXT_H_
#define DAEMONKIT_DAEMON_INTERNAL_TERMINAL_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace daemonkit {
namespace internal {

// The length of the valid UTF-8 sequence at the start of `text` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(absl::string_view text);

// Whether the valid UTF-8 sequence `sequence` encodes a C1 control
// character (U+0080 to U+009F), which terminals may obey like ESC.
bool IsC1Control(absl::string_view sequence);

// The code point of a valid three-byte UTF-8 sequence, or 0.
uint32_t ThreeByteCodePoint(absl::string_view sequence);

// Whether the valid UTF-8 sequence `sequence` encodes a character that
// reorders or breaks a displayed line: the bidi embeddings and overrides
// (U+202A to U+202E), the bidi isolates (U+2066 to U+2069), and the line
// and paragraph separators (U+2028, U+2029).
bool IsLineReordering(absl::string_view sequence);

// The two-character escape of a newline, tab or carriage return ("\n");
// nullptr for any other byte.
const char* ShortEscape(unsigned char c);

// What TerminalSafe() does with a backslash: leave it (an error line, whose
// text may already hold escapes), or double it (a report a reader must be
// able to decode without ambiguity).
enum class Backslashes { kAsIs, kDoubled };

// `text` with every byte of an ASCII or C1 control character, of a
// line-reordering character and of a sequence that is not UTF-8 written as
// an escape: "\n", "\t", "\r", or "\xNN" per byte. Everything else, valid
// UTF-8 included, is kept.
std::string TerminalSafe(absl::string_view text,
                         Backslashes backslashes = Backslashes::kAsIs);

// Prints "<program>: <message>" and a newline on stderr, the message made
// TerminalSafe(), and flushes it: the library's one way to say a failure
// on the terminal.
void PrintProgramError(absl::string_view message);

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_TERMINAL_TEXT_H_
