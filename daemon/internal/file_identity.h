// Copyright 2026 The daemonkit Authors.
//
// File: daemon/internal/file_identity.h
// -----------------------------------------------------------------------------
//
// "Is this the same file?" has one answer in daemonkit, and this is the
// one place that asks it: a file is its device and inode number (stat(2)'s
// st_dev and st_ino), never its name, which another process may point
// elsewhere between two looks (a renamed pid file, a socket path replaced,
// a symlink planted). Every check that a path still names the file a
// descriptor holds, that a descriptor is a pid file or an output, or that a
// process holds a given lock, compares FileIdentity values.
//
// Example:
//
//   struct stat by_path, by_fd;
//   if (lstat(path, &by_path) == 0 && fstat(fd, &by_fd) == 0 &&
//       SameFile(by_path, by_fd)) {
//     // the name still names the file we hold
//   }

#ifndef DAEMONKIT_DAEMON_INTERNAL_FILE_IDENTITY_H_
#define DAEMONKIT_DAEMON_INTERNAL_FILE_IDENTITY_H_

#include <sys/stat.h>
#include <sys/types.h>

namespace daemonkit {
namespace internal {

// A file as the kernel knows it: its device and inode number.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;

  static FileIdentity Of(const struct stat& st) {
    return {st.st_dev, st.st_ino};
  }

  friend bool operator==(const FileIdentity& a, const FileIdentity& b) {
    return a.dev == b.dev && a.ino == b.ino;
  }
  friend bool operator!=(const FileIdentity& a, const FileIdentity& b) {
    return !(a == b);
  }
};

// Whether `a` and `b` describe one file.
inline bool SameFile(const struct stat& a, const struct stat& b) {
  return FileIdentity::Of(a) == FileIdentity::Of(b);
}

}  // namespace internal
}  // namespace daemonkit

#endif  // DAEMONKIT_DAEMON_INTERNAL_FILE_IDENTITY_H_
