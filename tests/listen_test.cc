// Copyright 2026 The daemonkit Authors.
//
// Listening sockets (issue 14) on real daemons: //examples:echo started with
// --daemon_listen, or the way systemd's socket activation starts it, and a
// real client talking to it.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/listen_testing.h"
#include "tests/testing.h"

namespace daemonkit {
namespace {

using ::daemonkit::test_support::Exchange;
using ::daemonkit::test_support::ReadFileOrEmpty;
using ::daemonkit::test_support::ReadPid;
using ::daemonkit::test_support::RunProgram;
using ::daemonkit::test_support::RunResult;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class ListenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    pidfile_ = dir_ + "/echo.pid";
    child_pidfile_ = dir_ + "/worker.pid";
    log_ = dir_ + "/echo.log";
  }
  void TearDown() override {
    for (const std::string& file : {pidfile_, child_pidfile_}) {
      test_support::KillPidFileHolder(file);
    }
    for (pid_t pid : started_) test_support::KillAndWait(pid);
  }

  std::vector<std::string> Echo(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {test_support::RunfilePath("examples/echo"),
                                     "--daemon_pidfile=" + pidfile_,
                                     "--daemon_stderr=" + log_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  RunResult Stop() const { return RunProgram(Echo({"--daemon_control=stop"})); }
  // The socket inodes ("socket:[N]") among `pid`'s descriptors.
  static std::vector<std::string> Sockets(pid_t pid) {
    std::vector<std::string> sockets;
    for (const auto& [fd, target] : test_support::OpenDescriptors(pid)) {
      if (absl::StartsWith(target, "socket:")) sockets.push_back(target);
    }
    return sockets;
  }

  // Whether /proc/PID/fdinfo/FD shows O_CLOEXEC among the flags (octal).
  static bool CloseOnExec(pid_t pid, int fd) {
    const std::string info =
        ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/fdinfo/", fd));
    for (absl::string_view line : absl::StrSplit(info, '\n')) {
      unsigned flags;
      if (absl::ConsumePrefix(&line, "flags:\t") &&
          absl::numbers_internal::safe_strtou32_base(line, &flags, 8)) {
        return (flags & O_CLOEXEC) != 0;
      }
    }
    return false;
  }

  test_support::ShortTempDir tmp_;
  std::string dir_, pidfile_, child_pidfile_, log_;
  std::vector<pid_t> started_;
};

TEST_F(ListenTest, TcpAndUnixSocketsAreBoundBeforeTheForkAndServed) {
  const std::string unix_path = dir_ + "/echo.sock";
  int port = 0;
  RunResult start = test_support::RunOnFreeLoopbackPort(
      Echo({}), "echo", "other=unix:" + unix_path, 20000, 60000, &port);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_NE(port, 0);
  const pid_t daemon = ReadPid(pidfile_);
  ASSERT_GT(daemon, 0);
  EXPECT_EQ(Exchange(absl::StrCat("127.0.0.1:", port), "hello\nworld\n"),
            absl::StrCat(daemon, " hello\n", daemon, " world\n"));
  EXPECT_EQ(Sockets(daemon).size(), 2u);
  EXPECT_TRUE(test_support::FileExists(unix_path));
  ASSERT_EQ(Stop().exit_code, 0);
  EXPECT_FALSE(test_support::FileExists(unix_path));
  // Again with the Unix socket named echo, beside an abstract one.
  start = RunProgram(Echo({"--daemon_listen=echo=unix:" + unix_path +
                           ",admin=unix:@" + dir_.substr(5)}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t second = ReadPid(pidfile_);
  EXPECT_EQ(Exchange(unix_path, "one\n"), absl::StrCat(second, " one\n"));
  // Both sockets are the daemon's; the file is a socket, 0660.
  EXPECT_EQ(Sockets(second).size(), 2u);
  struct stat st;
  ASSERT_EQ(lstat(unix_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  // A clean stop removes the socket file.
  ASSERT_EQ(Stop().exit_code, 0);
  EXPECT_NE(lstat(unix_path.c_str(), &st), 0);
}

// Reads from `fd` until a newline (or 30 s pass); the line without it.
std::string ReadLine(int fd) {
  std::string line;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  char c;
  while (absl::Now() < deadline) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    if (read(fd, &c, 1) != 1 || c == '\n') break;
    line.push_back(c);
  }
  return line;
}

TEST_F(ListenTest, EchoServesManyClientsAtOnceAndASilentOneBlocksNobody) {
  const std::string path = dir_ + "/echo.sock";
  RunResult start = RunProgram(Echo({"--daemon_listen=echo=unix:" + path}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = ReadPid(pidfile_);
  // A client that sends half a line and then nothing.
  const int silent = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(connect(silent, reinterpret_cast<struct sockaddr*>(&address),
                    sizeof(address)),
            0);
  ASSERT_EQ(write(silent, "half", 4), 4);
  // Then 100 clients at once, each with one line and its connection open.
  std::vector<int> clients;
  for (int i = 0; i < 100; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(fd, reinterpret_cast<struct sockaddr*>(&address),
                      sizeof(address)),
              0);
    const std::string line = absl::StrCat("client ", i, "\n");
    ASSERT_EQ(write(fd, line.data(), line.size()),
              static_cast<ssize_t>(line.size()));
    clients.push_back(fd);
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(ReadLine(clients[i]), absl::StrCat(daemon, " client ", i));
    close(clients[i]);
  }
  // The silent client's half line is answered once it ends.
  ASSERT_EQ(shutdown(silent, SHUT_WR), 0);
  EXPECT_EQ(ReadLine(silent), absl::StrCat(daemon, " half"));
  close(silent);
  ASSERT_EQ(Stop().exit_code, 0);
}

// echo's resident memory in kilobytes (VmRSS in /proc/PID/status), or -1.
int64_t ResidentKilobytes(pid_t pid) {
  const std::string status =
      ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, "VmRSS:")) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, " kB");
    int64_t kilobytes;
    if (absl::SimpleAtoi(line, &kilobytes)) return kilobytes;
  }
  return -1;
}

// Issue 23.2, found by an attack: a client that sends lines and never reads
// its replies took echo to 1.9 GB in 15 s. Its replies are bounded
// (--echo_max_pending), then it is not read from, then dropped
// (--echo_stall_timeout); every other client is served meanwhile.
TEST_F(ListenTest, AClientThatNeverReadsCostsBoundedMemoryAndIsDropped) {
  const std::string path = dir_ + "/echo.sock";
  RunResult start =
      RunProgram(Echo({"--daemon_listen=echo=unix:" + path,
                       "--echo_max_pending=65536", "--echo_stall_timeout=2s"}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t daemon = ReadPid(pidfile_);
  ASSERT_GT(daemon, 0);
  const int64_t before = ResidentKilobytes(daemon);
  ASSERT_GT(before, 0);
  std::string error;
  const int greedy = test_support::ConnectTo(path, &error);
  ASSERT_GE(greedy, 0) << error;
  ASSERT_EQ(fcntl(greedy, F_SETFL, fcntl(greedy, F_GETFL) | O_NONBLOCK), 0);
  // Lines of 1000 bytes, up to 256 MB of them; never a read.
  const std::string line = std::string(999, 'x') + "\n";
  std::string chunk;
  for (int i = 0; i < 64; ++i) chunk += line;
  constexpr size_t kTotal = size_t{256} << 20;
  size_t sent = 0;
  int64_t most = before;
  bool served_beside = false;
  int send_error = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (sent < kTotal && absl::Now() < deadline) {
    const ssize_t n = send(greedy, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      if (sent % (size_t{4} << 20) < chunk.size()) {
        most = std::max(most, ResidentKilobytes(daemon));
      }
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      send_error = errno;  // echo dropped the client
      break;
    }
    most = std::max(most, ResidentKilobytes(daemon));
    // While the greedy client is stuck, another one is answered.
    if (!served_beside) {
      EXPECT_EQ(Exchange(path, "beside\n", &error, absl::Seconds(10)),
                absl::StrCat(daemon, " beside\n"))
          << error;
      served_beside = true;
    }
    struct pollfd pfd = {greedy, POLLOUT, 0};
    poll(&pfd, 1, 100);
  }
  most = std::max(most, ResidentKilobytes(daemon));
  close(greedy);
  EXPECT_TRUE(served_beside);
  EXPECT_LT(sent, kTotal) << "echo took every byte the client sent";
  EXPECT_TRUE(send_error == EPIPE || send_error == ECONNRESET)
      << "the stalled client was not dropped: " << strerror(send_error);
  // 64 KiB of replies and one read's worth over: a few megabytes of slack
  // for the allocator, far below the 256 MB sent.
  EXPECT_LT(most - before, 16 * 1024)
      << "VmRSS grew from " << before << " kB to " << most << " kB";
  // Still serving, with the same pid.
  EXPECT_EQ(Exchange(path, "after\n", &error), absl::StrCat(daemon, " after\n"))
      << error;
  EXPECT_THAT(ReadFileOrEmpty(log_), HasSubstr("dropping a client"));
  ASSERT_EQ(Stop().exit_code, 0);
}

TEST_F(ListenTest, AnAddressInUseIsAStartErrorThatLeavesNothing) {
  const std::string busy = dir_ + "/busy.sock";
  const int holder = test_support::ListenUnix(busy);
  ASSERT_GE(holder, 0);
  const std::string first = dir_ + "/first.sock";
  RunResult start = RunProgram(
      Echo({"--daemon_listen=a=unix:" + first + ",echo=unix:" + busy}));
  close(holder);
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text,
              MatchesRegex(absl::StrCat(".*: --daemon_listen echo=unix:", busy,
                                        ": bind: Address already in use\n")));
  EXPECT_FALSE(test_support::FileExists(first));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
  EXPECT_TRUE(test_support::LiveProcessesSpawnedByThisTest().empty());
}

TEST_F(ListenTest, ASecondStartSaysAlreadyRunningAndLeavesTheSocketAlone) {
  const std::string path = dir_ + "/echo.sock";
  ASSERT_EQ(RunProgram(Echo({"--daemon_listen=echo=unix:" + path})).exit_code,
            0);
  const pid_t daemon = ReadPid(pidfile_);
  RunResult again = RunProgram(Echo({"--daemon_listen=echo=unix:" + path}));
  EXPECT_EQ(again.exit_code, 1);
  // The pid file is locked before anything is bound.
  EXPECT_THAT(again.stderr_text,
              HasSubstr(absl::StrCat("already running, pid ", daemon)));
  EXPECT_EQ(Exchange(path, "ok\n"), absl::StrCat(daemon, " ok\n"));
  ASSERT_EQ(Stop().exit_code, 0);
  EXPECT_FALSE(test_support::FileExists(path));
}

TEST_F(ListenTest, AForbiddenAddressIsAStartError) {
  RunResult start = RunProgram(
      Echo({"--daemon_listen=echo=unix:" + dir_ + "/missing/dir/echo.sock"}));
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("--daemon_listen echo=unix:"));
  EXPECT_THAT(start.stderr_text, HasSubstr("No such file or directory"));
  EXPECT_EQ(
      std::count(start.stderr_text.begin(), start.stderr_text.end(), '\n'), 1);
  EXPECT_FALSE(test_support::FileExists(pidfile_));
}

TEST_F(ListenTest, MalformedEntriesAndDuplicateNamesAreUsageErrors) {
  for (const std::string& bad :
       {std::string("echo"), std::string("echo=tcp:127.0.0.1:0"),
        std::string("echo=tcp:[::1:80"), std::string("echo=udp:1.2.3.4:5"),
        std::string("e cho=unix:/x"),
        "echo=unix:" + dir_ + "/a,echo=unix:" + dir_ + "/b"}) {
    RunResult start = RunProgram(Echo({"--daemon_listen=" + bad}));
    EXPECT_EQ(start.exit_code, 2) << bad;
    EXPECT_THAT(start.stderr_text, MatchesRegex(".*: --daemon_listen=.*\n"))
        << bad;
    EXPECT_EQ(
        std::count(start.stderr_text.begin(), start.stderr_text.end(), '\n'),
        1);
    EXPECT_FALSE(test_support::FileExists(pidfile_));
  }
}

TEST_F(ListenTest, EveryWorkerGetsTheSocketsAndTheSupervisorRemovesTheFile) {
  const std::string path = dir_ + "/echo.sock";
  RunResult start =
      RunProgram(Echo({"--daemon_listen=echo=unix:" + path,
                       "--daemon_restart=always", "--daemon_restart_delay=10ms",
                       "--daemon_child_pidfile=" + child_pidfile_}));
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t worker = ReadPid(child_pidfile_);
  ASSERT_GT(worker, 0);
  EXPECT_EQ(Exchange(path, "a\n"), absl::StrCat(worker, " a\n"));
  // A crash: the next worker serves the same socket, and a client that
  // connects in between waits in the backlog instead of being refused.
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  ASSERT_TRUE(test_support::WaitUntilGone(worker));
  std::string error;
  const std::string reply = Exchange(path, "b\n", &error);
  ASSERT_TRUE(test_support::WaitFor([&] {
    const pid_t next = ReadPid(child_pidfile_);
    return next > 0 && next != worker;
  }));
  const pid_t next = ReadPid(child_pidfile_);
  EXPECT_EQ(reply, absl::StrCat(next, " b\n")) << error;
  ASSERT_EQ(Stop().exit_code, 0);
  EXPECT_FALSE(test_support::FileExists(path));
}

TEST_F(ListenTest, AnActivatedSocketIsServedInTheForeground) {
  const std::string activated = dir_ + "/activated.sock";
  const int fd = test_support::ListenUnix(activated);
  ASSERT_GE(fd, 0);
  const std::string not_bound = dir_ + "/not-bound.sock";
  const pid_t pid = test_support::ExecActivated(
      Echo({"--daemon=false", "--daemon_listen=echo=unix:" + not_bound}), {fd},
      "echo", log_);
  close(fd);
  started_.push_back(pid);
  std::string reply;
  ASSERT_TRUE(test_support::WaitFor([&] {
    reply = Exchange(activated, "hi\n");
    return !reply.empty();
  })) << ReadFileOrEmpty(log_);
  EXPECT_EQ(reply, absl::StrCat(pid, " hi\n"));
  // The activated name won: the --daemon_listen one was never bound.
  EXPECT_FALSE(test_support::FileExists(not_bound));
  // The descriptor is close-on-exec now (fdinfo's flags show O_CLOEXEC).
  EXPECT_TRUE(CloseOnExec(pid, 3));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  const int status = test_support::ReapChild(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // systemd's socket file is systemd's: the daemon leaves it.
  EXPECT_TRUE(test_support::FileExists(activated));
}

// Found by an attack: handed a datagram socket (ListenDatagram=), echo
// called accept(2) on it in a tight loop, logging 15 MB in seconds. It
// fails its start instead, naming the socket.
TEST_F(ListenTest, EchoRefusesAnActivatedSocketItCannotAcceptOn) {
  const int datagram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(datagram, 0);
  const pid_t pid = test_support::ExecActivated(Echo({"--daemon=false"}),
                                                {datagram}, "echo", log_);
  close(datagram);
  const int status = test_support::ReapChild(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_THAT(ReadFileOrEmpty(log_),
              HasSubstr("the socket named echo is not a listening stream "
                        "socket"));
}

TEST_F(ListenTest, AnActivatedSocketServesEverySupervisedWorker) {
  const std::string activated = dir_ + "/activated.sock";
  const int fd = test_support::ListenUnix(activated);
  ASSERT_GE(fd, 0);
  // Detached and supervised: the launcher systemd started took the socket.
  const pid_t launcher = test_support::ExecActivated(
      Echo({"--daemon_restart=always", "--daemon_restart_delay=10ms",
            "--daemon_child_pidfile=" + child_pidfile_}),
      {fd}, "echo", dir_ + "/launcher.out");
  close(fd);
  const int status = test_support::ReapChild(launcher);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << ReadFileOrEmpty(dir_ + "/launcher.out");
  const pid_t worker = ReadPid(child_pidfile_);
  EXPECT_EQ(Exchange(activated, "x\n"), absl::StrCat(worker, " x\n"));
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  ASSERT_TRUE(test_support::WaitFor([&] {
    const pid_t next = ReadPid(child_pidfile_);
    return next > 0 && next != worker;
  }));
  const pid_t next = ReadPid(child_pidfile_);
  EXPECT_EQ(Exchange(activated, "y\n"), absl::StrCat(next, " y\n"));
  ASSERT_EQ(Stop().exit_code, 0);
  EXPECT_TRUE(test_support::FileExists(activated));
}

TEST_F(ListenTest, AnActivatedDescriptorThatIsNoSocketFailsTheStart) {
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  const pid_t pid = test_support::ExecActivated(
      Echo({"--daemon=false"}), {null_fd}, "echo", dir_ + "/out");
  close(null_fd);
  const int status = test_support::ReapChild(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_THAT(ReadFileOrEmpty(dir_ + "/out"),
              HasSubstr("socket activation: descriptor 3 of LISTEN_FDS=1 is "
                        "not a socket"));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
}

// s6 or dinit passing their readiness descriptor at the number systemd
// uses for the first activated socket: a misconfiguration to refuse, not a
// socket to write a newline into and close.
TEST_F(ListenTest, AReadyFdThatIsAnActivatedSocketIsAStartError) {
  const int listening = test_support::ListenUnix(dir_ + "/a.sock");
  ASSERT_GE(listening, 0);
  const pid_t pid = test_support::ExecActivated(
      Echo({"--daemon=false", "--daemon_ready_fd=3"}), {listening}, "echo",
      dir_ + "/out");
  close(listening);
  const int status = test_support::ReapChild(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_THAT(ReadFileOrEmpty(dir_ + "/out"),
              HasSubstr("--daemon_ready_fd=3 is the listening socket echo"));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
}

// The next FDSTORE=1 message a fake systemd receives: the descriptor that
// came with it (the caller's to close; -1 with a test failure) must be the
// daemon's listening socket bound to `unix_path`.
int ReceiveStoredSocket(test_support::NotifyReceiver& systemd,
                        const std::string& unix_path) {
  std::string message;
  int stored = -1;
  for (int i = 0; i < 5 && !absl::StartsWith(message, "FDSTORE=1"); ++i) {
    if (stored >= 0) close(stored);
    message = systemd.Receive(&stored);
  }
  EXPECT_EQ(message, "FDSTORE=1\nFDNAME=echo");
  if (stored < 0) return -1;
  // The daemon's listening socket itself: listening, bound to the path.
  int listening = 0;
  socklen_t length = sizeof(listening);
  EXPECT_EQ(getsockopt(stored, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length),
            0);
  EXPECT_EQ(listening, 1);
  struct sockaddr_un bound = {};
  length = sizeof(bound);
  EXPECT_EQ(
      getsockname(stored, reinterpret_cast<struct sockaddr*>(&bound), &length),
      0);
  EXPECT_EQ(std::string(bound.sun_path), unix_path);
  return stored;
}

// Under systemd, the sockets a start bound go to the fd store once it is
// ready, named, so that a restart of the service gets them back (as socket
// activation) and binds nothing: no moment with nobody listening. Found by
// an attack: the clean stop removed the socket file, so the restarted
// service listened on a socket nobody could reach any more. `extra`: more
// flags of the first start.
class ListenFdStoreTest : public ListenTest {
 protected:
  void ExpectARestartServesTheStoredSocket(std::vector<std::string> extra) {
    test_support::NotifyReceiver systemd;
    const std::string unix_path = dir_ + "/echo.sock";
    extra.push_back("--daemon_listen=echo=unix:" + unix_path);
    // systemd 254+ sets $FDSTORE to the unit's FileDescriptorStoreMax=.
    RunResult start = RunProgram(
        Echo(extra), {{"NOTIFY_SOCKET", systemd.address()}, {"FDSTORE", "4"}});
    ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
    const int stored = ReceiveStoredSocket(systemd, unix_path);
    ASSERT_GE(stored, 0);
    ASSERT_EQ(Stop().exit_code, 0);
    EXPECT_TRUE(test_support::FileExists(unix_path));
    // `systemctl restart`: systemd starts the service again with what its fd
    // store holds, as socket activation.
    const pid_t restarted = test_support::ExecActivated(
        {test_support::RunfilePath("examples/echo"), "--daemon=false"},
        {stored}, "echo", dir_ + "/restarted.out");
    close(stored);
    EXPECT_TRUE(test_support::WaitFor(
        [&] { return !Exchange(unix_path, "again\n").empty(); }));
    EXPECT_EQ(Exchange(unix_path, "again\n"),
              absl::StrCat(restarted, " again\n"));
    kill(restarted, SIGTERM);
    EXPECT_EQ(test_support::ReapChild(restarted), 0);
  }
};

TEST_F(ListenFdStoreTest, BoundSocketsGoToTheServiceManagersFdStore) {
  ExpectARestartServesTheStoredSocket({});
}

// Under supervision the supervisor, systemd's main process, stores them
// (a worker's FDSTORE= would not be taken).
TEST_F(ListenFdStoreTest, ASupervisorPutsTheSocketsInTheFdStoreToo) {
  ExpectARestartServesTheStoredSocket({"--daemon_restart=always"});
}

// Issue 18.14: $NOTIFY_SOCKET alone is no fd store (start-stop-daemon
// --notify-await, a unit without FileDescriptorStoreMax=): nothing is sent
// to a store, and a clean stop removes the socket file as without systemd.
// `fdstore`: the value of $FDSTORE, unset when empty.
class ListenNoFdStoreTest : public ListenTest,
                            public ::testing::WithParamInterface<
                                std::tuple<std::string, std::string>> {};

TEST_P(ListenNoFdStoreTest, WithoutAStoreTheSocketFileGoesAtStop) {
  const auto& [fdstore, restart] = GetParam();
  test_support::NotifyReceiver systemd;
  const std::string unix_path = dir_ + "/echo.sock";
  std::map<std::string, std::string> env = {
      {"NOTIFY_SOCKET", systemd.address()}};
  if (!fdstore.empty()) env["FDSTORE"] = fdstore;
  std::vector<std::string> extra = {"--daemon_listen=echo=unix:" + unix_path};
  if (!restart.empty()) extra.push_back("--daemon_restart=" + restart);
  RunResult start = RunProgram(Echo(extra), env);
  ASSERT_EQ(start.exit_code, 0) << start.stderr_text;
  ASSERT_TRUE(test_support::FileExists(unix_path));
  ASSERT_EQ(Stop().exit_code, 0);
  EXPECT_FALSE(test_support::FileExists(unix_path));
  // Everything it sent up to its STOPPING=1: no FDSTORE=.
  for (;;) {
    int fd = -1;
    const std::string message = systemd.Receive(&fd);
    if (fd >= 0) close(fd);
    EXPECT_FALSE(absl::StrContains(message, "FDSTORE")) << message;
    EXPECT_EQ(fd, -1) << message;
    if (message.empty() || absl::StrContains(message, "STOPPING=1")) break;
  }
}

INSTANTIATE_TEST_SUITE_P(UnsetOrZero, ListenNoFdStoreTest,
                         ::testing::Values(std::make_tuple("", ""),
                                           std::make_tuple("0", ""),
                                           std::make_tuple("", "always")));

TEST_F(ListenTest, WithoutASocketNamedEchoTheStartFails) {
  RunResult start =
      RunProgram(Echo({"--daemon_listen=other=unix:" + dir_ + "/other.sock"}));
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.stderr_text, HasSubstr("no listening socket named 'echo'"));
  EXPECT_FALSE(test_support::FileExists(dir_ + "/other.sock"));
  EXPECT_FALSE(test_support::FileExists(pidfile_));
}

}  // namespace
}  // namespace daemonkit
