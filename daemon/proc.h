// Copyright 2026 The daemonkit Authors.
//
// -----------------------------------------------------------------------------
// File: daemon/proc.h
// -----------------------------------------------------------------------------
//
// Reading processes from /proc, the one way daemonkit does it: the library
// (liveness, sessions, the environment block), //tools:inspect, the tests and
// the benchmark all parse /proc/PID/stat here, with one numbering.
//
// /proc/PID/stat is one line of space-separated fields, documented in
// proc(5) and numbered there from 1: (1) pid, (2) comm, (3) state, (4) ppid,
// (5) pgrp, (6) session, (7) tty_nr, ... (9) flags, ... (50) env_start,
// (51) env_end. The command name (field 2) is chosen by the process and may
// hold spaces and ")" itself, so it is the text between the first "(" and the
// LAST ")"; every field after it is split on single spaces. ProcStat keeps
// proc(5)'s numbers: `stat.field(ProcStat::kSession)` is field 6, whatever
// the command name holds.
//
// Example:
//
//   absl::StatusOr<daemonkit::ProcStat> stat = daemonkit::ReadProcStat(pid);
//   if (!stat.ok()) return stat.status();  // kNotFound: gone and reaped
//   pid_t sid;
//   if (stat->running() && stat->ParseField(daemonkit::ProcStat::kSession,
//                                           &sid)) {
//     ...
//   }

#ifndef DAEMONKIT_DAEMON_PROC_H_
#define DAEMONKIT_DAEMON_PROC_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace daemonkit {

// ReadProcFile()
//
// Reads a small file whole, such as a /proc entry (whose size stat(2) does
// not know). Opened O_CLOEXEC; EINTR is retried. On failure the status code
// follows errno (kNotFound for a process that is gone, kPermissionDenied) and
// the message names the path and the errno text.
absl::StatusOr<std::string> ReadProcFile(const std::string& path);

// ProcStat
//
// The fields of one /proc/PID/stat line, numbered as in proc(5) from 1.
// A default-constructed ProcStat has no fields.
class ProcStat {
 public:
  // The field numbers daemonkit uses (proc(5)).
  static constexpr int kPid = 1;
  static constexpr int kComm = 2;
  static constexpr int kState = 3;
  static constexpr int kPpid = 4;
  static constexpr int kPgrp = 5;
  static constexpr int kSession = 6;
  static constexpr int kTtyNr = 7;
  static constexpr int kFlags = 9;
  static constexpr int kEnvStart = 50;
  static constexpr int kEnvEnd = 51;

  // PF_KTHREAD in field 9, flags: a kernel thread.
  static constexpr uint64_t kPfKthread = 0x00200000;

  ProcStat() = default;

  // Parses one line of /proc/PID/stat (a trailing newline is allowed).
  // kInvalidArgument when it has no "(comm)" or nothing after it.
  static absl::StatusOr<ProcStat> Parse(absl::string_view line);

  // The number of the last field; 0 for no fields.
  int size() const { return static_cast<int>(fields_.size()); }

  // Whether field `n` (from 1) is present.
  bool has(int n) const { return n >= 1 && n <= size(); }

  // Field `n` (from 1) as text, or "" when absent. Field 2 is the command
  // name without its parentheses.
  absl::string_view field(int n) const {
    return has(n) ? absl::string_view(fields_[n - 1]) : absl::string_view();
  }

  // Parses field `n` as a decimal integer into `*out`. Returns false, with
  // `*out` unspecified, when the field is absent or not such a number.
  template <typename T>
  bool ParseField(int n, T* out) const {
    return has(n) && absl::SimpleAtoi(fields_[n - 1], out);
  }

  // Field 3, the one-letter state ('R', 'S', 'D', 'Z', 'T', ...), or '\0'
  // when absent.
  char state() const {
    const absl::string_view s = field(kState);
    return s.empty() ? '\0' : s[0];
  }

  // True when the state is present and is neither zombie ('Z') nor dead
  // ('X', or 'x' on old kernels): a process that still runs code.
  bool running() const {
    const char s = state();
    return s != '\0' && s != 'Z' && s != 'X' && s != 'x';
  }

 private:
  std::vector<std::string> fields_;  // fields_[n - 1] is field n
};

// ReadProcStat()
//
// Reads and parses /proc/PID/stat. kNotFound once the process is gone and
// reaped (a zombie still has its line: check running()); kInternal when the
// line cannot be parsed.
absl::StatusOr<ProcStat> ReadProcStat(pid_t pid);

// ReadOwnProcStat()
//
// The same for /proc/self/stat: the calling process, also when /proc
// belongs to another pid namespace than getpid() answers for.
absl::StatusOr<ProcStat> ReadOwnProcStat();

}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_PROC_H_
