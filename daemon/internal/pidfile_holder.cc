// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile_holder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/path_keeper.h"
#include "daemon/internal/pidfile.h"
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/pinned_path.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/proc.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr pid_t kPidMaxLimit = 4194304;

// An existing pid file, pinned and opened with `flags` (O_RDONLY for a
// look, O_RDWR to remove it); nullopt when there is none to open. The
// lookers (ProbePidFile, RemoveStalePidFile) treat "missing" as an answer,
// not an error.
struct ExistingPidFile {
  PinnedPath pinned;
  UniqueFd fd;
};
absl::StatusOr<std::optional<ExistingPidFile>> OpenExistingPidFile(
    const std::string& path, int flags) {
  absl::StatusOr<PinnedPath> pinned = PinnedPath::Pin(path, "pid file");
  if (!pinned.ok()) {
    if (absl::IsNotFound(pinned.status())) return std::nullopt;
    return pinned.status();
  }
  absl::StatusOr<OpenedFile> file = OpenPidFileChecked(pinned->path(), flags);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) return std::nullopt;
    return file.status();
  }
  return ExistingPidFile{*std::move(pinned), UniqueFd(file->fd)};
}

// Whether `pid` is a path keeper (or the intermediate process that forks
// one, which already carries the name).
bool IsKeeper(pid_t pid) {
  absl::StatusOr<std::string> comm =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"));
  return comm.ok() &&
         absl::StripTrailingAsciiWhitespace(*comm) == kKeeperProcessName;
}

// The one process that /proc shows holding a write lock on the file, when
// the number in it names none. Several holders (a fork that inherited the
// locked descriptor: a daemon mid-start and its launcher) leave no way to
// tell which is the daemon, and the caller itself is never the answer;
// except a daemon and the keeper it is starting (both hold the lock until
// the daemon hands its descriptor over): the one holder that is no keeper
// is the daemon. A holder found while other users' processes cannot be
// looked at still holds the lock: it is the daemon the caller may act on.
std::optional<pid_t> SoleWriteLockHolder(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return std::nullopt;
  absl::StatusOr<WriteLockHolders> holders =
      FindWriteLockHolders(st.st_dev, st.st_ino);
  if (!holders.ok()) {
    LOG(WARNING) << "looking for the pid file's holder: "
                 << holders.status().message();
    return std::nullopt;
  }
  std::vector<pid_t> candidates = holders->pids;
  if (candidates.size() > 1) {
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [](pid_t pid) { return IsKeeper(pid); }),
                     candidates.end());
  }
  if (candidates.size() != 1 || candidates[0] == getpid()) {
    return std::nullopt;
  }
  return candidates[0];
}

// The parent process of `pid` (/proc/PID/stat), or 0.
pid_t ParentOf(pid_t pid) {
  const absl::StatusOr<ProcStat> stat = ReadProcStat(pid);
  pid_t parent = 0;
  if (!stat.ok() || !stat->ParseField(ProcStat::kPpid, &parent)) return 0;
  return parent;
}

// The one process in `pids` that is the parent of every other one.
std::optional<pid_t> ParentOfAllOthers(const std::vector<pid_t>& pids) {
  std::optional<pid_t> found;
  for (pid_t candidate : pids) {
    bool parent_of_all = true;
    for (pid_t other : pids) {
      if (other != candidate && ParentOf(other) != candidate) {
        parent_of_all = false;
        break;
      }
    }
    if (!parent_of_all) continue;
    if (found) return std::nullopt;
    found = candidate;
  }
  return found;
}

// When the sole holder of the lock is a path keeper (path_keeper.h), the
// daemon is the process it keeps, not the keeper: signalling the keeper
// would end it and release the lock while the daemon runs on. The keeper's
// pidfd names the daemon: verified when that is the number in the file (a
// daemon that closed its pidfd of the keeper, say by exec, is not found
// from its side); otherwise (the daemon wrote its pid in another pid
// namespace) the one process the keeper keeps, with no number verified; a
// keeper of several (a supervisor and its worker) names the one that is
// the parent of the others, the supervisor; a keeper of no live process,
// none (left_keeper).
void ResolveKeeper(std::optional<pid_t> named, PidFileProbe& probe) {
  absl::StatusOr<std::vector<pid_t>> kept = PidfdTargets(*probe.holder);
  if (kept.ok() && named && absl::c_linear_search(*kept, *named)) {
    probe.pid = probe.holder = named;
    probe.pid_verified = true;
    return;
  }
  if (!IsKeeper(*probe.holder)) return;  // the daemon holds its lock itself
  if (kept.ok() && kept->size() == 1) {
    probe.holder = kept->front();
    return;
  }
  // A supervised daemon's keeper keeps the supervisor and its worker
  // (NameWorker): the daemon is the supervisor, the parent of the others
  // (issue 23, attack finding: stop, reload and restart of a supervised,
  // dropped daemon in a container found no one to act on).
  if (kept.ok() && kept->size() > 1) {
    if (std::optional<pid_t> parent = ParentOfAllOthers(*kept)) {
      probe.holder = parent;
      return;
    }
  }
  // A keeper whose daemon is gone (issue 18.12: SIGSTOPped, it never saw the
  // exit) holds the lock for no one: nothing runs.
  absl::StatusOr<bool> left = KeepsOnlyExitedProcesses(*probe.holder);
  if (left.ok() && *left) probe.left_keeper = probe.holder;
  probe.holder.reset();
}

absl::Status UntrustedOwnerError(const std::string& path, uid_t uid) {
  return absl::FailedPreconditionError(absl::StrCat(
      "pid file ", path, " is owned by uid ", uid,
      ", neither root nor this user: not ours (another user may have planted "
      "it); not trusting its lock or its number"));
}

}  // namespace

absl::StatusOr<OpenedFile> OpenPidFileChecked(const std::string& path,
                                              int flags) {
  OpenPolicy policy;
  policy.what = "pid file";
  policy.access = flags & O_ACCMODE;
  policy.create = (flags & O_CREAT) != 0;
  policy.create_mode = kPidFileMode;
  if (policy.access != O_RDONLY) {
    policy.owners = {0, geteuid()};
    policy.single_link = true;
  } else {
    policy.single_link = false;
  }
  return SafeOpen(path, policy);
}

std::optional<pid_t> NamedPid(int fd, const std::string& path) {
  absl::StatusOr<std::string> content = ReadPidFileContent(fd, path);
  if (!content.ok()) return std::nullopt;
  absl::StatusOr<pid_t> pid = ParsePid(*content);
  if (!pid.ok() || *pid == getpid()) return std::nullopt;
  return *pid;
}

std::optional<pid_t> VerifiedHolder(int fd, const std::string& path) {
  std::optional<pid_t> pid = NamedPid(fd, path);
  if (!pid) return std::nullopt;
  struct stat st;
  if (fstat(fd, &st) != 0) return std::nullopt;
  absl::StatusOr<bool> holds = WriteLockHeldFor(*pid, st.st_dev, st.st_ino);
  // Without permission to look (another user's daemon), the number of a
  // write-locked file is the best information there is; only someone who
  // may write the file can take that lock.
  if (!holds.ok() && absl::IsPermissionDenied(holds.status())) return *pid;
  if (!holds.ok() || !*holds) return std::nullopt;
  return *pid;
}

absl::StatusOr<pid_t> ParsePid(absl::string_view content) {
  // Strict: what WritePid writes, digits and one newline. " 1" is not pid 1.
  absl::string_view digits = content;
  absl::ConsumeSuffix(&digits, "\n");
  if (digits.empty() || digits.size() > 7) {
    return absl::InvalidArgumentError("pid file does not hold a pid");
  }
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("pid file does not hold a pid");
    }
  }
  int pid = 0;
  if (!absl::SimpleAtoi(digits, &pid) || pid < 1 || pid > kPidMaxLimit) {
    return absl::InvalidArgumentError("pid file holds an impossible pid");
  }
  return static_cast<pid_t>(pid);
}

absl::StatusOr<PidFileProbe> ProbePidFile(const std::string& path,
                                          HolderSearch search) {
  PidFileProbe probe;
  DAEMONKIT_ASSIGN_OR_RETURN(std::optional<ExistingPidFile> existing,
                             OpenExistingPidFile(path, O_RDONLY));
  if (!existing) return probe;
  const int fd = existing->fd.get();
  struct stat owner;
  if (fstat(fd, &owner) != 0) {
    return ErrnoError(errno, absl::StrCat("stat pid file ", path));
  }
  if (!IsTrustedOwner(owner.st_uid)) {
    return UntrustedOwnerError(path, owner.st_uid);
  }
  // A read-lock probe conflicts only with a write lock, the daemon's: a read
  // lock that any user may take on the 0644 file is not a running daemon.
  struct flock lock = WholeFileLock(F_RDLCK);
  if (fcntl(fd, F_OFD_GETLK, &lock) != 0) {
    return ErrnoError(errno, absl::StrCat("test lock of pid file ", path));
  }
  probe.state = lock.l_type == F_UNLCK ? PidFileProbe::State::kUnlocked
                                       : PidFileProbe::State::kLocked;
  if (probe.state == PidFileProbe::State::kLocked) {
    probe.pid = VerifiedHolder(fd, path);
    probe.pid_verified = probe.pid.has_value();
    probe.holder = probe.pid;
    if (!probe.pid_verified && search == HolderSearch::kScanProc) {
      probe.scanned = true;
      probe.holder = SoleWriteLockHolder(fd);
      if (probe.holder) {
        ResolveKeeper(NamedPid(fd, path), probe);
      }
    }
  }
  if (!probe.pid.has_value()) {
    absl::StatusOr<std::string> content = ReadPidFileContent(fd, path);
    if (content.ok()) {
      absl::StatusOr<pid_t> pid = ParsePid(*content);
      if (pid.ok()) probe.pid = *pid;
      // Emptied by a daemon that could not unlink it: a clean exit.
      if (content->empty() && probe.state == PidFileProbe::State::kUnlocked) {
        probe.state = PidFileProbe::State::kMissing;
      }
    }
  }
  return probe;
}

absl::StatusOr<bool> RemoveStalePidFile(const std::string& path) {
  DAEMONKIT_ASSIGN_OR_RETURN(std::optional<ExistingPidFile> existing,
                             OpenExistingPidFile(path, O_RDWR));
  if (!existing) return false;
  PidFile file(std::move(existing->pinned), existing->fd.release());
  struct flock lock = WholeFileLock(F_WRLCK);
  if (fcntl(file.fd(), F_OFD_SETLK, &lock) != 0) return false;
  file.Remove();
  return true;
}

}  // namespace internal
}  // namespace daemonkit
