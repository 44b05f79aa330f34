#!/usr/bin/env bash
# The stability gate (issue 25): runs every test target many times in each
# configuration CI uses, and prints a table of target x configuration, runs
# and failures. A failure is never retried or hidden: it is a defect to fix
# at its cause.
#
#   tools/flake_check.sh                  # 10 runs plain and processwrapper,
#                                         # 5 under asan and tsan
#   tools/flake_check.sh 3 plain tsan     # 3 runs of each, in two configs
#   tools/flake_check.sh asan tsan        # the sanitizer half, 5 runs each
#   FLAKE_TARGETS='//tests:upgrade_test' tools/flake_check.sh 20 tsan
#
# The configurations:
#   plain          tools/bazel test //..., as the README says (linux-sandbox:
#                  each test in its own pid namespace)
#   processwrapper the processwrapper sandbox, as in a chroot or a container
#                  (tools/check_fresh.sh): no pid namespace, the machine's
#                  processes in view, with a README ticker running beside
#   asan, tsan     --config=asan (with UBSan) and --config=tsan
#
# Writes the table to stdout and, with FLAKE_REPORT=FILE, to FILE too.
# Exits 1 when any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# RUNS is optional: a first argument that is a number is RUNS, anything else
# is a configuration (`tools/flake_check.sh tsan` runs tsan's default 5).
runs_arg=""
if [[ "${1:-}" =~ ^[0-9-] ]]; then
  if ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
    echo "tools/flake_check.sh: RUNS must be a positive whole number, not '$1'" >&2
    exit 2
  fi
  runs_arg="$1"
  shift
fi
configs=("$@")
((${#configs[@]} > 0)) || configs=(plain processwrapper asan tsan)
# Every configuration is checked before the first run: a typo in the last
# one must not be found an hour in.
for config in "${configs[@]}"; do
  case "${config}" in
    plain | processwrapper | asan | tsan) ;;
    *)
      echo "tools/flake_check.sh: unknown configuration '${config}' (plain, processwrapper, asan, tsan)" >&2
      exit 2
      ;;
  esac
done
read -r -a targets <<<"${FLAKE_TARGETS:-//...}"

log="$(mktemp -d)"
ticker_dir=""
cleanup() {
  if [[ -n "${ticker_dir}" && -f "${ticker_dir}/ticker.pid" ]]; then
    bazel-bin/examples/ticker --daemon_pidfile="${ticker_dir}/ticker.pid" \
      --daemon_control=stop >/dev/null 2>&1 || true
  fi
  rm -rf "${log}" "${ticker_dir}"
}
trap cleanup EXIT

rows=()
status=0
for config in "${configs[@]}"; do
  flags=()
  case "${config}" in
    plain) runs="${runs_arg:-10}" ;;
    processwrapper)
      runs="${runs_arg:-10}"
      flags=(--spawn_strategy=processwrapper-sandbox
        --strategy=TestRunner=processwrapper-sandbox)
      # Another ticker on the machine, as check_fresh runs the suite.
      if [[ -z "${ticker_dir}" ]]; then
        tools/bazel build //examples:ticker >/dev/null 2>&1
        ticker_dir="$(mktemp -d)"
        bazel-bin/examples/ticker --daemon_pidfile="${ticker_dir}/ticker.pid" \
          --daemon_stdout="${ticker_dir}/ticker.log" --interval=100ms
      fi
      ;;
    asan | tsan)
      runs="${runs_arg:-5}"
      flags=("--config=${config}")
      ;;
  esac
  echo "+ tools/bazel test ${flags[*]} --runs_per_test=${runs} ${targets[*]}" >&2
  started="${SECONDS}"
  # --keep_going: one failing target must not hide the others' counts.
  tools/bazel test "${flags[@]}" --runs_per_test="${runs}" --keep_going \
    --nocache_test_results \
    --test_summary=short "${targets[@]}" 2>&1 | tee "${log}/${config}.txt" >&2 || status=1
  minutes=$(((SECONDS - started + 59) / 60))
  # Summary lines: "//t:x  PASSED in 1.2s", "//t:x  FAILED in 2 out of 10
  # in 3.4s", "//t:x  TIMEOUT ...", "//t:x  NO STATUS".
  while read -r target verdict rest; do
    failures=0
    case "${verdict}" in
      PASSED) ;;
      FAILED | FLAKY | TIMEOUT)
        if [[ "${rest}" =~ in\ ([0-9]+)\ out\ of\ ([0-9]+) ]]; then
          failures="${BASH_REMATCH[1]}"
        else
          failures="${runs}"
        fi
        status=1
        ;;
      *)
        failures="${runs} (${verdict})"
        status=1
        ;;
    esac
    rows+=("| ${target} | ${config} | ${runs} | ${failures} |")
  done < <(grep -E '^//[^ ]+ +(PASSED|FAILED|FLAKY|TIMEOUT|NO STATUS|SKIPPED|INCOMPLETE)' \
    "${log}/${config}.txt" | sed -E 's/ +/ /g' | sort -u)
  rows+=("| (all targets) | ${config} | ${runs} | wall time ${minutes} min |")
done

{
  echo "| target | configuration | runs | failures |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "${FLAKE_REPORT:-/dev/null}"
exit "${status}"
