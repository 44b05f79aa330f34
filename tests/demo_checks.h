// Copyright 2026 The daemonkit Authors.
//
// What the tests of the demo's ticker in other languages (issue 21: the C
// example, the Go program run by //tools:daemonkit and daemonized through
// the C API) check alike: the demo's output lines and daemon(7) in /proc.

#ifndef DAEMONKIT_TESTS_DEMO_CHECKS_H_
#define DAEMONKIT_TESTS_DEMO_CHECKS_H_

#include <sys/types.h>

#include <string>

namespace daemonkit {
namespace test_support {

// Whether `line` is an RFC 3339 timestamp with microseconds and a numeric
// offset: "2026-11-25T12:00:00.123456+00:00".
bool IsDemoTimestamp(const std::string& line);

// Waits (generously) until `log` holds the demo's three lines ("Run
// daemon", "User gid: <egid>, uid: <euid>" of this test, "Process id:
// <pid> <ppid>" with `pid`) and at least `ticks` timestamp lines after
// them, and checks them (gtest failures).
void ExpectDemoOutput(const std::string& log, pid_t pid, int ticks);

// daemon(7) as /proc shows `pid`: running, no controlling terminal, in a
// session other than the test's, not the test's child, stdin /dev/null.
void ExpectDaemonInProc(pid_t pid);

}  // namespace test_support
}  // namespace daemonkit

#endif  // DAEMONKIT_TESTS_DEMO_CHECKS_H_
