// Copyright 2026 The daemonkit Authors.
//
// File: tests/listen_testing.h
// -----------------------------------------------------------------------------
//
// Helpers for the listening-socket tests (issue 14): a short directory for
// socket files, a line client, a free loopback port found by retrying, and
// a process started the way systemd's socket activation starts one.

#ifndef DAEMONKIT_TESTS_LISTEN_TESTING_H_
#define DAEMONKIT_TESTS_LISTEN_TESTING_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/testing.h"

namespace daemonkit {
namespace test_support {

// A Unix socket path holds at most 107 bytes and $TEST_TMPDIR is longer:
// a fresh directory under /tmp, removed (with what is in it) by the
// destructor.
class ShortTempDir {
 public:
  ShortTempDir();
  ~ShortTempDir();
  ShortTempDir(const ShortTempDir&) = delete;
  ShortTempDir& operator=(const ShortTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A stream connection to `address` (as Exchange() takes it), or -1 with
// strerror's text in `error` (when given).
int ConnectTo(const std::string& address, std::string* error = nullptr);

// Connects to `address` ("/path" for a Unix socket file, "@name" for an
// abstract one, "HOST:PORT" for TCP), sends `text`, shuts down its sending
// side and returns everything read until end-of-file (within `timeout`).
// Empty on a failed connect; `error` (when given) gets the errno text.
std::string Exchange(const std::string& address, const std::string& text,
                     std::string* error = nullptr,
                     absl::Duration timeout = absl::Seconds(30));

// A listening socket of this process bound to `path` (a Unix socket file),
// or -1.
int ListenUnix(const std::string& path);

// Runs `argv` (whose flags must start a daemon listening on the TCP
// address they are given) with "--daemon_listen=NAME=tcp:127.0.0.1:PORT"
// (and `,other_entries` when not empty) appended, for ports picked at random
// from `low` to `high` until one is not in use. Returns the run's result and
// the port (0 when no port worked).
RunResult RunOnFreeLoopbackPort(std::vector<std::string> argv,
                                const std::string& name,
                                const std::string& other_entries, int low,
                                int high, int* port);

// Starts `argv` the way systemd starts a socket-activated service: forks,
// puts `fds` on descriptors 3, 4, ... of the child, sets LISTEN_FDS,
// LISTEN_FDNAMES=`names` and, in the child, LISTEN_PID to its own pid, then
// execs. stdin is /dev/null; stdout and stderr go to `output`. Returns the
// child's pid (the caller reaps it, ReapChild).
pid_t ExecActivated(const std::vector<std::string>& argv,
                    const std::vector<int>& fds, const std::string& names,
                    const std::string& output,
                    const std::map<std::string, std::string>& env = {});

}  // namespace test_support
}  // namespace daemonkit

#endif  // DAEMONKIT_TESTS_LISTEN_TESTING_H_
