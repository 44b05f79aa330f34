"""python-daemon (PEP 3143) with its lock-file pid file, as documented."""
import os
import sys
import time

import daemon
import daemon.pidfile

pidfile = daemon.pidfile.TimeoutPIDLockFile(sys.argv[1])
with daemon.DaemonContext(pidfile=pidfile):
    time.sleep(int(os.environ.get("READY_DELAY_MS", "0")) / 1000)
    while True:
        print(time.ctime(), flush=True)
        time.sleep(1)
