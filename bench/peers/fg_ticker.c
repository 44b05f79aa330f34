/* A foreground ticker for the tools that daemonize a program from outside
 * (start-stop-daemon, daemonize). With $NOTIFY_SOCKET set it says READY=1
 * once started, for start-stop-daemon --notify-await. */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common.h"

static void notify_ready(void) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == NULL || path[0] == '\0') return;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  size_t length = strlen(path);
  if (length >= sizeof(address.sun_path)) return;
  memcpy(address.sun_path, path, length);
  if (path[0] == '@') address.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sendto(fd, "READY=1", 7, 0, (struct sockaddr*)&address,
         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + (path[0] != '@')));
  close(fd);
}

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  simulate_startup();
  notify_ready();
  tick_forever();
}
