#!/usr/bin/env bash
# The example systemd units must load cleanly: `systemd-analyze verify` (from
# Debian's systemd package) on copies whose /usr/local/bin/ticker points at
# the ticker built here. Any warning (an unknown key, a bad value) fails.
set -euo pipefail

units="${TEST_SRCDIR}/${TEST_WORKSPACE}/examples/systemd"
ticker="${TEST_SRCDIR}/${TEST_WORKSPACE}/examples/ticker"
echo_server="${TEST_SRCDIR}/${TEST_WORKSPACE}/examples/echo"
dir="$(mktemp -d "${TEST_TMPDIR}/units.XXXXXX")"
failures=0
# Listening sockets (issue 14): echo.socket and the service it activates.
for unit in echo.socket echo.service; do
  sed "s|/usr/local/bin/echo-server|${echo_server}|g" "${units}/${unit}" >"${dir}/${unit}"
done
for unit in ticker.service ticker-forking.service echo.socket echo.service; do
  [[ -f "${dir}/${unit}" ]] ||
    sed "s|/usr/local/bin/ticker|${ticker}|g" "${units}/${unit}" >"${dir}/${unit}"
  if ! output="$(cd "${dir}" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "./${unit}" 2>&1)" ||
     [[ -n "${output}" ]]; then
    echo "FAIL: ${unit}: ${output}"
    failures=$((failures + 1))
  else
    echo "ok: ${unit}"
  fi
done
grep -q '^Type=notify$' "${units}/ticker.service"
grep -q -- '--daemon=false' "${units}/ticker.service"
grep -q '^Type=forking$' "${units}/ticker-forking.service"
grep -q '^PIDFile=/run/ticker.pid$' "${units}/ticker-forking.service"
grep -q '^FileDescriptorName=echo$' "${units}/echo.socket"
grep -q '^Type=notify$' "${units}/echo.service"
grep -q -- '--daemon=false' "${units}/echo.service"
echo "systemd units: $((4 - failures)) passed, ${failures} failed"
exit $((failures > 0))
