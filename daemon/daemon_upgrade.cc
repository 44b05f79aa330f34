// Copyright 2026 The daemonkit Authors.
//
// Upgrades (issue 14), in the daemon: the old one answering
// `--daemon_control=upgrade` (starting its successor, handing over,
// draining), and the new one until the old one confirms the handover.

#include "daemon/daemon_impl.h"
#include "daemon/internal/unique_fd.h"

namespace daemonkit {
namespace {

using Owned = internal::OwnedDescriptors;

}  // namespace

void Daemon::Impl::CheckHandoverConfirmed() {
  if (confirm_fd_ < 0) return;
  char byte;
  ssize_t got;
  do {
    got = read(confirm_fd_, &byte, 1);
  } while (got < 0 && errno == EINTR);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (got < 0) PLOG(WARNING) << "upgrade: read the handover confirmation";
  if (got == 0 && handover_pending_) {
    // Not ready yet: the old daemon's death takes this one too (the
    // parent-death signal, upgrade.h); it must not say it serves on (the
    // attack of stop 33 read that line from a process dead 0.2 s later).
    LOG(ERROR) << "upgrade: the old daemon is gone before this one was "
                  "ready; the upgrade failed, this one stops";
    stop_requested_ = true;
  } else if (got == 0) {
    LOG(WARNING) << "upgrade: the old daemon is gone without confirming "
                    "the handover; this one serves on";
  }
  if (event_set_ >= 0) {
    (void)epoll_ctl(event_set_, EPOLL_CTL_DEL, confirm_fd_, nullptr);
  }
  Owned::Release(Owned::kHandoverConfirm);
  internal::CloseDescriptor(std::exchange(confirm_fd_, -1));
  for (const std::string& message : std::exchange(held_messages_, {})) {
    Notify(message);
  }
}

void Daemon::Impl::EndDrainingPredecessor() {
  if (predecessor_pidfd_ < 0) return;
  if (internal::KillThroughPidfd(predecessor_pidfd_) == 0) {
    LOG(INFO) << (confirm_fd_ >= 0
                      ? "ended the old daemon, which had not yet confirmed "
                        "the handover"
                      : "ended the old daemon still draining");
  }
  Owned::Release(Owned::kPredecessorPidfd);
  internal::CloseDescriptor(std::exchange(predecessor_pidfd_, -1));
}

void Daemon::Impl::LeaveAfterHandover() {
  sockets_.Relinquish();
  if (pidfile_) {
    pidfile_->Close();
    Owned::Release(Owned::kPidFile);
  }
  if (absl::Status bounded = internal::KillSelfAfter(stop_timeout_);
      !bounded.ok()) {
    LOG(ERROR) << "upgrade: no bound on the drain: " << bounded.message();
  }
}

void Daemon::Impl::ForwardReloadToSuccessor() {
  if (successor_pidfd_ < 0 ||
      internal::PidfdSendSignal(successor_pidfd_, SIGHUP) != 0) {
    PLOG(WARNING) << "upgrade: cannot pass the reload on to the new daemon";
    return;
  }
  LOG(INFO) << "reload passed on to the new daemon";
}

int Daemon::Impl::ConnectUpgradeChannel(uint64_t token) const {
  if (!pidfile_) return -1;
  const auto [dev, ino] = pidfile_->CurrentIdentity();
  return internal::ConnectUpgradeChannel(dev, ino, token);
}

void Daemon::Impl::RefuseUpgrade(absl::string_view why) {
  const uint64_t token = internal::SignalPipe::TakeQueuedValue();
  const internal::UniqueFd channel(ConnectUpgradeChannel(token));
  if (!channel.valid()) return;
  const std::string reply = absl::StrCat("ERR ", why, "\n");
  if (send(channel.get(), reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
    PLOG(WARNING) << "upgrade: answer the control process";
  }
}

void Daemon::Impl::Upgrade() {
  const uint64_t token = internal::SignalPipe::TakeQueuedValue();
  internal::UniqueFd channel(ConnectUpgradeChannel(token));
  if (!channel.valid()) {
    LOG(WARNING) << "SIGUSR2 without an upgrade request; ignored";
    return;
  }
  std::string reply;
  if (stop_requested_) {
    reply = "ERR the daemon is stopping\n";
  } else if (upgrade_taker_) {
    // The daemonkit command's monitor upgrades its program itself.
    upgrade_taker_(channel.release());  // the taker answers and closes
    return;
  } else if (!upgrade_source_ || !pidfile_) {
    reply =
        absl::StrCat("ERR ",
                     upgrade_refusal_.empty() ? "upgrade is not supported here"
                                              : upgrade_refusal_,
                     "\n");
  } else {
    reply = StartSuccessorAndHandOver();
  }
  if (send(channel.get(), reply.data(), reply.size(), MSG_NOSIGNAL) < 0) {
    PLOG(WARNING) << "upgrade: answer the control process";
  }
}

std::string Daemon::Impl::StartSuccessorAndHandOver() {
  LOG(INFO) << "upgrading: starting " << upgrade_source_->exe;
  // A stop that comes meanwhile ends the new daemon too (the old one
  // would otherwise stop and leave it, unready and unrecorded).
  absl::StatusOr<internal::Successor> next =
      internal::StartSuccessor(*upgrade_source_, pidfile_->fd(), sockets_,
                               ready_timeout_, signal_fd_, [this] {
                                 // A due keep-alive wakes this wait
                                 // too: send it, or the wait spins.
                                 FeedWatchdog(internal::MonotonicNow());
                                 HandleSignals(/*upgrading=*/true);
                                 return stop_requested_;
                               });
  absl::Status handed = next.status();
  if (next.ok()) {
    absl::Status written = pidfile_->WritePid(next->pid);
    if (!written.ok()) LOG(ERROR) << "upgrade: " << written;
    // Attack 7: MAINPID= before the successor says anything (it holds
    // its messages until the confirmation below): systemd's
    // NotifyAccess=main drops what a pid not yet main sends.
    Notify(absl::StrCat("MAINPID=", next->pid));
    // Attack 4: checked alive again at the handover itself.
    handed = internal::ConfirmHandover(*next);
    if (!handed.ok()) Notify(absl::StrCat("MAINPID=", getpid()));
  }
  if (handed.ok()) {
    HandOverTo(next->pid);
    return absl::StrCat("OK ", next->pid, "\n");
  }
  LOG(ERROR) << "upgrade failed"
             << (stop_requested_ ? ", stopping: " : ", still serving: ")
             << handed.message();
  // The new one may have written its pid before it was killed.
  if (absl::Status written = pidfile_->WritePid(getpid()); !written.ok()) {
    LOG(ERROR) << "upgrade: " << written;
  }
  return absl::StrCat("ERR ", handed.message(), "\n");
}

void Daemon::Impl::HandOverTo(pid_t successor) {
  LOG(INFO) << "upgraded: pid " << successor << " serves; stopping";
  handed_over_ = true;
  stop_requested_ = true;
  // Still this process's child, unreaped: the pid is its own.
  successor_pidfd_ = internal::PidfdOpen(successor);
  if (successor_pidfd_ >= 0) {
    Owned::Own(Owned::kSuccessorPidfd, successor_pidfd_);
    // From here a SIGHUP goes on to the successor from the handler,
    // even once the application has left its main loop to drain;
    // one already in the pipe is passed on below.
    internal::SignalPipe::ForwardTo(SIGHUP, successor_pidfd_);
  }
  // Issue 18.7: a SIGHUP that came while the successor started (a
  // rotated log) is the successor's, which may have opened its
  // outputs before the rename; this process reopens nothing now.
  if (reload_pending_) {
    reload_pending_ = false;
    ForwardReloadToSuccessor();
  }
  // And one that reached the pipe after this loop last drained it.
  HandleSignals(/*upgrading=*/true);
  LeaveAfterHandover();
}

}  // namespace daemonkit
