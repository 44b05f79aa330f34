// Copyright 2026 The daemonkit Authors.

#include "tests/listen_testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace test_support {

ShortTempDir::ShortTempDir() {
  char name[] = "/tmp/dk-listen.XXXXXX";
  if (mkdtemp(name) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return;
  }
  path_ = name;
}

ShortTempDir::~ShortTempDir() {
  if (path_.empty()) return;
  const std::string command = absl::StrCat("rm -rf '", path_, "'");
  EXPECT_EQ(system(command.c_str()), 0) << command;
}

namespace {

// Fills `storage` for `address`; returns the length, 0 if it is not one.
socklen_t MakeAddress(const std::string& address,
                      struct sockaddr_storage* storage, int* domain) {
  std::memset(storage, 0, sizeof(*storage));
  if (absl::StartsWith(address, "/") || absl::StartsWith(address, "@")) {
    auto* un = reinterpret_cast<struct sockaddr_un*>(storage);
    un->sun_family = AF_UNIX;
    if (address.size() >= sizeof(un->sun_path)) return 0;
    std::memcpy(un->sun_path, address.data(), address.size());
    *domain = AF_UNIX;
    if (address[0] == '@') {
      un->sun_path[0] = '\0';
      return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) +
                                    address.size());
    }
    return sizeof(*un);
  }
  const size_t colon = address.rfind(':');
  int port;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return 0;
  }
  auto* in = reinterpret_cast<struct sockaddr_in*>(storage);
  in->sin_family = AF_INET;
  in->sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &in->sin_addr) !=
      1) {
    return 0;
  }
  *domain = AF_INET;
  return sizeof(*in);
}

}  // namespace

int ConnectTo(const std::string& address, std::string* error) {
  struct sockaddr_storage storage;
  int domain = AF_UNSPEC;
  const socklen_t length = MakeAddress(address, &storage, &domain);
  if (length == 0) {
    ADD_FAILURE() << "not an address: " << address;
    return -1;
  }
  const int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return -1;
  }
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&storage), length) != 0) {
    if (error) *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

std::string Exchange(const std::string& address, const std::string& text,
                     std::string* error, absl::Duration timeout) {
  const int fd = ConnectTo(address, error);
  if (fd < 0) return "";
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n =
        send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      if (error) *error = std::strerror(errno);
      close(fd);
      return "";
    }
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    const int ms = static_cast<int>(std::max<int64_t>(
        0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    const int ready = poll(&pfd, 1, ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (error) *error = "timed out";
      break;
    }
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && error) *error = std::strerror(errno);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return reply;
}

int ListenUnix(const std::string& path) {
  struct sockaddr_storage storage;
  int domain;
  const socklen_t length = MakeAddress(path, &storage, &domain);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || length == 0 ||
      bind(fd, reinterpret_cast<struct sockaddr*>(&storage), length) != 0 ||
      listen(fd, 128) != 0) {
    ADD_FAILURE() << "listen on " << path << ": " << std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

RunResult RunOnFreeLoopbackPort(std::vector<std::string> argv,
                                const std::string& name,
                                const std::string& other_entries, int low,
                                int high, int* port) {
  std::mt19937 random(static_cast<unsigned>(getpid()) ^
                      static_cast<unsigned>(absl::ToUnixNanos(absl::Now())));
  std::uniform_int_distribution<int> pick(low, high);
  argv.push_back("");
  RunResult result;
  *port = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int candidate = pick(random);
    argv.back() =
        absl::StrCat("--daemon_listen=", name, "=tcp:127.0.0.1:", candidate,
                     other_entries.empty() ? "" : ",", other_entries);
    result = RunProgram(argv);
    if (result.exit_code == 1 &&
        absl::StrContains(result.stderr_text, "Address already in use")) {
      continue;
    }
    if (result.exit_code == 0) *port = candidate;
    return result;
  }
  ADD_FAILURE() << "no free port in " << low << "-" << high;
  return result;
}

pid_t ExecActivated(const std::vector<std::string>& argv,
                    const std::vector<int>& fds, const std::string& names,
                    const std::string& output,
                    const std::map<std::string, std::string>& env) {
  const int out =
      open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  EXPECT_GE(out, 0) << output;
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) {
    close(out);
    return pid;
  }
  // In the child of a single-threaded test process, where setenv is safe.
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out, 1) < 0 ||
      dup2(out, 2) < 0) {
    _exit(120);
  }
  // Move the sockets out of the way of 3, 4, ... first, then into place.
  std::vector<int> moved;
  for (int fd : fds) {
    const int high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    if (high < 0) _exit(121);
    moved.push_back(high);
  }
  for (size_t i = 0; i < moved.size(); ++i) {
    if (dup2(moved[i], 3 + static_cast<int>(i)) < 0) _exit(122);
  }
  char pid_text[32];
  snprintf(pid_text, sizeof(pid_text), "%d", getpid());
  setenv("LISTEN_PID", pid_text, 1);
  char count[32];
  snprintf(count, sizeof(count), "%zu", fds.size());
  setenv("LISTEN_FDS", count, 1);
  setenv("LISTEN_FDNAMES", names.c_str(), 1);
  for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
  execv(args[0], args.data());
  _exit(127);
}

}  // namespace test_support
}  // namespace daemonkit
