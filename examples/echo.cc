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
//   echo --daemon_listen=echo=tcp:127.0.0.1:7000 --daemon_pidfile=/run/echo.pid
//   printf 'hello\n' | nc -q1 127.0.0.1 7000      # "4242 hello"
//   echo --daemon_pidfile=/run/echo.pid --daemon_control=stop

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
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

namespace {

// A client's unanswered input and unsent output.
struct Client {
  std::string in;
  std::string out;
  bool closing = false;  // read end-of-file: close once `out` is sent
};

bool SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

class EchoServer {
 public:
  EchoServer(daemonkit::Daemon& daemon, int listener)
      : daemon_(daemon), listener_(listener), prefix_(absl::StrCat(getpid())) {}

  // Serves until a stop; then answers what was read and returns.
  void Run() {
    const size_t max_line =
        static_cast<size_t>(absl::GetFlag(FLAGS_echo_max_line));
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
        int16_t events = client.closing ? 0 : POLLIN;
        if (!client.out.empty()) events |= POLLOUT;
        fds.push_back({fd, events, 0});
      }
      // While draining after a stop, a client silent for a second does not
      // keep the server forever.
      const int timeout_ms = daemon_.stop_requested() ? 1000 : -1;
      const int ready = poll(fds.data(), fds.size(), timeout_ms);
      if (ready < 0) {
        if (errno != EINTR) PLOG(ERROR) << "poll";
        continue;
      }
      if (ready == 0) break;  // the rest are silent
      if (fds[0].revents & POLLIN) {
        // Handles SIGTERM (stop), SIGHUP (reload), without blocking.
        daemon_.WaitUntil(absl::InfinitePast());
      }
      if (fds[1].revents & POLLIN) Accept();
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0) Serve(fds[i].fd, fds[i].revents, max_line);
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

  void Serve(int fd, int16_t revents, size_t max_line) {
    Client& client = clients_[fd];
    bool drop = false;
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[16384];
      for (;;) {
        const ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n > 0) {
          client.in.append(buffer, static_cast<size_t>(n));
          continue;
        }
        if (n == 0) client.closing = true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR) {
          drop = true;
        }
        break;
      }
      size_t start = 0;
      for (size_t end; (end = client.in.find('\n', start)) != std::string::npos;
           start = end + 1) {
        absl::StrAppend(&client.out, prefix_, " ",
                        absl::string_view(client.in).substr(start, end - start),
                        "\n");
      }
      client.in.erase(0, start);
      if (client.in.size() > max_line) drop = true;
      // A last line without its newline is answered at end-of-file.
      if (client.closing && !client.in.empty()) {
        absl::StrAppend(&client.out, prefix_, " ", client.in, "\n");
        client.in.clear();
      }
    }
    while (!drop && !client.out.empty()) {
      const ssize_t n =
          send(fd, client.out.data(), client.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        client.out.erase(0, static_cast<size_t>(n));
      } else {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR) {
          drop = true;
        }
        break;
      }
    }
    if (drop || (client.closing && client.out.empty())) {
      close(fd);
      clients_.erase(fd);
    }
  }

  daemonkit::Daemon& daemon_;
  const int listener_;
  const std::string prefix_;
  std::map<int, Client> clients_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
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
