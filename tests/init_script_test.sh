#!/usr/bin/env bash
# examples/init.d/ticker, run as an init system would, against the real
# ticker: every action and its LSB exit code.
set -uo pipefail

script="${TEST_SRCDIR}/${TEST_WORKSPACE}/examples/init.d/ticker"
export DAEMON="${TEST_SRCDIR}/${TEST_WORKSPACE}/examples/ticker"
dir="$(mktemp -d "${TEST_TMPDIR}/init.XXXXXX")"
export PIDFILE="${dir}/ticker.pid" LOGFILE="${dir}/ticker.log"
failures=0
passes=0

expect() {  # expect CODE ACTION: run the script, compare its exit code
  local want="$1" action="$2" got
  sh "${script}" "${action}" >"${dir}/out" 2>&1
  got=$?
  if [[ "${got}" != "${want}" ]]; then
    echo "FAIL: ${action}: exit ${got}, want ${want}: $(cat "${dir}/out")"
    failures=$((failures + 1))
  else
    echo "ok: ${action} -> ${got}"
    passes=$((passes + 1))
  fi
}

# Never a bare number from the pid file: a stale one may name another
# process by now. The daemon's own stop signals only the lock's holder.
cleanup() {
  [[ -f "${PIDFILE}" ]] &&
    "${DAEMON}" --daemon_pidfile="${PIDFILE}" --daemon_control=stop \
      --daemon_stop_timeout=2s >/dev/null 2>&1
  return 0
}
trap cleanup EXIT

expect 3 status
expect 7 reload
expect 0 stop          # stopping a stopped service succeeds
expect 0 start
expect 0 status
grep -q '^running, pid ' "${dir}/out" || { echo "FAIL: status line: $(cat "${dir}/out")"; failures=$((failures + 1)); }
expect 0 start         # starting a running service succeeds
expect 0 reload
pid="$(cat "${PIDFILE}")"
expect 0 restart
[[ "$(cat "${PIDFILE}")" != "${pid}" ]] || { echo "FAIL: restart kept pid ${pid}"; failures=$((failures + 1)); }
kill -9 "$(cat "${PIDFILE}")"
# The kill is asynchronous: wait (bounded) until the lock is released.
for _ in $(seq 1 3000); do
  "${DAEMON}" --daemon_pidfile="${PIDFILE}" --daemon_control=status >/dev/null
  [[ $? == 1 ]] && break
  sleep 0.01
done
expect 1 status        # dead, pid file left
expect 0 start         # the stale file does not block
expect 0 stop
expect 3 status
expect 2 bogus
LOGFILE="${dir}/missing/ticker.log" expect 1 start

echo "init script: ${passes} passed, ${failures} failed"
exit $((failures > 0))
