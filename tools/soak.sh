#!/usr/bin/env bash
# The long runs that CI keeps short: the stress test with many more start/stop
# cycles and concurrent starts, then the whole suite repeated. CI runs the
# same tests with a short, fixed size (//tests:stress_test in every
# `tools/bazel test //...`, //tests:stress_long_test once); this is for a
# developer's machine or a nightly job, and takes about an hour on 2 cores at
# the defaults.
#
#   tools/soak.sh                 # 10,000 cycles, 200 concurrent, suite x 5
#   tools/soak.sh 2000 100 2      # CYCLES CONCURRENT SUITE_RUNS
#
# (//tests:stress_test reads its size from the environment; its long twin
# fixes the size in its BUILD env, which --test_env would not override.)
# Exits 1 when any run failed; nothing is retried.
set -euo pipefail
cd "$(dirname "$0")/.."

cycles="${1:-10000}"
concurrent="${2:-200}"
suite_runs="${3:-5}"
for value in "${cycles}" "${concurrent}" "${suite_runs}"; do
  if ! [[ "${value}" =~ ^[1-9][0-9]*$ ]]; then
    echo "tools/soak.sh: CYCLES, CONCURRENT and SUITE_RUNS must be positive whole numbers, not '${value}'" >&2
    exit 2
  fi
done

status=0
echo "+ stress: ${cycles} start/stop cycles, ${concurrent} concurrent starts" >&2
tools/bazel test //tests:stress_test --nocache_test_results \
  --test_timeout=7200 \
  --test_env=STRESS_CYCLES="${cycles}" \
  --test_env=STRESS_CONCURRENT="${concurrent}" || status=1
echo "+ the whole suite ${suite_runs} times" >&2
tools/bazel test //... --runs_per_test="${suite_runs}" --nocache_test_results \
  --keep_going || status=1
exit "${status}"
