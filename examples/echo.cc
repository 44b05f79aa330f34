// Copyright 2026 The daemonkit Authors.
//
// A TCP (or Unix socket) echo server on daemonkit's listening sockets: it
// serves the socket named "echo", bound by the library before the fork
// (--daemon_listen=echo=tcp:127.0.0.1:7000) or passed by systemd's socket
// activation (examples/systemd/echo.socket), and answers each line with
// "PID LINE": the serving process's pid, a space, the line.
//
// One thread, one poll() loop over the library's signal descriptor, the
// listening socket and every client, all non-blocking: a slow client never
// holds up another. On SIGTERM (or once `--daemon_control=upgrade` has a
// successor serving) it stops accepting and serves the connections it has
// to their end (a client silent for a second is dropped), then exits.
//
// Memory per client is bounded: at most --echo_max_line bytes of input
// waiting for a newline, and about --echo_max_pending (1 MiB) of replies
// waiting for the client to read them (one read's worth over, at most). A
// client whose replies reach that bound is not read from until it takes
// some; one that takes none for --echo_stall_timeout (30 s) is dropped. A
// client that sends and never reads costs the server no more than that.
//
//   echo --daemon_listen=echo=tcp:127.0.0.1:7000 --daemon_pidfile=/run/echo.pid
//   printf 'hello\n' | nc -q1 127.0.0.1 7000      # "4242 hello"
//   echo --daemon_pidfile=/run/echo.pid --daemon_control=stop

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>  // NOLINT(build/c++11): steady_clock, a monotonic clock
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "glog/logging.h"

ABSL_FLAG(int, echo_max_line, 64 * 1024,
          "the longest line answered; a client sending a longer one is "
          "disconnected");

ABSL_FLAG(int, echo_max_pending, 1 << 20,
          "the most bytes of replies kept for a client that does not read "
          "them; past it the client is not read from until it reads");
ABSL_FLAG(absl::Duration, echo_stall_timeout, absl::Seconds(30),
          "a client whose replies reached --echo_max_pending and that reads "
          "none of them for this long is disconnected");

namespace {

// The stall timer must not jump with the wall clock (an NTP step).
using Clock = std::chrono::steady_clock;

// A client's unanswered input and unsent output.
struct Client {
  std::string in;
  std::string out;
  bool closing = false;  // read end-of-file: close once `out` is sent
  // While `out` is at its bound: since when the client took none of it.
  bool stalled = false;
  Clock::time_point stalled_since;
};

bool SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

class EchoServer {
 public:
  EchoServer(daemonkit::Daemon& daemon, int listener)
      : daemon_(daemon),
        listener_(listener),
        prefix_(absl::StrCat(getpid())),
        max_line_(static_cast<size_t>(
            std::max(1, absl::GetFlag(FLAGS_echo_max_line)))),
        max_pending_(static_cast<size_t>(
            std::max(1, absl::GetFlag(FLAGS_echo_max_pending)))),
        stall_timeout_(absl::ToChronoMilliseconds(std::max(
            absl::ZeroDuration(), absl::GetFlag(FLAGS_echo_stall_timeout)))) {}

  // Serves until a stop; then answers what was read and returns.
  void Run() {
    // After a stop (or an upgrade, which stops this process once its
    // successor serves), every connection already accepted is served to
    // its end: a client never loses a reply. New ones wait in the
    // listening socket's backlog for the successor.
    while (!daemon_.stop_requested() || !clients_.empty()) {
      std::vector<struct pollfd> fds;
      fds.push_back({daemon_.signal_fd(), POLLIN, 0});
      const bool accepting = !daemon_.stop_requested();
      fds.push_back({accepting ? listener_ : -1, POLLIN, 0});
      for (const auto& [fd, client] : clients_) {
        // A client with a full reply buffer is not read from: its input
        // waits in the kernel, which makes the client's sends block.
        int16_t events = client.closing || Full(client) ? 0 : POLLIN;
        if (!client.out.empty()) events |= POLLOUT;
        fds.push_back({fd, events, 0});
      }
      // While draining after a stop, a client silent for a second does not
      // keep the server forever.
      int timeout_ms = daemon_.stop_requested() ? 1000 : -1;
      const int drain_timeout_ms = timeout_ms;
      const int stall_ms = MillisecondsToNextStall();
      if (stall_ms >= 0 && (timeout_ms < 0 || stall_ms < timeout_ms)) {
        timeout_ms = stall_ms;
      }
      const int ready = poll(fds.data(), fds.size(), timeout_ms);
      if (ready < 0) {
        if (errno != EINTR) PLOG(ERROR) << "poll";
        continue;
      }
      DropStalled();
      if (ready == 0) {
        if (drain_timeout_ms >= 0 && timeout_ms == drain_timeout_ms) break;
        continue;  // a stall deadline, handled above
      }
      if (fds[0].revents & POLLIN) {
        // Handles SIGTERM (stop), SIGHUP (reload), without blocking.
        daemon_.WaitUntil(absl::InfinitePast());
      }
      if (fds[1].revents & POLLIN) Accept();
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0 && clients_.count(fds[i].fd) != 0) {
          Serve(fds[i].fd, fds[i].revents);
        }
      }
    }
    for (const auto& [fd, client] : clients_) close(fd);
    clients_.clear();
  }

 private:
  void Accept() {
    for (;;) {
      const int fd =
          accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
            errno != ECONNABORTED) {
          PLOG(ERROR) << "accept";
        }
        return;
      }
      clients_[fd] = Client();
    }
  }

  bool Full(const Client& client) const {
    return client.out.size() >= max_pending_;
  }

  // Milliseconds until the first stalled client is due to be dropped
  // (rounded up), or -1 when none is stalled.
  int MillisecondsToNextStall() const {
    const Clock::time_point now = Clock::now();
    int64_t shortest = -1;
    for (const auto& [fd, client] : clients_) {
      if (!client.stalled) continue;
      const auto left = client.stalled_since + stall_timeout_ - now;
      const int64_t ms = std::max<int64_t>(
          0, std::chrono::ceil<std::chrono::milliseconds>(left).count());
      if (shortest < 0 || ms < shortest) shortest = ms;
    }
    return static_cast<int>(std::min<int64_t>(shortest, 1 << 30));
  }

  // Disconnects every client that has taken none of its full reply buffer
  // for the stall timeout: it would hold that memory forever.
  void DropStalled() {
    const Clock::time_point now = Clock::now();
    for (auto it = clients_.begin(); it != clients_.end();) {
      if (it->second.stalled &&
          now - it->second.stalled_since >= stall_timeout_) {
        LOG(WARNING) << "dropping a client that read none of its "
                     << it->second.out.size() << " pending bytes for "
                     << absl::FromChrono(stall_timeout_);
        close(it->first);
        it = clients_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Serve(int fd, int16_t revents) {
    Client& client = clients_[fd];
    bool drop = false;
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[16384];
      // Reads no more once the replies reach their bound: the rest waits
      // in the kernel until the client reads (or is dropped).
      while (!client.closing && !Full(client)) {
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n == 0) client.closing = true;
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK) drop = true;
          break;
        }
        client.in.append(buffer, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t end;
             (end = client.in.find('\n', start)) != std::string::npos;
             start = end + 1) {
          absl::StrAppend(
              &client.out, prefix_, " ",
              absl::string_view(client.in).substr(start, end - start), "\n");
        }
        client.in.erase(0, start);
        if (client.in.size() > max_line_) {
          drop = true;
          break;
        }
        // A last line without its newline is answered at end-of-file.
        if (client.closing && !client.in.empty()) {
          absl::StrAppend(&client.out, prefix_, " ", client.in, "\n");
          client.in.clear();
        }
      }
    }
    while (!drop && !client.out.empty()) {
      const ssize_t n =
          send(fd, client.out.data(), client.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        client.out.erase(0, static_cast<size_t>(n));
        client.stalled = false;  // it reads: progress
      } else {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) drop = true;
        break;
      }
    }
    if (drop || (client.closing && client.out.empty())) {
      close(fd);
      clients_.erase(fd);
      return;
    }
    if (Full(client) && !client.stalled) {
      client.stalled = true;
      client.stalled_since = Clock::now();
    } else if (!Full(client)) {
      client.stalled = false;
    }
  }

  daemonkit::Daemon& daemon_;
  const int listener_;
  const std::string prefix_;
  const size_t max_line_;
  const size_t max_pending_;
  const Clock::duration stall_timeout_;
  std::map<int, Client> clients_;
};

}  // namespace

int main(int argc, char** argv) {
  daemonkit::ParseCommandLine(argc, argv);
  std::unique_ptr<daemonkit::Daemon> daemon = daemonkit::DaemonizeFromFlags();
  absl::StatusOr<int> listener = daemon->ListenSocket("echo");
  if (!listener.ok()) {
    daemon->FailStartup(absl::FailedPreconditionError(absl::StrCat(
        listener.status().message(),
        ": give --daemon_listen=echo=ADDRESS or activate a socket named "
        "echo")));
    return 1;
  }
  // Socket activation passes what the unit made (daemon.h): a datagram
  // socket (ListenDatagram=) or a connected one (Accept=yes) is no server
  // socket for this program, and accept(2) on it would fail forever.
  int listening = 0;
  socklen_t length = sizeof(listening);
  if (getsockopt(*listener, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) !=
          0 ||
      listening == 0) {
    daemon->FailStartup(absl::FailedPreconditionError(
        "the socket named echo is not a listening stream socket (a "
        "ListenStream= socket with Accept=no)"));
    return 1;
  }
  if (!SetNonBlocking(*listener)) {
    daemon->FailStartup(
        absl::InternalError("cannot make the socket non-blocking"));
    return 1;
  }
  daemon->NotifyReady();
  EchoServer(*daemon, *listener).Run();
  return 0;
}
