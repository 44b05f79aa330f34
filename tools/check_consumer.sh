#!/usr/bin/env bash
# Builds and tests tests/consumer, a workspace of its own that depends on
# daemonkit, twice: against this tree (its local_repository) and against the
# release archive made by tools/release.sh, taken in through the README's
# http_archive snippet with the archive's real sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

echo "+ consumer against the live tree"
(cd tests/consumer && "${root}/tools/bazel" test //... && "${root}/tools/bazel" shutdown)

echo "+ consumer against the release archive"
version="$(cat VERSION)"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
tools/release.sh >/dev/null
sha256="$(cut -d' ' -f1 "dist/daemonkit-${version}.tar.gz.sha256")"
mkdir "${scratch}/consumer"
git ls-files tests/consumer | xargs -I{} cp {} "${scratch}/consumer/"
cat >"${scratch}/consumer/WORKSPACE" <<WORKSPACE
workspace(name = "consumer")

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

http_archive(
    name = "daemonkit",
    urls = ["file://${root}/dist/daemonkit-${version}.tar.gz"],
    sha256 = "${sha256}",
    strip_prefix = "daemonkit-${version}",
)

load("@daemonkit//third_party:repositories.bzl", "daemonkit_dependencies")

daemonkit_dependencies()
WORKSPACE
(cd "${scratch}/consumer" && "${root}/tools/bazel" test //... &&
  "${root}/tools/bazel" shutdown)
