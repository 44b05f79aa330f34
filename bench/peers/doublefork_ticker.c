/* The classic double fork by hand. With "loop", descriptors are closed in a
 * loop up to sysconf(_SC_OPEN_MAX), as many libraries still do. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int close_loop = argc > 2 && strcmp(argv[2], "loop") == 0;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid > 0) return 0;
  if (setsid() < 0) return 1;
  pid = fork();
  if (pid < 0) return 1;
  if (pid > 0) _exit(0);
  if (close_loop) {
    for (long fd = sysconf(_SC_OPEN_MAX) - 1; fd > 2; --fd) close((int)fd);
  } else {
    close_range(3, ~0U, 0);
  }
  umask(0);
  if (chdir("/") != 0) return 1;
  int null_fd = open("/dev/null", O_RDWR);
  dup2(null_fd, 0);
  dup2(null_fd, 1);
  dup2(null_fd, 2);
  if (null_fd > 2) close(null_fd);
  simulate_startup();
  write_pidfile(argv[1]);
  tick_forever();
}
