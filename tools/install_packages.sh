#!/usr/bin/env bash
# Installs the Debian packages a script needs when they are missing:
#
#   tools/install_packages.sh CALLER PACKAGE...
#
# Does nothing when every PACKAGE is installed. Otherwise, as root, installs
# the missing ones without recommends (running apt-get update first only if
# the install fails: an offline machine with a fresh cache needs no network);
# as another user prints "CALLER: as root, apt-get install MISSING..." and
# exits 1. apt's output goes to stderr, so callers keep stdout for results.
#
# tools/bazel keeps its own logic: it installs a pinned list before Bazel
# exists and must not depend on anything else in the tree.
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 CALLER PACKAGE..." >&2
  exit 2
fi
caller="$1"
shift

missing=()
for package in "$@"; do
  dpkg-query -W -f='${db:Status-Status}' "${package}" 2>/dev/null | grep -q '^installed$' ||
    missing+=("${package}")
done
((${#missing[@]} > 0)) || exit 0
[[ "$(id -u)" == 0 ]] || { echo "${caller}: as root, apt-get install ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
  { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
