// Copyright 2026 The daemonkit Authors.

#include "tools/process_identity.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace {

std::string ProcPath(pid_t pid, absl::string_view entry) {
  return absl::StrCat("/proc/", pid, "/", entry);
}

absl::StatusOr<std::string> ReadLink(const std::string& path) {
  char buffer[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buffer, sizeof(buffer));
  if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("readlink ", path));
  return std::string(buffer, static_cast<size_t>(n));
}

// Terminal character devices: the legacy pty majors, tty/console, and the
// Unix98 pty slaves.
bool IsTerminalDevice(dev_t rdev) {
  unsigned int major_number = major(rdev);
  return major_number == 3 || major_number == 4 || major_number == 5 ||
         (major_number >= 136 && major_number <= 143);
}

std::string TerminalName(dev_t tty_nr) {
  unsigned int major_number = major(tty_nr);
  unsigned int minor_number = minor(tty_nr);
  if (major_number >= 136 && major_number <= 143) {
    return absl::StrCat("/dev/pts/", minor_number + (major_number - 136) * 256);
  }
  if (major_number == 4) {
    return minor_number < 64 ? absl::StrCat("/dev/tty", minor_number)
                             : absl::StrCat("/dev/ttyS", minor_number - 64);
  }
  if (major_number == 5 && minor_number == 1) return "/dev/console";
  return absl::StrCat("char device ", major_number, ":", minor_number);
}

// The values after "Key:" in /proc/PID/status, split on whitespace.
std::vector<std::string> StatusValues(absl::string_view status,
                                      absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, key) && absl::ConsumePrefix(&line, ":")) {
      return absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    }
  }
  return {};
}

template <typename T>
bool ParseAt(const std::vector<std::string>& values, size_t index, T* out) {
  return index < values.size() && absl::SimpleAtoi(values[index], out);
}

// The length of the valid UTF-8 sequence at the start of `text` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
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

// Whether the valid UTF-8 sequence `sequence` encodes a C1 control
// character (U+0080 to U+009F), which terminals may obey like ESC.
bool IsC1Control(absl::string_view sequence) {
  return sequence.size() == 2 &&
         static_cast<unsigned char>(sequence[0]) == 0xc2 &&
         static_cast<unsigned char>(sequence[1]) <= 0x9f;
}

// The two-character escape of a newline, tab or carriage return, which JSON
// and the text report share; nullptr for any other byte.
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

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) {
      // Not UTF-8: the character of the same number, documented as lossy.
      absl::StrAppendFormat(&out, "\\u%04x", c);
      ++i;
      continue;
    }
    const absl::string_view sequence = text.substr(i, length);
    i += length;
    if (IsC1Control(sequence)) {
      absl::StrAppendFormat(&out, "\\u%04x",
                            static_cast<unsigned char>(sequence[1]));
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (const char* escape = ShortEscape(c)) {
      out += escape;
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.append(sequence.data(), sequence.size());
    }
  }
  return out + "\"";
}

// A string a process chose, made safe to print on a terminal line.
std::string TextEscape(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0 || (length == 1 && (c < 0x20 || c == 0x7f)) ||
        IsC1Control(text.substr(i, length))) {
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
    if (c == '\\') {
      out += "\\\\";
    } else {
      out.append(text.data() + i, length);
    }
    i += length;
  }
  return out;
}

std::string OctalUmask(const std::optional<mode_t>& umask) {
  return umask ? absl::StrFormat("%04o", *umask) : "unknown";
}

}  // namespace

absl::StatusOr<ProcessIdentity> ReadProcessIdentity(pid_t pid) {
  ProcessIdentity identity;
  identity.pid = pid;

  absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  if (!stat.ok()) return stat.status();
  uint64_t tty_nr = 0;
  if (!stat->ParseField(ProcStat::kPpid, &identity.ppid) ||
      !stat->ParseField(ProcStat::kPgrp, &identity.pgid) ||
      !stat->ParseField(ProcStat::kSession, &identity.sid) ||
      !stat->ParseField(ProcStat::kTtyNr, &tty_nr)) {
    return absl::InternalError(
        absl::StrCat("malformed ", ProcPath(pid, "stat")));
  }
  identity.session_leader = identity.sid == pid;
  uint64_t flags = 0;
  identity.kernel_thread = stat->ParseField(ProcStat::kFlags, &flags) &&
                           (flags & ProcStat::kPfKthread);
  if (tty_nr != 0) identity.tty = TerminalName(static_cast<dev_t>(tty_nr));

  absl::StatusOr<std::string> status = ReadProcFile(ProcPath(pid, "status"));
  if (!status.ok()) return status.status();
  std::vector<std::string> uids = StatusValues(*status, "Uid");
  std::vector<std::string> gids = StatusValues(*status, "Gid");
  if (!ParseAt(uids, 0, &identity.uid) || !ParseAt(uids, 1, &identity.euid) ||
      !ParseAt(gids, 0, &identity.gid) || !ParseAt(gids, 1, &identity.egid)) {
    return absl::InternalError(
        absl::StrCat("malformed ", ProcPath(pid, "status")));
  }
  for (const std::string& group : StatusValues(*status, "Groups")) {
    gid_t gid;
    if (absl::SimpleAtoi(group, &gid)) identity.groups.push_back(gid);
  }
  std::vector<std::string> umask = StatusValues(*status, "Umask");
  if (!umask.empty() && !umask[0].empty() && umask[0].size() <= 4 &&
      umask[0].find_first_not_of("01234567") == std::string::npos) {
    identity.umask = static_cast<mode_t>(std::stoul(umask[0], nullptr, 8));
  }

  absl::StatusOr<std::string> cwd = ReadLink(ProcPath(pid, "cwd"));
  if (!cwd.ok()) return cwd.status();
  identity.cwd = *cwd;

  absl::StatusOr<std::string> cmdline = ReadProcFile(ProcPath(pid, "cmdline"));
  if (!cmdline.ok()) return cmdline.status();
  // NUL-terminated arguments; a process that rewrote its arguments may
  // leave a last one without the NUL.
  if (!cmdline->empty()) {
    if (cmdline->back() == '\0') cmdline->pop_back();
    identity.argv = absl::StrSplit(*cmdline, '\0');
  }
  identity.command = absl::StrJoin(identity.argv, " ");

  const std::string fd_dir = ProcPath(pid, "fd");
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("opendir ", fd_dir));
  }
  while (struct dirent* entry = readdir(dir)) {
    OpenDescriptor descriptor;
    if (!absl::SimpleAtoi(entry->d_name, &descriptor.fd)) continue;
    const std::string link = absl::StrCat(fd_dir, "/", entry->d_name);
    absl::StatusOr<std::string> target = ReadLink(link);
    if (!target.ok()) continue;  // closed meanwhile
    descriptor.target = *target;
    struct stat st;
    descriptor.is_terminal = ::stat(link.c_str(), &st) == 0 &&
                             S_ISCHR(st.st_mode) &&
                             IsTerminalDevice(st.st_rdev);
    identity.fds.push_back(descriptor);
  }
  closedir(dir);
  std::sort(identity.fds.begin(), identity.fds.end(),
            [](const OpenDescriptor& a, const OpenDescriptor& b) {
              return a.fd < b.fd;
            });

  // The parent's session, and whether the parent is its namespace's init
  // (pid 1 there; its last NSpid entry).
  if (identity.ppid > 0) {
    absl::StatusOr<ProcStat> parent = ReadProcStat(identity.ppid);
    if (parent.ok()) {
      parent->ParseField(ProcStat::kSession, &identity.parent_sid);
    }
    absl::StatusOr<std::string> parent_status =
        ReadProcFile(ProcPath(identity.ppid, "status"));
    std::vector<std::string> nspids =
        parent_status.ok() ? StatusValues(*parent_status, "NSpid")
                           : std::vector<std::string>();
    identity.parent_is_namespace_init =
        identity.ppid == 1 || (!nspids.empty() && nspids.back() == "1");
  }
  return identity;
}

std::string FormatText(const ProcessIdentity& id) {
  std::string out;
  auto line = [&out](absl::string_view key, absl::string_view value) {
    absl::StrAppendFormat(&out, "%-15s %s\n", key, value);
  };
  line("pid", absl::StrCat(id.pid));
  line("ppid", absl::StrCat(id.ppid));
  line("pgid", absl::StrCat(id.pgid));
  line("sid", absl::StrCat(id.sid));
  line("session_leader", id.session_leader ? "yes" : "no");
  line("tty", TextEscape(id.tty.value_or("none")));
  line("uid", absl::StrCat(id.uid));
  line("euid", absl::StrCat(id.euid));
  line("gid", absl::StrCat(id.gid));
  line("egid", absl::StrCat(id.egid));
  line("groups", id.groups.empty() ? "none" : absl::StrJoin(id.groups, " "));
  line("cwd", TextEscape(id.cwd));
  line("umask", OctalUmask(id.umask));
  line("command", TextEscape(id.command));
  if (id.kernel_thread) line("kernel_thread", "yes");
  bool first = true;
  for (const OpenDescriptor& fd : id.fds) {
    line(first ? "fds" : "",
         absl::StrCat(fd.fd, " -> ", TextEscape(fd.target)));
    first = false;
  }
  if (first) line("fds", "none");
  return out;
}

std::vector<Finding> CheckDaemonRules(const ProcessIdentity& id) {
  using Verdict = Finding::Verdict;
  auto verdict = [](bool holds) {
    return holds ? Verdict::kPass : Verdict::kFail;
  };
  std::vector<Finding> findings;
  if (id.kernel_thread) {
    findings.push_back({Verdict::kNotApplicable, "daemon(7) rules",
                        absl::StrCat("pid ", id.pid, " is a kernel thread")});
    return findings;
  }

  findings.push_back({verdict(!id.session_leader), "not a session leader",
                      absl::StrCat("pid ", id.pid, ", sid ", id.sid)});

  findings.push_back({verdict(!id.tty.has_value()), "no controlling terminal",
                      id.tty ? absl::StrCat("has ", *id.tty) : "none"});

  std::vector<std::string> on_terminal;
  for (const OpenDescriptor& fd : id.fds) {
    if (fd.is_terminal) {
      on_terminal.push_back(absl::StrCat(fd.fd, " -> ", fd.target));
    }
  }
  findings.push_back(
      {verdict(on_terminal.empty()), "no descriptor open on a terminal",
       on_terminal.empty() ? "none" : absl::StrJoin(on_terminal, ", ")});

  std::string stdin_target = "closed";
  for (const OpenDescriptor& fd : id.fds) {
    if (fd.fd == 0) stdin_target = fd.target;
  }
  findings.push_back({verdict(stdin_target == "/dev/null"),
                      "stdin on /dev/null",
                      absl::StrCat("0 -> ", stdin_target)});

  const bool parent_outside_session = id.ppid == 0 || id.parent_sid != id.sid;
  findings.push_back(
      {verdict(id.parent_is_namespace_init || parent_outside_session),
       "not a child of an interactive shell",
       id.parent_is_namespace_init
           ? absl::StrCat("parent ", id.ppid, " is pid 1 of its namespace")
           : absl::StrCat("parent ", id.ppid,
                          parent_outside_session ? " is outside" : " is inside",
                          " session ", id.sid)});

  std::vector<std::string> extra;
  for (const OpenDescriptor& fd : id.fds) {
    if (fd.fd > 2) extra.push_back(absl::StrCat(fd.fd, " -> ", fd.target));
  }
  findings.push_back({Verdict::kInfo, "descriptors above 2",
                      extra.empty() ? "none" : absl::StrJoin(extra, ", ")});
  return findings;
}

bool AllRulesHold(const std::vector<Finding>& findings) {
  return std::none_of(findings.begin(), findings.end(), [](const Finding& f) {
    return f.verdict == Finding::Verdict::kFail;
  });
}

std::string FormatFindings(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    const char* word = f.verdict == Finding::Verdict::kPass   ? "PASS"
                       : f.verdict == Finding::Verdict::kFail ? "FAIL"
                       : f.verdict == Finding::Verdict::kInfo ? "INFO"
                                                              : "N/A ";
    absl::StrAppend(&out, word, "  ", f.rule, " (", TextEscape(f.detail),
                    ")\n");
  }
  return out;
}

std::string FormatJson(const ProcessIdentity& id,
                       const std::vector<Finding>* findings) {
  std::vector<std::string> argv;
  for (const std::string& arg : id.argv) argv.push_back(JsonString(arg));
  std::vector<std::string> fds;
  for (const OpenDescriptor& fd : id.fds) {
    fds.push_back(absl::StrCat("{\"fd\":", fd.fd,
                               ",\"target\":", JsonString(fd.target), "}"));
  }
  std::string out = absl::StrCat(
      "{\"pid\":", id.pid, ",\"ppid\":", id.ppid, ",\"pgid\":", id.pgid,
      ",\"sid\":", id.sid,
      ",\"session_leader\":", id.session_leader ? "true" : "false",
      ",\"tty\":", id.tty ? JsonString(*id.tty) : "null", ",\"uid\":", id.uid,
      ",\"euid\":", id.euid, ",\"gid\":", id.gid, ",\"egid\":", id.egid,
      ",\"groups\":[", absl::StrJoin(id.groups, ","),
      "],\"cwd\":", JsonString(id.cwd),
      ",\"umask\":", id.umask ? JsonString(OctalUmask(id.umask)) : "null",
      ",\"fds\":[", absl::StrJoin(fds, ","),
      "],\"kernel_thread\":", id.kernel_thread ? "true" : "false",
      ",\"argv\":[", absl::StrJoin(argv, ","),
      "],\"command\":", JsonString(id.command));
  if (findings != nullptr) {
    std::vector<std::string> checks;
    for (const Finding& f : *findings) {
      const char* verdict = f.verdict == Finding::Verdict::kPass   ? "pass"
                            : f.verdict == Finding::Verdict::kFail ? "fail"
                            : f.verdict == Finding::Verdict::kInfo
                                ? "info"
                                : "not applicable";
      checks.push_back(
          absl::StrCat("{\"rule\":", JsonString(f.rule), ",\"verdict\":\"",
                       verdict, "\",\"detail\":", JsonString(f.detail), "}"));
    }
    absl::StrAppend(&out, ",\"checks\":[", absl::StrJoin(checks, ","), "]");
  }
  return out + "}\n";
}

}  // namespace daemonkit
