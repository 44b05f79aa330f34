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
// Whole lines: what the program wrote is copied up to its last newline,
// and the rest waits for its end, so that a reload never cuts a line
// between the old file and the new one, and the monitor's own log lines
// (written straight to descriptor 2) never land inside one of the
// program's. A line longer than kLongestLine is copied as it comes. Once
// no program runs, FinishLines() ends a line the program left unfinished.
// A pipe does not keep whole what several processes write at once beyond
// PIPE_BUF (4096 bytes) a write, where an O_APPEND file would: such lines
// of a program's concurrent writers may interleave (README).
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
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/program.h"
#include "daemon/options.h"

namespace daemonkit {

class OutputRelay {
 public:
  // The longest line kept whole.
  static constexpr size_t kLongestLine = 64 * 1024;

  // A relay for each of `options`' stdout_path and stderr_path that names a
  // file, which this process's descriptor 1 or 2 is (one pipe for both when
  // they are the same file, however named, so that their lines keep their
  // order). The pipes are close-on-exec, their read ends non-blocking.
  // Errors: pipe2's or fstat's errno.
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

  // Copies the whole lines the pipes hold into descriptor 1 (stdout's
  // pipe) and 2 (stderr's), without blocking on the pipes; at most 1 MiB a
  // stream a call, so that a program that writes without pause cannot hold
  // the monitor here. A write that fails (a full disk) loses those lines,
  // as the program's own write would have: logged once, naming the file,
  // and once writes succeed again the file gets a line saying how many
  // bytes were lost.
  void Pump();

  // Pumps, then ends with a newline what a program left unfinished on a
  // line: for when no program writes (between two runs, at the end), so
  // that the next run's first line starts a line of its own.
  void FinishLines();

 private:
  void Close();
  // Writes `text` to the stream's file (descriptor stream + 1), or counts
  // it lost.
  void Write(int stream, absl::string_view text);

  // For stream i: the pipe's ends, or -1 when not relayed. A shared pipe
  // (stdout and stderr the same file) is stream 0's, and write_[1] is a
  // second descriptor of its write end.
  std::array<int, 2> read_ = {-1, -1};
  std::array<int, 2> write_ = {-1, -1};
  std::array<std::string, 2> paths_;       // the files, for messages
  std::array<std::string, 2> partial_;     // a line not yet ended
  std::array<uint64_t, 2> lost_ = {0, 0};  // bytes lost since the last write
  // A failed write left part of a line in the file.
  std::array<bool, 2> cut_ = {false, false};
};

}  // namespace daemonkit

#endif  // DAEMONKIT_TOOLS_OUTPUT_RELAY_H_
