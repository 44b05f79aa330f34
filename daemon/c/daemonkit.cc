// Copyright 2026 The daemonkit Authors.
//
// The C API (daemon/c/daemonkit.h) over the C++ one: flags are set through
// Abseil's flag reflection rather than absl::ParseCommandLine, because the
// command line is the C program's own (its arguments, its flags) and,
// from a cgo constructor, the Go program's: only the `--daemon*` words are
// the library's, and an error must come back as a return code rather than
// an exit.

#include "daemon/c/daemonkit.h"

#include <errno.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "daemon/daemon.h"
#include "daemon/flags.h"
#include "daemon/internal/upgrade.h"
#include "glog/logging.h"

struct daemonkit_daemon {
  std::unique_ptr<daemonkit::Daemon> daemon;
};

namespace {

// A usage error of the library's kind (ExitCodeFor gives kExitUsage).
absl::Status Usage(absl::string_view message) {
  return daemonkit::UsageError("command_line", message);
}

// Whether `name` is one of the library's flag names: "daemon" or
// "daemon_...". The program's own flags are left alone.
bool IsLibraryFlagName(absl::string_view name) {
  return name == "daemon" || absl::StartsWith(name, "daemon_");
}

// Sets the `--daemon*` flags found in argv; the other words are skipped.
absl::Status SetLibraryFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == nullptr) break;
    absl::string_view word = argv[i];
    if (word == "--") break;
    if (!absl::ConsumePrefix(&word, "--") && !absl::ConsumePrefix(&word, "-")) {
      continue;  // a positional argument of the program
    }
    absl::string_view name = word;
    absl::string_view value;
    bool has_value = false;
    if (const size_t eq = word.find('='); eq != absl::string_view::npos) {
      name = word.substr(0, eq);
      value = word.substr(eq + 1);
      has_value = true;
    }
    bool negated = false;
    if (!IsLibraryFlagName(name) && absl::StartsWith(name, "no") &&
        IsLibraryFlagName(name.substr(2))) {
      negated = true;
      name.remove_prefix(2);
    }
    if (!IsLibraryFlagName(name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    std::string text;
    if (flag->IsOfType<bool>()) {
      if (negated && has_value) {
        return Usage(absl::StrCat("--no", name, " takes no value"));
      }
      text = has_value ? std::string(value) : negated ? "false" : "true";
    } else if (negated) {
      return Usage(absl::StrCat("unknown flag --no", name));
    } else if (has_value) {
      text = std::string(value);
    } else if (i + 1 < argc && argv[i + 1] != nullptr) {
      text = argv[++i];
    } else {
      return Usage(absl::StrCat("--", name, " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(text, &error)) {
      return Usage(absl::StrCat("--", name, "=", text, ": ", error));
    }
  }
  return absl::OkStatus();
}

// What flags.cc's ConfigureLogging does before a start: glog to stderr (the
// --daemon_stderr file once detached) or syslog, never glog's log files.
void ConfigureLogging(daemonkit::LogTarget target) {
  if (!google::IsGoogleLoggingInitialized()) {
    google::InitGoogleLogging(program_invocation_short_name);
  }
  if (target == daemonkit::LogTarget::kSyslog) {
    daemonkit::LogToSyslog();
    return;
  }
  FLAGS_logtostderr = true;
  daemonkit::LogToJournalStream(target == daemonkit::LogTarget::kJournal);
}

}  // namespace

extern "C" {

int daemonkit_daemonize(int argc, char** argv, daemonkit_daemon** daemon) {
  if (daemon == nullptr || argv == nullptr) {
    std::fprintf(stderr, "%s: daemonkit_daemonize: NULL argument\n",
                 program_invocation_short_name);
    return DAEMONKIT_EXIT_USAGE;
  }
  *daemon = nullptr;
  absl::StatusOr<daemonkit::FlagRequest> request;
  if (absl::Status set = SetLibraryFlags(argc, argv); !set.ok()) {
    request = set;
  } else {
    request = daemonkit::RequestFromFlags();
  }
  if (!request.ok()) {
    daemonkit::ReportStartFailure(request.status());
    return daemonkit::ExitCodeFor(request.status());
  }
  std::unique_ptr<daemonkit::Daemon> started;
  if (request->action != daemonkit::ControlAction::kStart &&
      !daemonkit::internal::IsUpgradeSuccessor()) {
    // The control actions exit with their codes, as in C++; a restart
    // comes back here after its stop, started (or exits 1).
    started = daemonkit::DaemonizeFromRequest(*std::move(request));
  } else {
    // A start, done here rather than by DaemonizeFromRequest so that a
    // failure before the fork is a return code, not an exit.
    ConfigureLogging(request->log);
    absl::StatusOr<std::unique_ptr<daemonkit::Daemon>> result =
        daemonkit::Daemonize(request->options);
    if (!result.ok()) {
      daemonkit::ReportStartFailure(result.status());
      return daemonkit::ExitCodeFor(result.status());
    }
    started = *std::move(result);
  }
  *daemon = new daemonkit_daemon{std::move(started)};
  return 0;
}

const char* daemonkit_flags_help(void) {
  static const std::string* const help = [] {
    std::vector<const absl::CommandLineFlag*> flags;
    for (const auto& [name, flag] : absl::GetAllFlags()) {
      if (IsLibraryFlagName(name)) flags.push_back(flag);
    }
    std::sort(
        flags.begin(), flags.end(),
        [](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
          return a->Name() < b->Name();
        });
    auto* text = new std::string;
    for (const absl::CommandLineFlag* flag : flags) {
      absl::StrAppend(text, "  --", flag->Name(), " (", flag->Help(),
                      "); default: \"", flag->DefaultValue(), "\"\n");
    }
    return text;
  }();
  return help->c_str();
}

int daemonkit_notify_ready(daemonkit_daemon* daemon) {
  if (daemon == nullptr) return -EINVAL;
  daemon->daemon->NotifyReady();
  return 0;
}

int daemonkit_fail_startup(daemonkit_daemon* daemon, const char* message) {
  if (daemon == nullptr || message == nullptr) return -EINVAL;
  daemon->daemon->FailStartup(absl::FailedPreconditionError(message));
  return 0;
}

int daemonkit_wait(daemonkit_daemon* daemon, int timeout_ms) {
  if (daemon == nullptr) return -EINVAL;
  daemonkit::Event event;
  if (timeout_ms < 0) {
    event = daemon->daemon->WaitFor(absl::InfiniteDuration());
  } else if (timeout_ms == 0) {
    event = daemon->daemon->WaitUntil(absl::InfinitePast());
  } else {
    event = daemon->daemon->WaitFor(absl::Milliseconds(timeout_ms));
  }
  switch (event) {
    case daemonkit::Event::kStop:
      return DAEMONKIT_EVENT_STOP;
    case daemonkit::Event::kReload:
      return DAEMONKIT_EVENT_RELOAD;
    case daemonkit::Event::kTimeout:
      break;
  }
  return DAEMONKIT_EVENT_TIMEOUT;
}

int daemonkit_signal_fd(const daemonkit_daemon* daemon) {
  if (daemon == nullptr) return -EINVAL;
  return daemon->daemon->signal_fd();
}

int daemonkit_stop_requested(const daemonkit_daemon* daemon) {
  if (daemon == nullptr) return -EINVAL;
  return daemon->daemon->stop_requested() ? 1 : 0;
}

int daemonkit_notify_status(daemonkit_daemon* daemon, const char* status) {
  if (daemon == nullptr || status == nullptr) return -EINVAL;
  daemon->daemon->NotifyStatus(status);
  return 0;
}

int daemonkit_set_reload_hook(daemonkit_daemon* daemon, void (*hook)(void*),
                              void* arg) {
  if (daemon == nullptr) return -EINVAL;
  if (hook == nullptr) {
    daemon->daemon->SetReloadHook(nullptr);
  } else {
    daemon->daemon->SetReloadHook([hook, arg] { hook(arg); });
  }
  return 0;
}

int daemonkit_listen_socket(const daemonkit_daemon* daemon, const char* name) {
  if (daemon == nullptr || name == nullptr) return -EINVAL;
  absl::StatusOr<int> fd = daemon->daemon->ListenSocket(name);
  return fd.ok() ? *fd : -ENOENT;
}

int daemonkit_detached(const daemonkit_daemon* daemon) {
  if (daemon == nullptr) return -EINVAL;
  return daemon->daemon->detached() ? 1 : 0;
}

void daemonkit_close(daemonkit_daemon* daemon) { delete daemon; }

}  // extern "C"
