// Copyright 2026 The daemonkit Authors.
//
// The program's own cgroup v2 (issue 21.3).

#include "daemon/internal/program_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "daemon/internal/deadline.h"
#include "daemon/internal/errors.h"
#include "daemon/internal/kill_and_reap.h"
#include "daemon/internal/proc.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace internal {
namespace {

constexpr char kNamePrefix[] = "daemonkit.";
// A walk of the hierarchy gives up after this many directories (a machine
// has hundreds).
constexpr int kMaxWalk = 100000;
constexpr absl::Duration kPollInterval = absl::Milliseconds(5);

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        if (field[i + j] < '0' || field[i + j] > '7') {
          octal = false;
          break;
        }
        value = value * 8 + (field[i + j] - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

absl::StatusOr<CgroupMount> OwnMount() {
  absl::StatusOr<std::string> mountinfo = ReadSmallFile("/proc/self/mountinfo");
  // No /proc (a chroot without it): no cgroup to find. Anything else (out
  // of descriptors, say) is an error of its own, not "no cgroup here" (the
  // attack of 2026-12-07: a start at a low nofile limit logged that).
  if (!mountinfo.ok() && absl::IsNotFound(mountinfo.status())) {
    return absl::NotFoundError("no /proc/self/mountinfo");
  }
  if (!mountinfo.ok()) return mountinfo.status();
  return ParseCgroupMount(*mountinfo);
}

// The cgroup directory of `process` ("self" or a pid), e.g.
// /sys/fs/cgroup/user.slice/x.scope.
absl::StatusOr<std::string> CgroupDirectoryOf(const CgroupMount& mount,
                                              absl::string_view process) {
  absl::StatusOr<std::string> text =
      ReadSmallFile(absl::StrCat("/proc/", process, "/cgroup"));
  if (!text.ok()) return absl::NotFoundError("no /proc/PID/cgroup");
  absl::StatusOr<std::string> path = ParseUnifiedCgroup(*text);
  if (!path.ok()) return path.status();
  return CgroupDirectory(mount, *path);
}

// The path /proc/PID/cgroup gives for `directory` under `mount`.
std::string PathOf(const CgroupMount& mount, const std::string& directory) {
  std::string rest =
      directory.substr(std::min(directory.size(), mount.mount_point.size()));
  if (mount.root == "/") return rest.empty() ? "/" : rest;
  return absl::StrCat(mount.root, rest);
}

// Whether `pid` is in cgroup `path` or below it.
bool IsIn(pid_t pid, const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/cgroup"));
  if (!text.ok()) return false;
  absl::StatusOr<std::string> own = ParseUnifiedCgroup(*text);
  if (!own.ok()) return false;
  return *own == path || absl::StartsWith(*own, absl::StrCat(path, "/"));
}

// The subdirectories of `directory` (the child cgroups).
std::vector<std::string> Subdirectories(const std::string& directory) {
  std::vector<std::string> found;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) return found;
  while (struct dirent* entry = readdir(dir)) {
    const absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (entry->d_type == DT_DIR) {
      found.push_back(absl::StrCat(directory, "/", name));
    }
  }
  closedir(dir);
  return found;
}

// `directory` and every cgroup below it, parents before children.
std::vector<std::string> Tree(const std::string& directory) {
  std::vector<std::string> tree = {directory};
  for (size_t i = 0; i < tree.size() && tree.size() < kMaxWalk; ++i) {
    for (std::string& sub : Subdirectories(tree[i])) {
      tree.push_back(std::move(sub));
    }
  }
  return tree;
}

// Whether `directory` is a directory this user made: a user to whom a
// sub-tree is delegated (systemd's user@.service) may make one of the same
// name, to be found by root's stop or status.
bool IsOurDirectory(const std::string& directory) {
  struct stat st;
  return lstat(directory.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         st.st_uid == geteuid();
}

uint64_t Fnv1a(absl::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

absl::StatusOr<CgroupMount> ParseCgroupMount(absl::string_view mountinfo) {
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional...] - type
    // source super-options
    const size_t dash = line.find(" - ");
    if (dash == absl::string_view::npos) continue;
    std::vector<absl::string_view> after =
        absl::StrSplit(line.substr(dash + 3), ' ');
    if (after.empty() || after[0] != "cgroup2") continue;
    std::vector<absl::string_view> before =
        absl::StrSplit(line.substr(0, dash), ' ');
    if (before.size() < 6) continue;
    CgroupMount mount;
    mount.root = Unescape(before[3]);
    mount.mount_point = Unescape(before[4]);
    for (absl::string_view option : absl::StrSplit(before[5], ',')) {
      if (option == "ro") mount.read_only = true;
    }
    if (mount.mount_point.size() > 1 && mount.mount_point.back() == '/') {
      mount.mount_point.pop_back();
    }
    return mount;
  }
  return absl::NotFoundError("no cgroup2 file system is mounted");
}

absl::StatusOr<std::string> ParseUnifiedCgroup(absl::string_view proc_cgroup) {
  for (absl::string_view line : absl::StrSplit(proc_cgroup, '\n')) {
    if (absl::ConsumePrefix(&line, "0::")) return std::string(line);
  }
  return absl::NotFoundError("no cgroup v2 line in /proc/PID/cgroup");
}

absl::StatusOr<std::string> CgroupDirectory(const CgroupMount& mount,
                                            absl::string_view path) {
  absl::string_view rest = path;
  // " (deleted)" follows a removed cgroup's path.
  if (absl::EndsWith(rest, " (deleted)") || rest.empty() || rest[0] != '/') {
    return absl::NotFoundError(absl::StrCat("cgroup ", path, " is gone"));
  }
  if (mount.root != "/") {
    if (rest != mount.root &&
        !absl::ConsumePrefix(&rest, absl::StrCat(mount.root, "/"))) {
      return absl::NotFoundError(absl::StrCat(
          "cgroup ", path, " is outside the mounted ", mount.root));
    }
    if (rest == mount.root) rest = "";
    return rest.empty() ? mount.mount_point
                        : absl::StrCat(mount.mount_point, "/", rest);
  }
  if (rest == "/") return mount.mount_point;
  return absl::StrCat(mount.mount_point, rest);
}

std::string ProgramCgroupName(const std::string& pidfile) {
  if (pidfile.empty()) return "";
  const size_t slash = pidfile.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : pidfile.substr(0, slash);
  const std::string base =
      slash == std::string::npos ? pidfile : pidfile.substr(slash + 1);
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) == nullptr) return "";
  const std::string canonical =
      absl::StrCat(resolved, std::string(resolved) == "/" ? "" : "/", base);
  return absl::StrCat(kNamePrefix,
                      absl::Hex(Fnv1a(canonical), absl::kZeroPad16));
}

std::string ProgramCgroupNameForSession(pid_t sid) {
  return absl::StrCat(kNamePrefix, "s", sid);
}

std::string ProgramCgroupNameForMonitor(pid_t monitor) {
  return absl::StrCat(kNamePrefix, "m", monitor);
}

absl::StatusOr<std::unique_ptr<ProgramCgroup>> ProgramCgroup::Create(
    const std::string& name) {
  absl::StatusOr<CgroupMount> mount = OwnMount();
  if (!mount.ok() && !absl::IsNotFound(mount.status())) return mount.status();
  if (!mount.ok()) return absl::UnavailableError(mount.status().message());
  if (mount->read_only) {
    return absl::UnavailableError(
        absl::StrCat(mount->mount_point, " is mounted read-only"));
  }
  absl::StatusOr<std::string> own = CgroupDirectoryOf(*mount, "self");
  if (!own.ok()) return absl::UnavailableError(own.status().message());
  const std::string directory = absl::StrCat(
      *own, own->size() > 1 && own->back() == '/' ? "" : "/", name);
  std::unique_ptr<ProgramCgroup> cgroup(new ProgramCgroup(directory));
  cgroup->path_ = PathOf(*mount, directory);
  bool made = false;
  if (mkdir(directory.c_str(), 0755) == 0) {
    made = true;
  } else if (errno == EEXIST) {
    if (!IsOurDirectory(directory)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cgroup ", directory, " exists and is not this user's"));
    }
    if (cgroup->Populated()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "processes of an earlier run still run in cgroup ", directory,
          " (its monitor was killed): stop them first"));
    }
  } else if (errno == EACCES || errno == EPERM || errno == EROFS ||
             errno == ENOENT) {
    return absl::UnavailableError(
        ErrnoError(errno, absl::StrCat("mkdir ", directory)).message());
  } else {
    return ErrnoError(errno, absl::StrCat("mkdir ", directory));
  }
  if (absl::Status opened = cgroup->OpenProcs(made); !opened.ok()) {
    return opened;
  }
  return cgroup;
}

absl::Status ProgramCgroup::OpenProcs(bool made) {
  const std::string procs = absl::StrCat(directory_, "/cgroup.procs");
  procs_fd_.reset(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!procs_fd_.valid()) {
    const int error = errno;
    if (made) rmdir(directory_.c_str());
    return ErrnoError(error, procs);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ProgramCgroup>> ProgramCgroup::CreateChild(
    absl::string_view name) const {
  const std::string directory = absl::StrCat(directory_, "/", name);
  std::unique_ptr<ProgramCgroup> child(new ProgramCgroup(directory));
  child->path_ = path_.empty() ? "" : absl::StrCat(path_, "/", name);
  const bool made = mkdir(directory.c_str(), 0755) == 0;
  if (!made && errno != EEXIST) {
    return ErrnoError(errno, absl::StrCat("mkdir ", directory));
  }
  if (!made && child->Populated()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cgroup ", directory, " holds processes"));
  }
  if (absl::Status opened = child->OpenProcs(made); !opened.ok()) {
    return opened;
  }
  return child;
}

std::string ProgramRunCgroupOf(pid_t pid) {
  absl::StatusOr<CgroupMount> mount = OwnMount();
  if (!mount.ok()) return "";
  absl::StatusOr<std::string> directory =
      CgroupDirectoryOf(*mount, absl::StrCat(pid));
  if (!directory.ok()) return "";
  const size_t slash = directory->rfind('/');
  const size_t parent = directory->rfind('/', slash - 1);
  if (slash == std::string::npos || slash == 0 || parent == std::string::npos ||
      !absl::StartsWith(directory->substr(parent + 1), "daemonkit.") ||
      !absl::StartsWith(directory->substr(slash + 1), "run.")) {
    return "";
  }
  return *directory;
}

std::unique_ptr<ProgramCgroup> ProgramCgroup::At(std::string directory) {
  std::unique_ptr<ProgramCgroup> cgroup(
      new ProgramCgroup(std::move(directory)));
  absl::StatusOr<CgroupMount> mount = OwnMount();
  if (mount.ok()) cgroup->path_ = PathOf(*mount, cgroup->directory_);
  return cgroup;
}

ProgramCgroup::~ProgramCgroup() = default;

std::vector<pid_t> ProgramCgroup::Processes() const {
  std::vector<pid_t> pids;
  for (const std::string& dir : Tree(directory_)) {
    absl::StatusOr<std::string> text =
        ReadSmallFile(absl::StrCat(dir, "/cgroup.procs"));
    if (!text.ok()) continue;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      pid_t pid;
      if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
    }
  }
  return pids;
}

bool ProgramCgroup::Populated() const {
  absl::StatusOr<std::string> events =
      ReadSmallFile(absl::StrCat(directory_, "/cgroup.events"));
  if (!events.ok()) return false;
  for (absl::string_view line : absl::StrSplit(*events, '\n')) {
    if (line == "populated 1") return true;
  }
  return false;
}

void ProgramCgroup::ForEachMember(
    absl::FunctionRef<void(int pidfd)> act) const {
  for (const pid_t pid : Processes()) {
    const UniqueFd pidfd(PidfdOpen(pid));
    if (!pidfd.valid()) continue;  // gone
    if (path_.empty() || IsIn(pid, path_)) act(pidfd.get());
  }
}

void ProgramCgroup::SignalAll(int signo) const {
  ForEachMember([signo](int pidfd) { PidfdSendSignal(pidfd, signo); });
}

bool ProgramCgroup::AwaitEmpty(const Deadline& deadline) const {
  for (;;) {
    if (!Populated()) return true;
    if (deadline.Passed()) return false;
    absl::SleepFor(kPollInterval);
  }
}

bool ProgramCgroup::End(int signo, absl::Duration grace,
                        absl::Duration kill_grace) const {
  if (!Populated()) return true;
  if (signo != 0 && signo != SIGKILL) {
    SignalAll(signo);
    // A stopped process acts on nothing but SIGKILL until continued.
    if (signo != SIGCONT) SignalAll(SIGCONT);
    if (AwaitEmpty(Deadline::In(grace))) return true;
  }
  const Deadline deadline = Deadline::In(kill_grace);
  const std::string kill_file = absl::StrCat(directory_, "/cgroup.kill");
  UniqueFd fd(open(kill_file.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.valid()) {
    const bool written = write(fd.get(), "1", 1) == 1;
    fd.reset();
    if (written) return AwaitEmpty(deadline);
  }
  // Kernels before 5.14: each pid, again and again (a process may fork
  // while the kill is on its way).
  return KillUntilGone(
      [this] {
        ForEachMember([](int pidfd) { KillThroughPidfd(pidfd); });
        return Populated();
      },
      deadline);
}

absl::Status ProgramCgroup::Remove() const {
  std::vector<std::string> tree = Tree(directory_);
  for (auto it = tree.rbegin(); it != tree.rend(); ++it) {
    if (rmdir(it->c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(errno, absl::StrCat("rmdir ", *it));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> FindProgramCgroups(const std::string& name) {
  std::vector<std::string> found;
  if (name.empty()) return found;
  absl::StatusOr<CgroupMount> mount = OwnMount();
  if (!mount.ok()) return found;
  absl::StatusOr<std::string> own = CgroupDirectoryOf(*mount, "self");
  if (own.ok()) {
    const std::string here = absl::StrCat(*own, "/", name);
    if (IsOurDirectory(here)) {
      found.push_back(here);
      return found;
    }
  }
  std::deque<std::string> queue = {mount->mount_point};
  int walked = 0;
  while (!queue.empty() && walked++ < kMaxWalk) {
    const std::string dir = std::move(queue.front());
    queue.pop_front();
    for (std::string& sub : Subdirectories(dir)) {
      const absl::string_view base =
          absl::string_view(sub).substr(sub.rfind('/') + 1);
      if (base == name) {
        if (IsOurDirectory(sub)) found.push_back(sub);
      } else if (!absl::StartsWith(base, kNamePrefix)) {
        queue.push_back(std::move(sub));
      }
    }
  }
  return found;
}

}  // namespace internal
}  // namespace daemonkit
