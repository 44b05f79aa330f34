// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/syslog_sink.h
// -----------------------------------------------------------------------------
//
// glog to syslog, for `--daemon_log=syslog`: a daemon has no terminal, and
// many machines collect every service's messages through syslog (LOG_DAEMON
// facility, program name as ident). Messages go through libc's syslog(3).

#ifndef DAEMONKIT_DAEMON_INTERNAL_SYSLOG_SINK_H_
#define DAEMONKIT_DAEMON_INTERNAL_SYSLOG_SINK_H_

#include <ctime>
#include <functional>

#include "absl/strings/string_view.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {

// The syslog priority of a glog severity: INFO is LOG_INFO, WARNING is
// LOG_WARNING, ERROR is LOG_ERR, FATAL is LOG_CRIT.
int SyslogPriority(google::LogSeverity severity);

// A glog sink that hands each message to `writer` (by default syslog(3)) as
// "file.cc:42] text" with its priority.
class SyslogSink : public google::LogSink {
 public:
  using Writer = std::function<void(int priority, absl::string_view line)>;
  explicit SyslogSink(Writer writer);

  void send(google::LogSeverity severity, const char* full_filename,
            const char* base_filename, int line, const struct ::tm* tm_time,
            const char* message, size_t message_len) override;

 private:
  Writer writer_;
};

// Sends every glog message to syslog (openlog with `ident`, LOG_PID,
// LOG_DAEMON) and nowhere else: no log files, nothing on stderr. The
// connection is made on the first message, or by ConnectSyslogNow().
void RouteGlogToSyslog(const char* ident);

// When glog goes to syslog, connects to /dev/log now (openlog with
// LOG_NDELAY) rather than at the first message: the daemon calls it after
// closing inherited descriptors and before chroot(2), inside which /dev/log
// does not exist. The socket stays connected across the chroot; should the
// syslog daemon restart, libc reconnects by path, which a chrooted daemon
// cannot (its messages are then lost: give the jail its own /dev/log, as
// sshd's privilege separation does, if that matters). A no-op otherwise.
void ConnectSyslogNow();

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_SYSLOG_SINK_H_
