#!/usr/bin/env bash
# The project's conventions, checked: buildifier on BUILD and .bzl files,
# clang-format (Google style, .clang-format) and clang-tidy (.clang-tidy) on
# the C++ sources. Exit 1 with the offending files listed when one fails.
#
#   tools/lint.sh               # everything: the full pass
#   tools/lint.sh --since REV   # clang-tidy only on the .cc files changed
#                               # since REV and those including a changed
#                               # header (buildifier, clang-format: all)
#
# CI runs `--since` the commit in .ci/tidy_clean (the last one whose full
# pass was clean): clang-tidy over every file was CI's second-longest stage
# (8 minutes of 60). After a clean full pass, write its commit there. A
# change to .clang-tidy or to the dependencies makes `--since` a full pass.
#
# buildifier comes from the npm registry's @bazel/buildifier (a prebuilt
# binary inside the package, so it installs offline from the registry).
set -euo pipefail
cd "$(dirname "$0")/.."

since=""
if [[ "${1:-}" == "--since" ]]; then
  since="${2:?--since needs a revision}"
  shift 2
fi
if (($# > 0)); then
  echo "usage: tools/lint.sh [--since REV]" >&2
  exit 2
fi

readonly BUILDIFIER_VERSION=8.2.1
# What lint needs beyond tools/bazel's packages: a fresh machine has none.
# nodesource's nodejs bundles npm; Debian's ships it apart.
lint_packages=(clang-format clang-tidy)
command -v npm >/dev/null || lint_packages+=(nodejs npm)
tools/install_packages.sh lint "${lint_packages[@]}"
tools_dir="${XDG_CACHE_HOME:-${HOME}/.cache}/daemonkit-tools"
buildifier="${tools_dir}/node_modules/.bin/buildifier"
if [[ ! -x "${buildifier}" ]] || ! "${buildifier}" --version | grep -q "${BUILDIFIER_VERSION}"; then
  mkdir -p "${tools_dir}"
  npm install --prefix "${tools_dir}" --no-audit --no-fund --silent \
    "@bazel/buildifier@${BUILDIFIER_VERSION}" >&2
fi

failed=0
checked=0
mapfile -t bazel_files < <(git ls-files 'BUILD' '*/BUILD' '*.bzl' 'WORKSPACE' '*/WORKSPACE')
checked=$((checked + 1))
if ! "${buildifier}" --mode=check --lint=off "${bazel_files[@]}"; then
  echo "lint: buildifier: run ${buildifier} ${bazel_files[*]}" >&2
  failed=$((failed + 1))
fi

mapfile -t cc_files < <(git ls-files '*.cc' '*.h' | grep -v '^third_party/')
checked=$((checked + 1))
if ! clang-format --dry-run --Werror "${cc_files[@]}"; then
  echo "lint: clang-format: run clang-format -i on the files above" >&2
  failed=$((failed + 1))
fi

# clang-tidy needs the headers of the external repositories, which the build
# has laid out.
tools/bazel build //... >/dev/null 2>&1
external="$(tools/bazel info output_base 2>/dev/null)/external"
# -Ibazel-bin: daemon/version.inc, which a genrule makes from VERSION.
flags=(-std=c++17 -I. -Ibazel-bin
  -isystem "${external}/com_google_absl/include"
  -isystem "${external}/com_github_google_glog/include"
  -isystem "${external}/com_github_gflags_gflags/include"
  -isystem "${external}/com_google_googletest/googletest/include"
  -isystem "${external}/com_google_googletest/googlemock/include")
mapfile -t tidy_files < <(git ls-files '*.cc' | grep -Ev '^(tests/consumer|third_party)/')
if [[ -n "${since}" ]]; then
  if ! git cat-file -e "${since}^{commit}" 2>/dev/null; then
    echo "lint: ${since} is no commit here: the full clang-tidy pass" >&2
  elif [[ -n "$(git diff --name-only "${since}" HEAD -- .clang-tidy WORKSPACE third_party)" ]]; then
    echo "lint: .clang-tidy or the dependencies changed since ${since}: the full clang-tidy pass" >&2
  else
    mapfile -t changed < <(git diff --name-only --diff-filter=d "${since}" HEAD -- '*.cc' '*.h')
    # The changed .cc files and every file including a changed header,
    # through headers that include it in turn.
    declare -A wanted=()
    while ((${#changed[@]} > 0)); do
      file="${changed[-1]}"
      unset 'changed[-1]'
      [[ -n "${wanted[${file}]:-}" ]] && continue
      wanted["${file}"]=1
      if [[ "${file}" == *.h ]]; then
        mapfile -t -O "${#changed[@]}" changed < <(git grep -l -F "#include \"${file}\"" -- '*.cc' '*.h' || true)
      fi
    done
    all=("${tidy_files[@]}")
    tidy_files=()
    for file in "${all[@]}"; do
      [[ -n "${wanted[${file}]:-}" ]] && tidy_files+=("${file}")
    done
    echo "lint: clang-tidy on ${#tidy_files[@]} of ${#all[@]} files (changed since ${since})" >&2
  fi
fi
checked=$((checked + 1))
# The long pole of CI's lint (8 minutes on one core): every file on every
# core, a few files per clang-tidy, which is still the full pass.
# (The flags hold no spaces: the output base's path and -I.)
export TIDY_FLAGS="${flags[*]}"
if ((${#tidy_files[@]} > 0)) && ! printf '%s\0' "${tidy_files[@]}" |
  xargs -0 -n 4 -P "$(nproc)" \
    bash -c 'clang-tidy --quiet "$@" -- ${TIDY_FLAGS} 2>/dev/null' clang-tidy; then
  echo "lint: clang-tidy found the problems above" >&2
  failed=$((failed + 1))
fi

echo "lint: $((checked - failed)) passed, ${failed} failed"
exit $((failed > 0))
