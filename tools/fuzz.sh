#!/usr/bin/env bash
# Runs every libFuzzer target of //fuzz, coverage-guided, for SECONDS in all
# (default 600, split evenly), with ASan and UBSan. Corpora are kept under
# ${FUZZ_CORPUS_DIR:-$HOME/.cache/daemonkit-fuzz} so later runs go deeper.
# A crash leaves its input in the working directory and fails the script.
#
#   tools/fuzz.sh         # ten minutes
#   tools/fuzz.sh 3600    # an hour
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
fuzzers=(pid_file_fuzzer flags_fuzzer notify_env_fuzzer keep_env_fuzzer controls_fuzzer)
corpus_root="${FUZZ_CORPUS_DIR:-${HOME}/.cache/daemonkit-fuzz}"
each=$((seconds / ${#fuzzers[@]}))
((each > 0)) || each=1

targets=()
for fuzzer in "${fuzzers[@]}"; do targets+=("//fuzz:${fuzzer}"); done
tools/bazel build --config=fuzz "${targets[@]}"
bin="$(tools/bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz"

failed=0
for fuzzer in "${fuzzers[@]}"; do
  mkdir -p "${corpus_root}/${fuzzer}"
  echo "== ${fuzzer}: ${each}s"
  if ! "${bin}/${fuzzer}" -max_total_time="${each}" -print_final_stats=1 \
      "${corpus_root}/${fuzzer}" 2>"${corpus_root}/${fuzzer}.log"; then
    failed=$((failed + 1))
    grep -E 'ERROR|SUMMARY|Test unit written' "${corpus_root}/${fuzzer}.log" >&2 || true
  fi
  grep -E '^(stat::number_of_executed_units|#[0-9]+[[:space:]]+DONE)' \
    "${corpus_root}/${fuzzer}.log" || true
done
echo "fuzzers: $((${#fuzzers[@]} - failed)) passed, ${failed} failed"
exit $((failed > 0))
