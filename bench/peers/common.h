/* Shared by the C peers of the benchmark: the work loop every ticker runs
 * once it is a daemon, and the simulated application start-up. */
#ifndef DAEMONKIT_BENCH_PEERS_COMMON_H_
#define DAEMONKIT_BENCH_PEERS_COMMON_H_

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* The application's own start-up time, from $READY_DELAY_MS (default 0):
 * the readiness probe makes it long and sees which launchers wait for it. */
static void simulate_startup(void) {
  const char* ms = getenv("READY_DELAY_MS");
  if (ms != NULL && atoi(ms) > 0) usleep((useconds_t)atoi(ms) * 1000);
}

static void write_pidfile(const char* path) {
  FILE* f = fopen(path, "w");
  if (f == NULL) exit(1);
  fprintf(f, "%d\n", (int)getpid());
  fclose(f);
}

/* One timestamp a second, as the ticker does. */
static void tick_forever(void) {
  for (;;) {
    time_t now = time(NULL);
    printf("%s", ctime(&now));
    fflush(stdout);
    sleep(1);
  }
}

#endif
