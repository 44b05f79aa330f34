// Copyright 2026 The daemonkit Authors.
//
// Real writers: a forked child holds the output file open, and the warning
// this process prints on its stderr is read back from a file.

#include "daemon/internal/shared_output_warning.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/options.h"
#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace internal {
namespace {

using ::daemonkit::test_support::MakeTempDir;

// A child that holds `path` open with `flags` until the holder is
// destroyed; named `comm` (PR_SET_NAME).
class Holder {
 public:
  Holder(const std::string& path, int flags, const char* comm) {
    int ready[2], release[2];
    EXPECT_EQ(pipe(ready), 0);
    EXPECT_EQ(pipe(release), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(ready[0]);
      close(release[1]);
      prctl(PR_SET_NAME, comm);
      const int fd = open(path.c_str(), flags | O_CLOEXEC, 0640);
      const char byte = fd >= 0 ? 'y' : 'n';
      (void)!write(ready[1], &byte, 1);
      char ignored;
      (void)!read(release[0], &ignored, 1);  // until the parent closes it
      _exit(0);
    }
    close(ready[1]);
    close(release[0]);
    release_ = release[1];
    char byte = 0;
    EXPECT_EQ(read(ready[0], &byte, 1), 1);
    EXPECT_EQ(byte, 'y');
    close(ready[0]);
  }
  ~Holder() {
    close(release_);
    int status;
    waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
};

// What WarnIfOutputIsAnotherWritersFile(options) prints on stderr.
std::string Warning(const Options& options, const std::string& dir) {
  const std::string captured = dir + "/stderr.txt";
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  const int file = open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  EXPECT_GE(file, 0);
  dup2(file, STDERR_FILENO);
  close(file);
  WarnIfOutputIsAnotherWritersFile(options);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::ifstream in(captured);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SharedOutputWarningTest, AnotherWriterIsNamedOnce) {
  const std::string dir = MakeTempDir("shared_writer");
  const std::string log = dir + "/out.log";
  const Holder writer(log, O_WRONLY | O_CREAT | O_APPEND, "other\033[2J");
  Options options;
  options.stdout_path = log;
  options.stderr_path = log;  // the same file: one warning, for stdout
  const std::string warning = Warning(options, dir);
  EXPECT_EQ(warning,
            absl::StrCat(program_invocation_short_name,
                         ": warning: --daemon_stdout file ", log,
                         " is open for writing by pid ", writer.pid(),
                         " (other\\x1b[2J) too: the two interleave their "
                         "lines, and a reload of one does not reopen it for "
                         "the other; give each daemon a file of its own\n"));
}

TEST(SharedOutputWarningTest, AReaderIsNoWriter) {
  const std::string dir = MakeTempDir("shared_reader");
  const std::string log = dir + "/out.log";
  const Holder reader(log, O_RDONLY | O_CREAT, "reader");
  Options options;
  options.stderr_path = log;
  EXPECT_EQ(Warning(options, dir), "");
}

TEST(SharedOutputWarningTest, ThisProcessInheritAndMissingFilesSayNothing) {
  const std::string dir = MakeTempDir("shared_self");
  const std::string log = dir + "/out.log";
  const int own = open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  ASSERT_GE(own, 0);
  Options options;
  options.stdout_path = log;  // written by this process only
  options.stderr_path = std::string(kInheritStream);
  EXPECT_EQ(Warning(options, dir), "");
  close(own);
  options.stdout_path = dir + "/missing.log";
  EXPECT_EQ(Warning(options, dir), "");
}

}  // namespace
}  // namespace internal
}  // namespace daemonkit
