// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/pidfile_replace.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/unique_fd.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// A pid file is a number and a newline; anything longer is not ours.
constexpr size_t kMaxPidFileBytes = 64;

// How long a starter waits for its turn (ReplacePidFile) before it goes on
// without it: replacements take microseconds.
constexpr absl::Duration kReplacerOrderWait = absl::Seconds(2);

// How long RestorePidFile waits for the same turn before it goes on
// unordered: the daemon's event loop should not stall on a lock anyone who
// may open the directory could hold.
constexpr absl::Duration kRestoreOrderWait = absl::Milliseconds(200);

// The directory that holds the pid file `path`, held for the whole
// replacement so that the new file and both exchanges act in the one
// directory.
absl::StatusOr<UniqueFd> OpenPidFileDirectory(const std::string& path,
                                              const std::string& dir_path) {
  UniqueFd dir(open(dir_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    return ErrnoError(
        errno, absl::StrCat("pid file ", path, ": directory ", dir_path));
  }
  return dir;
}

// One replacer at a time per directory: each exchanges its new file in,
// looks at what came out and may exchange it back, and two of those
// interleaved could put back the wrong file, or unlink a winner's (two
// daemons, found by pidfile_lock_test 1 election in ~1,000). An flock on
// the directory orders them; anyone who may open the directory could hold
// it, so the wait is bounded by `wait` and then goes on unordered. The
// turn lasts until the returned descriptor is closed.
UniqueFd TakeReplacerTurn(const std::string& dir_path, absl::Duration wait) {
  UniqueFd order(open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (order.valid()) {
    const Deadline give_up = Deadline::In(wait);
    while (flock(order.get(), LOCK_EX | LOCK_NB) != 0 &&
           (errno == EWOULDBLOCK || errno == EINTR) && !give_up.Passed()) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  return order;
}

// For ReplacePidFile: what the exchange brought out of the path, now named
// `temp` in `dir`. Another user's entry of any kind (a file, a link, a
// directory, a FIFO) or a regular file no writer holds is no daemon's: it
// is unlinked (a planted directory only if empty; one with entries stays
// under the random name, out of the way) and the answer is true. A daemon's
// (or a competing starter's) file is left, and the answer is false.
bool DiscardIfNoDaemons(int dir, const std::string& temp) {
  struct stat out;
  bool discard = false;
  const bool out_stat =
      fstatat(dir, temp.c_str(), &out, AT_SYMLINK_NOFOLLOW) == 0;
  if (out_stat && !IsTrustedOwner(out.st_uid)) {
    discard = true;
  } else if (out_stat && S_ISREG(out.st_mode)) {
    const UniqueFd old(
        openat(dir, temp.c_str(),
               O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (old.valid()) discard = !HeldByWriter(old.get());
  }
  if (discard) {
    (void)unlinkat(dir, temp.c_str(),
                   out_stat && S_ISDIR(out.st_mode) ? AT_REMOVEDIR : 0);
  }
  return discard;
}

// Whether the entry `name` in `dir` (moved out of the pid file's path) is a
// pid file some process holds for a daemon: a regular file of root or of
// this user, write-locked. Such a file is a later start's, and goes back.
bool IsAnotherDaemonsPidFile(int dir, const std::string& name) {
  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return true;
  if (!S_ISREG(st.st_mode)) return false;
  if (!IsTrustedOwner(st.st_uid)) return false;
  const UniqueFd fd(
      openat(dir, name.c_str(),
             O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return true;  // cannot tell: leave it be
  return HeldByWriter(fd.get());
}

// RestorePidFile's new file, locked and filled under its random name.
struct RestoredFile {
  UniqueFd fd;
  std::string temp;
  struct stat st;
};

// Creates the new file in `dir` with the content of `old_fd`'s (so it names
// the process the old one named: the daemon, a supervisor), locked and
// filled before it appears: no reader ever sees it empty or unlocked.
absl::StatusOr<RestoredFile> MakeRestoredFile(int dir, const std::string& path,
                                              int old_fd) {
  DAEMONKIT_ASSIGN_OR_RETURN(const std::string content,
                             ReadPidFileContent(old_fd, path));
  RestoredFile fresh;
  DAEMONKIT_ASSIGN_OR_RETURN(
      fresh.fd, CreateLockedPidFile(dir, path, kPidFileMode, &fresh.temp));
  if (pwrite(fresh.fd.get(), content.data(), content.size(), 0) !=
          static_cast<ssize_t>(content.size()) ||
      fstat(fresh.fd.get(), &fresh.st) != 0) {
    const int saved = errno;
    (void)unlinkat(dir, fresh.temp.c_str(), 0);
    return ErrnoError(saved,
                      absl::StrCat("write the new pid file ", fresh.temp));
  }
  return fresh;
}

// Puts RestorePidFile's new file at `path`, whose directory is `dir`: by
// exchange when the path named another file (`swapped`), else where it
// names nothing. The path never goes missing while a file is swapped in
// (RENAME_EXCHANGE), so no starter can create one there meanwhile; what
// came out is judged under the random name, and goes back if it is a later
// start's (locked by a writer). A starter that locked the foreign file just
// before the exchange finds, checking after its lock, that the path no
// longer names it (PathStillNames in pidfile.cc), and looks again: at this
// file. On success the new file replaces `*fd`, `*dev` and `*ino`.
absl::StatusOr<PidFileRestore> PutRestoredFile(int dir, const std::string& path,
                                               bool swapped, RestoredFile fresh,
                                               int* fd, dev_t* dev,
                                               ino_t* ino) {
  const std::string name = BaseName(path);
  const std::string& temp = fresh.temp;
  auto adopt = [&](PidFileRestore outcome) {
    CloseDescriptor(*fd);  // the old file's lock goes with its last descriptor
    *fd = fresh.fd.release();
    *dev = fresh.st.st_dev;
    *ino = fresh.st.st_ino;
    return outcome;
  };
  if (!swapped ||
      renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_EXCHANGE) != 0) {
    const int saved = swapped ? errno : ENOENT;
    // RENAME_NOREPLACE: a file that appeared at the path meanwhile (a
    // second start that won it) is never replaced; the next look judges it.
    if (saved == ENOENT && renameat2(dir, temp.c_str(), dir, name.c_str(),
                                     RENAME_NOREPLACE) == 0) {
      return adopt(PidFileRestore::kRecreated);
    }
    const int failed = saved == ENOENT ? errno : saved;
    (void)unlinkat(dir, temp.c_str(), 0);
    fresh.fd.reset();
    if (failed == EEXIST || failed == ENOENT) return PidFileRestore::kTaken;
    return ErrnoError(failed, absl::StrCat("put the new pid file at ", path));
  }
  // `temp` now names what the path named.
  struct stat out = {};
  const bool ours =
      fstatat(dir, temp.c_str(), &out, AT_SYMLINK_NOFOLLOW) == 0 &&
      FileIdentity::Of(out) == FileIdentity{*dev, *ino};
  if (ours || IsAnotherDaemonsPidFile(dir, temp)) {
    // Our own file came back meanwhile, or a later start's took the path:
    // give it the path back.
    if (renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_EXCHANGE) != 0) {
      const int saved = errno;
      fresh.fd.reset();
      return ErrnoError(
          saved,
          absl::StrCat("pid file ", path, ": put back the file now at ", temp));
    }
    (void)unlinkat(dir, temp.c_str(), 0);
    fresh.fd.reset();
    return ours ? PidFileRestore::kInPlace : PidFileRestore::kTaken;
  }
  // A file nobody holds (a stale copy naming some other pid), or an entry
  // that is no pid file at all: it goes (a directory only if empty; one
  // with entries stays under the random name, out of the way).
  (void)unlinkat(dir, temp.c_str(), S_ISDIR(out.st_mode) ? AT_REMOVEDIR : 0);
  return adopt(PidFileRestore::kReplaced);
}

}  // namespace

struct flock WholeFileLock(int type) {
  struct flock lock = {};
  lock.l_type = static_cast<decltype(lock.l_type)>(type);
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  return lock;
}

bool HeldByWriter(int fd) {
  struct flock lock = WholeFileLock(F_RDLCK);
  return fcntl(fd, F_OFD_GETLK, &lock) != 0 || lock.l_type != F_UNLCK;
}

absl::StatusOr<std::string> ReadPidFileContent(int fd,
                                               const std::string& path) {
  char buffer[kMaxPidFileBytes];
  ssize_t n;
  do {
    n = pread(fd, buffer, sizeof(buffer), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(errno, absl::StrCat("read pid file ", path));
  return std::string(buffer, static_cast<size_t>(n));
}

absl::StatusOr<UniqueFd> CreateLockedPidFile(int dir, const std::string& path,
                                             mode_t mode, std::string* temp) {
  const std::string name = BaseName(path);
  UniqueFd fd;
  for (int attempt = 0; !fd.valid(); ++attempt) {
    uint64_t token = 0;
    ssize_t n;
    do {
      n = getrandom(&token, sizeof(token), 0);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof(token))) {
      return ErrnoError(n < 0 ? errno : EIO, "getrandom");
    }
    *temp = absl::StrCat(".", name, ".", absl::Hex(token, absl::kZeroPad16));
    fd.reset(openat(dir, temp->c_str(),
                    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW |
                        O_NOCTTY | O_NONBLOCK,
                    0600));
    if (!fd.valid() && (errno != EEXIST || attempt >= 16)) {
      return ErrnoError(
          errno,
          absl::StrCat("pid file ", path, ": create the replacement ", *temp));
    }
  }
  struct flock lock = WholeFileLock(F_WRLCK);
  if (fcntl(fd.get(), F_OFD_SETLK, &lock) != 0 || fchmod(fd.get(), mode) != 0) {
    const int saved = errno;
    (void)unlinkat(dir, temp->c_str(), 0);
    return ErrnoError(saved, absl::StrCat("lock the new pid file ", *temp));
  }
  return fd;
}

// The new file is created under a random name with O_EXCL, 0600 and locked
// before anyone else can open it, then exchanged with the path
// (RENAME_EXCHANGE): the path never goes missing, so no other starter can
// create a file there meanwhile, and nothing is unlinked by name on the
// strength of an earlier look. What the exchange brought out is judged
// afterwards, under its random name (DiscardIfNoDaemons). No file of a
// predictable name is involved: a fixed claim file beside the pid file
// could be created first, and locked, by any user of a sticky directory.
absl::StatusOr<UniqueFd> ReplacePidFile(const std::string& path) {
  const std::string name = BaseName(path);
  const std::string dir_path = DirectoryOf(path);
  DAEMONKIT_ASSIGN_OR_RETURN(const UniqueFd owned_dir,
                             OpenPidFileDirectory(path, dir_path));
  const int dir = owned_dir.get();
  const UniqueFd order = TakeReplacerTurn(dir_path, kReplacerOrderWait);
  std::string temp;
  DAEMONKIT_ASSIGN_OR_RETURN(
      UniqueFd fd, CreateLockedPidFile(dir, path, kPidFileMode, &temp));
  if (renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_EXCHANGE) != 0) {
    const int saved = errno;
    if (saved == ENOENT && renameat2(dir, temp.c_str(), dir, name.c_str(),
                                     RENAME_NOREPLACE) == 0) {
      return fd;  // the old file went away: the new one takes its place
    }
    (void)unlinkat(dir, temp.c_str(), 0);
    fd.reset();
    if (saved == ENOENT || saved == EEXIST) return UniqueFd();
    return ErrnoError(saved, absl::StrCat("replace pid file ", path));
  }
  // `temp` now names what the path named.
  if (DiscardIfNoDaemons(dir, temp)) {
    LOG(WARNING) << "pid file " << path
                 << " was no daemon's (another user's file, or locked only "
                    "for reading); replaced it";
    return fd;
  }
  // A daemon's (or a competing starter's) file: give it its path back.
  if (renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_EXCHANGE) != 0) {
    const int saved = errno;
    fd.reset();
    return ErrnoError(saved, absl::StrCat("pid file ", path,
                                          ": put back the file now at ", temp));
  }
  (void)unlinkat(dir, temp.c_str(), 0);
  return UniqueFd();
}

absl::StatusOr<PidFileRestore> RestorePidFile(const std::string& path, int* fd,
                                              dev_t* dev, ino_t* ino) {
  if (*fd < 0) return PidFileRestore::kInPlace;
  struct stat named;
  bool swapped = false;  // the path names another file, not nothing
  if (lstat(path.c_str(), &named) == 0) {
    if (FileIdentity::Of(named) == FileIdentity{*dev, *ino}) {
      return PidFileRestore::kInPlace;
    }
    swapped = true;
  } else if (errno != ENOENT) {
    return ErrnoError(errno, absl::StrCat("look at pid file ", path));
  }
  // The path names nothing (someone removed the file: a tmpfiles cleaner,
  // an operator's rm) or another file (someone renamed one over it: a
  // stale copy, a restore from backup).
  const std::string dir_path = DirectoryOf(path);
  DAEMONKIT_ASSIGN_OR_RETURN(const UniqueFd owned_dir,
                             OpenPidFileDirectory(path, dir_path));
  const int dir = owned_dir.get();
  // A later start's file, held: left alone without even a moment's swap
  // (a `stop` then would find this daemon instead of that one). Judged
  // again after the exchange, which is what decides.
  if (swapped && IsAnotherDaemonsPidFile(dir, BaseName(path))) {
    return PidFileRestore::kTaken;
  }
  // One replacer at a time per directory, as for starters (ReplacePidFile):
  // a starter exchanging its file in while this exchanges ours could have
  // either put back the wrong file.
  const UniqueFd order = TakeReplacerTurn(dir_path, kRestoreOrderWait);
  DAEMONKIT_ASSIGN_OR_RETURN(RestoredFile fresh,
                             MakeRestoredFile(dir, path, *fd));
  return PutRestoredFile(dir, path, swapped, std::move(fresh), fd, dev, ino);
}

}  // namespace internal
}  // namespace daemonkit
