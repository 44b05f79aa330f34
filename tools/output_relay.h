// Copyright 2026 The daemonkit Authors.
//
// File: tools/output_relay.h
// -----------------------------------------------------------------------------
//
// The program's standard output and error, through the daemonkit command's
// monitor. The library reopens the daemon's --daemon_stdout and
// --daemon_stderr files on reload, so that logrotate's rename-then-reload
// loses no line; but it reopens them in the monitor, and a program that
// inherited the old file's descriptor would keep writing into the renamed
// file (and, once logrotate compressed and removed it, into nothing): a
// Python or shell program does not reopen its stdout. So, as s6-log, runit's
// svlogd and systemd's journal stand between a service and its log, the
// program writes into a pipe and the monitor copies what comes into its own
// descriptor 1 or 2, whichever file that is now.
//
// Only a stream that goes to a file of its own flag is relayed:
// "/dev/null" and an inherited stream (a terminal, the caller's pipe) are
// handed to the program as they are, with nothing in between.
//
// Example (tools/program_monitor.cc):
//
//   absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
//   Program::Start(argv, ready, sockets, identity, cgroup, relay->outputs());
//   poll relay->read_fds() with the rest; when one is readable:
//   relay->Pump();

#ifndef DAEMONKIT_TOOLS_OUTPUT_RELAY_H_
#define DAEMONKIT_TOOLS_OUTPUT_RELAY_H_

#include <array>

#include "absl/status/statusor.h"
#include "daemon/internal/program.h"
#include "daemon/options.h"

namespace daemonkit {

class OutputRelay {
 public:
  // A relay for each of `options`' stdout_path and stderr_path that names a
  // file (one pipe for both when they name the same one, so that their
  // lines keep their order). The pipes are close-on-exec, their read ends
  // non-blocking. Errors: pipe2's errno.
  static absl::StatusOr<OutputRelay> Create(const Options& options);

  OutputRelay() = default;
  OutputRelay(OutputRelay&& other) noexcept;
  OutputRelay& operator=(OutputRelay&& other) noexcept;
  OutputRelay(const OutputRelay&) = delete;
  OutputRelay& operator=(const OutputRelay&) = delete;
  ~OutputRelay();

  // The write ends, for the program's descriptors 1 and 2 (-1: the stream
  // is not relayed). Every run of the program gets the same pipes, an
  // upgrade's new program too.
  internal::ProgramOutputs outputs() const;

  // The read ends to poll for POLLIN (-1: none).
  std::array<int, 2> read_fds() const { return {read_[0], read_[1]}; }

  // Copies what the pipes hold into descriptor 1 (stdout's pipe) and 2
  // (stderr's), without blocking on the pipes; at most 1 MiB a stream a
  // call, so that a program that writes without pause cannot hold the
  // monitor here. A write that fails (a full disk) loses what was read, as
  // the program's own write would have, and is logged once until a write
  // succeeds again.
  void Pump();

 private:
  void Close();

  // For stream i: the pipe's ends, or -1 when not relayed. A shared pipe
  // (stdout and stderr the same file) is stream 0's, and write_[1] is a
  // second descriptor of its write end.
  std::array<int, 2> read_ = {-1, -1};
  std::array<int, 2> write_ = {-1, -1};
  bool failing_ = false;  // a write failed and was logged
};

}  // namespace daemonkit

#endif  // DAEMONKIT_TOOLS_OUTPUT_RELAY_H_
