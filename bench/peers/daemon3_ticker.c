/* The baseline: glibc daemon(3), then a pid file. No readiness: the
 * launcher (daemon's parent) exits at once. */
#include "common.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (daemon(0, 0) != 0) return 1;
  simulate_startup();
  write_pidfile(argv[1]);
  tick_forever();
}
