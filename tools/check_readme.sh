#!/usr/bin/env bash
# Runs README.md's shell examples as written, so the documentation cannot
# drift from the code. Each ```sh block that follows a "<!-- readme: run -->"
# line runs in bash -e, in order, against the ticker built here: `ticker`
# and /usr/local/bin/ticker are the built binary, and /tmp/, /run/,
# /var/log/ and /etc/ (and $TMPDIR, with $XDG_RUNTIME_DIR unset, so the
# ticker's default directory too) point into a scratch directory, so nothing
# outside it is touched.
# The quick-start and testing blocks are .ci/run's own steps; the C++ example
# is //examples:minimal, checked word for word by //tests:readme_test.
#
# A block after "<!-- readme: service MANAGER LINK LOGDIR -->" sets up a
# service directory; once it has run, MANAGER's own scanner (s6-svscan,
# runsvdir, svscan from the Debian packages) runs it from LINK's directory
# (issue 22.14), in a pid namespace of its own so that ending the namespace
# ends every process it started: the ticker must be up under its
# supervisor, ready, its stdout and stderr lines in LOGDIR/current, and
# the manager's stop (s6-svc -d, sv down, svc -d) must end it cleanly.
# After the README blocks, the log of start-stop-daemon --notify-await must
# hold no sd_notify warning (issue 22.15).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_packages.sh check_readme s6 runit daemontools util-linux
tools/bazel build //examples:ticker //tools:inspect >/dev/null 2>&1
scratch="$(mktemp -d)"
manager_pid=""
stop_all() {
  if [[ -n "${manager_pid}" ]]; then
    # unshare --kill-child: its death SIGKILLs the namespace's init, and the
    # kernel then ends every process of the namespace.
    kill -KILL "${manager_pid}" 2>/dev/null || true
    wait "${manager_pid}" 2>/dev/null || true
  fi
  for pidfile in "${scratch}"/run/*.pid "${scratch}"/tmp/*.pid "${scratch}"/tmp/ticker-*/*.pid; do
    [[ -f "${pidfile}" ]] && bazel-bin/examples/ticker --daemon_pidfile="${pidfile}" \
      --daemon_control=stop >/dev/null 2>&1
  done
  rm -rf "${scratch}"
}
trap stop_all EXIT
mkdir -p "${scratch}/run" "${scratch}/var/log" "${scratch}/etc" "${scratch}/bin" "${scratch}/tmp"
ln -s "$(pwd)/bazel-bin/examples/ticker" "${scratch}/bin/ticker"

rewrite() {
  sed -e "s|/tmp/|${scratch}/tmp/|g" \
      -e "s|/usr/local/bin/ticker|${scratch}/bin/ticker|g" \
      -e "s|/run/|${scratch}/run/|g" -e "s|/var/log/|${scratch}/var/log/|g" \
      -e "s|/etc/|${scratch}/etc/|g"
}

# Waits up to 30 s for a command to succeed.
await() {
  local i
  for ((i = 0; i < 300; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Whether a process lives (a zombie or a vanished pid does not).
alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "${state}" && ! "${state}" =~ ^[ZX]$ ]]
}

# The supervised ticker's pid, as the manager reports it.
supervised_pid() {
  local manager="$1" service="$2"
  case "${manager}" in
    s6) s6-svstat -o up,pid "${service}" | awk '$1 == "true" && $2 > 0 {print $2}' ;;
    runit) sv status "${service}" | sed -n 's/^run: [^:]*: (pid \([0-9]*\)).*/\1/p' ;;
    daemontools) svstat "${service}" | sed -n 's/.*: up (pid \([0-9]*\)).*/\1/p' ;;
  esac
}

up() { [[ -n "$(supervised_pid "$1" "$2")" ]]; }

# The pid this shell sees for the process that is NSPID in the manager's
# pid namespace (what the manager reports).
host_pid() {
  local init ns status
  init="$(cat "/proc/${manager_pid}/task/${manager_pid}/children" 2>/dev/null)"
  ns="$(readlink "/proc/${init// /}/ns/pid")" || return 1
  for status in /proc/[0-9]*/status; do
    [[ "$(readlink "${status%/status}/ns/pid" 2>/dev/null)" == "${ns}" ]] || continue
    if awk -v want="$1" '$1 == "NSpid:" && $NF == want {found = 1} END {exit !found}' \
        "${status}" 2>/dev/null; then
      basename "${status%/status}"
      return 0
    fi
  done
  return 1
}
gone() { ! alive "$1"; }
svstat_down() { svstat "$1" | grep -q ': down '; }

# What a service under MANAGER must do, once its scanner runs: prints the
# first difference and returns 1.
service_checks() {
  local manager="$1" service="$2" logdir="$3" pid
  await up "${manager}" "${service}" ||
    { echo "${manager}: the ticker is not up under its supervisor"; return 1; }
  if [[ "${manager}" == s6 ]]; then
    s6-svwait -U -t 30000 "${service}" ||
      { echo "s6: the ticker did not become ready"; return 1; }
    s6-svstat "${service}" | grep -q ready ||
      { echo "s6: s6-svstat does not say ready: $(s6-svstat "${service}")"; return 1; }
  fi
  pid="$(host_pid "$(supervised_pid "${manager}" "${service}")")" ||
    { echo "${manager}: the ticker's pid is not in the manager's namespace"; return 1; }
  grep -q ticker "/proc/${pid}/cmdline" ||
    { echo "${manager}: pid ${pid} is not the ticker"; return 1; }
  # stdout: a tick, written once the ticker is ready.
  await grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9:]+$' "${logdir}/current" ||
    { echo "${manager}: no tick in ${logdir}/current"; return 1; }
  case "${manager}" in
    s6) s6-svc -wD -T 30000 -d "${service}" ;;
    runit) sv -w 30 down "${service}" >/dev/null ;;
    daemontools) svc -d "${service}" && await svstat_down "${service}" ;;
  esac || { echo "${manager}: the stop command failed"; return 1; }
  await gone "${pid}" ||
    { echo "${manager}: the ticker (pid ${pid}) outlived the stop"; return 1; }
  # stderr: glog's line at a clean exit, in the log only with `exec 2>&1`.
  await grep -q 'ticker exiting' "${logdir}/current" ||
    { echo "${manager}: no 'ticker exiting' (stderr) in ${logdir}/current"; return 1; }
  if [[ "${manager}" == s6 ]]; then
    s6-svstat "${service}" | grep -q '^down (exitcode 0)' ||
      { echo "s6: not a clean exit: $(s6-svstat "${service}")"; return 1; }
  fi
  if grep -Eq '^([^ ]+ )*[WEF][0-9]{8} ' "${logdir}/current"; then
    echo "${manager}: warnings or errors logged"
    return 1
  fi
}

# check_service MANAGER LINK LOGDIR: runs the service LINK names under the
# real MANAGER's scanner, in a pid namespace of its own; returns 1 on any
# difference.
check_service() {
  local manager="$1" service="$2" logdir="$3"
  local scan out started="${SECONDS}" result=0
  scan="$(dirname "${service}")"
  out="${scratch}/${manager}.out"
  local -a scanner
  case "${manager}" in
    s6) scanner=(s6-svscan "${scan}") ;;
    runit) scanner=(runsvdir "${scan}") ;;
    daemontools) scanner=(svscan "${scan}") ;;
    *) echo "unknown manager ${manager}" >&2; return 1 ;;
  esac
  unshare --pid --fork --kill-child "${scanner[@]}" >"${out}" 2>&1 </dev/null &
  manager_pid=$!
  service_checks "${manager}" "${service}" "${logdir}" || result=1
  kill -KILL "${manager_pid}" 2>/dev/null || true
  wait "${manager_pid}" 2>/dev/null || true
  manager_pid=""
  # The next manager may scan the same directory.
  rm -f "${service}"
  if ((result != 0)); then
    echo "--- ${manager} scanner output:"; cat "${out}"
    echo "--- ${logdir}/current:"; cat "${logdir}/current" 2>/dev/null || true
  else
    echo "${manager}: supervised, ready, logged, stopped cleanly" \
      "($((SECONDS - started)) s)"
  fi
  return "${result}"
}


blocks=0
failed=0
block=""
service=""
state=idle
while IFS= read -r line; do
  case "${state}" in
    idle)
      if [[ "${line}" == "<!-- readme: run -->" ]]; then
        state=armed
        service=""
      elif [[ "${line}" =~ ^'<!-- readme: service '([a-z0-9]+)' '([^ ]+)' '([^ ]+)' -->'$ ]]; then
        state=armed
        service="${BASH_REMATCH[1]} $(printf '%s' "${BASH_REMATCH[2]}" | rewrite)"
        service+=" $(printf '%s' "${BASH_REMATCH[3]}" | rewrite)"
      fi
      ;;
    armed) [[ "${line}" == '```sh' ]] && { state=in; block=""; } || state=idle ;;
    in)
      if [[ "${line}" == '```' ]]; then
        blocks=$((blocks + 1))
        script="$(printf '%s\n' "${block}" | rewrite)"
        echo "--- README block ${blocks}:"
        printf '%s\n' "${block}"
        # No $XDG_RUNTIME_DIR: the ticker's default directory is then
        # ${TMPDIR}/ticker-<uid>, inside the scratch directory.
        if ! env -u XDG_RUNTIME_DIR PATH="${scratch}/bin:${PATH}" TMPDIR="${scratch}/tmp" \
            bash -euo pipefail -c "${script}"; then
          echo "FAIL: README block ${blocks}" >&2
          failed=$((failed + 1))
        elif [[ -n "${service}" ]]; then
          # shellcheck disable=SC2086  # three words: manager, link, log dir
          if ! check_service ${service}; then
            echo "FAIL: README block ${blocks} under ${service%% *}" >&2
            failed=$((failed + 1))
          fi
        fi
        state=idle
      else
        block+="${line}"$'\n'
      fi
      ;;
  esac
done <README.md

# Issue 22.15: start-stop-daemon --notify-await removes its socket after
# READY=1; the daemon's later messages must not make warnings of it.
if [[ -f "${scratch}/var/log/ticker.log" ]] &&
    grep -n 'sd_notify' "${scratch}/var/log/ticker.log" | grep -v NOTIFY_SOCKET.is.gone; then
  echo "FAIL: sd_notify warnings under start-stop-daemon --notify-await" >&2
  failed=$((failed + 1))
fi

echo "README blocks: $((blocks - failed)) passed, ${failed} failed"
((blocks > 0 && failed == 0))
