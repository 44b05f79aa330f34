#!/usr/bin/env bash
# docs/security.md promises that every row of its threat model names the
# test that holds the library to it. This keeps the promise: each row names
# at least one test target, every target exists, and every test case named
# after it is defined in that package's sources.
set -euo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
doc="${root}/docs/security.md"
failures=0
rows=0
while IFS= read -r row; do
  tests="${row%|}"
  tests="${tests##*|}"
  [[ "${tests}" == *"//"* ]] || continue
  rows=$((rows + 1))
  IFS=';' read -r -a groups <<<"${tests}"
  for group in "${groups[@]}"; do
    target="$(grep -o '//[a-z_/]*:[a-z_]*' <<<"${group}" | head -n 1)"
    [[ -n "${target}" ]] || { echo "FAIL: no target in: ${group}"; failures=$((failures + 1)); continue; }
    package="${target#//}"
    package="${package%%:*}"
    name="${target##*:}"
    if ! grep -q "name = \"${name}\"" "${root}/${package}/BUILD"; then
      echo "FAIL: ${target} is not a target"
      failures=$((failures + 1))
      continue
    fi
    for case in $(grep -o '`[A-Za-z]*[.`/]' <<<"${group#*"${target}"}" | tr -d '`./'); do
      if ! grep -q "[ ,(]${case}\b" "${root}/${package}"/*.cc; then
        echo "FAIL: ${target}: no test ${case}"
        failures=$((failures + 1))
      fi
    done
  done
done < <(grep '^| ' "${doc}")
echo "security.md rows with tests: ${rows}"
((rows >= 20)) || { echo "FAIL: the threat model lost its rows"; failures=$((failures + 1)); }
echo "security doc: ${rows} rows checked, ${failures} failed"
exit $((failures > 0))
