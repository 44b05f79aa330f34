// Copyright 2026 The daemonkit Authors.

#include "tests/ticker_fixture.h"

#include "absl/strings/str_cat.h"

namespace daemonkit {
namespace test_support {

void TickerFixture::SetUp() {
  dir_ = MakeTempDir("ticker");
  pidfile_ = dir_ + "/ticker.pid";
  log_ = dir_ + "/ticker.log";
  err_ = dir_ + "/ticker.err";
}

void TickerFixture::TearDown() {
  for (pid_t pid : started_) KillAndWait(pid);
  KillPidFileHolder(pidfile_);
}

std::vector<std::string> TickerFixture::TickerArgs(
    std::vector<std::string> extra) const {
  std::vector<std::string> argv = {
      RunfilePath("examples/ticker"), "--daemon_pidfile=" + pidfile_,
      "--daemon_stdout=" + log_, "--daemon_stderr=" + err_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

RunResult TickerFixture::Ticker(
    std::vector<std::string> extra,
    const std::map<std::string, std::string>& env) const {
  std::map<std::string, std::string> environment = env;
  environment.emplace("TMPDIR", dir_);
  return RunProgram(TickerArgs(std::move(extra)), environment);
}

RunResult TickerFixture::TickerInShell(const std::string& prefix,
                                       std::vector<std::string> extra) const {
  std::string command = prefix + " exec";
  for (const std::string& arg : TickerArgs(std::move(extra))) {
    absl::StrAppend(&command, " '", arg, "'");
  }
  return RunProgram({"/bin/bash", "-c", command});
}

pid_t TickerFixture::StartTicker(std::vector<std::string> extra) {
  RunResult start = Ticker(std::move(extra));
  EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = ReadPid(pidfile_);
  if (pid > 0) started_.push_back(pid);
  return pid;
}

pid_t TickerFixture::RunBriefDaemon(std::vector<std::string> extra) {
  extra.push_back("--interval=1ms");
  extra.push_back("--count=3");
  RunResult start = Ticker(std::move(extra));
  EXPECT_EQ(start.exit_code, 0) << start.stderr_text;
  const pid_t pid = TickerPidFromLog(log_);
  EXPECT_GT(pid, 0) << "no \"Process id:\" line in " << log_;
  if (pid <= 0) return 0;
  EXPECT_TRUE(WaitUntilGone(pid)) << "pid " << pid << " did not end";
  return pid;
}

std::string TickerFixture::Status(pid_t pid) {
  return ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
}

}  // namespace test_support
}  // namespace daemonkit
