#!/usr/bin/env bash
# Where the ticker's start-up goes, in numbers that do not depend on the
# machine's load: instructions (callgrind, from the first instruction of the
# dynamic loader to exit), page faults and CPU time (perf stat, software
# events), the loader's own statistics (LD_DEBUG=statistics) and the system
# calls of a daemonized start (strace -c -f). docs/benchmarks.md has the
# tables this prints, before and after.
#
#   bench/profile_startup.sh [TICKER]   # default: builds //examples:ticker -c opt
#
# Installs valgrind, strace and linux-perf from Debian when missing (root).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly TOOLS=(valgrind strace linux-perf)
tools/install_packages.sh profile "${TOOLS[@]}"

ticker="${1:-}"
if [[ -z "${ticker}" ]]; then
  tools/bazel build -c opt //examples:ticker >&2
  ticker="$(tools/bazel info -c opt bazel-bin 2>/dev/null)/examples/ticker"
fi
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
foreground=("${ticker}" --daemon=false --daemon_pidfile= --count=1
  --interval=1ms --daemon_stdout=/dev/null)

echo "## ${ticker}"
echo
echo "Shared objects: $(readelf -d "${ticker}" | grep -c NEEDED) needed ($(readelf -d "${ticker}" |
  sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' '))"
echo

# Instructions of one foreground tick, by phase (inclusive counts of
# functions that do not nest in one another).
valgrind --tool=callgrind --callgrind-out-file="${work}/cg" "${foreground[@]}" \
  >/dev/null 2>"${work}/valgrind.txt"
callgrind_annotate --inclusive=yes --threshold=100 "${work}/cg" 2>/dev/null |
  awk '
    function add(key, n) { cost[key] += n }
    /^ *[0-9,]+ / {
      n = $1; gsub(",", "", n); n += 0
      if ($0 ~ /PROGRAM TOTALS/) total = n
      else if ($0 ~ /rtld.c:_dl_start /) add("loader", n)
      else if ($0 ~ /dl-init.c:_dl_init /) add("loader", n)
      else if ($0 ~ /_GLOBAL__sub_I_(FLAGS_|_Z14FLAGS_flagfile|_ZN4absl.*flags_internal)/) add("absl_flags", n)
      else if ($0 ~ /_GLOBAL__sub_I_(logging|utilities|vlog_is_on)\.cc/) add("glog", n)
      else if ($0 ~ /_GLOBAL__sub_I__ZN3fL[SB](14FLAGS_flagfile|10FLAGS_help|25FLAGS_tab_completion)/) add("gflags", n)
      else if ($0 ~ /\?\?\?:main /) add("main", n)
      else if ($0 ~ /absl::[a-z0-9]*::ParseCommandLine\(int, char\*\*\)/) add("parse", n)
      else if ($0 ~ /daemonkit::RequestFromFlags\(\) /) add("request", n)
      else if ($0 ~ /daemonkit::DaemonizeFromRequest/) add("daemonize", n)
      else if ($0 ~ /stdlib\/exit.c:exit /) add("exit", n)
      if ($0 ~ /absl::[a-z0-9]*::DeadlockCheck\(/) add("deadlock", n)
      if ($0 ~ /GraphCycles::GraphCycles\(\)/) add("deadlock", n)
      if ($0 ~ /CheckDefaultValuesParsingRoundtrip\(\)::\{lambda/) add("roundtrip", n)
      if ($0 ~ /MyUserNameInitializer/) add("username", n)
      if ($0 ~ /cctz::local_time_zone\(\)/) add("timezone", n)
      if ($0 ~ /std::ios_base::Init::Init\(\)/) add("iostream", n)
    }
    function row(name, n) { printf "| %s | %\047d | %.0f%% |\n", name, n, 100 * n / total }
    END {
      static = cost["absl_flags"] + cost["glog"] + cost["gflags"]
      rest = cost["main"] - cost["parse"] - cost["request"] - cost["daemonize"]
      printf "| phase (one foreground tick) | instructions | share |\n| --- | --- | --- |\n"
      row("dynamic loader: map, relocate, bind (ld.so)", cost["loader"])
      row("static init: Abseil flag registration (and iostreams, first user)", cost["absl_flags"])
      row("static init: glog (its gflags flags, user name)", cost["glog"])
      row("static init: gflags (pulled in by glog)", cost["gflags"])
      row("main: absl::ParseCommandLine", cost["parse"])
      row("main: daemonkit::RequestFromFlags", cost["request"])
      row("main: daemonkit::DaemonizeFromRequest (glog init, checks)", cost["daemonize"])
      row("main: the tick itself (time zone, format, write)", rest)
      row("exit handlers", cost["exit"])
      row("other (libc start, init of libc)", total - cost["loader"] - static - cost["main"] - cost["exit"])
      row("**total**", total)
      row("of which: Abseil mutex deadlock detection (Debian builds Abseil without NDEBUG)", cost["deadlock"])
      row("of which: Abseil default-value round trip check (same cause)", cost["roundtrip"])
      row("of which: glog user-name lookup through NSS", cost["username"])
      row("of which: loading /etc/localtime", cost["timezone"])
      row("of which: libstdc++ iostreams (std::cout and friends)", cost["iostream"])
    }'
echo

echo "### Page faults and CPU time, 200 runs (perf stat, software events)"
echo
echo '```'
perf stat -r 200 -e task-clock,page-faults,context-switches "${foreground[@]}" 2>&1 >/dev/null |
  grep -E "task-clock|page-faults|elapsed" | sed 's/  */ /g'
echo '```'
echo

echo "### Dynamic loader (LD_DEBUG=statistics)"
echo
echo '```'
LD_DEBUG=statistics "${foreground[@]}" 2>&1 >/dev/null | grep -E "total startup|relocation|load objects" |
  sed 's/^ *[0-9]*: *//' | head -6
echo '```'
echo

echo "### System calls of a daemonized start, launcher + daemon until it exits (strace -c -f)"
echo
echo '```'
strace -f -c -o "${work}/strace.txt" "${ticker}" --daemon_pidfile="${work}/t.pid" \
  --daemon_stdout=/dev/null --interval=1ms --count=1 >/dev/null
# The daemon ends after one tick; strace -f waits for it.
awk 'NR <= 2 || /total/ || $4 >= 3' "${work}/strace.txt"
echo '```'
