// Copyright 2026 The daemonkit Authors.
//
// Binds real sockets and takes activated ones in forked children, where the
// environment and descriptors 3.. can be set up the way systemd does.

#include "daemon/internal/listen_sockets.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

// A socket path holds at most 107 bytes, and $TEST_TMPDIR under Bazel is
// longer than that: a short directory under /tmp, removed by the test.
class ShortDir {
 public:
  ShortDir() {
    char name[] = "/tmp/dk-listen.XXXXXX";
    path_ = mkdtemp(name) != nullptr ? name : "";
    EXPECT_FALSE(path_.empty());
  }
  ~ShortDir() {
    const std::string command = "rm -rf '" + path_ + "'";
    if (!path_.empty()) (void)!system(command.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string MakeTempDir(const std::string&) {
  static ShortDir dir;  // removed at the test's exit
  static int count = 0;
  std::string path = absl::StrCat(dir.path(), "/", ++count);
  EXPECT_EQ(mkdir(path.c_str(), 0700), 0);
  return path;
}

ListenEntry Entry(const std::string& text) {
  absl::StatusOr<ListenEntry> entry = ParseListenEntry(text);
  EXPECT_TRUE(entry.ok()) << entry.status();
  return *entry;
}

bool ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  const bool ok = connect(fd, reinterpret_cast<struct sockaddr*>(&address),
                          sizeof(address)) == 0;
  close(fd);
  return ok;
}

TEST(BindListenSocketTest, UnixFileIs0660ListeningCloseOnExecAndRemoved) {
  const std::string dir = MakeTempDir("bind_unix");
  const std::string path = dir + "/s.sock";
  absl::StatusOr<ListenSocket> socket =
      BindListenSocket(Entry("s=unix:" + path), std::nullopt);
  ASSERT_TRUE(socket.ok()) << socket.status();
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(fcntl(socket->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_TRUE(ConnectUnix(path));
  ListenSockets sockets(std::vector<ListenSocket>{*socket});
  sockets.RemoveFiles();
  EXPECT_NE(lstat(path.c_str(), &st), 0);
  sockets.Close();
}

TEST(BindListenSocketTest, RemovalLeavesAFileThatReplacedTheSocket) {
  const std::string dir = MakeTempDir("bind_replaced");
  const std::string path = dir + "/s.sock";
  absl::StatusOr<ListenSocket> socket =
      BindListenSocket(Entry("s=unix:" + path), std::nullopt);
  ASSERT_TRUE(socket.ok()) << socket.status();
  ASSERT_EQ(unlink(path.c_str()), 0);
  const int planted = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(planted, 0);
  close(planted);
  ListenSockets sockets(std::vector<ListenSocket>{*socket});
  sockets.RemoveFiles();
  EXPECT_TRUE(test_support::FileExists(path));
  sockets.Close();
}

// Issue 18.5: the removal goes through the descriptor of the directory the
// socket was bound in: after that directory is renamed and another, with a
// file of the same name, put at its path, the socket is removed where it
// is and the other file is left.
TEST(BindListenSocketTest, RemovalFollowsTheDirectoryNotThePath) {
  const std::string dir = MakeTempDir("bind_swapped");
  const std::string sockets_dir = dir + "/s";
  ASSERT_EQ(mkdir(sockets_dir.c_str(), 0755), 0);
  const std::string path = sockets_dir + "/s.sock";
  absl::StatusOr<ListenSocket> socket =
      BindListenSocket(Entry("s=unix:" + path), std::nullopt);
  ASSERT_TRUE(socket.ok()) << socket.status();
  EXPECT_GE(socket->dir, 0);
  ASSERT_EQ(rename(sockets_dir.c_str(), (dir + "/moved").c_str()), 0);
  ASSERT_EQ(mkdir(sockets_dir.c_str(), 0755), 0);
  const int planted = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(planted, 0);
  close(planted);
  ListenSockets sockets(std::vector<ListenSocket>{*socket});
  sockets.RemoveFiles();
  EXPECT_FALSE(test_support::FileExists(dir + "/moved/s.sock"));
  EXPECT_TRUE(test_support::FileExists(path));
  sockets.Close();
}

TEST(BindListenSocketTest, ADeadSocketFileIsReplacedALiveOneIsInUse) {
  const std::string dir = MakeTempDir("bind_dead");
  const std::string path = dir + "/s.sock";
  absl::StatusOr<ListenSocket> first =
      BindListenSocket(Entry("s=unix:" + path), std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<ListenSocket> second =
      BindListenSocket(Entry("s=unix:" + path), std::nullopt);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("--daemon_listen s=unix:"),
            std::string::npos)
      << second.status();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  close(first->fd);  // a crash: the file stays, nobody listens
  absl::StatusOr<ListenSocket> third =
      BindListenSocket(Entry("s=unix:" + path), std::nullopt);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(ConnectUnix(path));
  close(third->fd);
}

TEST(BindListenSocketTest, TcpIsReuseAddrCloseOnExecAndListening) {
  absl::StatusOr<ListenSocket> socket;
  // A free loopback port, found by trying (binding port 0 first and
  // reusing its number would race with every other test).
  for (int port = 20000 + getpid() % 20000, tries = 0; tries < 50;
       ++tries, port = 20000 + (port * 7 + 13) % 40000) {
    socket = BindListenSocket(Entry(absl::StrCat("t=tcp:127.0.0.1:", port)),
                              std::nullopt);
    if (socket.ok() || !absl::StrContains(socket.status().message(),
                                          "Address already in use")) {
      break;
    }
  }
  ASSERT_TRUE(socket.ok()) << socket.status();
  int value = 0;
  socklen_t length = sizeof(value);
  ASSERT_EQ(getsockopt(socket->fd, SOL_SOCKET, SO_REUSEADDR, &value, &length),
            0);
  EXPECT_EQ(value, 1);
  value = 0;
  ASSERT_EQ(getsockopt(socket->fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length),
            0);
  EXPECT_EQ(value, 1);
  EXPECT_EQ(fcntl(socket->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_TRUE(socket->file.empty());
  close(socket->fd);
}

TEST(BindListenSocketTest, TcpInUseNamesTheEntry) {
  absl::StatusOr<ListenSocket> first =
      BindListenSocket(Entry("t=tcp:127.0.0.1:1"), std::nullopt);
  // Port 1 on loopback: root may bind it (nothing listens there), anyone
  // else gets "Permission denied"; both are named.
  if (!first.ok()) {
    EXPECT_NE(first.status().message().find("--daemon_listen t=tcp:"),
              std::string::npos);
    return;
  }
  absl::StatusOr<ListenSocket> second =
      BindListenSocket(Entry("t=tcp:127.0.0.1:1"), std::nullopt);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(
                "--daemon_listen t=tcp:127.0.0.1:1: bind: Address already "
                "in use"),
            std::string::npos)
      << second.status();
  close(first->fd);
}

// Runs `body` in a forked child whose descriptors 3.. and LISTEN_* are set
// up by `setup`; returns the child's exit code.
template <typename Body>
int InChild(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(ListenSocketsTest, AnActivatedNameWinsOverTheSameEntry) {
  const std::string dir = MakeTempDir("activated_wins");
  EXPECT_EQ(InChild([&dir] {
              int pair[2];
              if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
              if (dup2(pair[0], 3) != 3) return 2;
              setenv("LISTEN_PID", absl::StrCat(getpid()).c_str(), 1);
              setenv("LISTEN_FDS", "1", 1);
              setenv("LISTEN_FDNAMES", "echo", 1);
              absl::StatusOr<ListenSockets> sockets =
                  ListenSockets::Open({"echo=unix:" + dir + "/echo.sock",
                                       "other=unix:" + dir + "/other.sock"},
                                      std::nullopt);
              if (!sockets.ok()) return 3;
              if (sockets->Find("echo") != 3) return 4;
              if (sockets->Find("other") < 0) return 5;
              // The activated name was not bound.
              if (test_support::FileExists(dir + "/echo.sock")) return 6;
              if (!test_support::FileExists(dir + "/other.sock")) return 7;
              sockets->RemoveFiles();
              return test_support::FileExists(dir + "/other.sock") ? 8 : 0;
            }),
            0);
}

TEST(ListenSocketsTest, AFailedOpenLeavesNoSocketFile) {
  const std::string dir = MakeTempDir("failed_open");
  absl::StatusOr<ListenSockets> sockets = ListenSockets::Open(
      {"a=unix:" + dir + "/a.sock", "b=unix:" + dir + "/missing/b.sock"},
      std::nullopt);
  ASSERT_FALSE(sockets.ok());
  EXPECT_FALSE(test_support::FileExists(dir + "/a.sock"));
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
