/* Copyright 2026 The daemonkit Authors.
 *
 * The daemon of daemon/c/daemonkit_test.cc, in C: daemonizes through the C
 * API with the command line it is given, says who it is, becomes ready (or,
 * with its own flag --fail=MESSAGE, fails its start with MESSAGE; with
 * --fail_after_ready=MESSAGE, reports that failure after the ready), then
 * logs each event until stopped. A program of its own rather than a fork
 * of the test: under ThreadSanitizer a forked child of the test has the
 * sanitizer's thread besides its own, and the library refuses to fork it.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/c/daemonkit.h"

int main(int argc, char** argv) {
  const char* fail_message = NULL;
  const char* late_failure = NULL;
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--fail=", 7) == 0) fail_message = argv[i] + 7;
    if (strncmp(argv[i], "--fail_after_ready=", 19) == 0) {
      late_failure = argv[i] + 19;
    }
  }
  daemonkit_daemon* daemon = NULL;
  int rc = daemonkit_daemonize(argc, argv, &daemon);
  if (rc != 0) return rc;

  printf("daemon %d signal_fd %d detached %d\n", (int)getpid(),
         daemonkit_signal_fd(daemon), daemonkit_detached(daemon));
  fflush(stdout);
  if (fail_message != NULL) {
    daemonkit_fail_startup(daemon, fail_message);
    daemonkit_close(daemon);
    return 1;
  }
  daemonkit_notify_ready(daemon);
  if (late_failure != NULL) {
    printf("late failure %d\n", daemonkit_fail_startup(daemon, late_failure));
  }
  for (;;) {
    int event = daemonkit_wait(daemon, 60 * 1000);
    if (event == DAEMONKIT_EVENT_RELOAD) printf("reload\n");
    if (event == DAEMONKIT_EVENT_STOP) break;
    fflush(stdout);
  }
  printf("stop %d\n", daemonkit_stop_requested(daemon));
  fflush(stdout);
  daemonkit_close(daemon);
  return 0;
}
