// Copyright 2026 The daemonkit Authors.

#include "daemon/command_line.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "daemon/internal/comma_list.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/version.inc"

namespace daemonkit {
namespace {

// daemonkit::kExitUsage (daemon/options.h), which this target does not link.
constexpr int kUsageExitCode = 2;

[[noreturn]] void CommandLineError(int exit_code, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  std::exit(exit_code);
}

// `text` in single quotes with its whitespace and control characters
// written out (a space as \x20), so that what the eye cannot see is named.
std::string Visible(absl::string_view text) {
  std::string shown = "'";
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\t') {
      shown += "\\t";
    } else if (c == '\r') {
      shown += "\\r";
    } else if (c == ' ' || u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", u);
      shown += hex;
    } else {
      shown += c;
    }
  }
  return shown + "'";
}

// The value of a --flagfile argument at argv[*i] (advancing *i past a value
// given as the next word), or nullopt when argv[*i] is not one.
std::optional<std::string> FlagFileValue(int argc, char* argv[], int* i) {
  absl::string_view arg = argv[*i];
  if (!absl::ConsumePrefix(&arg, "--")) {
    if (!absl::ConsumePrefix(&arg, "-")) return std::nullopt;
  }
  if (!absl::ConsumePrefix(&arg, "flagfile")) return std::nullopt;
  if (absl::ConsumePrefix(&arg, "=")) return std::string(arg);
  if (!arg.empty()) return std::nullopt;    // --flagfilex: another flag
  if (*i + 1 >= argc) return std::nullopt;  // Abseil reports the missing value
  ++*i;
  return std::string(argv[*i]);
}

constexpr size_t kMaxFlagFileSize = 1 << 20;

// The files that include the one being checked, outermost first, each as
// given and as resolved.
using FlagFileChain = std::vector<std::pair<std::string, std::string>>;

void CheckFlagFile(const std::string& name, FlagFileChain* chain);

// "a -> b -> name": how `name` was reached, for a message.
std::string ShowChain(const FlagFileChain& chain, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& link : chain) names.push_back(link.first);
  names.push_back(name);
  return absl::StrJoin(names, " -> ");
}

// The content of the flag file `name` (`resolved` by realpath), or nullopt
// when it cannot be opened: Abseil then reports it ("Can't open flagfile").
// A read error ends the content where it happened (Abseil reports that
// too). A file larger than kMaxFlagFileSize is a usage error: exits.
std::optional<std::string> ReadFlagFile(const std::string& name,
                                        const char* resolved) {
  internal::UniqueFd fd(open(resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return std::nullopt;
  std::string content;
  char buffer[8192];
  for (;;) {
    const ssize_t got = read(fd.get(), buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // an unreadable file: Abseil reports it
    content.append(buffer, static_cast<size_t>(got));
    if (content.size() > kMaxFlagFileSize) {
      fd.reset();  // closed before the exit, as every other path closes it
      CommandLineError(kUsageExitCode, absl::StrCat("--flagfile=", name,
                                                    ": larger than 1 MiB"));
    }
  }
  return content;
}

// Checks line `line_number` of the flag file `name` as Abseil will read it,
// and the flag files it names in turn (`chain` ends with `name`). Exits
// with a usage error on whitespace Abseil would take into the flag's name
// or value.
void CheckLine(const std::string& name, int line_number, absl::string_view line,
               FlagFileChain* chain) {
  // What Abseil does with a line: leading whitespace dropped, comments and
  // blank lines skipped, the rest taken whole as one argument.
  const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
  if (stripped.empty() || stripped[0] != '-') return;
  const std::string where = absl::StrCat(name, ":", line_number, ": ");
  const size_t equals = stripped.find('=');
  const absl::string_view flag_name = stripped.substr(0, equals);
  if (std::any_of(flag_name.begin(), flag_name.end(),
                  [](char c) { return absl::ascii_isspace(c); })) {
    // "--daemon_pidfile = t.pid" or "--daemon false": the name Abseil would
    // look up has the whitespace in it.
    absl::string_view value;
    absl::string_view name_part = flag_name;
    if (equals != absl::string_view::npos) {
      value = stripped.substr(equals + 1);
    } else {
      const size_t space =
          std::find_if(flag_name.begin(), flag_name.end(),
                       [](char c) { return absl::ascii_isspace(c); }) -
          flag_name.begin();
      name_part = flag_name.substr(0, space);
      value = flag_name.substr(space);
    }
    CommandLineError(kUsageExitCode,
                     absl::StrCat(where, Visible(stripped),
                                  ": whitespace around the flag's name; write ",
                                  absl::StripAsciiWhitespace(name_part), "=",
                                  absl::StripAsciiWhitespace(value)));
  }
  if (absl::ascii_isspace(static_cast<unsigned char>(stripped.back()))) {
    CommandLineError(kUsageExitCode,
                     absl::StrCat(where, Visible(stripped),
                                  " ends in whitespace, which would be part "
                                  "of the value; remove it"));
  }
  int index = 0;
  std::string arg(stripped);
  char* args[] = {arg.data()};
  if (std::optional<std::string> value = FlagFileValue(1, args, &index)) {
    for (absl::string_view file :
         internal::SplitCommaList(*value, internal::ItemSpace::kKeep)) {
      CheckFlagFile(std::string(file), chain);
    }
  }
}

// Reads and checks the flag file `name`, included through `chain`, and the
// files it includes in turn: Abseil's own reading of them then terminates
// and takes each value as the user sees it. A file that cannot be opened is
// left to Abseil ("Can't open flagfile").
void CheckFlagFile(const std::string& name, FlagFileChain* chain) {
  char resolved[PATH_MAX];
  if (realpath(name.c_str(), resolved) == nullptr) return;
  for (const auto& link : *chain) {
    if (link.second == resolved) {
      CommandLineError(kUsageExitCode,
                       absl::StrCat("--flagfile=", name, ": includes itself (",
                                    ShowChain(*chain, name), ")"));
    }
  }
  if (chain->size() >= static_cast<size_t>(kMaxFlagFileDepth)) {
    CommandLineError(
        kUsageExitCode,
        absl::StrCat("--flagfile=", name, ": flag files nested deeper than ",
                     kMaxFlagFileDepth, " (", ShowChain(*chain, name), ")"));
  }
  const std::optional<std::string> content = ReadFlagFile(name, resolved);
  if (!content) return;
  chain->emplace_back(name, resolved);
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*content, '\n')) {
    CheckLine(name, ++line_number, line, chain);
  }
  chain->pop_back();
}

bool IsControlAction(absl::string_view word) {
  return word == "start" || word == "stop" || word == "restart" ||
         word == "reload" || word == "status" || word == "upgrade";
}

// The `=` form the user probably meant by the stray word argv[index].
std::string Suggestion(int argc, char* argv[], int index) {
  if (index > 1 && index < argc) {
    absl::string_view previous = argv[index - 1];
    if (previous.find('=') == absl::string_view::npos &&
        (absl::ConsumePrefix(&previous, "--") ||
         absl::ConsumePrefix(&previous, "-"))) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(previous);
      if (flag != nullptr && flag->IsOfType<bool>()) {
        return absl::StrCat(" (did you mean --", previous, "=", argv[index],
                            "?)");
      }
    }
  }
  if (index < argc && IsControlAction(argv[index]) &&
      absl::FindCommandLineFlag("daemon_control") != nullptr) {
    return absl::StrCat(" (did you mean --daemon_control=", argv[index], "?)");
  }
  if (index < argc && !absl::string_view(argv[index]).empty() &&
      std::all_of(argv[index], argv[index] + std::strlen(argv[index]),
                  [](char c) { return absl::ascii_isdigit(c); }) &&
      absl::FindCommandLineFlag("pid") != nullptr) {
    return absl::StrCat(" (did you mean --pid=", argv[index], "?)");
  }
  return " (this program takes only flags; see --help)";
}

}  // namespace

std::string VersionText() {
  // This file is compiled in the binary's own compilation mode; Abseil's
  // default text judged Debian's build of Abseil instead ("Debug build
  // (NDEBUG not #defined)" for a -c opt binary, issue 22.3).
#ifdef __OPTIMIZE__
  std::string mode = "optimised build";
#else
  std::string mode = "debug build (not optimised)";
#endif
#ifdef NDEBUG
  absl::StrAppend(&mode, ", assertions off");
#else
  absl::StrAppend(&mode, ", assertions on");
#endif
  return absl::StrCat("daemonkit ", DAEMONKIT_VERSION, ", ", mode);
}

std::vector<char*> ParseCommandLine(int argc, char* argv[]) {
  absl::FlagsUsageConfig config;
  config.version_string = [] {
    return absl::StrCat(program_invocation_short_name, " (", VersionText(),
                        ")\n");
  };
  absl::SetFlagsUsageConfig(config);
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "-h" || arg == "--h" || arg == "-?") {
      // Exit 1: Abseil's code for an unknown flag, which this is.
      CommandLineError(1, absl::StrCat("unknown flag ", arg,
                                       ": for help use --help (--helpfull "
                                       "for every flag)"));
    }
    if (std::optional<std::string> value = FlagFileValue(argc, argv, &i)) {
      for (absl::string_view file :
           internal::SplitCommaList(*value, internal::ItemSpace::kKeep)) {
        FlagFileChain chain;
        CheckFlagFile(std::string(file), &chain);
      }
    }
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    char* const word = positional[1];
    int index = argc;
    for (int i = 1; i < argc; ++i) {
      if (argv[i] == word) index = i;
    }
    for (int i = 1; index == argc && i < argc; ++i) {
      if (std::strcmp(argv[i], word) == 0) index = i;
    }
    CommandLineError(kUsageExitCode,
                     absl::StrCat("unexpected argument ", Visible(word),
                                  Suggestion(argc, argv, index)));
  }
  return positional;
}

}  // namespace daemonkit
