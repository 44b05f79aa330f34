// Copyright 2026 The daemonkit Authors.

#include "tools/output_relay.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "daemon/options.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string ReadAll(const std::string& path) {
  std::string text;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

// Points this process's descriptor `target` at a fresh file at `path`, as
// the library's reopen does; the descriptor it replaced is kept to put back.
class Redirect {
 public:
  Redirect(int target, const std::string& path)
      : target_(target), saved_(fcntl(target, F_DUPFD_CLOEXEC, 10)) {
    Reopen(path);
  }
  ~Redirect() {
    dup2(saved_, target_);
    close(saved_);
  }
  void Reopen(const std::string& path) const {
    const int fd =
        open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(dup2(fd, target_), target_);
    close(fd);
  }

 private:
  const int target_;
  const int saved_;
};

void WriteAll(int fd, const std::string& text) {
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
}

TEST(OutputRelayTest, OnlyFilesAreRelayed) {
  Options options;
  options.stdout_path = "/dev/null";
  options.stderr_path = std::string(kInheritStream);
  absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
  ASSERT_TRUE(relay.ok()) << relay.status();
  EXPECT_EQ(relay->outputs().stdout_fd, -1);
  EXPECT_EQ(relay->outputs().stderr_fd, -1);
  EXPECT_EQ(relay->read_fds()[0], -1);
  EXPECT_EQ(relay->read_fds()[1], -1);
  relay->Pump();  // nothing to do, and no blocking

  Options unset;  // the foreground's default: the caller's streams
  relay = OutputRelay::Create(unset);
  ASSERT_TRUE(relay.ok()) << relay.status();
  EXPECT_EQ(relay->outputs().stdout_fd, -1);
  EXPECT_EQ(relay->outputs().stderr_fd, -1);
}

TEST(OutputRelayTest, OneFileForBothStreamsIsOnePipe) {
  // Named two ways (the relay judges the files descriptors 1 and 2 are).
  Options options;
  options.stdout_path = TempPath("both.log");
  options.stderr_path = TempPath("./both.log");
  const std::string path = TempPath("both.log");
  std::optional<Redirect> out, err;
  out.emplace(1, path);
  const int again = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(again, 0);
  err.emplace(2, "/dev/null");
  ASSERT_EQ(dup2(again, 2), 2);
  close(again);
  absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
  ASSERT_TRUE(relay.ok()) << relay.status();
  const internal::ProgramOutputs outputs = relay->outputs();
  // Lines of both streams arrive in the order written, in stdout's file.
  WriteAll(outputs.stdout_fd, "one\n");
  WriteAll(outputs.stderr_fd, "two\n");
  WriteAll(outputs.stdout_fd, "three\n");
  relay->Pump();
  const std::array<int, 2> read_fds = relay->read_fds();
  err.reset();
  out.reset();  // (gtest's own output goes to 1 and 2 again)
  ASSERT_GE(outputs.stdout_fd, 0);
  ASSERT_GE(outputs.stderr_fd, 0);
  EXPECT_NE(outputs.stdout_fd, outputs.stderr_fd);
  EXPECT_GE(read_fds[0], 0);
  EXPECT_EQ(read_fds[1], -1);
  // Close-on-exec: only the program's 1 and 2 (dup2) carry them over.
  EXPECT_EQ(fcntl(outputs.stdout_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(fcntl(outputs.stderr_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(fcntl(read_fds[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  EXPECT_EQ(ReadAll(path), "one\ntwo\nthree\n");
}

// The point of the relay: what the program writes after the monitor
// reopened its file (logrotate renamed the old one) lands in the new file,
// and what it wrote before stays in the old one; a line under way when the
// file changed goes whole into the new one.
TEST(OutputRelayTest, LinesFollowTheReopenedFileWhole) {
  Options options;
  options.stdout_path = TempPath("out.log");
  options.stderr_path = TempPath("err.log");
  std::optional<Redirect> out, err;
  out.emplace(1, TempPath("out.log"));
  err.emplace(2, TempPath("err.log"));
  absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
  ASSERT_TRUE(relay.ok()) << relay.status();
  const internal::ProgramOutputs outputs = relay->outputs();
  WriteAll(outputs.stdout_fd, "before\nhalf ");
  WriteAll(outputs.stderr_fd, "complaint before\n");
  relay->Pump();
  out->Reopen(TempPath("out.log.new"));
  err->Reopen(TempPath("err.log.new"));
  WriteAll(outputs.stdout_fd, "a line\nafter\n");
  WriteAll(outputs.stderr_fd, "complaint after\n");
  relay->Pump();
  relay->Pump();  // an empty pipe: returns at once
  err.reset();
  out.reset();
  ASSERT_GE(outputs.stdout_fd, 0);
  ASSERT_GE(outputs.stderr_fd, 0);
  EXPECT_EQ(ReadAll(TempPath("out.log")), "before\n");
  EXPECT_EQ(ReadAll(TempPath("err.log")), "complaint before\n");
  EXPECT_EQ(ReadAll(TempPath("out.log.new")), "half a line\nafter\n");
  EXPECT_EQ(ReadAll(TempPath("err.log.new")), "complaint after\n");
}

// A run that ended mid-line: FinishLines ends it, so that the next run's
// first line is a line of its own.
TEST(OutputRelayTest, FinishLinesEndsAnUnfinishedLine) {
  Options options;
  options.stdout_path = TempPath("cut.log");
  std::optional<Redirect> out;
  out.emplace(1, TempPath("cut.log"));
  absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
  ASSERT_TRUE(relay.ok()) << relay.status();
  const int writer = relay->outputs().stdout_fd;
  WriteAll(writer, "whole\ncut off");
  relay->Pump();
  const std::string pumped = ReadAll(TempPath("cut.log"));
  relay->FinishLines();
  WriteAll(writer, "next run\n");
  relay->FinishLines();  // nothing unfinished: no empty line
  out.reset();
  EXPECT_EQ(pumped, "whole\n");
  EXPECT_EQ(ReadAll(TempPath("cut.log")), "whole\ncut off\nnext run\n");
}

// A file that cannot be written (/dev/full: ENOSPC) loses the lines, and
// the file says how many bytes once writes work again.
TEST(OutputRelayTest, LostOutputIsCountedInTheFile) {
  Options options;
  options.stdout_path = TempPath("full.log");
  std::optional<Redirect> out;
  out.emplace(1, TempPath("full.log"));
  absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
  ASSERT_TRUE(relay.ok()) << relay.status();
  const int writer = relay->outputs().stdout_fd;
  WriteAll(writer, "kept\n");
  relay->Pump();
  const int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  const int saved = fcntl(1, F_DUPFD_CLOEXEC, 10);
  ASSERT_EQ(dup2(full, 1), 1);
  close(full);
  WriteAll(writer, "lost one\nlost two\n");
  relay->Pump();
  ASSERT_EQ(dup2(saved, 1), 1);
  close(saved);
  WriteAll(writer, "back\n");
  relay->Pump();
  out.reset();
  EXPECT_EQ(ReadAll(TempPath("full.log")),
            "kept\ndaemonkit: 18 bytes of the program's output were lost (the "
            "file could not be written)\nback\n");
}

// A program that writes more than one pump takes: each call copies a
// bounded amount, and the rest comes with the next calls, none lost.
TEST(OutputRelayTest, ABigBurstArrivesWholeOverSeveralPumps) {
  Options options;
  options.stdout_path = TempPath("burst.log");
  std::optional<Redirect> out;
  out.emplace(1, TempPath("burst.log"));
  absl::StatusOr<OutputRelay> relay = OutputRelay::Create(options);
  ASSERT_TRUE(relay.ok()) << relay.status();
  const int writer = relay->outputs().stdout_fd;
  // What the pipe takes without a reader: 1 MiB where root may size it so,
  // else the default 64 kB.
  const int capacity = fcntl(writer, F_GETPIPE_SZ);
  std::string line(99, 'x');
  line += '\n';
  std::string written;
  for (int round = 0; round < 3 && capacity > 0; ++round) {
    std::string chunk;
    while (chunk.size() + line.size() <= static_cast<size_t>(capacity)) {
      chunk += line;
    }
    WriteAll(writer, chunk);
    written += chunk;
    relay->Pump();
  }
  out.reset();
  ASSERT_GT(capacity, 0);
  EXPECT_EQ(ReadAll(TempPath("burst.log")).size(), written.size());
}

}  // namespace
}  // namespace daemonkit
