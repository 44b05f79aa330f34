// Copyright 2026 The daemonkit Authors.
//
// StartInForeground in a real (forked) process: the steps the options ask
// for happen to that process (outputs, umask, workdir, its pid in the
// locked pid file), and a failed step leaves nothing behind once the caller
// removes what was made.

#include "daemon/internal/daemon_startup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/internal/output_files.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "daemon/options.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

// A fresh path in a directory of its own under $TEST_TMPDIR.
std::string TempPath(const std::string& name) {
  return test_support::MakeTempDir(name) + "/" + name;
}

// Prepares a request as daemonize.cc does before it would fork: the pid
// file locked, the output file opened.
StartRequest MakeRequest(const std::string& pidfile,
                         const std::string& stdout_path) {
  StartRequest request;
  request.options.detach = false;
  request.options.pidfile = pidfile;
  request.options.stdout_path = stdout_path;
  absl::StatusOr<PidFile> file = PidFile::Acquire(pidfile, absl::Seconds(1));
  EXPECT_TRUE(file.ok()) << file.status();
  if (file.ok()) request.pidfile.emplace(std::move(*file));
  absl::StatusOr<OutputFiles> outputs =
      OutputFiles::Open(stdout_path, std::nullopt);
  EXPECT_TRUE(outputs.ok()) << outputs.status();
  if (outputs.ok()) request.outputs = std::move(*outputs);
  return request;
}

TEST(DaemonStartupTest, ForegroundAppliesWhatIsAskedToThisProcess) {
  const std::string pidfile = TempPath("fg.pid");
  const std::string out = TempPath("fg.out");
  const std::string workdir = TempPath("fg_workdir");
  ASSERT_EQ(mkdir(workdir.c_str(), 0755), 0);
  int release[2];
  int started[2];
  ASSERT_EQ(pipe2(release, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(started, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(release[1]);
    close(started[0]);
    StartRequest request = MakeRequest(pidfile, out);
    request.options.umask = 027;
    request.options.workdir = workdir;
    absl::StatusOr<StartedDaemon> daemon = StartInForeground(request);
    if (!daemon.ok()) {
      std::fprintf(stderr, "%s\n", daemon.status().ToString().c_str());
      _exit(3);
    }
    if (daemon->detached || !daemon->pidfile || daemon->signal_fd < 0) {
      _exit(4);
    }
    std::printf("hello from %d\n", getpid());
    std::fflush(stdout);
    (void)write(started[1], "S", 1);
    char byte;
    (void)read(release[0], &byte, 1);
    daemon->pidfile->Remove();
    _exit(0);
  }
  close(release[0]);
  close(started[1]);
  char byte = 0;
  ASSERT_EQ(read(started[0], &byte, 1), 1) << "the child failed to start";
  close(started[0]);

  absl::StatusOr<std::string> pid_text = ReadSmallFile(pidfile);
  ASSERT_TRUE(pid_text.ok()) << pid_text.status();
  EXPECT_EQ(*pid_text, absl::StrCat(child, "\n"));
  absl::StatusOr<PidFileProbe> probe = ProbePidFile(pidfile);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->state, PidFileProbe::State::kLocked);
  absl::StatusOr<std::string> output = ReadSmallFile(out);
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(*output, absl::StrCat("hello from ", child, "\n"));
  struct stat st;
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640);
  absl::StatusOr<std::string> status =
      ReadSmallFile(absl::StrCat("/proc/", child, "/status"));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(absl::StrContains(*status, "Umask:\t0027")) << *status;
  char cwd[4096];
  const ssize_t n = readlink(absl::StrCat("/proc/", child, "/cwd").c_str(), cwd,
                             sizeof(cwd) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(cwd, n), workdir);

  close(release[1]);
  const int wait_status = test_support::ReapChild(child);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
      << wait_status;
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0);  // removed on a clean exit
  unlink(out.c_str());
  rmdir(workdir.c_str());
}

TEST(DaemonStartupTest, MissingWorkdirFailsAndLeavesNothing) {
  const std::string pidfile = TempPath("bad.pid");
  const std::string out = TempPath("bad.out");
  const std::string workdir = TempPath("no_such_workdir");
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(report[0]);
    StartRequest request = MakeRequest(pidfile, out);
    request.options.workdir = workdir;
    absl::StatusOr<StartedDaemon> daemon = StartInForeground(request);
    if (daemon.ok()) _exit(0);
    request.RemoveWhatWasMade();
    const std::string message(daemon.status().message());
    (void)write(report[1], message.data(), message.size());
    _exit(1);
  }
  close(report[1]);
  std::string message;
  char buffer[512];
  ssize_t n;
  while ((n = read(report[0], buffer, sizeof(buffer))) > 0) {
    message.append(buffer, n);
  }
  close(report[0]);
  const int wait_status = test_support::ReapChild(child);
  EXPECT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 1)
      << wait_status;
  EXPECT_TRUE(absl::StrContains(message, workdir)) << message;
  EXPECT_TRUE(absl::StrContains(message, "No such file or directory"))
      << message;
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0);
  EXPECT_NE(access(out.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
