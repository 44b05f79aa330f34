#!/usr/bin/env bash
# Proves the README's quick start on a minimal Debian 12: a debootstrap
# `minbase` root with git and nothing else (no g++, no python3, no procps),
# into which the committed tree is cloned. In a chroot it runs exactly the
# README's two commands in the README's order:
#
#   tools/bazel run //examples:ticker   must leave a ticker daemon running,
#   tools/bazel test //...              must pass while that daemon runs,
#
# then stops the daemon with the command the README gives. Inside a chroot
# Bazel cannot make user namespaces, so the tests run in its processwrapper
# sandbox, without a pid namespace of their own, next to the running ticker:
# the hermeticity that the linux-sandbox would otherwise hide.
#
# Needs root (debootstrap, chroot, mounts). The base tree and the downloaded
# .deb files are cached under ${DAEMONKIT_FRESH_CACHE:-/var/cache/daemonkit-fresh}
# between runs; each run starts from a pristine copy of the base. Every
# mount and process it makes is undone on exit, also on failure, and the
# logs of failed tests are printed.
#
#   tools/check_fresh.sh            # the committed HEAD of this checkout
set -euo pipefail
cd "$(dirname "$0")/.."
readonly repo="$(pwd)"

[[ "$(id -u)" == 0 ]] || { echo "check_fresh: needs root (debootstrap, chroot)" >&2; exit 1; }

readonly cache="${DAEMONKIT_FRESH_CACHE:-/var/cache/daemonkit-fresh}"
readonly base="${cache}/bookworm-minbase"
readonly archives="${cache}/archives"
# The mirror this machine's apt already uses: the only one that answers here.
mirror="$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)"
[[ -n "${mirror}" ]] || mirror="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)"
[[ -n "${mirror}" ]] || mirror="http://deb.debian.org/debian"

log() { echo "check_fresh: $*" >&2; }

tools/install_packages.sh check_fresh debootstrap

mkdir -p "${cache}" "${archives}/partial"
if [[ ! -f "${base}/.complete" ]]; then
  log "building the minimal Debian 12 base in ${base} (once)"
  rm -rf "${base}"
  debootstrap --variant=minbase --include=git,ca-certificates \
    --cache-dir="${archives}" bookworm "${base}" "${mirror}" >&2
  touch "${base}/.complete"
fi

work="$(mktemp -d /var/tmp/daemonkit-fresh.XXXXXX)"
root="${work}/root"
mounted=()

# Every process whose root is inside the chroot is ours: end them by pid.
kill_chroot_processes() {
  local signal="$1" proc pid target found=1
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    target="$(readlink "${proc}/root" 2>/dev/null)" || continue
    if [[ "${target}" == "${root}" || "${target}" == "${root}/"* ]]; then
      kill "-${signal}" "${pid}" 2>/dev/null || true
      found=0
    fi
  done
  return "${found}"
}

cleanup() {
  local status=$?
  set +e
  if [[ -d "${root}/proc/self" ]]; then
    [[ -x "${root}/usr/bin/bazel" ]] && in_chroot 'bazel shutdown' >/dev/null 2>&1
    kill_chroot_processes TERM
    for _ in $(seq 1 50); do kill_chroot_processes 0 || break; sleep 0.1; done
    kill_chroot_processes KILL
  fi
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}"
  done
  rm -rf --one-file-system "${work}"
  exit "${status}"
}
trap cleanup EXIT

mount_into() {  # mount_into TARGET MOUNT-ARGS...
  local target="$1"
  shift
  mkdir -p "${target}"
  mount "$@" "${target}"
  mounted+=("${target}")
}

in_chroot() {  # a login-like environment of a fresh machine, no more
  chroot "${root}" /usr/bin/env -i HOME=/root USER=root LOGNAME=root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb /bin/bash -euo pipefail -c "cd /root/daemonkit && $1"
}

started="$(date +%s)"
log "copying the base into ${root}"
cp -a "${base}" "${root}"
rm -f "${root}/.complete"
cp /etc/resolv.conf "${root}/etc/resolv.conf"
git clone --quiet --no-hardlinks "${repo}" "${root}/root/daemonkit"
log "testing commit $(git -C "${root}/root/daemonkit" rev-parse --short HEAD)"

mount_into "${root}/proc" -t proc proc
mount_into "${root}/sys" --rbind /sys --make-rslave
mount_into "${root}/dev" --rbind /dev --make-rslave
mount_into "${root}/var/cache/apt/archives" --bind "${archives}"

log "1/3 tools/bazel run //examples:ticker"
in_chroot 'tools/bazel run //examples:ticker' | tee "${work}/run.txt"
pidfile=/tmp/ticker-0/ticker.pid  # root, no $XDG_RUNTIME_DIR: the ticker's default
[[ -s "${root}${pidfile}" ]] || { log "the ticker left no pid file at ${pidfile}"; exit 1; }
ticker_pid="$(cat "${root}${pidfile}")"
state="$(awk '{ print $3 }' "/proc/${ticker_pid}/stat" 2>/dev/null || echo gone)"
[[ "${state}" =~ ^[RS]$ ]] || { log "the ticker (pid ${ticker_pid}) is ${state}"; exit 1; }
log "the ticker runs as pid ${ticker_pid}"

log "2/3 tools/bazel test //... (the ticker still running)"
if ! in_chroot 'tools/bazel test //...' 2>&1 | tee "${work}/test.txt"; then
  log "tests failed; their logs:"
  grep -E '^//.* (FAILED|TIMEOUT)' "${work}/test.txt" | while read -r target _; do
    path="${target#//}"
    testlog="$(ls "${root}"/root/.cache/bazel/_bazel_root/*/execroot/daemonkit/bazel-out/k8-fastbuild/testlogs/"${path/://}"/test.log 2>/dev/null | head -n 1)"
    [[ -n "${testlog}" ]] && { echo "=== ${target}"; tail -n 60 "${testlog}"; }
  done
  exit 1
fi
state="$(awk '{ print $3 }' "/proc/${ticker_pid}/stat" 2>/dev/null || echo gone)"
[[ "${state}" =~ ^[RS]$ ]] || { log "the tests ended the README's ticker (now ${state})"; exit 1; }

log "3/3 tools/bazel run //examples:ticker -- --daemon_control=stop"
in_chroot 'tools/bazel run //examples:ticker -- --daemon_control=stop'
[[ ! -e "${root}${pidfile}" ]] || { log "stop left ${pidfile}"; exit 1; }
state="$(awk '{ print $3 }' "/proc/${ticker_pid}/stat" 2>/dev/null || echo gone)"
[[ "${state}" =~ ^(gone|Z|X)$ ]] || { log "the ticker is still ${state} after stop"; exit 1; }

log "passed in $(($(date +%s) - started)) s"
