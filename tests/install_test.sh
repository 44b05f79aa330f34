#!/usr/bin/env bash
# tools/install.sh (issue 22.18) into a staging root ($DESTDIR): the
# binaries land where the systemd units name them, and `systemd-analyze
# verify --root` on the installed units, which looks for every ExecStart=
# program inside that root, finds no fault. Without the ticker there it
# must fail, so the check is not vacuous. Another PREFIX rewrites the units.
set -euo pipefail

tree="${TEST_SRCDIR}/${TEST_WORKSPACE}"
install_sh="${tree}/tools/install.sh"
root="$(mktemp -d "${TEST_TMPDIR}/root.XXXXXX")"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

DESTDIR="${root}" "${install_sh}" --tree "${tree}" /usr/local
for binary in ticker echo-server daemonkit-inspect; do
  [[ -x "${root}/usr/local/bin/${binary}" ]] || fail "no ${root}/usr/local/bin/${binary}"
  [[ "$(stat -c %a "${root}/usr/local/bin/${binary}")" == 755 ]] || fail "${binary} is not 0755"
done
"${root}/usr/local/bin/ticker" --version >/dev/null || fail "the installed ticker does not run"
units=(ticker.service ticker-forking.service echo.socket echo.service)
unit_dir="${root}/usr/local/lib/systemd/system"
for unit in "${units[@]}"; do
  [[ -f "${unit_dir}/${unit}" ]] || fail "no ${unit_dir}/${unit}"
  [[ "$(stat -c %a "${unit_dir}/${unit}")" == 644 ]] || fail "${unit} is not 0644"
  cmp -s "${unit_dir}/${unit}" "${tree}/examples/systemd/${unit}" ||
    fail "${unit} changed on the way to /usr/local"
done
[[ -z "$(find "${unit_dir}" -name '.*')" ]] || fail "temporary files left in ${unit_dir}"

# The rest of a root systemd-analyze needs: the targets every service is
# ordered against, and the /bin/kill of ExecReload=.
verify() {
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --root="${root}" \
    "/usr/local/lib/systemd/system/$1" 2>&1
}
if command -v systemd-analyze >/dev/null; then
  mkdir -p "${root}/usr/lib/systemd" "${root}/bin"
  cp -a /usr/lib/systemd/system "${root}/usr/lib/systemd/"
  cp /usr/bin/kill "${root}/bin/kill"
  for unit in "${units[@]}"; do
    if output="$(verify "${unit}")" && [[ -z "${output}" ]]; then
      echo "ok: systemd-analyze verify ${unit}"
    else
      fail "systemd-analyze verify ${unit}: ${output}"
    fi
  done
  mv "${root}/usr/local/bin/ticker" "${root}/ticker.away"
  if output="$(verify ticker.service)" && [[ -z "${output}" ]]; then
    fail "verify passed with no /usr/local/bin/ticker in the root"
  fi
  [[ "${output}" == *"/usr/local/bin/ticker is not executable"* ]] ||
    fail "without the ticker: ${output}"
  mv "${root}/ticker.away" "${root}/usr/local/bin/ticker"
else
  echo "SKIP: systemd-analyze is not installed: the units are not verified"
fi

# Another prefix: the units name its bin/.
opt_root="$(mktemp -d "${TEST_TMPDIR}/opt.XXXXXX")"
DESTDIR="${opt_root}" "${install_sh}" --tree "${tree}" /opt/daemonkit/ >/dev/null
grep -q '^ExecStart=/opt/daemonkit/bin/ticker ' \
  "${opt_root}/opt/daemonkit/lib/systemd/system/ticker.service" ||
  fail "PREFIX=/opt/daemonkit: ticker.service does not name /opt/daemonkit/bin/ticker"
! grep -rq "^[^#]*/usr/local/bin" "${opt_root}/opt/daemonkit/lib/systemd/system" ||
  fail "PREFIX=/opt/daemonkit: a unit still names /usr/local/bin"

# Usage errors exit 2 and say why.
for args in "relative/prefix" "/a /b" "--tree"; do
  # shellcheck disable=SC2086  # the words are the arguments
  if output="$(DESTDIR="${opt_root}" "${install_sh}" ${args} 2>&1)"; then
    fail "install.sh ${args} succeeded"
  else
    status=$?
    ((status == 2)) || fail "install.sh ${args}: exit ${status}, not 2"
  fi
  [[ -n "${output}" ]] || fail "install.sh ${args}: no message"
done

echo "install: ${failures} failures"
exit $((failures > 0))
