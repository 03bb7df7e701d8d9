#!/bin/bash
# Benchmarks of the hotpatch toolchain (`make bench`).
#
#   bash bench/run.sh BINDIR WORKDIR [SECTION...]
#
# BINDIR holds the tool binaries (hpdiff, ...), WORKDIR is scratch space for
# downloads (kept as a cache between runs) and outputs.  Each section is a
# script bench/SECTION.sh called as `bash bench/SECTION.sh BINDIR WORKDIR`;
# it prints its own table, writes WORKDIR/SECTION-bench.tsv, and exits 0
# (ran), 77 (skipped, and said why) or anything else (failed).  To add one,
# write bench/NAME.sh (sourcing bench/lib.sh for the timing and download
# helpers) and add NAME to SECTIONS below.
#
# Targets are informational: a miss is printed, not failed.  The exit status
# is non-zero only when a section failed (a tool errored, or its inputs could
# not be obtained).
#
# Environment: BENCH_RUNS (timed runs per command, default 5).

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# In the order they run.
SECTIONS=(hpdiff hppack hpsign hpapply stall)

if [ $# -lt 2 ]; then
	echo "usage: $0 BINDIR WORKDIR [SECTION...]   (sections: ${SECTIONS[*]})" >&2
	exit 2
fi
bindir=$1
work=$2
shift 2
[ $# -gt 0 ] && SECTIONS=("$@")
mkdir -p "$work" || exit 2

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
echo "== hotpatch toolchain benchmarks =="
echo "  date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "  machine:  $(uname -srm), ${cpu:-unknown CPU}, $(nproc) CPUs, ${mem:-? GiB}"
if [ -r /etc/os-release ]; then
	echo "  system:   $(. /etc/os-release && echo "${PRETTY_NAME:-$ID}")"
fi
echo "  tools:    $bindir"
for t in "$bindir"/*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	v=$(timeout 10 "$t" --version </dev/null 2>/dev/null | head -n 1)
	echo "            ${v:-$(basename "$t") (no --version)}"
done
echo "  work dir: $work"
echo "  runs:     $BENCH_RUNS timed runs per command (median reported)"

declare -A result
status=0
for s in "${SECTIONS[@]}"; do
	echo
	if [ ! -f "$here/$s.sh" ]; then
		echo "== $s: no such section (bench/$s.sh) =="
		result[$s]=FAILED
		status=1
		continue
	fi
	bench_now
	t0=$BENCH_NOW
	bash "$here/$s.sh" "$bindir" "$work"
	rc=$?
	bench_now
	secs=$(bench_secs $((BENCH_NOW - t0)))
	case $rc in
	0) result[$s]="ok (${secs} s)" ;;
	"$BENCH_SKIP") result[$s]="skipped (${secs} s)" ;;
	*)
		result[$s]="FAILED, exit status $rc (${secs} s)"
		status=1
		;;
	esac
done

echo
echo "== summary =="
for s in "${SECTIONS[@]}"; do
	printf '  %-12s %s\n' "$s" "${result[$s]}"
done
exit "$status"
