/* libdaemon with its documented handshake: the parent waits for
 * daemon_retval_send() from the daemon. */
#include <libdaemon/dexec.h>
#include <libdaemon/dfork.h>
#include <libdaemon/dpid.h>

#include "common.h"

static const char* g_pidfile;
static const char* pidfile_path(void) { return g_pidfile; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  g_pidfile = argv[1];
  daemon_pid_file_proc = pidfile_path;
  if (daemon_retval_init() < 0) return 1;
  pid_t pid = daemon_fork();
  if (pid < 0) return 1;
  if (pid > 0) return daemon_retval_wait(20) == 0 ? 0 : 1;
  if (daemon_close_all(-1) < 0) {
    daemon_retval_send(1);
    return 1;
  }
  simulate_startup();
  if (daemon_pid_file_create() < 0) {
    daemon_retval_send(2);
    return 1;
  }
  daemon_retval_send(0);
  tick_forever();
}
