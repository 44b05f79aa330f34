// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"
#include "daemon/proc.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr pid_t kPidMaxLimit = 4194304;

// Opens a pid file through SafeOpen: never through a symbolic link, only a
// regular file, and the open never blocks (a FIFO planted at the path). A
// file opened for writing must have one link and belong to root or to the
// caller; a read-only look (status) accepts any owner.
absl::StatusOr<OpenedFile> OpenPidFileChecked(const PinnedPath& pinned,
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
  return SafeOpen(pinned.path(), policy);
}

absl::StatusOr<int> OpenPidFile(const PinnedPath& pinned, int flags) {
  DAEMONKIT_ASSIGN_OR_RETURN(OpenedFile file,
                             OpenPidFileChecked(pinned, flags));
  return file.fd;
}

// An existing pid file, pinned and opened with `flags` (O_RDONLY for a
// look, O_RDWR to remove it); nullopt when there is none to open. The
// lookers (ProbePidFile, RemoveStalePidFile) treat "missing" as an answer,
// not an error.
struct ExistingPidFile {
  PinnedPath pinned;
  int fd;
};
absl::StatusOr<std::optional<ExistingPidFile>> OpenExistingPidFile(
    const std::string& path, int flags) {
  absl::StatusOr<PinnedPath> pinned = PinnedPath::Pin(path, "pid file");
  if (!pinned.ok()) {
    if (absl::IsNotFound(pinned.status())) return std::nullopt;
    return pinned.status();
  }
  absl::StatusOr<int> fd = OpenPidFile(*pinned, flags);
  if (!fd.ok()) {
    if (absl::IsNotFound(fd.status())) return std::nullopt;
    return fd.status();
  }
  return ExistingPidFile{*std::move(pinned), *fd};
}

// Whether the descriptor and the path still name the same file: a daemon
// that exits unlinks its pid file, and a starter that opened it just before
// must not keep a lock on an orphaned inode.
bool PathStillNames(const PinnedPath& pinned, int fd) {
  struct stat by_path, by_fd;
  return pinned.Lstat(&by_path) == 0 && fstat(fd, &by_fd) == 0 &&
         SameFile(by_path, by_fd);
}

// The pid the file names, unless it is the caller's own: our own pid in a
// file someone else has locked is a stale number that the kernel happened
// to give us (and we of course have the file open).
std::optional<pid_t> NamedPid(int fd, const std::string& path) {
  absl::StatusOr<std::string> content = ReadPidFileContent(fd, path);
  if (!content.ok()) return std::nullopt;
  absl::StatusOr<pid_t> pid = ParsePid(*content);
  if (!pid.ok() || *pid == getpid()) return std::nullopt;
  return *pid;
}

// Returns the holder's pid when the file holds a pid whose process holds a
// write lock on it, or whose path keeper holds it for it (so not a stale
// number left from an earlier run, nor a process that merely has the file
// open).
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

// Whether `path`'s directory has the sticky bit: there a file is removed or
// renamed only by its owner, the directory's owner or root, so a planted
// file is replaceable by root and by nobody else.
bool InStickyDirectory(const std::string& path) {
  struct stat st;
  return stat(DirectoryOf(path).c_str(), &st) == 0 && (st.st_mode & S_ISVTX);
}

// A directory anyone may write to, without the sticky bit, lets anyone
// replace the pid file between two runs.
void WarnIfDirectoryIsOpenToAll(const PinnedPath& pinned) {
  struct stat st;
  if (stat(DirectoryOf(pinned.path()).c_str(), &st) == 0 &&
      (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
    LOG(WARNING)
        << "the directory of pid file " << pinned.path()
        << " is writable by anyone: another user could replace the file";
  }
}

}  // namespace

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

absl::StatusOr<PidFileRestore> PidFile::RestoreIfRemoved() {
  if (keeper_ != nullptr) return PidFileRestore::kInPlace;  // the keeper's
  return RestorePidFile(path(), &fd_, &dev_, &ino_);
}

// Upgrades (issue 14).
absl::StatusOr<PidFile> PidFile::Adopt(const std::string& path, int fd) {
  DAEMONKIT_ASSIGN_OR_RETURN(PinnedPath pinned,
                             PinnedPath::Pin(path, "pid file"));
  struct stat held, named;
  if (fstat(fd, &held) != 0) {
    return ErrnoError(errno,
                      absl::StrCat("stat the handed-over pid file ", path));
  }
  if (pinned.Lstat(&named) != 0 || !SameFile(named, held)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pid file ", path, " is not the file the running daemon handed over"));
  }
  // The running daemon's own description holds the write lock, so taking
  // it again through the descriptor succeeds; a descriptor of the file
  // opened anew (a forged handover beside a running daemon) fails, and one
  // nobody locks gets the lock, as a start would.
  struct flock lock = WholeFileLock(F_WRLCK);
  if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    return ErrnoError(errno,
                      absl::StrCat("lock the handed-over pid file ", path,
                                   " (not the running daemon's descriptor)"));
  }
  return PidFile(std::move(pinned), fd);
}

// A file whose lock was won, still at its path: exact mode, emptied.
absl::StatusOr<PidFile> PidFile::Won(PinnedPath pinned, int fd) {
  PidFile pidfile(std::move(pinned), fd);
  const std::string& path = pidfile.path();
  // The modes are exact whatever the umask: anyone may read the file to
  // check status.
  if (fchmod(fd, kPidFileMode) != 0) {
    return ErrnoError(errno, absl::StrCat("chmod pid file ", path));
  }
  if (ftruncate(fd, 0) != 0) {
    return ErrnoError(errno, absl::StrCat("truncate pid file ", path));
  }
  return pidfile;
}

absl::StatusOr<PidFile> PidFile::Acquire(const std::string& path,
                                         absl::Duration wait_for_pid) {
  const Deadline deadline = Deadline::In(wait_for_pid);
  absl::Duration backoff = absl::Milliseconds(1);
  DAEMONKIT_ASSIGN_OR_RETURN(PinnedPath pinned,
                             PinnedPath::Pin(path, "pid file"));
  WarnIfDirectoryIsOpenToAll(pinned);
  bool scanned = false;  // /proc searched once for the lock's holder
  // Another start is swapping a file into place: wait a moment (backing
  // off), and give up as "already running" at the deadline.
  auto await_replacement = [&]() -> absl::Status {
    if (deadline.Passed()) {
      return absl::AlreadyExistsError(absl::StrCat("already running: pid file ",
                                                   path, " is being replaced"));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(20));
    return absl::OkStatus();
  };
  for (;;) {
    // Another user's file in a sticky directory (/tmp) was planted: it is
    // no daemon of ours whatever its lock says, and root may replace it
    // there. Elsewhere (or when this user may not), the open below refuses
    // it by its owner.
    // Not only a regular file: a link, a directory or a FIFO planted there
    // would fail every start just as surely (found by an attack).
    struct stat planted;
    if (pinned.Lstat(&planted) == 0 && !IsTrustedOwner(planted.st_uid) &&
        InStickyDirectory(path)) {
      absl::StatusOr<UniqueFd> replaced = ReplacePidFile(path);
      if (replaced.ok() && replaced->valid()) {
        if (!PathStillNames(pinned, replaced->get())) {
          replaced->reset();
          continue;
        }
        return Won(std::move(pinned), replaced->release());
      }
      if (!replaced.ok() && !absl::IsPermissionDenied(replaced.status())) {
        return replaced.status();
      }
      if (replaced.ok()) {
        DAEMONKIT_RETURN_IF_ERROR(await_replacement());
        continue;
      }
    }
    DAEMONKIT_ASSIGN_OR_RETURN(OpenedFile file,
                               OpenPidFileChecked(pinned, O_RDWR | O_CREAT));
    int fd = file.fd;
    struct flock lock = WholeFileLock(F_WRLCK);
    bool won = fcntl(fd, F_OFD_SETLK, &lock) == 0;
    const int saved = won ? 0 : errno;
    if (!won && (saved == EAGAIN || saved == EACCES) && !HeldByWriter(fd)) {
      // Only readers hold it: no daemon does. Replace it rather than wait.
      close(fd);
      DAEMONKIT_ASSIGN_OR_RETURN(UniqueFd fresh, ReplacePidFile(path));
      if (!fresh.valid()) {
        DAEMONKIT_RETURN_IF_ERROR(await_replacement());
        continue;
      }
      fd = fresh.release();
      won = true;
    }
    if (won) {
      if (!PathStillNames(pinned, fd)) {
        close(fd);
        continue;
      }
      return Won(std::move(pinned), fd);
    }
    if (saved != EAGAIN && saved != EACCES) {
      close(fd);
      return ErrnoError(saved, absl::StrCat("lock pid file ", path));
    }
    std::optional<pid_t> holder = VerifiedHolder(fd, path);
    // A number that names no holder was not written by a starting daemon
    // (that one's file is empty until it writes its own pid): the daemon
    // wrote it in another pid namespace (a container's "1"), or someone
    // rewrote it. The holder is looked up as status does, once, rather
    // than waited for until the deadline (issue 23, attack finding).
    if (!holder.has_value() && !scanned && NamedPid(fd, path).has_value()) {
      scanned = true;
      absl::StatusOr<PidFileProbe> probe =
          ProbePidFile(path, HolderSearch::kScanProc);
      if (probe.ok() && probe->state == PidFileProbe::State::kLocked) {
        if (probe->left_keeper) {
          close(fd);
          return absl::AlreadyExistsError(absl::StrCat(
              "pid file ", path, " is still locked by a path keeper (pid ",
              *probe->left_keeper,
              ") whose daemon is gone; --daemon_control=stop ends it"));
        }
        holder = probe->holder;
      }
    }
    close(fd);
    if (holder.has_value()) {
      return absl::AlreadyExistsError(
          absl::StrCat("already running, pid ", *holder));
    }
    if (deadline.Passed()) {
      return absl::AlreadyExistsError(
          absl::StrCat("already running: pid file ", path,
                       " is locked but its holder has not written its pid"));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(20));
  }
}

void RemovePidFileOnceReleased(const std::string& path, absl::Duration grace) {
  const Deadline deadline = Deadline::In(grace);
  for (;;) {
    absl::StatusOr<bool> removed = RemoveStalePidFile(path);
    if (!removed.ok()) {
      // Said only of a file that is there: a start that failed out of
      // descriptors (ulimit -n 8) made none, and the look that could not
      // open a directory told of one "left" (the attack of stop 33: a
      // second, false line after the start's error).
      struct stat st;
      if (lstat(path.c_str(), &st) != 0 && errno == ENOENT) return;
      LOG(WARNING) << "not running, but the pid file is left: "
                   << removed.status().message();
      return;
    }
    if (*removed) return;
    // Not removed: missing, or still locked by a dying worker or by the
    // path keeper of a daemon that has just exited.
    absl::StatusOr<PidFileProbe> probe = ProbePidFile(path);
    if (!probe.ok() || probe->state == PidFileProbe::State::kMissing) return;
    if (deadline.Passed()) {
      LOG(WARNING) << "pid file " << path << " still locked after "
                   << absl::FormatDuration(grace) << "; leaving it";
      return;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

PidFile::PidFile(PinnedPath pinned, int fd)
    : pinned_(std::move(pinned)), fd_(fd) {
  struct stat st;
  if (fd_ >= 0 && fstat(fd_, &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

PidFile::PidFile(PidFile&& other) noexcept
    : pinned_(std::move(other.pinned_)),
      fd_(std::exchange(other.fd_, -1)),
      dev_(other.dev_),
      ino_(other.ino_),
      keeper_(std::move(other.keeper_)),
      keeper_id_(other.keeper_id_) {}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    Close();
    pinned_ = std::move(other.pinned_);
    fd_ = std::exchange(other.fd_, -1);
    dev_ = other.dev_;
    ino_ = other.ino_;
    keeper_ = std::move(other.keeper_);
    keeper_id_ = other.keeper_id_;
  }
  return *this;
}

PidFile::~PidFile() { Close(); }

absl::Status PidFile::WritePid(pid_t pid) {
  const std::string content = absl::StrCat(pid, "\n");
  const std::string& file = path();
  if (ftruncate(fd_, 0) != 0) {
    return ErrnoError(errno, absl::StrCat("truncate pid file ", file));
  }
  ssize_t n;
  do {
    n = pwrite(fd_, content.data(), content.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, absl::StrCat("write pid file ", file));
  if (static_cast<size_t>(n) != content.size()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write pid file ", file, ": short write"));
  }
  return absl::OkStatus();
}

void PidFile::Remove() {
  if (fd_ < 0 && !keeper_) return;
  // Unlinked only while the path still names the locked file: a file
  // planted there since (a link, another file) is left alone.
  absl::StatusOr<bool> removed = false;
  if (keeper_) {
    // After a chroot the path is outside the daemon's root: the keeper,
    // which stayed outside, checks and unlinks.
    removed = keeper_->RemovePidFile(keeper_id_);
  } else {
    struct stat st;
    removed = fstat(fd_, &st) == 0
                  ? UnlinkIfSame(pinned_.path(), st.st_dev, st.st_ino)
                  : ErrnoError(errno, "stat pid file");
  }
  if (!removed.ok() && !keeper_ && fd_ >= 0 &&
      absl::IsResourceExhausted(removed.status())) {
    // Out of descriptors for the walk from "/" (a launcher started with
    // RLIMIT_NOFILE 5): by name, while lstat still shows the locked file.
    struct stat by_path, by_fd;
    if (pinned_.Lstat(&by_path) == 0 && fstat(fd_, &by_fd) == 0 &&
        SameFile(by_path, by_fd) && pinned_.Unlink() == 0) {
      removed = true;
    }
  }
  if (!removed.ok() && fd_ >= 0) {
    // The directory is no longer ours to write (privileges were dropped),
    // or the keeper is gone: leave an empty file, which reads as a clean
    // exit, not a crash.
    (void)!ftruncate(fd_, 0);
  }
  keeper_.reset();
  Close();
}

void PidFile::Forget() {
  fd_ = -1;
  keeper_.reset();
}

void PidFile::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::StatusOr<PidFileProbe> ProbePidFile(const std::string& path,
                                          HolderSearch search) {
  PidFileProbe probe;
  DAEMONKIT_ASSIGN_OR_RETURN(std::optional<ExistingPidFile> existing,
                             OpenExistingPidFile(path, O_RDONLY));
  if (!existing) return probe;
  const int fd = existing->fd;
  struct stat owner;
  if (fstat(fd, &owner) != 0) {
    const int saved = errno;
    close(fd);
    return ErrnoError(saved, absl::StrCat("stat pid file ", path));
  }
  if (!IsTrustedOwner(owner.st_uid)) {
    close(fd);
    return UntrustedOwnerError(path, owner.st_uid);
  }
  // A read-lock probe conflicts only with a write lock, the daemon's: a read
  // lock that any user may take on the 0644 file is not a running daemon.
  struct flock lock = WholeFileLock(F_RDLCK);
  if (fcntl(fd, F_OFD_GETLK, &lock) != 0) {
    int saved = errno;
    close(fd);
    return ErrnoError(saved, absl::StrCat("test lock of pid file ", path));
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
  close(fd);
  return probe;
}

absl::StatusOr<bool> RemoveStalePidFile(const std::string& path) {
  DAEMONKIT_ASSIGN_OR_RETURN(std::optional<ExistingPidFile> existing,
                             OpenExistingPidFile(path, O_RDWR));
  if (!existing) return false;
  PidFile file(std::move(existing->pinned), existing->fd);
  struct flock lock = WholeFileLock(F_WRLCK);
  if (fcntl(file.fd(), F_OFD_SETLK, &lock) != 0) return false;
  file.Remove();
  return true;
}

std::pair<dev_t, ino_t> PidFile::CurrentIdentity() const {
  struct stat now;
  if (keeper_ != nullptr && lstat(path().c_str(), &now) == 0 &&
      S_ISREG(now.st_mode)) {
    return {now.st_dev, now.st_ino};
  }
  return {dev_, ino_};
}

}  // namespace internal
}  // namespace daemonkit
