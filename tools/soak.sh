#!/usr/bin/env bash
# The long runs that CI keeps short. For DURATION (default 1h): the model
# test of the daemon's life (docs/design.md) on fresh random seeds, round
# after round, then once the stress test with 10,000 start/stop cycles and
# 200 racing starts. CI runs the same tests with a fixed, short size
# (//tests:model_test with its seed set, //tests:stress_test and
# //tests:stress_long_test).
#
#   tools/soak.sh               # an hour
#   tools/soak.sh 20m           # s, m or h
#   SOAK_REPORT=soak.md tools/soak.sh 2h
#
# Writes a report (rounds, seeds, configurations, violations with their
# replay commands) to stdout and to $SOAK_REPORT when set. Exits 1 when any
# run failed; nothing is retried.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-1h}"
if ! [[ "${duration}" =~ ^([1-9][0-9]*)([smh])$ ]]; then
  echo "tools/soak.sh: DURATION must be a number and s, m or h (20m, 2h), not '${duration}'" >&2
  exit 2
fi
case "${BASH_REMATCH[2]}" in
  s) seconds="${BASH_REMATCH[1]}" ;;
  m) seconds=$((BASH_REMATCH[1] * 60)) ;;
  h) seconds=$((BASH_REMATCH[1] * 3600)) ;;
esac
readonly seeds_per_round=5
# The rows of the model's pairwise cover (kConfigurations), one line each.
configurations="$(grep -c '^    {Mode::' tests/model_test.cc)"
log="$(mktemp -d)"
trap 'rm -rf "${log}"' EXIT

status=0
rounds=0
failed_rounds=0
first_seeds=()
deadline=$((SECONDS + seconds))
while ((SECONDS < deadline)); do
  # A fresh range of seeds each round (the CI set starts at 1).
  first_seed=$((1000 + RANDOM * 32768 + RANDOM))
  first_seeds+=("${first_seed}")
  rounds=$((rounds + 1))
  echo "+ round ${rounds}: model_test, seeds ${first_seed}..$((first_seed + seeds_per_round - 1))" >&2
  if ! tools/bazel test //tests:model_test --nocache_test_results \
    --test_timeout=3600 --test_output=errors \
    --test_env=MODEL_FIRST_SEED="${first_seed}" \
    --test_env=MODEL_SEEDS="${seeds_per_round}" >"${log}/round.txt" 2>&1; then
    status=1
    failed_rounds=$((failed_rounds + 1))
    grep -E 'model violated|sequence:|shrunk to:|replay:|step [0-9]+' \
      "${log}/round.txt" >>"${log}/violations.txt" || true
  fi
done

echo "+ stress: 10,000 start/stop cycles, 200 racing starts" >&2
stress="passed"
# //tests:stress_test reads its size from the environment (its long twin
# fixes it in its BUILD env, which --test_env does not override).
if ! tools/bazel test //tests:stress_test --nocache_test_results \
  --test_timeout=7200 --test_output=errors \
  --test_env=STRESS_CYCLES=10000 --test_env=STRESS_CONCURRENT=200 >"${log}/stress.txt" 2>&1; then
  status=1
  stress="FAILED"
  tail -n 40 "${log}/stress.txt" >>"${log}/violations.txt"
fi

{
  echo "# Soak report"
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| duration asked | ${duration} |"
  echo "| model rounds | ${rounds} (${failed_rounds} with a violation) |"
  echo "| sequences | $((rounds * seeds_per_round * configurations)) (${seeds_per_round} seeds x ${configurations} configurations a round, 12 steps each) |"
  echo "| first seeds | ${first_seeds[*]:-none} |"
  echo "| stress (10,000 cycles, 200 racing starts) | ${stress} |"
  if [[ -s "${log}/violations.txt" ]]; then
    echo
    echo "## Violations"
    echo
    echo '```'
    cat "${log}/violations.txt"
    echo '```'
  fi
} | tee "${SOAK_REPORT:-/dev/null}"
exit "${status}"
