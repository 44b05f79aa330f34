#!/usr/bin/env bash
# Starts the consumer's daemon, checks it is detached and writing, stops it.
set -euo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/hello_daemon"
dir="$(mktemp -d "${TEST_TMPDIR}/hello.XXXXXX")"
"${bin}" --daemon_pidfile="${dir}/hello.pid" --daemon_stdout="${dir}/hello.log"
pid="$(cat "${dir}/hello.pid")"
read -r -a stat <"/proc/${pid}/stat"
[[ "${stat[5]}" != "${pid}" ]] || { echo "session leader"; exit 1; }
[[ "${stat[6]}" == 0 ]] || { echo "has a terminal"; exit 1; }
for _ in $(seq 1 3000); do grep -q hello "${dir}/hello.log" && break; sleep 0.01; done
grep -q '^hello$' "${dir}/hello.log"
"${bin}" --daemon_pidfile="${dir}/hello.pid" --daemon_control=status | grep -q "^running, pid ${pid} (pid file ${dir}/hello.pid)$"
"${bin}" --daemon_pidfile="${dir}/hello.pid" --daemon_control=stop
[[ ! -e "${dir}/hello.pid" ]]
echo "consumer: 1 passed, 0 failed"
