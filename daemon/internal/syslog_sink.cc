// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/syslog_sink.h"

#include <syslog.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace internal {

int SyslogPriority(google::LogSeverity severity) {
  switch (severity) {
    case google::GLOG_INFO:
      return LOG_INFO;
    case google::GLOG_WARNING:
      return LOG_WARNING;
    case google::GLOG_ERROR:
      return LOG_ERR;
    default:
      return LOG_CRIT;
  }
}

SyslogSink::SyslogSink(Writer writer) : writer_(std::move(writer)) {}

void SyslogSink::send(google::LogSeverity severity, const char*,
                      const char* base_filename, int line, const struct ::tm*,
                      const char* message, size_t message_len) {
  writer_(SyslogPriority(severity),
          absl::StrCat(base_filename, ":", line, "] ",
                       absl::string_view(message, message_len)));
}

namespace {
// Set once by RouteGlogToSyslog, before any fork.
const char* g_syslog_ident = nullptr;
}  // namespace

void RouteGlogToSyslog(const char* ident) {
  // openlog keeps the pointer: `ident` must outlive the process's logging,
  // as program_invocation_short_name does.
  openlog(ident, LOG_PID, LOG_DAEMON);
  g_syslog_ident = ident;
  static SyslogSink* sink =
      new SyslogSink([](int priority, absl::string_view line) {
        syslog(priority, "%.*s", static_cast<int>(line.size()), line.data());
      });
  google::AddLogSink(sink);
  FLAGS_logtostderr = false;
  FLAGS_alsologtostderr = false;
  FLAGS_stderrthreshold = google::NUM_SEVERITIES;
  for (int severity = 0; severity < google::NUM_SEVERITIES; ++severity) {
    google::SetLogDestination(severity, "");  // no log files
  }
}

void ConnectSyslogNow() {
  if (g_syslog_ident == nullptr) return;
  // The launcher closed its connection before closing inherited
  // descriptors; closelog again drops whatever a message since reopened,
  // so that openlog starts from a known state.
  closelog();
  openlog(g_syslog_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

}  // namespace internal
}  // namespace daemonkit
