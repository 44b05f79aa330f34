#!/usr/bin/env bash
# Installs the example daemons, the inspect tool and the systemd units where
# the units expect them (issue 22.18):
#
#   tools/install.sh [--tree DIR] [PREFIX]
#
#   PREFIX/bin/ticker                      //examples:ticker
#   PREFIX/bin/echo-server                 //examples:echo
#   PREFIX/bin/daemonkit-inspect           //tools:inspect
#   PREFIX/lib/systemd/system/ticker.service, ticker-forking.service,
#                             echo.socket, echo.service
#
# PREFIX defaults to /usr/local, which the units name (ExecStart=
# /usr/local/bin/ticker) and whose lib/systemd/system systemd reads; for
# another PREFIX the units' /usr/local/bin becomes PREFIX/bin. $DESTDIR, if
# set, is put in front of every path written (a staging root for a package),
# not of the paths the units name. Without --tree the binaries are built
# first (tools/bazel build, the default configuration) and taken from
# bazel-bin; with it, DIR holds examples/ticker, examples/echo, tools/inspect
# and examples/systemd/ as they are laid out in bazel-bin or a test's
# runfiles. Then, as root:
#
#   systemctl daemon-reload && systemctl start ticker
set -euo pipefail
cd "$(dirname "$0")/.."

tree=""
if [[ "${1:-}" == "--tree" ]]; then
  (($# >= 2)) || { echo "usage: $0 [--tree DIR] [PREFIX]" >&2; exit 2; }
  tree="$2"
  shift 2
fi
(($# <= 1)) || { echo "usage: $0 [--tree DIR] [PREFIX]" >&2; exit 2; }
prefix="${1:-/usr/local}"
prefix="${prefix%/}"
[[ "${prefix}" == /* ]] ||
  { echo "install.sh: PREFIX must be an absolute path, not '${prefix}'" >&2; exit 2; }
# A | would end the sed expression below.
[[ "${prefix}" != *"|"* ]] ||
  { echo "install.sh: PREFIX must not contain '|'" >&2; exit 2; }
destdir="${DESTDIR:-}"
destdir="${destdir%/}"

if [[ -z "${tree}" ]]; then
  tools/bazel build //examples:ticker //examples:echo //tools:inspect >&2
  binaries="bazel-bin"
  units="examples/systemd"
else
  binaries="${tree}"
  units="${tree}/examples/systemd"
fi

bin_dir="${destdir}${prefix}/bin"
unit_dir="${destdir}${prefix}/lib/systemd/system"
install -d -m 0755 "${bin_dir}" "${unit_dir}"
install -m 0755 "${binaries}/examples/ticker" "${bin_dir}/ticker"
install -m 0755 "${binaries}/examples/echo" "${bin_dir}/echo-server"
install -m 0755 "${binaries}/tools/inspect" "${bin_dir}/daemonkit-inspect"
echo "installed ${bin_dir}/ticker, echo-server, daemonkit-inspect"
for unit in ticker.service ticker-forking.service echo.socket echo.service; do
  # Written whole to a temporary file, then renamed: a half-written unit is
  # never there for a daemon-reload.
  sed "s|/usr/local/bin/|${prefix}/bin/|g" "${units}/${unit}" >"${unit_dir}/.${unit}.tmp"
  chmod 0644 "${unit_dir}/.${unit}.tmp"
  mv -f "${unit_dir}/.${unit}.tmp" "${unit_dir}/${unit}"
done
echo "installed ${unit_dir}/ticker.service, ticker-forking.service, echo.socket, echo.service"
