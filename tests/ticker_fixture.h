// Copyright 2026 The daemonkit Authors.
//
// File: tests/ticker_fixture.h
// -----------------------------------------------------------------------------
//
// A test fixture that runs //examples:ticker with its pid file and outputs in
// a fresh directory (also its TMPDIR), and kills whatever daemon it left when
// the test ends: the one its pid file names and every one in started_.

#ifndef DAEMONKIT_TESTS_TICKER_FIXTURE_H_
#define DAEMONKIT_TESTS_TICKER_FIXTURE_H_

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing.h"

namespace daemonkit {
namespace test_support {

class TickerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The ticker's command line: its binary, this test's pid file and output
  // files, then `extra`.
  std::vector<std::string> TickerArgs(std::vector<std::string> extra) const;
  // Runs the ticker to completion; TMPDIR is dir_ unless `env` says else.
  RunResult Ticker(std::vector<std::string> extra,
                   const std::map<std::string, std::string>& env = {}) const;
  // Runs the ticker through bash after `prefix` (redirections, ulimit).
  RunResult TickerInShell(const std::string& prefix,
                          std::vector<std::string> extra) const;
  // Starts a daemon; its pid (also kept in started_), or 0 (with a test
  // failure).
  pid_t StartTicker(std::vector<std::string> extra = {});
  // Starts a daemon that ticks three times and ends by itself, and waits
  // until it is gone. Its pid, taken from the "Process id:" line of its log
  // (the pid file may be gone already), or 0 with a test failure.
  pid_t RunBriefDaemon(std::vector<std::string> extra);
  // /proc/PID/status.
  static std::string Status(pid_t pid);

  std::string dir_, pidfile_, log_, err_;
  // Daemons to kill at the end, besides the one the pid file names.
  std::vector<pid_t> started_;
};

}  // namespace test_support
}  // namespace daemonkit

#endif  // DAEMONKIT_TESTS_TICKER_FIXTURE_H_
