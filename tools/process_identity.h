// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: tools/process_identity.h
// -----------------------------------------------------------------------------
//
// Who a process is, read from /proc: ids, session, terminal, credentials,
// directory, umask and open descriptors; and whether it behaves like a
// daemon by the rules of systemd's daemon(7). The engine of //tools:inspect.
//
// Example:
//
//   absl::StatusOr<ProcessIdentity> identity = ReadProcessIdentity(pid);
//   if (!identity.ok()) return 2;
//   std::cout << FormatJson(*identity);
//   for (const Finding& f : CheckDaemonRules(*identity)) ...

#ifndef DAEMONKIT_TOOLS_PROCESS_IDENTITY_H_
#define DAEMONKIT_TOOLS_PROCESS_IDENTITY_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace daemonkit {

struct OpenDescriptor {
  int fd = -1;
  std::string target;  // readlink of /proc/PID/fd/N: a path, pipe:[...], ...
  bool is_terminal = false;
  // Why `target` could not be read (a path longer than PATH_MAX, say);
  // empty when it was.
  std::string unreadable = {};
};

struct ProcessIdentity {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  bool session_leader = false;
  std::optional<std::string> tty;  // controlling terminal; none for a daemon
  uid_t uid = 0, euid = 0;
  gid_t gid = 0, egid = 0;
  std::vector<gid_t> groups;
  std::string cwd;
  std::optional<mode_t> umask;  // absent on kernels before 4.7
  std::vector<OpenDescriptor> fds;
  // The arguments joined by spaces (boundaries lost), as ps shows them.
  std::string command;
  // The arguments, each whole: /proc/PID/cmdline split at its NUL bytes.
  std::vector<std::string> argv;
  // A kernel thread (PF_KTHREAD): no user-space process, so daemon(7) does
  // not apply to it.
  bool kernel_thread = false;

  // About the parent, for the "not a child of an interactive shell" rule.
  pid_t parent_sid = 0;  // 0 when the parent cannot be read
  bool parent_is_namespace_init = false;
  // Whether the parent has a controlling terminal (tty_nr of its
  // /proc/PID/stat); true when that cannot be read.
  bool parent_has_terminal = true;
  // Whether the parent runs the same executable (/proc/PID/exe of both
  // names one file, by device and inode); false when either cannot be
  // read. With no terminal, that parent is the process's supervisor (a
  // daemonkit --daemon_restart worker's), not an interactive shell.
  bool parent_runs_same_program = false;
  // Whether the parent is named as the daemonkit command's monitor
  // (proc.h kProgramMonitorName): with no terminal, the parent that runs
  // a program which cannot link the library, in the program's session.
  bool parent_is_program_monitor = false;

  // The one-letter state of /proc/PID/stat ('S', 'R', 'Z', ...).
  char state = '\0';
  // Exited, not yet reaped by its parent: only ids and credentials remain.
  bool zombie() const { return state == 'Z'; }

  // The attributes that could not be read, by their JSON key ("cwd",
  // "fds", "uid", "command", ...), each with the reason; their fields
  // above hold nothing meaningful. A directory longer than PATH_MAX, a
  // zombie's lost files, or details that are not ours to read.
  std::map<std::string, std::string> unreadable;
  bool readable(const std::string& key) const {
    return unreadable.count(key) == 0;
  }
};

// Reads process `pid`: every attribute it can, recording the others in
// `unreadable` with the reason. kNotFound when there is no such process (or
// it went away while being read), kPermissionDenied or kInternal when not
// even its /proc/PID/stat can be read.
absl::StatusOr<ProcessIdentity> ReadProcessIdentity(pid_t pid);

// Aligned "key   value" lines, for people. A process chooses its argv, its
// directory's name and the names of the files it opens, so every such string
// is escaped: a backslash as \\, a newline, tab or carriage return as \n, \t,
// \r, other control characters (C0, DEL, C1), the characters that reorder
// or break a line (bidi embeddings, overrides and isolates U+202A to U+202E
// and U+2066 to U+2069, the line and paragraph separators U+2028 and
// U+2029) and bytes that are not valid UTF-8 as \xNN (characters as the
// bytes of their UTF-8 encoding). No process can forge a report line, make
// one read backwards, or send the terminal an escape sequence. An
// unreadable attribute reads "unreadable (REASON)".
std::string FormatText(const ProcessIdentity& identity);

// One daemon(7) rule and whether the process keeps it.
struct Finding {
  // kNotApplicable: the rules do not apply (a kernel thread); not a failure.
  enum class Verdict { kPass, kFail, kInfo, kNotApplicable };
  Verdict verdict;
  std::string rule;
  std::string detail;
};

// Judges `identity` against daemon(7): not a session leader, no controlling
// terminal, no descriptor open on a terminal, stdin on /dev/null, not a
// child of an interactive shell. Descriptors above 2 are listed as kInfo. A
// kernel thread gets a single kNotApplicable finding, a zombie a single
// kFail ("a running process"). A rule whose attributes are unreadable
// fails, saying so: it cannot be shown to hold.
std::vector<Finding> CheckDaemonRules(const ProcessIdentity& identity);

// True when no finding is kFail.
bool AllRulesHold(const std::vector<Finding>& findings);

// "PASS  rule (detail)" lines.
std::string FormatFindings(const std::vector<Finding>& findings);

// One JSON object with the keys pid, ppid, pgid, sid, session_leader, tty,
// uid, euid, gid, egid, groups, cwd, umask, fds, command, argv (the
// arguments as an array), kernel_thread, state (one letter), zombie, and
// unreadable (an object: key -> reason; the key's own value is null; a
// descriptor whose target is unreadable has "target":null and its own
// "unreadable" reason); and "checks" when `findings` is
// given (verdict "pass", "fail", "info" or "not applicable"). Always valid
// JSON: strings are UTF-8, control characters are escaped, and a byte that is
// not part of valid UTF-8 is written as \u00XX, the character of the same
// number (lossy: raw byte 0xff and the character U+00FF read the same).
std::string FormatJson(const ProcessIdentity& identity,
                       const std::vector<Finding>* findings = nullptr);

}  // namespace daemonkit

#endif  // DAEMONKIT_TOOLS_PROCESS_IDENTITY_H_
