#!/usr/bin/env bash
# Builds the release archive of the committed tree:
#   dist/daemonkit-<version>.tar.gz and dist/daemonkit-<version>.tar.gz.sha256
# <version> is the VERSION file's unless given. The archive is reproducible
# (git archive of HEAD, gzip without a timestamp): the same commit gives the
# same sha256, which the README's http_archive snippet pins.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-$(cat VERSION)}"
name="daemonkit-${version}"
mkdir -p dist
git archive --format=tar --prefix="${name}/" HEAD | gzip -n -9 >"dist/${name}.tar.gz"
(cd dist && sha256sum "${name}.tar.gz" >"${name}.tar.gz.sha256")
cat "dist/${name}.tar.gz.sha256"
