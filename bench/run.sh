#!/usr/bin/env bash
# Measures daemonkit against the daemonizers a user would otherwise pick, in
# one run on this machine (method and results: docs/benchmarks.md).
#
#   bench/run.sh           # 50 interleaved rounds (a few minutes)
#   bench/run.sh --quick   # 10 rounds of a fastbuild, as .ci/run does to
#                          # keep it working (its numbers mean nothing)
#   bench/run.sh --baseline_ticker=PATH   # also another ticker build (before/after)
#
# Other arguments go to the harness (bench/harness.cc). Where the start-up
# time goes, in instructions and page faults: bench/profile_startup.sh.
#
# Installs the peers from Debian when missing (as root): libdaemon-dev,
# daemonize, python3-daemon, golang-go, go-daemon's source package, and s6
# and runit (their supervisors' memory, against the daemonkit command's).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=50
memory_rounds=3
# Numbers come from an optimized build; --quick, which only keeps the
# harness working, takes the build CI's first stage made (an -c opt build
# of everything was 3 of CI's minutes).
compilation_mode=opt
if [[ "${1:-}" == "--quick" ]]; then
  rounds=10
  memory_rounds=1
  compilation_mode=fastbuild
  shift
fi
readonly PEER_PACKAGES=(libdaemon-dev daemonize python3-daemon golang-go
  golang-github-sevlyar-go-daemon-dev s6 runit)
tools/install_packages.sh bench "${PEER_PACKAGES[@]}"

peers="${XDG_CACHE_HOME:-${HOME}/.cache}/daemonkit-bench"
mkdir -p "${peers}"
for peer in daemon3_ticker doublefork_ticker fg_ticker hello; do
  gcc -O2 -Wall -o "${peers}/${peer}" "bench/peers/${peer}.c"
done
mv "${peers}/hello" "${peers}/hello_c"
gcc -O2 -Wall -o "${peers}/libdaemon_ticker" bench/peers/libdaemon_ticker.c -ldaemon
# The start-up floor with g++'s own defaults (libstdc++.so, libgcc_s.so).
g++ -O2 -Wall -o "${peers}/hello_cxx_dynamic" bench/hello_world.cc
cp bench/peers/python_daemon_ticker.py "${peers}/"
# go-daemon from Debian's source package, offline, in GOPATH mode.
GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="${peers}/go-cache" GOFLAGS= \
  go build -o "${peers}/go_daemon_ticker" ./bench/peers/go/main.go

tools/bazel build -c "${compilation_mode}" //bench:harness //bench:hello_world \
  //bench:hello_world_static //examples:ticker //tools:daemonkit >&2
bin="$(tools/bazel info -c "${compilation_mode}" bazel-bin 2>/dev/null)"
install -m 0755 "${bin}/bench/hello_world" "${peers}/hello_cxx_toolchain"
install -m 0755 "${bin}/bench/hello_world_static" "${peers}/hello_cxx_static"
"${bin}/bench/harness" --peers="${peers}" --ticker="${bin}/examples/ticker" \
  --daemonkit="${bin}/tools/daemonkit" --rounds="${rounds}" \
  --memory_rounds="${memory_rounds}" "$@"
