#!/usr/bin/env bash
# The project's conventions, checked: buildifier on BUILD and .bzl files,
# clang-format (Google style, .clang-format) and clang-tidy (.clang-tidy) on
# the C++ sources. Exit 1 with the offending files listed when one fails.
#
# buildifier comes from the npm registry's @bazel/buildifier (a prebuilt
# binary inside the package, so it installs offline from the registry).
set -euo pipefail
cd "$(dirname "$0")/.."

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
checked=$((checked + 1))
# The long pole of CI's lint (8 minutes on one core): every file on every
# core, a few files per clang-tidy, which is still the full pass.
# (The flags hold no spaces: the output base's path and -I.)
export TIDY_FLAGS="${flags[*]}"
if ! printf '%s\0' "${tidy_files[@]}" |
  xargs -0 -n 4 -P "$(nproc)" \
    bash -c 'clang-tidy --quiet "$@" -- ${TIDY_FLAGS} 2>/dev/null' clang-tidy; then
  echo "lint: clang-tidy found the problems above" >&2
  failed=$((failed + 1))
fi

echo "lint: $((checked - failed)) passed, ${failed} failed"
exit $((failed > 0))
