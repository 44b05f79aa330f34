// Copyright 2026 The daemonkit Authors.
//
// Runs in the program's process between fork and exec (ExecInChild), and
// in the monitor reading what it reported (ReadChildFailure).

#include "daemon/internal/program_child.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "daemon/internal/descriptors.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/privileges.h"
#include "daemon/internal/process_controls.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

// What the child reports when it cannot become the program: one write,
// under PIPE_BUF, so it arrives whole.
struct ChildFailure {
  enum Stage : int { kSetup = 0, kPrivileges = 1, kExec = 2, kCgroup = 3 };
  int stage = kSetup;
  int error = 0;
  // kPrivileges: a message (DropPrivileges', a chroot's naming its path).
  char text[2048] = {};
};
static_assert(sizeof(ChildFailure) < PIPE_BUF);

// The child's steps, each reporting its own failure.
class ProgramChild {
 public:
  explicit ProgramChild(const ChildSetup& setup)
      : setup_(setup), identity_(*setup.identity) {}

  [[noreturn]] void Run() {
    DieWithMonitor();
    JoinCgroup();
    ResetSignalDispositions();
    TakeLimitsAndIdentity();
    PlaceDescriptors();
    // Last, once the descriptors are in place (see TakeLimitsAndIdentity).
    Check(ApplyResourceLimits(descriptor_limits_));
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, nullptr) != 0) {
      Fail(ChildFailure::kSetup, errno);
    }
    Exec();
  }

 private:
  [[noreturn]] void Fail(int stage, int error,
                         absl::string_view text = "") const {
    ChildFailure failure;
    failure.stage = stage;
    failure.error = error;
    text.copy(failure.text, sizeof(failure.text) - 1);
    (void)!write(setup_.report, &failure, sizeof(failure));
    _exit(127);
  }

  void Check(const absl::Status& status) const {
    if (!status.ok()) Fail(ChildFailure::kPrivileges, 0, status.message());
  }

  // The lock lives in the monitor: a program without it would run unseen
  // and a second one could start beside it.
  void DieWithMonitor() const {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
      Fail(ChildFailure::kSetup, errno);
    }
    if (getppid() != setup_.monitor) _exit(127);
  }

  // Into the program's own cgroup before anything else (issue 21.3): as
  // the monitor's user, which may move it (a dropped user may not), and
  // before anything could fork, so that nothing of the program starts
  // outside it.
  void JoinCgroup() const {
    if (setup_.cgroup_procs >= 0 && write(setup_.cgroup_procs, "0", 1) != 1) {
      Fail(ChildFailure::kCgroup, errno);
    }
  }

  static void ResetSignalDispositions() {
    struct sigaction action = {};
    action.sa_handler = SIG_DFL;
    for (int signo = 1; signo < NSIG; ++signo) {
      if (signo == SIGKILL || signo == SIGSTOP) continue;
      (void)sigaction(signo, &action, nullptr);  // EINVAL for glibc's own
    }
  }

  // --daemon_user, --daemon_group: the program's, not the monitor's, which
  // keeps the pid file's lock and its right to write it.
  // A `nofile` limit is set last, once the descriptors are in place: the
  // set-up below moves them through numbers above the program's own, which
  // a small limit refused with a bare EINVAL or EBADF (the attack of
  // 2026-12-07). Only its raise of the hard limit comes now, while the
  // process may still raise one. Lowering a limit needs no privilege.
  void TakeLimitsAndIdentity() {
    std::vector<LimitRequest> other_limits;
    for (const LimitRequest& limit : identity_.limits) {
      (limit.name == "nofile" ? descriptor_limits_ : other_limits)
          .push_back(limit);
    }
    Check(ApplyResourceLimits(other_limits));
    Check(RaiseHardLimits(descriptor_limits_));
    EnterRoot();
    if (identity_.credentials) DropToIdentity();
  }

  // --daemon_chroot, before the drop (which takes the right to chroot) and
  // before the exec, which then finds the program inside the new root.
  void EnterRoot() const {
    if (identity_.root.empty()) return;
    // In the foreground the caller's descriptors are handed down as they
    // are: a directory among them would lead out of the root.
    Check(CloseDirectoryDescriptors());
    if (chroot(identity_.root.c_str()) != 0) {
      Fail(ChildFailure::kPrivileges, 0,
           absl::StrCat("--daemon_chroot=", identity_.root,
                        ": chroot: ", strerror(errno)));
    }
    const std::string workdir =
        identity_.workdir.empty() ? "/" : identity_.workdir;
    if (chdir(workdir.c_str()) != 0) {
      Fail(ChildFailure::kPrivileges, 0,
           absl::StrCat("--daemon_workdir=", workdir,
                        " inside --daemon_chroot=", identity_.root, ": ",
                        strerror(errno)));
    }
  }

  void DropToIdentity() const {
    // The library's own order (daemon_startup.cc): the bounding set and
    // PR_SET_KEEPCAPS before the drop, the kept sets (ambient too) and
    // PR_SET_NO_NEW_PRIVS after it.
    CapabilityKeeper capabilities(
        identity_.capabilities,
        identity_.no_new_privs && identity_.credentials->uid != 0);
    Check(capabilities.Prepare());
    Check(DropPrivileges(*identity_.credentials));
    Check(capabilities.Finish());
    // A kept capability must not undo the drop (cap_setuid).
    if (!identity_.capabilities.empty() && setuid(0) == 0) {
      Fail(ChildFailure::kPrivileges, 0,
           "--daemon_capabilities: the program could regain root after "
           "dropping privileges; refusing to run it");
    }
    // The kernel clears the parent-death signal when the credentials
    // change: without this a program that dropped to --daemon_user
    // outlived a SIGKILLed monitor, unseen, and a second start ran beside
    // it (the second attack of 2026-12-06).
    DieWithMonitor();
  }

  void PlaceDescriptors() const {
    // The output relay's pipes first: their numbers may be among the
    // sockets' targets below (dup2 clears CLOEXEC on 1 and 2 only).
    const ProgramOutputs& outputs = setup_.outputs;
    if ((outputs.stdout_fd >= 0 && dup2(outputs.stdout_fd, 1) < 0) ||
        (outputs.stderr_fd >= 0 && dup2(outputs.stderr_fd, 2) < 0)) {
      Fail(ChildFailure::kSetup, errno);
    }
    // Sockets to 3.., by way of numbers above every target so that no dup2
    // overwrites a socket not yet moved (the parent put `report` and
    // `ready_write` above the targets too).
    const std::vector<ActivatedSocket>& sockets = *setup_.sockets;
    const int n = static_cast<int>(sockets.size());
    int moved[kMaxSockets];
    for (int i = 0; i < n; ++i) {
      moved[i] = fcntl(sockets[i].fd, F_DUPFD_CLOEXEC, setup_.floor);
      if (moved[i] < 0) Fail(ChildFailure::kSetup, errno);
    }
    for (int i = 0; i < n; ++i) {
      // dup2 clears CLOEXEC.
      if (dup2(moved[i], 3 + i) < 0) Fail(ChildFailure::kSetup, errno);
      CloseDescriptor(moved[i]);
    }
    const ReadyMode& ready = *setup_.ready;
    if (ready.kind == ReadyMode::Kind::kFd) {
      if (setup_.ready_write == ready.fd) {
        if (fcntl(setup_.ready_write, F_SETFD, 0) != 0) {
          Fail(ChildFailure::kSetup, errno);
        }
      } else if (dup2(setup_.ready_write, ready.fd) < 0) {
        Fail(ChildFailure::kSetup, errno);
      }
    }
  }

  [[noreturn]] void Exec() const {
    char* const* argv = setup_.argv;
    execvpe(argv[0], argv, setup_.envp);
    // ENOENT for a file that is there: what is missing is what runs it (the
    // attack of 2026-12-07: a root without the ELF loader said only that the
    // program was missing).
    if (errno == ENOENT && std::strchr(argv[0], '/') != nullptr &&
        access(argv[0], F_OK) == 0) {
      Fail(ChildFailure::kPrivileges, 0,
           absl::StrCat(
               argv[0],
               ": its interpreter (the ELF loader, or the program "
               "on its #! line) was not found",
               identity_.root.empty()
                   ? ""
                   : absl::StrCat(" inside --daemon_chroot=", identity_.root)));
    }
    Fail(ChildFailure::kExec, errno);
  }

  const ChildSetup& setup_;
  const ProgramIdentity& identity_;
  std::vector<LimitRequest> descriptor_limits_;
};

}  // namespace

void ExecInChild(const ChildSetup& setup) { ProgramChild(setup).Run(); }

absl::Status ReadChildFailure(int report, const std::string& program,
                              const ProgramIdentity& identity,
                              const std::string& cgroup_directory,
                              bool* failed) {
  ChildFailure failure;
  ssize_t n;
  do {
    n = read(report, &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  *failed = n == sizeof(failure);
  if (!*failed) return absl::OkStatus();
  failure.text[sizeof(failure.text) - 1] = '\0';
  switch (failure.stage) {
    case ChildFailure::kExec:
      return ErrnoError(failure.error,
                        identity.root.empty()
                            ? program
                            : absl::StrCat(program, " (inside --daemon_chroot=",
                                           identity.root, ")"));
    case ChildFailure::kPrivileges:
      return absl::InternalError(failure.text);
    case ChildFailure::kCgroup:
      return ErrnoError(
          failure.error,
          absl::StrCat("move the program into cgroup ", cgroup_directory));
    default:
      return ErrnoError(failure.error, "set up the program's process");
  }
}

}  // namespace internal
}  // namespace daemonkit
