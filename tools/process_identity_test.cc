// Copyright 2026 The daemonkit Authors.

#include "tools/process_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace daemonkit {
namespace {

using ::testing::HasSubstr;

TEST(ReadProcessIdentityTest, MatchesWhatTheProcessKnowsOfItself) {
  const mode_t old_umask = umask(027);
  absl::StatusOr<ProcessIdentity> identity = ReadProcessIdentity(getpid());
  umask(old_umask);
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->pid, getpid());
  EXPECT_EQ(identity->ppid, getppid());
  EXPECT_EQ(identity->pgid, getpgrp());
  EXPECT_EQ(identity->sid, getsid(0));
  EXPECT_EQ(identity->session_leader, getsid(0) == getpid());
  EXPECT_EQ(identity->uid, getuid());
  EXPECT_EQ(identity->euid, geteuid());
  EXPECT_EQ(identity->gid, getgid());
  EXPECT_EQ(identity->egid, getegid());
  ASSERT_TRUE(identity->umask.has_value());
  EXPECT_EQ(*identity->umask, 027u);
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(identity->cwd, cwd);
  EXPECT_THAT(identity->command, HasSubstr("process_identity_test"));
}

TEST(ReadProcessIdentityTest, ListsOpenDescriptors) {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<ProcessIdentity> identity = ReadProcessIdentity(getpid());
  close(fd);
  ASSERT_TRUE(identity.ok()) << identity.status();
  bool found = false;
  for (const OpenDescriptor& d : identity->fds) {
    if (d.fd == fd) {
      found = true;
      EXPECT_EQ(d.target, "/dev/null");
      EXPECT_FALSE(d.is_terminal);
    }
  }
  EXPECT_TRUE(found);
}

TEST(ReadProcessIdentityTest, MissingProcessIsNotFound) {
  // pid_max is at most 4194304, so this pid cannot exist.
  absl::StatusOr<ProcessIdentity> identity = ReadProcessIdentity(4194305);
  EXPECT_TRUE(absl::IsNotFound(identity.status())) << identity.status();
}

ProcessIdentity DaemonLike() {
  ProcessIdentity id;
  id.pid = 100;
  id.ppid = 1;
  id.pgid = 99;
  id.sid = 99;
  id.parent_is_namespace_init = true;
  id.cwd = "/";
  id.umask = 0;
  id.fds = {{0, "/dev/null", false},
            {1, "/var/log/x.log", false},
            {2, "/var/log/x.log", false},
            {3, "/run/x.pid", false}};
  id.command = "x \"quoted\"";
  return id;
}

TEST(CheckDaemonRulesTest, PassesADaemonAndListsDescriptorsAboveTwo) {
  std::vector<Finding> findings = CheckDaemonRules(DaemonLike());
  EXPECT_TRUE(AllRulesHold(findings)) << FormatFindings(findings);
  EXPECT_THAT(FormatFindings(findings),
              HasSubstr("INFO  descriptors above 2 (3 -> /run/x.pid)"));
}

TEST(CheckDaemonRulesTest, EachRuleCanFail) {
  struct Case {
    std::string rule;
    void (*spoil)(ProcessIdentity&);
  };
  const Case cases[] = {
      {"not a session leader",
       [](ProcessIdentity& id) {
         id.sid = id.pid;
         id.session_leader = true;
       }},
      {"no controlling terminal",
       [](ProcessIdentity& id) { id.tty = "/dev/pts/3"; }},
      {"no descriptor open on a terminal",
       [](ProcessIdentity& id) {
         id.fds[2] = {2, "/dev/pts/3", true};
       }},
      {"stdin on /dev/null",
       [](ProcessIdentity& id) { id.fds[0].target = "/dev/zero"; }},
      {"not a child of an interactive shell",
       [](ProcessIdentity& id) {
         id.ppid = 50;
         id.parent_is_namespace_init = false;
         id.parent_sid = id.sid;
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    ProcessIdentity id = DaemonLike();
    c.spoil(id);
    std::vector<Finding> findings = CheckDaemonRules(id);
    EXPECT_FALSE(AllRulesHold(findings));
    EXPECT_THAT(FormatFindings(findings), HasSubstr("FAIL  " + c.rule));
  }
}

TEST(FormatJsonTest, HasEveryKeyAndEscapesStrings) {
  const std::string json = FormatJson(DaemonLike());
  for (const char* key :
       {"pid", "ppid", "pgid", "sid", "session_leader", "tty", "uid", "euid",
        "gid", "egid", "groups", "cwd", "umask", "fds", "command"}) {
    EXPECT_THAT(json, HasSubstr(absl::StrCat("\"", key, "\":"))) << key;
  }
  EXPECT_THAT(json, HasSubstr("\"tty\":null"));
  EXPECT_THAT(json, HasSubstr("\"umask\":\"0000\""));
  EXPECT_THAT(json, HasSubstr("{\"fd\":3,\"target\":\"/run/x.pid\"}"));
  EXPECT_THAT(json, HasSubstr("\"command\":\"x \\\"quoted\\\"\""));
}

}  // namespace
}  // namespace daemonkit
