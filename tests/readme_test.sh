#!/usr/bin/env bash
# The README's library example must be examples/minimal.cc word for word, so
# that the code a reader copies is the code every build compiles.
set -euo pipefail
readme="${TEST_SRCDIR}/${TEST_WORKSPACE}/README.md"
minimal="${TEST_SRCDIR}/${TEST_WORKSPACE}/examples/minimal.cc"
diff <(awk '/^```c\+\+$/{on=1; next} /^```$/{on=0} on' "${readme}") \
     <(sed '1,/^$/d' "${minimal}") ||
  { echo "README.md's C++ example and examples/minimal.cc differ" >&2; exit 1; }
grep -q '^tools/bazel run //examples:ticker$' "${readme}"
grep -q '^tools/bazel test //\.\.\.$' "${readme}"
