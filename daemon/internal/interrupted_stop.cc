// Copyright 2026 The daemonkit Authors.

#include "daemon/internal/interrupted_stop.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace daemonkit {
namespace internal {
namespace {

// Built before the handlers are installed, written with write(2) alone.
char g_message[8192];
size_t g_message_length = 0;
constexpr std::array<int, 4> kStopSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
struct sigaction g_saved_actions[kStopSignals.size()];

extern "C" void OnStopInterrupted(int signal_number) {
  const int saved_errno = errno;
  // Best effort: nothing to do if stderr is gone.
  ssize_t written = write(STDERR_FILENO, g_message, g_message_length);
  static_cast<void>(written);
  // Dying of the signal, not exiting, tells the shell (and a script's
  // `wait`) that the stop was interrupted: the shell shows 130 for SIGINT.
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal_number, &default_action, nullptr);
  raise(signal_number);
  errno = saved_errno;
}

}  // namespace

SayIfStopIsInterrupted::SayIfStopIsInterrupted(const std::string& message) {
  g_message_length = std::min(message.size(), sizeof(g_message));
  std::memcpy(g_message, message.data(), g_message_length);
  struct sigaction action = {};
  action.sa_handler = OnStopInterrupted;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < kStopSignals.size(); ++i) {
    if (sigaction(kStopSignals[i], nullptr, &g_saved_actions[i]) != 0) {
      g_saved_actions[i].sa_handler = SIG_DFL;
    }
    if (g_saved_actions[i].sa_handler == SIG_IGN) continue;
    if (sigaction(kStopSignals[i], &action, nullptr) != 0) {
      PLOG(WARNING) << "sigaction for the interrupted-stop message";
    }
  }
}

SayIfStopIsInterrupted::~SayIfStopIsInterrupted() {
  for (size_t i = 0; i < kStopSignals.size(); ++i) {
    sigaction(kStopSignals[i], &g_saved_actions[i], nullptr);
  }
}

std::string StopInterruptedMessage(pid_t pid,
                                   const std::string& pid_file_note) {
  return absl::StrCat(
      "\n", program_invocation_short_name, ": stop interrupted: the daemon",
      pid > 0 ? absl::StrCat(", pid ", pid, ",") : std::string(),
      " may still be running", pid_file_note, "\n");
}

}  // namespace internal
}  // namespace daemonkit
