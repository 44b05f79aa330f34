// Copyright 2026 The daemonkit Authors.
//
// The caller's checks against real files, directories, links, threads,
// a locked pid file and a bound socket in $TEST_TMPDIR.

#include "daemon/internal/caller_checks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "daemon/internal/daemon_startup.h"
#include "daemon/internal/listen_sockets.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/options.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::MakeTempDir;

std::string Cwd() {
  char cwd[4096];
  EXPECT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  return cwd;
}

void Touch(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << path;
  std::fclose(file);
}

TEST(ResolveOptionsTest, ADetachedDaemonGetsDaemon7sDefaults) {
  Options options;
  options.detach = true;
  absl::StatusOr<Options> resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->workdir, "/");
  EXPECT_EQ(resolved->umask, 0u);
  EXPECT_EQ(resolved->stdout_path, "/dev/null");
  EXPECT_EQ(resolved->stderr_path, "/dev/null");
  EXPECT_EQ(resolved->core_dumps, false);
}

TEST(ResolveOptionsTest, InTheForegroundOnlyWhatIsAskedIsSet) {
  Options options;
  options.detach = false;
  absl::StatusOr<Options> resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_FALSE(resolved->workdir.has_value());
  EXPECT_FALSE(resolved->umask.has_value());
  EXPECT_FALSE(resolved->stdout_path.has_value());
  EXPECT_FALSE(resolved->core_dumps.has_value());
}

TEST(ResolveOptionsTest, RelativePathsBecomeAbsoluteAgainstTheCurrentOne) {
  Options options;
  options.detach = true;
  options.pidfile = "run/d.pid";
  options.child_pidfile = "w.pid";
  options.workdir = "data";
  options.stdout_path = "out.log";
  options.stderr_path = std::string(kInheritStream);
  options.listen = {"a=unix:s.sock", "b=unix:@abstract", "c=unix:/abs.sock",
                    "d=tcp:127.0.0.1:80"};
  absl::StatusOr<Options> resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const std::string cwd = Cwd();
  EXPECT_EQ(resolved->pidfile, cwd + "/run/d.pid");
  EXPECT_EQ(resolved->child_pidfile, cwd + "/w.pid");
  EXPECT_EQ(resolved->workdir, cwd + "/data");
  EXPECT_EQ(resolved->stdout_path, cwd + "/out.log");
  EXPECT_EQ(resolved->stderr_path, std::string(kInheritStream));
  EXPECT_EQ(resolved->listen[0], absl::StrCat("a=unix:", cwd, "/s.sock"));
  EXPECT_EQ(resolved->listen[1], "b=unix:@abstract");
  EXPECT_EQ(resolved->listen[2], "c=unix:/abs.sock");
  EXPECT_EQ(resolved->listen[3], "d=tcp:127.0.0.1:80");
}

TEST(ResolveOptionsTest, TheNullDeviceIsSpelledOneWay) {
  Options options;
  options.stdout_path = "/dev/./null";
  options.stderr_path = "//dev//null";
  absl::StatusOr<Options> resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->stdout_path, "/dev/null");
  EXPECT_EQ(resolved->stderr_path, "/dev/null");
  // ".." and a trailing slash are left alone, to fail or mean what they say.
  options.stdout_path = "/dev/../dev/null";
  options.stderr_path = "/dev/null/";
  resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->stdout_path, "/dev/../dev/null");
  EXPECT_EQ(resolved->stderr_path, "/dev/null/");
}

TEST(ResolveOptionsTest, UnderAChrootTheWorkdirIsAPlaceInsideIt) {
  Options options;
  options.chroot = "/srv/jail";
  options.workdir = "data";
  absl::StatusOr<Options> resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->workdir, "/data");
  options.workdir.reset();
  resolved = ResolveOptions(options);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->workdir, "/");
}

TEST(CheckDirectoriesTest, ADirectoryPassesAMissingOneOrALinkIsNamed) {
  const std::string dir = MakeTempDir("check_directories");
  Options options;
  options.workdir = dir;
  EXPECT_TRUE(CheckDirectories(options).ok());
  options.workdir = dir + "/missing";
  absl::Status missing = CheckDirectories(options);
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.message(), "workdir"))
      << missing.message();
  ASSERT_EQ(symlink(dir.c_str(), (dir + "/link").c_str()), 0);
  options.workdir = dir + "/link";
  EXPECT_FALSE(CheckDirectories(options).ok());
  Touch(dir + "/file");
  options.workdir = dir + "/file";
  EXPECT_FALSE(CheckDirectories(options).ok());
}

TEST(CheckDirectoriesTest, TheWorkdirIsLookedForInsideTheChroot) {
  const std::string jail = MakeTempDir("check_chroot");
  ASSERT_EQ(mkdir((jail + "/inside").c_str(), 0700), 0);
  Options options;
  options.chroot = jail;
  options.workdir = "/inside";
  EXPECT_TRUE(CheckDirectories(options).ok());
  options.workdir = "/elsewhere";
  EXPECT_FALSE(CheckDirectories(options).ok());
  options.chroot = jail + "/missing";
  absl::Status missing = CheckDirectories(options);
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.message(), "chroot"))
      << missing.message();
}

TEST(CheckFilesAreDistinctTest, AHardLinkToThePidFileIsTheSameFile) {
  const std::string dir = MakeTempDir("distinct_link");
  Touch(dir + "/a.pid");
  ASSERT_EQ(link((dir + "/a.pid").c_str(), (dir + "/b.pid").c_str()), 0);
  Options options;
  options.pidfile = dir + "/a.pid";
  options.child_pidfile = dir + "/b.pid";
  absl::Status status = CheckFilesAreDistinct(options);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(IsUsageError(status));
  EXPECT_EQ(UsageErrorField(status), "child_pidfile");
  EXPECT_EQ(status.message(),
            absl::StrCat(dir, "/b.pid and ", dir,
                         "/a.pid are the same file, given twice; the pid "
                         "file, the worker's pid file and the output files "
                         "must be different files"));
}

TEST(CheckFilesAreDistinctTest, AMissingFileIsFoundThroughADirectoryLink) {
  const std::string dir = MakeTempDir("distinct_missing");
  ASSERT_EQ(symlink(dir.c_str(), (dir + "/alias").c_str()), 0);
  Options options;
  options.pidfile = dir + "/d.pid";  // neither exists yet
  options.stderr_path = dir + "/alias/d.pid";
  absl::Status status = CheckFilesAreDistinct(options);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(UsageErrorField(status), "stderr_path");
}

TEST(CheckFilesAreDistinctTest, SharedOutputsAndTheNullDeviceAreAllowed) {
  const std::string dir = MakeTempDir("distinct_ok");
  Options options;
  options.pidfile = dir + "/d.pid";
  options.child_pidfile = dir + "/w.pid";
  options.stdout_path = dir + "/out.log";
  options.stderr_path = dir + "/out.log";  // stdout and stderr may share
  EXPECT_TRUE(CheckFilesAreDistinct(options).ok());
  options.stdout_path = "/dev/null";
  options.stderr_path = std::string(kInheritStream);
  EXPECT_TRUE(CheckFilesAreDistinct(options).ok());
}

TEST(CheckSingleThreadedTest, ASecondThreadIsRefusedAndCounted) {
  ASSERT_TRUE(CheckSingleThreaded().ok());
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::thread other([&] {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return finished; });
  });
  absl::Status status = CheckSingleThreaded();
  // Two, and under ThreadSanitizer its runtime's own thread besides.
  const absl::StatusOr<int> threads = CountThreads();
  {
    std::lock_guard<std::mutex> lock(mutex);
    finished = true;
  }
  done.notify_all();
  other.join();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(threads.ok()) << threads.status();
  EXPECT_GE(*threads, 2);
  EXPECT_TRUE(absl::StrContains(status.message(),
                                absl::StrCat("runs ", *threads, " threads")))
      << status.message();
}

TEST(CheckSuccessorOptionsTest, ADropChrootOrSupervisionTakesARestart) {
  Options options;
  EXPECT_TRUE(CheckSuccessorOptions(options).ok());
  for (int which = 0; which < 4; ++which) {
    Options changed;
    if (which == 0) changed.user = "nobody";
    if (which == 1) changed.group = "nogroup";
    if (which == 2) changed.chroot = "/srv";
    if (which == 3) changed.restart = RestartPolicy::kAlways;
    absl::Status status = CheckSuccessorOptions(changed);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << which;
    EXPECT_TRUE(absl::StrContains(status.message(), "restart the daemon"));
  }
}

TEST(CheckReadyFdIsNoneOfOursTest, NoneOrAPipeIsTheManagers) {
  StartRequest request;
  EXPECT_TRUE(CheckReadyFdIsNoneOfOurs(request).ok());  // -1: none
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  const UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  request.options.ready_fd = write_end.get();
  EXPECT_TRUE(CheckReadyFdIsNoneOfOurs(request).ok());
}

TEST(CheckReadyFdIsNoneOfOursTest, TheLockedPidFileIsRefused) {
  const std::string dir = MakeTempDir("ready_pidfile");
  absl::StatusOr<PidFile> pidfile =
      PidFile::Acquire(dir + "/d.pid", absl::Seconds(1));
  ASSERT_TRUE(pidfile.ok()) << pidfile.status();
  StartRequest request;
  request.pidfile = *std::move(pidfile);
  // Another descriptor of the same file is the same file.
  const UniqueFd again(open((dir + "/d.pid").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(again.valid());
  request.options.ready_fd = again.get();
  absl::Status status = CheckReadyFdIsNoneOfOurs(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            absl::StrCat("--daemon_ready_fd=", again.get(), " is the pid file ",
                         dir, "/d.pid, not the service manager's descriptor"));
  request.pidfile->Remove();
}

TEST(CheckReadyFdIsNoneOfOursTest, AListeningSocketIsRefused) {
  absl::StatusOr<ListenSockets> sockets = ListenSockets::Open(
      {absl::StrCat("web=unix:@dk-caller-checks-", getpid())}, std::nullopt,
      false);
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  StartRequest request;
  request.sockets = *std::move(sockets);
  request.options.ready_fd = request.sockets.Find("web");
  absl::Status status = CheckReadyFdIsNoneOfOurs(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            absl::StrCat("--daemon_ready_fd=", request.options.ready_fd,
                         " is the listening socket web, not the service "
                         "manager's descriptor"));
  request.sockets.Close();
}

TEST(CheckReadyFdIsNoneOfOursTest, AClosedDescriptorNamesFstat) {
  StartRequest request;
  int fd;
  {
    const UniqueFd closed(open("/dev/null", O_RDONLY | O_CLOEXEC));
    fd = closed.get();
  }
  request.options.ready_fd = fd;
  absl::Status status = CheckReadyFdIsNoneOfOurs(request);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(absl::StrContains(
      status.message(), absl::StrCat("--daemon_ready_fd=", fd, ": fstat")))
      << status.message();
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
