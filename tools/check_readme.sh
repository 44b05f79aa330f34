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
set -euo pipefail
cd "$(dirname "$0")/.."

tools/bazel build //examples:ticker //tools:inspect >/dev/null 2>&1
scratch="$(mktemp -d)"
stop_all() {
  for pidfile in "${scratch}"/run/*.pid "${scratch}"/tmp/*.pid "${scratch}"/tmp/ticker-*/*.pid; do
    [[ -f "${pidfile}" ]] && bazel-bin/examples/ticker --daemon_pidfile="${pidfile}" \
      --daemon_control=stop >/dev/null 2>&1
  done
  rm -rf "${scratch}"
}
trap stop_all EXIT
mkdir -p "${scratch}/run" "${scratch}/var/log" "${scratch}/etc" "${scratch}/bin" "${scratch}/tmp"
ln -s "$(pwd)/bazel-bin/examples/ticker" "${scratch}/bin/ticker"

blocks=0
failed=0
block=""
state=idle
while IFS= read -r line; do
  case "${state}" in
    idle) [[ "${line}" == "<!-- readme: run -->" ]] && state=armed ;;
    armed) [[ "${line}" == '```sh' ]] && { state=in; block=""; } || state=idle ;;
    in)
      if [[ "${line}" == '```' ]]; then
        blocks=$((blocks + 1))
        script="$(printf '%s\n' "${block}" |
          sed -e "s|/tmp/|${scratch}/tmp/|g" \
              -e "s|/usr/local/bin/ticker|${scratch}/bin/ticker|g" \
              -e "s|/run/|${scratch}/run/|g" -e "s|/var/log/|${scratch}/var/log/|g" \
              -e "s|/etc/|${scratch}/etc/|g")"
        echo "--- README block ${blocks}:"
        printf '%s\n' "${block}"
        # No $XDG_RUNTIME_DIR: the ticker's default directory is then
        # ${TMPDIR}/ticker-<uid>, inside the scratch directory.
        if ! env -u XDG_RUNTIME_DIR PATH="${scratch}/bin:${PATH}" TMPDIR="${scratch}/tmp" \
            bash -euo pipefail -c "${script}"; then
          echo "FAIL: README block ${blocks}" >&2
          failed=$((failed + 1))
        fi
        state=idle
      else
        block+="${line}"$'\n'
      fi
      ;;
  esac
done <README.md

echo "README blocks: $((blocks - failed)) passed, ${failed} failed"
((blocks > 0 && failed == 0))
