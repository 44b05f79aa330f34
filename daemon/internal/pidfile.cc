// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/pidfile_holder.h"
#include "daemon/internal/pidfile_replace.h"
#include "daemon/internal/pinned_path.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// Whether the descriptor and the path still name the same file: a daemon
// that exits unlinks its pid file, and a starter that opened it just before
// must not keep a lock on an orphaned inode.
bool PathStillNames(const PinnedPath& pinned, int fd) {
  struct stat by_path, by_fd;
  return pinned.Lstat(&by_path) == 0 && fstat(fd, &by_fd) == 0 &&
         SameFile(by_path, by_fd);
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

// PidFile::Acquire's looks at the path, until the lock is won or refused.
// It lives in the launcher, before the first fork.
class Acquisition {
 public:
  Acquisition(const PinnedPath& pinned, const std::string& path,
              Deadline deadline)
      : pinned_(pinned), path_(path), deadline_(deadline) {}

  // One look. A valid descriptor: its write lock is won and the path still
  // names its file. An empty one: look again. kAlreadyExists when another
  // process holds the lock (or still swaps a file in at the deadline).
  absl::StatusOr<UniqueFd> Look();

 private:
  // Another user's file in a sticky directory (/tmp) was planted: it is no
  // daemon of ours whatever its lock says, and root may replace it there.
  // Elsewhere (or when this user may not), the open refuses it by its
  // owner: nullopt, go on. Not only a regular file: a link, a directory or
  // a FIFO planted there would fail every start just as surely (found by an
  // attack). Otherwise Look's answer.
  absl::StatusOr<std::optional<UniqueFd>> ReplacePlanted();

  // `fd`, locked, when the path still names its file; else empty (closed),
  // to look again: the file was unlinked or replaced meanwhile.
  UniqueFd StillAtThePath(UniqueFd fd) const;

  // The lock is another process's (`fd` has the file open): kAlreadyExists
  // naming the holder, or, while a holder that has not written its pid yet
  // may still, OK after a moment's wait.
  absl::Status RefuseForHolder(UniqueFd fd);

  // Another start is swapping a file into place: wait a moment, and give
  // up as "already running" at the deadline.
  absl::Status AwaitReplacement();

  // Waits before the next look, backing off from 1 ms to 20 ms.
  void Pause();

  const PinnedPath& pinned_;
  const std::string& path_;
  const Deadline deadline_;
  absl::Duration backoff_ = absl::Milliseconds(1);
  bool scanned_ = false;  // /proc searched once for the lock's holder
};

absl::StatusOr<UniqueFd> Acquisition::Look() {
  DAEMONKIT_ASSIGN_OR_RETURN(std::optional<UniqueFd> planted, ReplacePlanted());
  if (planted.has_value()) return *std::move(planted);
  DAEMONKIT_ASSIGN_OR_RETURN(
      OpenedFile file, OpenPidFileChecked(pinned_.path(), O_RDWR | O_CREAT));
  UniqueFd fd(file.fd);
  struct flock lock = WholeFileLock(F_WRLCK);
  bool won = fcntl(fd.get(), F_OFD_SETLK, &lock) == 0;
  const int saved = won ? 0 : errno;
  if (!won && (saved == EAGAIN || saved == EACCES) && !HeldByWriter(fd.get())) {
    // Only readers hold it: no daemon does. Replace it rather than wait.
    fd.reset();
    DAEMONKIT_ASSIGN_OR_RETURN(fd, ReplacePidFile(pinned_.path()));
    if (!fd.valid()) {
      DAEMONKIT_RETURN_IF_ERROR(AwaitReplacement());
      return UniqueFd();
    }
    won = true;
  }
  if (won) return StillAtThePath(std::move(fd));
  if (saved != EAGAIN && saved != EACCES) {
    return ErrnoError(saved, absl::StrCat("lock pid file ", path_));
  }
  DAEMONKIT_RETURN_IF_ERROR(RefuseForHolder(std::move(fd)));
  return UniqueFd();
}

absl::StatusOr<std::optional<UniqueFd>> Acquisition::ReplacePlanted() {
  struct stat planted;
  if (pinned_.Lstat(&planted) != 0 || IsTrustedOwner(planted.st_uid) ||
      !InStickyDirectory(path_)) {
    return std::nullopt;
  }
  absl::StatusOr<UniqueFd> replaced = ReplacePidFile(pinned_.path());
  if (replaced.ok() && replaced->valid()) {
    return std::optional<UniqueFd>(StillAtThePath(*std::move(replaced)));
  }
  if (!replaced.ok() && !absl::IsPermissionDenied(replaced.status())) {
    return replaced.status();
  }
  if (!replaced.ok()) return std::nullopt;
  DAEMONKIT_RETURN_IF_ERROR(AwaitReplacement());
  return std::optional<UniqueFd>(UniqueFd());
}

UniqueFd Acquisition::StillAtThePath(UniqueFd fd) const {
  if (!PathStillNames(pinned_, fd.get())) return UniqueFd();
  return fd;
}

absl::Status Acquisition::RefuseForHolder(UniqueFd fd) {
  std::optional<pid_t> holder = VerifiedHolder(fd.get(), path_);
  // A number that names no holder was not written by a starting daemon
  // (that one's file is empty until it writes its own pid): the daemon
  // wrote it in another pid namespace (a container's "1"), or someone
  // rewrote it. The holder is looked up as status does, once, rather
  // than waited for until the deadline (issue 23, attack finding).
  if (!holder.has_value() && !scanned_ &&
      NamedPid(fd.get(), path_).has_value()) {
    scanned_ = true;
    absl::StatusOr<PidFileProbe> probe =
        ProbePidFile(path_, HolderSearch::kScanProc);
    if (probe.ok() && probe->state == PidFileProbe::State::kLocked) {
      if (probe->left_keeper) {
        return absl::AlreadyExistsError(absl::StrCat(
            "pid file ", path_, " is still locked by a path keeper (pid ",
            *probe->left_keeper,
            ") whose daemon is gone; --daemon_control=stop ends it"));
      }
      holder = probe->holder;
    }
  }
  fd.reset();
  if (holder.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("already running, pid ", *holder));
  }
  if (deadline_.Passed()) {
    return absl::AlreadyExistsError(
        absl::StrCat("already running: pid file ", path_,
                     " is locked but its holder has not written its pid"));
  }
  Pause();
  return absl::OkStatus();
}

absl::Status Acquisition::AwaitReplacement() {
  if (deadline_.Passed()) {
    return absl::AlreadyExistsError(absl::StrCat("already running: pid file ",
                                                 path_, " is being replaced"));
  }
  Pause();
  return absl::OkStatus();
}

void Acquisition::Pause() {
  absl::SleepFor(backoff_);
  backoff_ = std::min(backoff_ * 2, absl::Milliseconds(20));
}

}  // namespace

absl::StatusOr<PidFileRestore> PidFile::RestoreIfRemoved() {
  if (keeper_ != nullptr) return PidFileRestore::kInPlace;  // the keeper's
  // RestorePidFile swaps the number (closing the old one) as the keeper's
  // copy of it does, so it takes a plain int.
  int fd = fd_.release();
  absl::StatusOr<PidFileRestore> restored =
      RestorePidFile(path(), &fd, &dev_, &ino_);
  fd_.reset(fd);
  return restored;
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
  DAEMONKIT_ASSIGN_OR_RETURN(PinnedPath pinned,
                             PinnedPath::Pin(path, "pid file"));
  WarnIfDirectoryIsOpenToAll(pinned);
  Acquisition acquisition(pinned, path, deadline);
  for (;;) {
    DAEMONKIT_ASSIGN_OR_RETURN(UniqueFd fd, acquisition.Look());
    if (fd.valid()) return Won(std::move(pinned), fd.release());
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
  if (fd_.valid() && fstat(fd_.get(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

PidFile::PidFile(PidFile&& other) noexcept
    : pinned_(std::move(other.pinned_)),
      fd_(std::move(other.fd_)),
      dev_(other.dev_),
      ino_(other.ino_),
      keeper_(std::move(other.keeper_)),
      keeper_id_(other.keeper_id_) {}

PidFile& PidFile::operator=(PidFile&& other) noexcept {
  if (this != &other) {
    Close();
    pinned_ = std::move(other.pinned_);
    fd_ = std::move(other.fd_);
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
  if (ftruncate(fd_.get(), 0) != 0) {
    return ErrnoError(errno, absl::StrCat("truncate pid file ", file));
  }
  ssize_t n;
  do {
    n = pwrite(fd_.get(), content.data(), content.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, absl::StrCat("write pid file ", file));
  if (static_cast<size_t>(n) != content.size()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write pid file ", file, ": short write"));
  }
  return absl::OkStatus();
}

void PidFile::Remove() {
  if (!fd_.valid() && !keeper_) return;
  // Unlinked only while the path still names the locked file: a file
  // planted there since (a link, another file) is left alone.
  absl::StatusOr<bool> removed = false;
  if (keeper_) {
    // After a chroot the path is outside the daemon's root: the keeper,
    // which stayed outside, checks and unlinks.
    removed = keeper_->RemovePidFile(keeper_id_);
  } else {
    struct stat st;
    removed = fstat(fd_.get(), &st) == 0
                  ? UnlinkIfSame(pinned_.path(), st.st_dev, st.st_ino)
                  : ErrnoError(errno, "stat pid file");
  }
  if (!removed.ok() && !keeper_ && fd_.valid() &&
      absl::IsResourceExhausted(removed.status())) {
    // Out of descriptors for the walk from "/" (a launcher started with
    // RLIMIT_NOFILE 5): by name, while lstat still shows the locked file.
    struct stat by_path, by_fd;
    if (pinned_.Lstat(&by_path) == 0 && fstat(fd_.get(), &by_fd) == 0 &&
        SameFile(by_path, by_fd) && pinned_.Unlink() == 0) {
      removed = true;
    }
  }
  if (!removed.ok() && fd_.valid()) {
    // The directory is no longer ours to write (privileges were dropped),
    // or the keeper is gone: leave an empty file, which reads as a clean
    // exit, not a crash.
    (void)!ftruncate(fd_.get(), 0);
  }
  keeper_.reset();
  Close();
}

void PidFile::Forget() {
  (void)fd_.release();
  keeper_.reset();
}

void PidFile::Close() { fd_.reset(); }

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
