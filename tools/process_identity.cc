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
#include "daemon/internal/file_identity.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/terminal_text.h"
#include "daemon/proc.h"

namespace daemonkit {
namespace {

using internal::IsC1Control;
using internal::IsLineReordering;
using internal::ShortEscape;
using internal::ThreeByteCodePoint;
using internal::Utf8SequenceLength;

std::string ProcPath(pid_t pid, absl::string_view entry) {
  return absl::StrCat("/proc/", pid, "/", entry);
}

absl::StatusOr<std::string> ReadLink(const std::string& path) {
  char buffer[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buffer, sizeof(buffer));
  if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("readlink ", path));
  // A full buffer may be a cut one: never report half a path as the path.
  if (static_cast<size_t>(n) >= sizeof(buffer)) {
    return absl::ErrnoToStatus(ENAMETOOLONG, absl::StrCat("readlink ", path));
  }
  return std::string(buffer, static_cast<size_t>(n));
}

// Why an attribute is unreadable, for the report: the error's message.
std::string Reason(const absl::Status& status) {
  return std::string(status.message());
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
    if (IsLineReordering(sequence)) {
      absl::StrAppendFormat(&out, "\\u%04x", ThreeByteCodePoint(sequence));
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

// A string a process chose, made safe to print on a terminal line, and
// decodable (its backslashes doubled).
std::string TextEscape(absl::string_view text) {
  return internal::TerminalSafe(text, internal::Backslashes::kDoubled);
}

// "unreadable (REASON)", escaped for the text report.
std::string Unreadable(absl::string_view reason) {
  return absl::StrCat("unreadable (", TextEscape(reason), ")");
}

// "N -> TARGET", or "N -> unreadable (REASON)"; raw, as a finding's detail
// (which FormatFindings and FormatJson escape).
std::string DescribeDescriptor(const OpenDescriptor& fd) {
  return absl::StrCat(fd.fd, " -> ",
                      fd.unreadable.empty()
                          ? fd.target
                          : absl::StrCat("unreadable (", fd.unreadable, ")"));
}

std::string OctalUmask(const std::optional<mode_t>& umask) {
  return umask ? absl::StrFormat("%04o", *umask) : "unknown";
}

}  // namespace

absl::StatusOr<ProcessIdentity> ReadProcessIdentity(pid_t pid) {
  ProcessIdentity identity;
  identity.pid = pid;

  // The one file without which there is no report: it says whether the
  // process exists. Everything after it is reported when it can be read
  // and marked unreadable, with the reason, when not (issue 18.16): a
  // directory longer than PATH_MAX, a zombie's released files, or files
  // that are not ours to read must not hide what can be read.
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
  identity.state = stat->state();
  identity.session_leader = identity.sid == pid;
  uint64_t flags = 0;
  identity.kernel_thread = stat->ParseField(ProcStat::kFlags, &flags) &&
                           (flags & ProcStat::kPfKthread);
  if (tty_nr != 0) identity.tty = TerminalName(static_cast<dev_t>(tty_nr));

  auto mark = [&identity](std::initializer_list<const char*> keys,
                          const std::string& reason) {
    for (const char* key : keys) identity.unreadable[key] = reason;
  };
  absl::StatusOr<std::string> status = ReadProcFile(ProcPath(pid, "status"));
  std::vector<std::string> uids, gids;
  if (status.ok()) {
    uids = StatusValues(*status, "Uid");
    gids = StatusValues(*status, "Gid");
  }
  if (!status.ok()) {
    mark({"uid", "euid", "gid", "egid", "groups", "umask"},
         Reason(status.status()));
  } else if (!ParseAt(uids, 0, &identity.uid) ||
             !ParseAt(uids, 1, &identity.euid) ||
             !ParseAt(gids, 0, &identity.gid) ||
             !ParseAt(gids, 1, &identity.egid)) {
    mark({"uid", "euid", "gid", "egid"},
         absl::StrCat("malformed ", ProcPath(pid, "status")));
  }
  if (status.ok()) {
    for (const std::string& group : StatusValues(*status, "Groups")) {
      gid_t gid;
      if (absl::SimpleAtoi(group, &gid)) identity.groups.push_back(gid);
    }
    std::vector<std::string> umask = StatusValues(*status, "Umask");
    if (!umask.empty() && !umask[0].empty() && umask[0].size() <= 4 &&
        umask[0].find_first_not_of("01234567") == std::string::npos) {
      identity.umask = static_cast<mode_t>(std::stoul(umask[0], nullptr, 8));
    }
  }

  absl::StatusOr<std::string> cwd = ReadLink(ProcPath(pid, "cwd"));
  if (cwd.ok()) {
    identity.cwd = *cwd;
  } else {
    mark({"cwd"}, Reason(cwd.status()));
  }

  absl::StatusOr<std::string> cmdline = ReadProcFile(ProcPath(pid, "cmdline"));
  if (!cmdline.ok()) {
    mark({"argv", "command"}, Reason(cmdline.status()));
  } else if (!cmdline->empty()) {
    // NUL-terminated arguments; a process that rewrote its arguments may
    // leave a last one without the NUL.
    if (cmdline->back() == '\0') cmdline->pop_back();
    identity.argv = absl::StrSplit(*cmdline, '\0');
  }
  identity.command = absl::StrJoin(identity.argv, " ");

  const std::string fd_dir = ProcPath(pid, "fd");
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) {
    mark({"fds"},
         Reason(absl::ErrnoToStatus(errno, absl::StrCat("opendir ", fd_dir))));
  }
  while (struct dirent* entry = dir ? readdir(dir) : nullptr) {
    OpenDescriptor descriptor;
    if (!absl::SimpleAtoi(entry->d_name, &descriptor.fd)) continue;
    const std::string link = absl::StrCat(fd_dir, "/", entry->d_name);
    absl::StatusOr<std::string> target = ReadLink(link);
    if (absl::IsNotFound(target.status())) continue;  // closed meanwhile
    if (target.ok()) {
      descriptor.target = *target;
    } else {
      descriptor.unreadable = Reason(target.status());
    }
    // stat(2) follows the descriptor itself, however long its path.
    struct stat st;
    descriptor.is_terminal = ::stat(link.c_str(), &st) == 0 &&
                             S_ISCHR(st.st_mode) &&
                             IsTerminalDevice(st.st_rdev);
    identity.fds.push_back(descriptor);
  }
  if (dir != nullptr) closedir(dir);
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
      int tty_nr = 0;
      identity.parent_has_terminal =
          !parent->ParseField(ProcStat::kTtyNr, &tty_nr) || tty_nr != 0;
      identity.parent_is_program_monitor =
          parent->field(ProcStat::kComm) == internal::kProgramMonitorName;
    }
    struct stat exe, parent_exe;
    identity.parent_runs_same_program =
        ::stat(ProcPath(pid, "exe").c_str(), &exe) == 0 &&
        ::stat(ProcPath(identity.ppid, "exe").c_str(), &parent_exe) == 0 &&
        internal::SameFile(exe, parent_exe);
    absl::StatusOr<std::string> parent_status =
        ReadProcFile(ProcPath(identity.ppid, "status"));
    std::vector<std::string> nspids =
        parent_status.ok() ? StatusValues(*parent_status, "NSpid")
                           : std::vector<std::string>();
    identity.parent_is_namespace_init =
        identity.ppid == 1 || (!nspids.empty() && nspids.back() == "1");
  }
  // Gone (and reaped) while it was read: what was read may be anyone's.
  absl::StatusOr<ProcStat> again = ReadProcStat(pid);
  if (absl::IsNotFound(again.status())) return again.status();
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
  if (id.state != '\0') {
    line("state", id.zombie() ? "Z (zombie: it has exited and its parent has "
                                "not reaped it)"
                              : std::string(1, id.state));
  }
  line("tty", TextEscape(id.tty.value_or("none")));
  // A value, or why it could not be read.
  auto value = [&id](const std::string& key, const std::string& text) {
    auto it = id.unreadable.find(key);
    return it == id.unreadable.end() ? text : Unreadable(it->second);
  };
  line("uid", value("uid", absl::StrCat(id.uid)));
  line("euid", value("euid", absl::StrCat(id.euid)));
  line("gid", value("gid", absl::StrCat(id.gid)));
  line("egid", value("egid", absl::StrCat(id.egid)));
  line("groups",
       value("groups",
             id.groups.empty() ? "none" : absl::StrJoin(id.groups, " ")));
  line("cwd", value("cwd", TextEscape(id.cwd)));
  line("umask", value("umask", OctalUmask(id.umask)));
  line("command", value("command", TextEscape(id.command)));
  if (id.kernel_thread) line("kernel_thread", "yes");
  bool first = true;
  for (const OpenDescriptor& fd : id.fds) {
    line(first ? "fds" : "", TextEscape(DescribeDescriptor(fd)));
    first = false;
  }
  if (first) line("fds", value("fds", "none"));
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
  if (id.zombie()) {
    // What is left of it is an exit status: no daemon, whatever its ids.
    findings.push_back(
        {Verdict::kFail, "a running process",
         absl::StrCat("pid ", id.pid,
                      " is a zombie: it has exited and its parent ", id.ppid,
                      " has not reaped it")});
    return findings;
  }

  findings.push_back({verdict(!id.session_leader), "not a session leader",
                      absl::StrCat("pid ", id.pid, ", sid ", id.sid)});

  findings.push_back({verdict(!id.tty.has_value()), "no controlling terminal",
                      id.tty ? absl::StrCat("has ", *id.tty) : "none"});

  // Without the descriptors, neither rule on them can be shown to hold.
  const auto fds_unreadable = id.unreadable.find("fds");
  if (fds_unreadable != id.unreadable.end()) {
    const std::string why =
        absl::StrCat("descriptors unreadable: ", fds_unreadable->second);
    findings.push_back(
        {Verdict::kFail, "no descriptor open on a terminal", why});
    findings.push_back({Verdict::kFail, "stdin on /dev/null", why});
  } else {
    std::vector<std::string> on_terminal;
    for (const OpenDescriptor& fd : id.fds) {
      if (fd.is_terminal) on_terminal.push_back(DescribeDescriptor(fd));
    }
    findings.push_back(
        {verdict(on_terminal.empty()), "no descriptor open on a terminal",
         on_terminal.empty() ? "none" : absl::StrJoin(on_terminal, ", ")});

    std::string stdin_target = "0 -> closed";
    bool stdin_null = false;
    for (const OpenDescriptor& fd : id.fds) {
      if (fd.fd != 0) continue;
      stdin_target = DescribeDescriptor(fd);
      stdin_null = fd.unreadable.empty() && fd.target == "/dev/null";
    }
    findings.push_back(
        {verdict(stdin_null), "stdin on /dev/null", stdin_target});
  }

  // A supervisor (a daemonkit --daemon_restart worker's parent) is in its
  // worker's session by design: attack finding 6 failed every supervised
  // worker here. It runs the same program, and has no controlling terminal,
  // which an interactive shell has; a child of any other tty-less process
  // (a test runner, a script under cron) still fails.
  const bool parent_outside_session = id.ppid == 0 || id.parent_sid != id.sid;
  const bool parent_is_supervisor = !parent_outside_session &&
                                    !id.parent_has_terminal &&
                                    id.parent_runs_same_program;
  // So is the daemonkit command's monitor in its program's (the attack of
  // 2026-12-07: every program it ran failed here).
  const bool parent_is_monitor = !parent_outside_session &&
                                 !id.parent_has_terminal &&
                                 id.parent_is_program_monitor;
  findings.push_back(
      {verdict(id.parent_is_namespace_init || parent_outside_session ||
               parent_is_supervisor || parent_is_monitor),
       "not a child of an interactive shell",
       id.parent_is_namespace_init
           ? absl::StrCat("parent ", id.ppid, " is pid 1 of its namespace")
       : parent_is_supervisor
           ? absl::StrCat("parent ", id.ppid, " is inside session ", id.sid,
                          " but runs the same program without a controlling "
                          "terminal: its supervisor")
       : parent_is_monitor
           ? absl::StrCat("parent ", id.ppid, " is inside session ", id.sid,
                          " but is the daemonkit monitor that runs it, "
                          "without a controlling terminal")
           : absl::StrCat("parent ", id.ppid,
                          parent_outside_session ? " is outside" : " is inside",
                          " session ", id.sid)});

  std::vector<std::string> extra;
  for (const OpenDescriptor& fd : id.fds) {
    if (fd.fd > 2) extra.push_back(DescribeDescriptor(fd));
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
    fds.push_back(fd.unreadable.empty()
                      ? absl::StrCat("{\"fd\":", fd.fd,
                                     ",\"target\":", JsonString(fd.target), "}")
                      : absl::StrCat("{\"fd\":", fd.fd,
                                     ",\"target\":null,\"unreadable\":",
                                     JsonString(fd.unreadable), "}"));
  }
  // A key that could not be read is null, its reason under "unreadable".
  auto value = [&id](const std::string& key, const std::string& json) {
    return id.readable(key) ? json : std::string("null");
  };
  std::vector<std::string> unreadable;
  for (const auto& [key, reason] : id.unreadable) {
    unreadable.push_back(
        absl::StrCat(JsonString(key), ":", JsonString(reason)));
  }
  // Before "command", which stays last but for "checks".
  std::string state;
  if (id.state != '\0') {
    state = absl::StrCat(",\"state\":", JsonString(std::string(1, id.state)));
  }
  absl::StrAppend(&state, ",\"zombie\":", id.zombie() ? "true" : "false",
                  ",\"unreadable\":{", absl::StrJoin(unreadable, ","), "}");
  std::string out = absl::StrCat(
      "{\"pid\":", id.pid, ",\"ppid\":", id.ppid, ",\"pgid\":", id.pgid,
      ",\"sid\":", id.sid,
      ",\"session_leader\":", id.session_leader ? "true" : "false",
      ",\"tty\":", id.tty ? JsonString(*id.tty) : "null",
      ",\"uid\":", value("uid", absl::StrCat(id.uid)),
      ",\"euid\":", value("euid", absl::StrCat(id.euid)),
      ",\"gid\":", value("gid", absl::StrCat(id.gid)),
      ",\"egid\":", value("egid", absl::StrCat(id.egid)), ",\"groups\":",
      value("groups", absl::StrCat("[", absl::StrJoin(id.groups, ","), "]")),
      ",\"cwd\":", value("cwd", JsonString(id.cwd)), ",\"umask\":",
      id.umask && id.readable("umask") ? JsonString(OctalUmask(id.umask))
                                       : "null",
      ",\"fds\":",
      value("fds", absl::StrCat("[", absl::StrJoin(fds, ","), "]")),
      ",\"kernel_thread\":", id.kernel_thread ? "true" : "false", state,
      ",\"argv\":",
      value("argv", absl::StrCat("[", absl::StrJoin(argv, ","), "]")),
      ",\"command\":", value("command", JsonString(id.command)));
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
