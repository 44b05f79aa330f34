// Copyright 2026 The daemonkit Authors.
//
// Runs in the caller of Daemonize() (taking and binding, before the first
// fork), in the launcher (removing a failed start's files), and in the
// process that holds the pid file (removing them at a clean exit).

#include "daemon/internal/listen_sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "daemon/internal/activated_sockets.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/file_identity.h"
#include "daemon/internal/safe_open.h"
#include "daemon/internal/socket_address.h"
#include "daemon/internal/socket_file.h"
#include "daemon/internal/unique_fd.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// What an error says about the entry it is about.
std::string Describe(const ListenEntry& entry) {
  return absl::StrCat("--daemon_listen ", entry.name, "=", entry.address.text);
}

// Gives a socket file just bound its documented mode and owner, checking
// that it is in the walked directory, and that the path still reaches that
// directory (bind(2) took the path). Both go through a descriptor of the
// file itself (O_PATH, not following a link), opened relative to the
// directory's: between bind(2) and here whoever may write the directory
// could put a symbolic link at the name, and chmod(2) by path would follow
// it and change, as root, the mode of any file the link names.
absl::Status SetSocketFileMode(
    const ListenEntry& entry, ListenSocket& socket,
    const std::optional<std::pair<uid_t, gid_t>>& owner) {
  const std::string& path = entry.address.path;
  if (!PathStillReaches(path, socket.dir)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(entry), ": the directory of ", path,
        " was replaced while the socket was bound; the socket file may be "
        "left wherever the path led"));
  }
  const UniqueFd file(openat(socket.dir, socket.file_name.c_str(),
                             O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!file.valid()) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": open ", path));
  }
  struct stat st;
  if (fstat(file.get(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": stat ", path));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(entry), ": ", path, " is not the socket just bound"));
  }
  socket.file = path;
  socket.dev = st.st_dev;
  socket.ino = st.st_ino;
  // Nobody can connect yet (listen() comes after), so the mode bind gave
  // (0777 minus the umask) is never used.
  if (owner && fchownat(file.get(), "", owner->first, owner->second,
                        AT_EMPTY_PATH) != 0) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": chown ", path));
  }
  // fchmod(2) does not take an O_PATH descriptor; its /proc link reaches
  // the very inode (a link there is never followed twice).
  if (chmod(absl::StrCat("/proc/self/fd/", file.get()).c_str(), 0660) != 0) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": chmod ", path,
                                          " (through /proc/self/fd)"));
  }
  struct stat after;
  if (fstatat(socket.dir, socket.file_name.c_str(), &after,
              AT_SYMLINK_NOFOLLOW) != 0 ||
      !SameFile(after, st)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(entry), ": ", path, " was replaced while it was set up"));
  }
  return absl::OkStatus();
}

// A stream socket for `entry`, close-on-exec, with the options its
// family needs before bind(2).
absl::StatusOr<UniqueFd> NewSocket(const ListenEntry& entry,
                                   const SocketAddress& sockaddr) {
  const ListenAddress& address = entry.address;
  UniqueFd fd(::socket(sockaddr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": socket"));
  }
  const int on = 1;
  if (address.family != ListenAddress::Family::kUnix &&
      setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": SO_REUSEADDR"));
  }
  // [::] means IPv6 only, so that 0.0.0.0 on the same port is a socket of
  // its own (and an entry of its own), whatever net.ipv6.bindv6only says.
  if (address.family == ListenAddress::Family::kInet6 &&
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) {
    return ErrnoError(errno, absl::StrCat(Describe(entry), ": IPV6_V6ONLY"));
  }
  return fd;
}

// bind(2) of `socket.fd` to `sockaddr`. For a Unix socket file
// (`unix_file`, `socket.dir` walked), a socket file there that nobody
// listens on is removed and the bind tried once more.
absl::Status Bind(const ListenEntry& entry, const SocketAddress& sockaddr,
                  bool unix_file, const ListenSocket& socket) {
  const ListenAddress& address = entry.address;
  int bound = bind(socket.fd, sockaddr.get(), sockaddr.length());
  struct stat dead;
  if (bound != 0 && errno == EADDRINUSE && unix_file &&
      IsDeadSocketFile(sockaddr, socket.dir, socket.file_name, &dead)) {
    absl::StatusOr<bool> replaced = UnlinkAtIfSame(
        socket.dir, socket.file_name, dead.st_dev, dead.st_ino, address.path);
    if (replaced.ok() && *replaced) {
      LOG(INFO) << Describe(entry) << ": replaced the dead socket file "
                << address.path;
    }
    bound = bind(socket.fd, sockaddr.get(), sockaddr.length());
  }
  if (bound == 0) return absl::OkStatus();
  const int saved = errno;
  // bind(2) says "in use" of any file at the path; a file that is no
  // socket is not "in use" by anybody, and nothing here replaces it.
  struct stat existing;
  if (saved == EADDRINUSE && unix_file &&
      fstatat(socket.dir, socket.file_name.c_str(), &existing,
              AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISSOCK(existing.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(entry), ": ", address.path, " exists and is not a socket"));
  }
  return ErrnoError(saved, absl::StrCat(Describe(entry), ": bind"));
}

// Issue 18.5: relative to the directory's descriptor (or by the keeper,
// through its own), never by path.
void RemoveFile(const ListenSocket& socket, PathKeeperClient* keeper,
                size_t keeper_index) {
  absl::StatusOr<bool> removed =
      keeper != nullptr ? keeper->RemoveSocketFile(keeper_index)
      : socket.dir < 0  ? absl::StatusOr<bool>(absl::FailedPreconditionError(
                              "its directory's descriptor is closed"))
                        : UnlinkAtIfSame(socket.dir, socket.file_name,
                                         socket.dev, socket.ino, socket.file);
  if (!removed.ok()) {
    LOG(ERROR) << "remove socket file " << socket.file << ": "
               << removed.status().message();
  }
}

}  // namespace

absl::StatusOr<ListenSocket> BindListenSocket(
    const ListenEntry& entry,
    const std::optional<std::pair<uid_t, gid_t>>& owner) {
  const ListenAddress& address = entry.address;
  // A relative path was made absolute, and may have grown too long.
  if (address.family == ListenAddress::Family::kUnix &&
      address.path.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(entry), ": a Unix socket path is at most ",
                     kMaxUnixPath, " bytes"));
  }
  absl::StatusOr<SocketAddress> sockaddr = SocketAddress::Of(address);
  if (!sockaddr.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(entry), ": ", sockaddr.status().message()));
  }
  ListenSocket socket;
  socket.name = entry.name;
  DAEMONKIT_ASSIGN_OR_RETURN(UniqueFd fd, NewSocket(entry, *sockaddr));
  socket.fd = fd.get();
  const bool unix_file =
      address.family == ListenAddress::Family::kUnix && !address.abstract;
  // Issue 18.5: the directory, walked once; everything after deals with
  // the file relative to it.
  UniqueFd dir;
  if (unix_file) {
    DAEMONKIT_ASSIGN_OR_RETURN(
        const int walked, OpenContainingDirectory(address.path, Describe(entry),
                                                  &socket.file_name));
    dir.reset(walked);
    socket.dir = dir.get();
  }
  DAEMONKIT_RETURN_IF_ERROR(Bind(entry, *sockaddr, unix_file, socket));
  if (unix_file) {
    absl::Status set = SetSocketFileMode(entry, socket, owner);
    if (!set.ok()) {
      if (!socket.file.empty()) {
        (void)UnlinkAtIfSame(socket.dir, socket.file_name, socket.dev,
                             socket.ino, socket.file);
      }
      return set;
    }
  }
  if (listen(socket.fd, SOMAXCONN) != 0) {
    const int saved = errno;
    if (!socket.file.empty()) {
      (void)UnlinkAtIfSame(socket.dir, socket.file_name, socket.dev, socket.ino,
                           socket.file);
    }
    return ErrnoError(saved, absl::StrCat(Describe(entry), ": listen"));
  }
  // Both are the returned socket's now (the set closes them).
  (void)dir.release();
  (void)fd.release();
  return socket;
}

ListenSockets& ListenSockets::operator=(ListenSockets&& other) noexcept {
  sockets_ = std::move(other.sockets_);
  owns_files_ = other.owns_files_;
  keeper_ = std::move(other.keeper_);
  other.sockets_.clear();
  return *this;
}

absl::StatusOr<ListenSockets> ListenSockets::Open(
    const std::vector<std::string>& listen,
    const std::optional<std::pair<uid_t, gid_t>>& owner, bool adopt_files) {
  ListenSockets result;
  DAEMONKIT_ASSIGN_OR_RETURN(std::vector<ActivatedSocket> activated,
                             TakeActivatedSockets());
  for (ActivatedSocket& taken : activated) {
    ListenSocket socket;
    socket.fd = taken.fd;
    socket.activated = true;
    socket.name = std::move(taken.name);
    result.sockets_.push_back(std::move(socket));
  }
  absl::Cleanup undo = [&result] {
    result.RemoveFiles();
    // The activated ones are not closed: they are the caller's to keep.
    for (ListenSocket& socket : result.sockets_) {
      if (!socket.activated) CloseDescriptor(socket.fd);
    }
  };
  for (const std::string& text : listen) {
    DAEMONKIT_ASSIGN_OR_RETURN(ListenEntry entry, ParseListenEntry(text));
    if (result.Find(entry.name) >= 0) {  // activated: systemd's wins
      if (adopt_files) result.AdoptFile(entry);
      continue;
    }
    DAEMONKIT_ASSIGN_OR_RETURN(ListenSocket socket,
                               BindListenSocket(entry, owner));
    result.sockets_.push_back(std::move(socket));
  }
  std::move(undo).Cancel();
  return result;
}

void ListenSockets::AdoptFile(const ListenEntry& entry) {
  if (entry.address.family != ListenAddress::Family::kUnix ||
      entry.address.abstract) {
    return;
  }
  for (ListenSocket& socket : sockets_) {
    if (socket.name != entry.name) continue;
    struct sockaddr_un bound = {};
    socklen_t length = sizeof(bound);
    if (getsockname(socket.fd, reinterpret_cast<struct sockaddr*>(&bound),
                    &length) != 0 ||
        bound.sun_family != AF_UNIX ||
        strncmp(bound.sun_path, entry.address.path.c_str(),
                sizeof(bound.sun_path)) != 0) {
      return;
    }
    // Issue 18.5: removed, like a file bound here, relative to the
    // directory walked now.
    std::string name;
    absl::StatusOr<int> dir =
        OpenContainingDirectory(entry.address.path, Describe(entry), &name);
    if (!dir.ok()) return;
    UniqueFd owned_dir(*dir);
    struct stat st;
    if (fstatat(owned_dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISSOCK(st.st_mode)) {
      return;
    }
    socket.file = entry.address.path;
    socket.dir = owned_dir.release();  // closed by CloseDirectories()
    socket.file_name = std::move(name);
    socket.dev = st.st_dev;
    socket.ino = st.st_ino;
    return;
  }
}

std::vector<int> ListenSockets::fds() const {
  std::vector<int> fds;
  for (const ListenSocket& socket : sockets_) fds.push_back(socket.fd);
  return fds;
}

int ListenSockets::Find(absl::string_view name) const {
  for (const ListenSocket& socket : sockets_) {
    if (socket.name == name) return socket.fd;
  }
  return -1;
}

std::vector<std::string> ListenSockets::names() const {
  std::vector<std::string> names;
  for (const ListenSocket& socket : sockets_) names.push_back(socket.name);
  return names;
}

std::vector<KeeperSocketFile> ListenSockets::KeeperFiles() const {
  std::vector<KeeperSocketFile> files;
  for (const ListenSocket& socket : sockets_) {
    if (!socket.file.empty()) {
      files.push_back(KeeperSocketFile{
          socket.file, socket.dir, socket.file_name, socket.dev, socket.ino});
    }
  }
  return files;
}

void ListenSockets::UseKeeper(std::shared_ptr<PathKeeperClient> keeper) {
  keeper_ = std::move(keeper);
  // The keeper holds its own copies; the daemon, about to chroot or drop
  // its privileges, keeps none (a directory outside the new root is a way
  // out of it).
  CloseDirectories();
}

std::vector<int> ListenSockets::directory_fds() const {
  std::vector<int> fds;
  for (const ListenSocket& socket : sockets_) {
    if (socket.dir >= 0) fds.push_back(socket.dir);
  }
  return fds;
}

void ListenSockets::CloseDirectories() {
  for (ListenSocket& socket : sockets_) {
    CloseDescriptor(socket.dir);
    socket.dir = -1;
  }
}

void ListenSockets::DisownFiles() {
  owns_files_ = false;
  keeper_.reset();
  CloseDirectories();
}

void ListenSockets::RemoveFiles() {
  if (!owns_files_) return;
  owns_files_ = false;
  size_t keeper_index = 0;
  for (const ListenSocket& socket : sockets_) {
    if (socket.file.empty()) continue;
    // The keeper numbers every socket file, stored or not.
    const size_t index = keeper_index++;
    if (socket.stored) {
      LOG(INFO) << "leaving " << socket.file
                << ": its socket is in the service manager's fd store";
      continue;
    }
    RemoveFile(socket, keeper_.get(), index);
  }
  keeper_.reset();
  CloseDirectories();
}

void ListenSockets::Relinquish() {
  DisownFiles();
  for (ListenSocket& socket : sockets_) {
    if (socket.fd < 0) continue;
    const UniqueFd placeholder(
        ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!placeholder.valid() ||
        dup3(placeholder.get(), socket.fd, O_CLOEXEC) < 0) {
      PLOG(WARNING) << "give up the listening socket " << socket.name;
    }
  }
}

void ListenSockets::Close() {
  for (ListenSocket& socket : sockets_) {
    CloseDescriptor(socket.fd);
    socket.fd = -1;
  }
}

void ListenSockets::Forget() {
  for (ListenSocket& socket : sockets_) socket.fd = socket.dir = -1;
  owns_files_ = false;
  keeper_.reset();
}

void ListenSockets::StoreWithServiceManager(const Notifier& notifier) {
  if (!notifier.fd_store()) return;
  for (ListenSocket& socket : sockets_) {
    if (socket.activated) continue;
    absl::Status stored = notifier.SendWithFd(
        absl::StrCat("FDSTORE=1\nFDNAME=", socket.name), socket.fd);
    if (!stored.ok()) {
      LOG(WARNING) << "sd_notify FDSTORE " << socket.name << ": "
                   << stored.message();
      continue;
    }
    socket.stored = true;
  }
}

}  // namespace internal
}  // namespace daemonkit
