/* Copyright 2026 The daemonkit Authors.
 *
 * The ticker in C, through the C API (daemon/c/daemonkit.h): the original
 * demo's program (it says "Run daemon", its gid/uid and pid/ppid, then the
 * time every second), daemonized correctly by one call. Every --daemon_*
 * flag of the library works, control actions included:
 *
 *   c_ticker --daemon_pidfile=/tmp/t.pid --daemon_stdout=/tmp/t.log
 *   c_ticker --daemon_pidfile=/tmp/t.pid --daemon_control=reload
 *   c_ticker --daemon_pidfile=/tmp/t.pid --daemon_control=stop
 *
 * Ticks are on a grid of the monotonic clock, so they do not drift, and a
 * SIGTERM ends the wait at once.
 */

/* clock_gettime, localtime_r under -std=c99. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/c/daemonkit.h"

/* Writes the wall-clock time as RFC 3339 with microseconds and a numeric
 * offset ("2026-11-25T12:00:00.123456+00:00"), as //examples:ticker does. */
static void PrintTime(void) {
  struct timespec now;
  struct tm local;
  char date[64];
  char zone[8];
  if (clock_gettime(CLOCK_REALTIME, &now) != 0 ||
      localtime_r(&now.tv_sec, &local) == NULL ||
      strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &local) == 0 ||
      strftime(zone, sizeof(zone), "%z", &local) != 5) {
    printf("(the clock cannot be read)\n");
    return;
  }
  /* %z is +hhmm; RFC 3339 wants +hh:mm. */
  printf("%s.%06ld%.3s:%s\n", date, now.tv_nsec / 1000, zone, zone + 3);
}

static long long MonotonicMs(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The program's own arguments: only --help (the --daemon_* words are the
 * library's; daemonkit_daemonize reads them). Returns 1 when it was asked
 * for, having printed it. */
static int PrintedHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf(
          "usage: %s [--daemon_* flags]\n"
          "The demo's ticker in C: \"Run daemon\", its ids, then the time "
          "every second.\nThe library's flags:\n%s",
          argv[0], daemonkit_flags_help());
      return 1;
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (PrintedHelp(argc, argv)) return 0;
  daemonkit_daemon* daemon = NULL;
  int rc = daemonkit_daemonize(argc, argv, &daemon);
  if (rc != 0) return rc; /* the reason is on stderr, nothing forked */

  /* stdout is the --daemon_stdout file now: line-buffer it so that each
   * tick is there when it is printed. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("Run daemon\n");
  printf("User gid: %d, uid: %d\n", (int)getegid(), (int)geteuid());
  printf("Process id: %d %d\n", (int)getpid(), (int)getppid());
  if (fflush(stdout) != 0) {
    daemonkit_fail_startup(daemon, "cannot write to stdout");
    daemonkit_close(daemon);
    return 1;
  }
  daemonkit_notify_ready(daemon); /* the launcher exits 0 now */

  long long next = MonotonicMs();
  for (;;) {
    long long now = MonotonicMs();
    if (now >= next) {
      PrintTime();
      next += 1000;
      if (next < now) next = now + 1000; /* after a suspend: no burst */
      continue;
    }
    int event = daemonkit_wait(daemon, (int)(next - now));
    if (event == DAEMONKIT_EVENT_STOP) break;
    if (event == DAEMONKIT_EVENT_RELOAD) printf("reloaded\n");
  }
  printf("stopped\n");
  daemonkit_close(daemon); /* removes the pid file */
  return 0;
}
