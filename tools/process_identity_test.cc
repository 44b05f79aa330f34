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

// Attack finding 6: a supervised worker's parent is its supervisor, in the
// worker's session by design, and without a controlling terminal.
TEST(CheckDaemonRulesTest, AWorkerOfASupervisorWithoutTerminalPasses) {
  ProcessIdentity id = DaemonLike();
  id.ppid = 50;
  id.parent_is_namespace_init = false;
  id.parent_sid = id.sid;
  id.parent_has_terminal = false;
  id.parent_runs_same_program = true;
  std::vector<Finding> findings = CheckDaemonRules(id);
  EXPECT_TRUE(AllRulesHold(findings)) << FormatFindings(findings);
  EXPECT_THAT(FormatFindings(findings),
              HasSubstr("PASS  not a child of an interactive shell (parent 50 "
                        "is inside session 99 but runs the same program "
                        "without a controlling terminal: its supervisor)"));
  // Another program's child, or one whose parent has a terminal, fails.
  id.parent_runs_same_program = false;
  EXPECT_FALSE(AllRulesHold(CheckDaemonRules(id)));
  id.parent_runs_same_program = true;
  id.parent_has_terminal = true;
  EXPECT_FALSE(AllRulesHold(CheckDaemonRules(id)));
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
         id.parent_has_terminal = true;
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

TEST(FormatJsonTest, EscapesWhatIsNotUtf8AndKeepsArgvBoundaries) {
  ProcessIdentity id = DaemonLike();
  id.argv = {"x", "a b", "", std::string("\xff\x1b[1m\n", 6)};
  id.command = "x a b  \xff";
  id.cwd = "/d\xc3\xa9\xed\xa0\x80\xc2\x9b";  // é, a surrogate, CSI (C1)
  const std::string json = FormatJson(id);
  EXPECT_THAT(json, HasSubstr(R"("argv":["x","a b","","\u00ff\u001b[1m\n"])"));
  EXPECT_THAT(json, HasSubstr(R"("command":"x a b  \u00ff")"));
  EXPECT_THAT(json,
              HasSubstr("\"cwd\":\"/d\xc3\xa9\\u00ed\\u00a0\\u0080\\u009b\""));
  EXPECT_THAT(json, HasSubstr(R"("kernel_thread":false)"));
}

TEST(FormatTextTest, EscapesControlCharactersAndBadBytes) {
  ProcessIdentity id = DaemonLike();
  id.command = "x\nFAIL  forged\x1b[2J\xff\\ \xc2\x9b";
  id.fds[1].target = "/tmp/a\rb";
  const std::string text = FormatText(id);
  EXPECT_THAT(text,
              HasSubstr("command         x\\nFAIL  forged\\x1b[2J\\xff\\\\ "
                        "\\xc2\\x9b\n"));
  EXPECT_THAT(text, HasSubstr("1 -> /tmp/a\\rb\n"));
  id.fds.push_back({7, "/x\n\x1b", false});
  EXPECT_THAT(FormatFindings(CheckDaemonRules(id)),
              HasSubstr("7 -> /x\\n\\x1b)"));
}

TEST(CheckDaemonRulesTest, KernelThreadIsNotApplicable) {
  ProcessIdentity id;
  id.pid = 2;
  id.sid = 0;
  id.kernel_thread = true;
  std::vector<Finding> findings = CheckDaemonRules(id);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].verdict, Finding::Verdict::kNotApplicable);
  EXPECT_TRUE(AllRulesHold(findings));
  EXPECT_EQ(FormatFindings(findings),
            "N/A   daemon(7) rules (pid 2 is a kernel thread)\n");
  EXPECT_THAT(FormatJson(id, &findings),
              HasSubstr(R"("verdict":"not applicable")"));
}

TEST(ReadProcessIdentityTest, ThisProcessIsNoKernelThreadButKthreaddIs) {
  absl::StatusOr<ProcessIdentity> self = ReadProcessIdentity(getpid());
  ASSERT_TRUE(self.ok());
  EXPECT_FALSE(self->kernel_thread);
  EXPECT_FALSE(self->argv.empty());
  // kthreadd is pid 2 outside a pid namespace; inside one, pid 2 is an
  // ordinary process or none.
  absl::StatusOr<ProcessIdentity> two = ReadProcessIdentity(2);
  if (!two.ok() || !two->argv.empty()) {
    GTEST_SKIP() << "no kernel thread visible (pid namespace)";
  }
  EXPECT_TRUE(two->kernel_thread);
}

}  // namespace
}  // namespace daemonkit
