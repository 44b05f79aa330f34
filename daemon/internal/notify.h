// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/notify.h
// -----------------------------------------------------------------------------
//
// The sd_notify protocol, written against its documentation rather than
// linked from libsystemd: newline-separated VARIABLE=value assignments in one
// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, a path ("/run/...")
// or an abstract name ("@name"). Unset $NOTIFY_SOCKET means every send is a
// no-op, so the daemon talks to systemd, start-stop-daemon --notify-await or
// any other supervisor that speaks the protocol, and to nobody otherwise.
//
// Example:
//
//   absl::StatusOr<Notifier> notifier = Notifier::FromEnvironment(getppid());
//   notifier->Send("READY=1\nMAINPID=" + std::to_string(getpid()));

#ifndef DAEMONKIT_DAEMON_INTERNAL_NOTIFY_H_
#define DAEMONKIT_DAEMON_INTERNAL_NOTIFY_H_

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {

// A parsed $NOTIFY_SOCKET.
struct NotifyAddress {
  struct sockaddr_un address = {};
  socklen_t length = 0;
};

// Whether a $NOTIFY_SOCKET value names another address family than AF_UNIX
// ("vsock:2:1234", "vsock-stream:..."): a word of letters, digits and '-',
// then ':'.
bool IsOtherAddressFamily(absl::string_view value);

// Parses a $NOTIFY_SOCKET value: an absolute path or "@" and an abstract
// name, fitting sockaddr_un. kInvalidArgument otherwise (relative, empty
// name, too long, a NUL inside).
absl::StatusOr<NotifyAddress> ParseNotifySocket(absl::string_view value);

// The shortest interval between two WATCHDOG=1 keep-alives. A tiny
// $WATCHDOG_USEC (WATCHDOG_USEC=1) would otherwise turn the main loop into a
// busy loop of datagrams; a watchdog that short cannot be met anyway.
inline constexpr absl::Duration kMinWatchdogInterval = absl::Milliseconds(10);

// How long a message to $NOTIFY_SOCKET waits for room in the listener's
// queue (a datagram socket holds net.unix.max_dgram_qlen messages, 10 by
// default) before it is dropped. A live service manager reads at once; one
// that has read nothing for this long is hung, and the daemon must not hang
// with it: a supervisor blocked in sendto(2) would neither restart a worker
// nor hear its stop (the model test found it). Only once per hang: after a
// drop, nothing waits until a message goes through again (a wait per
// message still stalled a supervisor relaying keep-alives for good, the
// attack of 2026-12-06 found), and a WATCHDOG=1 keep-alive, which the next
// one replaces, never waits. Sends to a supervisor's connected socket never
// wait at all (it is non-blocking).
inline constexpr absl::Duration kNotifySendTimeout = absl::Seconds(1);

// Parses $WATCHDOG_USEC (and $WATCHDOG_PID, empty when unset) into the
// interval at which to send WATCHDOG=1: half the timeout, as sd_watchdog_
// enabled(3) advises, but never less than kMinWatchdogInterval. nullopt
// when the watchdog is off, not meant for one of `pids` (the daemon and,
// for a detached daemon, the launcher systemd started), or malformed.
std::optional<absl::Duration> WatchdogInterval(absl::string_view usec,
                                               absl::string_view pid,
                                               pid_t self, pid_t launcher);

// The errno to report with sd_notify's ERRNO= for a start-up failure:
// ENOENT for kNotFound, EACCES for kPermissionDenied, EEXIST for
// kAlreadyExists, EINVAL for kInvalidArgument, EIO otherwise.
int ErrnoForStatus(const absl::Status& status);

// Whether `message` carries a "READY=1" line.
bool HasReadyLine(absl::string_view message);

// `text` made safe as the value of one STATUS= assignment: each newline and
// NUL becomes a space. A newline would end the assignment and start another
// (a client's text in a status could declare READY=1 or set WATCHDOG_USEC=),
// and systemd reads a datagram only up to a NUL.
std::string StatusValue(absl::string_view text);

// The message that tells a supervisor a start failed: STATUS= with the error
// text (StatusValue) and ERRNO=. systemd shows both; start-stop-daemon
// --notify-await stops waiting at ERRNO= instead of at its timeout.
std::string StartupFailureMessage(const absl::Status& status);

// Notifier
//
// Sends notifications to the supervisor. Toward $NOTIFY_SOCKET it holds no
// descriptor between two sends (each datagram goes through a socket of its
// own), so a process the daemon forks inherits nothing from it. A supervised
// worker's connected line to its supervisor (Connected()) is the one
// descriptor it keeps; the daemon's fork handler closes it in children.
class Notifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID and $FDSTORE. An unset
  // $NOTIFY_SOCKET gives a disabled notifier; so does an address family
  // this code does not speak ("FAMILY:...", such as the "vsock:CID:PORT"
  // systemd hands virtual machines), after one warning in the log: the
  // daemon runs on without notifications rather than failing every start.
  // So does a value that is no socket address at all (relative, "@" alone,
  // too long: issue 23.10), as libsystemd's sd_notify ignores it; no error
  // is returned today. `launcher` is the pid systemd started, if not us.
  static absl::StatusOr<Notifier> FromEnvironment(pid_t launcher);

  Notifier() = default;
  ~Notifier();
  // Move-only, and a moved-from notifier is disabled: only one object per
  // process speaks for it.
  Notifier(Notifier&& other) noexcept;
  Notifier& operator=(Notifier&& other) noexcept;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // A notifier that sends on `fd`, a connected socket it takes over (a
  // supervised worker's line to its supervisor, which relays to
  // $NOTIFY_SOCKET), feeding a watchdog every `watchdog` when set.
  static Notifier Connected(int fd, std::optional<absl::Duration> watchdog);

  // The connected socket, or -1.
  int connected_fd() const { return fd_.get(); }

  // Drops the connected socket's number without closing it: in a child
  // forked by the daemon, whose copy a fork handler has already closed.
  void Forget() { (void)fd_.release(); }

  bool enabled() const { return address_.has_value() || fd_.valid(); }
  // Whether messages go to $NOTIFY_SOCKET itself (not through a supervisor).
  bool to_service_manager() const {
    return address_.has_value() && !fd_.valid();
  }
  std::optional<absl::Duration> watchdog_interval() const { return watchdog_; }
  // Whether the service manager keeps descriptors for us: $FDSTORE set to a
  // positive number (systemd 254+ sets it to FileDescriptorStoreMax=).
  // $NOTIFY_SOCKET alone promises no store (start-stop-daemon
  // --notify-await, a unit without FileDescriptorStoreMax=).
  bool fd_store() const { return fd_store_ && to_service_manager(); }

  // Sends `message` ("READY=1", "STATUS=...") as one datagram. OK when
  // disabled. Issue 22.15: once a READY=1 was delivered to $NOTIFY_SOCKET,
  // a socket that is gone (ENOENT, ECONNREFUSED) ends notification: its
  // listener has heard what it waited for (start-stop-daemon --notify-await
  // removes its socket after READY=1), so one INFO line says so, this and
  // every later send return OK, and nothing more is sent. A message the
  // listener's full queue has no room for (see kNotifySendTimeout) is
  // dropped and counted, and Send() returns OK: the first drop of a streak
  // is logged as a WARNING, its end (a message through again) as an INFO
  // line with the count.
  absl::Status Send(absl::string_view message) const;

  // Sends `message` with descriptor `fd` attached (SCM_RIGHTS), as
  // sd_pid_notify_with_fds(3) does for "FDSTORE=1". Only toward
  // $NOTIFY_SOCKET: a connected notifier (a supervised worker) and a
  // disabled one send nothing and return OK. Waits for room as Send() does.
  absl::Status SendWithFd(absl::string_view message, int fd) const;

 private:
  // Unset with fd_ valid: a connected socket (Connected()).
  std::optional<NotifyAddress> address_;
  std::optional<absl::Duration> watchdog_;
  bool fd_store_ = false;
  UniqueFd fd_;
  // Whether $NOTIFY_SOCKET took a READY=1, and whether it has gone since.
  // Atomic: Send() is const and may be called from the application's
  // threads (NotifyStatus()).
  mutable std::atomic<bool> ready_delivered_{false};
  mutable std::atomic<bool> ended_{false};
  // The listener's queue was full at the last send (no waiting until a
  // message goes through), and how many messages were dropped since.
  mutable std::atomic<bool> listener_stuck_{false};
  mutable std::atomic<uint64_t> dropped_{0};

  // How a send to $NOTIFY_SOCKET may wait: flags for sendto(2).
  int SendFlags(absl::string_view message) const;
  // Records a dropped message (logs the start of a streak).
  void Dropped(absl::string_view message) const;
  // Records a message that went through (logs the end of a streak).
  void Delivered() const;
};

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_NOTIFY_H_
