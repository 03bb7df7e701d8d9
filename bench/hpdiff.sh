#!/bin/bash
# Benchmark section: hpdiff on the libc.a of two Debian libc6-dev versions,
# against reading-and-hashing the same bytes and against objdump -d -r.
#
#   bash bench/hpdiff.sh BINDIR WORKDIR
#
# Targets (from the issue; informational, a miss does not fail the run):
#   hpdiff within 3x the read-and-hash time,
#   hpdiff at least 5x faster than objdump -d -r over both archives,
#   hpdiff's peak memory at most 4x the largest input pair (old + new size).
#
# Environment: BENCH_RUNS (timed runs per command, default 5),
# BENCH_LIBC_OLD / BENCH_LIBC_NEW (pin the libc6-dev versions instead of
# taking the oldest and the newest that apt-cache madison lists).
#
# Writes WORKDIR/hpdiff-bench.tsv (key<TAB>value, machine-readable) and keeps
# the raw runs, logs and .hpd output under WORKDIR/hpdiff/.
# Exit status: 0 ran, 77 skipped (said why), 1 a tool failed or the inputs
# could not be obtained.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

if [ $# -ne 2 ]; then
	echo "usage: $0 BINDIR WORKDIR" >&2
	exit 2
fi
bindir=$1
work=$2
hpdiff=$bindir/hpdiff
pkg=libc6-dev
arch=amd64
libc_rel=usr/lib/x86_64-linux-gnu/libc.a

echo "== hpdiff: libc.a of two $pkg versions =="

if [ ! -x "$hpdiff" ]; then
	bench_fail "$hpdiff not found or not executable (build it first: make)"
	exit 1
fi
for t in "$BENCH_GNU_TIME" objdump sha256sum apt-get apt-cache dpkg-deb ar; do
	if ! command -v "$t" >/dev/null 2>&1; then
		bench_fail "$t is missing (Debian packages: time, binutils, coreutils, apt, dpkg; make deps)"
		exit 1
	fi
done
if ! "$BENCH_GNU_TIME" -f '%M' -o /dev/null true 2>/dev/null; then
	bench_fail "$BENCH_GNU_TIME is not GNU time (Debian package: time)"
	exit 1
fi

mkdir -p "$work/debs" "$work/src" "$work/hpdiff" || exit 1
sect=$work/hpdiff
tsv=$work/hpdiff-bench.tsv
rm -f "$tsv"

# ---- inputs ------------------------------------------------------------------

if [ -n "${BENCH_LIBC_OLD:-}" ] && [ -n "${BENCH_LIBC_NEW:-}" ]; then
	old_ver=$BENCH_LIBC_OLD
	new_ver=$BENCH_LIBC_NEW
	bench_note "versions pinned by BENCH_LIBC_OLD/BENCH_LIBC_NEW"
else
	bench_apt_versions "$pkg" "$arch"
	if [ "${#BENCH_VERSIONS[@]}" -lt 2 ] && bench_apt_update_once; then
		bench_apt_versions "$pkg" "$arch"
	fi
	if [ "${#BENCH_VERSIONS[@]}" -lt 2 ]; then
		# Offline or a single version listed: two cached .debs still do.
		cached=()
		for f in "$work/debs/${pkg}_"*"_$arch.deb"; do
			[ -s "$f" ] && v=$(dpkg-deb -f "$f" Version 2>/dev/null) && cached+=("$v")
		done
		if [ "${#cached[@]}" -ge 2 ]; then
			bench_note "apt-cache madison lists ${#BENCH_VERSIONS[@]} version(s) of $pkg:$arch; using the cached .debs"
			BENCH_VERSIONS=()
			for v in "${cached[@]}"; do
				i=${#BENCH_VERSIONS[@]}
				BENCH_VERSIONS+=("$v")
				while [ "$i" -gt 0 ] &&
					dpkg --compare-versions "${BENCH_VERSIONS[i - 1]}" gt "$v"; do
					BENCH_VERSIONS[i]=${BENCH_VERSIONS[i - 1]}
					i=$((i - 1))
				done
				BENCH_VERSIONS[i]=$v
			done
		fi
	fi
	case ${#BENCH_VERSIONS[@]} in
	0)
		echo "  SKIPPED: apt-cache madison lists no version of $pkg:$arch (no package lists?"
		echo "  run apt-get update as root), and no cached .debs are in $work/debs."
		exit "$BENCH_SKIP"
		;;
	1)
		echo "  SKIPPED: only one version of $pkg:$arch is available (${BENCH_VERSIONS[0]});"
		echo "  the benchmark needs two. Add a repository that has another (e.g. the"
		echo "  -security or -updates suite), or put a second .deb in $work/debs,"
		echo "  or pin both with BENCH_LIBC_OLD=... BENCH_LIBC_NEW=..."
		exit "$BENCH_SKIP"
		;;
	esac
	old_ver=${BENCH_VERSIONS[0]}
	new_ver=${BENCH_VERSIONS[${#BENCH_VERSIONS[@]} - 1]}
	bench_note "versions of $pkg:$arch to choose from: ${BENCH_VERSIONS[*]}"
fi
bench_note "old: $pkg $old_ver   new: $pkg $new_ver"

fetch_libc() { # fetch_libc VERSION: sets LIBC_A to the extracted libc.a
	local dir=$work/src/${pkg}_${1//:/%3a}
	bench_fetch_deb "$pkg" "$1" "$arch" "$work/debs" || return 1
	bench_extract_deb "$BENCH_DEB" "$dir" || return 1
	if [ ! -s "$dir/$libc_rel" ]; then
		bench_fail "$BENCH_DEB has no $libc_rel"
		return 1
	fi
	LIBC_A=$dir/$libc_rel
}
fetch_libc "$old_ver" || exit 1
old_a=$LIBC_A
fetch_libc "$new_ver" || exit 1
new_a=$LIBC_A
old_size=$(stat -c %s "$old_a")
new_size=$(stat -c %s "$new_a")
pair_bytes=$((old_size + new_size))
old_members=$(ar t "$old_a" | wc -l)
new_members=$(ar t "$new_a" | wc -l)
cpus=$(nproc)
bench_note "old libc.a: $old_size bytes, $old_members members ($old_a)"
bench_note "new libc.a: $new_size bytes, $new_members members ($new_a)"
bench_note "largest input pair (old + new): $pair_bytes bytes ($(bench_mib $((pair_bytes / 1024))) MiB)"

# ---- the commands ----------------------------------------------------------------

tools=(hpdiff hpdiff_j1 hash objdump)
declare -A label=(
	[hpdiff]="hpdiff -o DIR (all $cpus CPUs)"
	[hpdiff_j1]="hpdiff -j 1 -o DIR"
	[hash]="cat | sha256sum"
	[objdump]="objdump -d -r"
)

run_tool() { # run_tool NAME: one run; sets BENCH_* (see lib.sh)
	case $1 in
	hpdiff)
		rm -rf "$sect/out"
		bench_run_once "$sect/hpdiff.stdout" "$sect/hpdiff.stderr" \
			"$hpdiff" "$old_a" "$new_a" -o "$sect/out"
		;;
	hpdiff_j1)
		rm -rf "$sect/out-j1"
		bench_run_once "$sect/hpdiff_j1.stdout" "$sect/hpdiff_j1.stderr" \
			"$hpdiff" -j 1 "$old_a" "$new_a" -o "$sect/out-j1"
		;;
	hash)
		# shellcheck disable=SC2016 # expanded by sh, not here
		bench_run_once "$sect/hash.stdout" "$sect/hash.stderr" \
			sh -c 'cat -- "$1" "$2" | sha256sum' sh "$old_a" "$new_a"
		;;
	objdump)
		bench_run_once /dev/null "$sect/objdump.stderr" \
			objdump -d -r "$old_a" "$new_a"
		;;
	esac
}

ok_status() { # ok_status NAME STATUS
	case $1 in
	hpdiff | hpdiff_j1) [ "$2" = 0 ] || [ "$2" = 1 ] || [ "$2" = 3 ] ;;
	hash) [ "$2" = 0 ] && [ ! -s "$sect/hash.stderr" ] ;;
	*) [ "$2" = 0 ] ;;
	esac
}

failed=0
declare -A broken status0
echo
bench_note "The page cache is not dropped: each command runs once untimed first to"
bench_note "warm it, then $BENCH_RUNS timed runs (interleaved); medians are reported."
for t in "${tools[@]}"; do
	run_tool "$t"
	status0[$t]=$BENCH_STATUS
	cp -f "$sect/$t.stderr" "$sect/$t.warmup.stderr" 2>/dev/null
	[ "$t" = objdump ] || cp -f "$sect/$t.stdout" "$sect/$t.warmup.stdout"
	if ! ok_status "$t" "$BENCH_STATUS"; then
		bench_fail "${label[$t]} failed (exit status $BENCH_STATUS); not timed"
		broken[$t]=1
		failed=1
	fi
done

printf 'tool\trun\twall_us\tmaxrss_kb\tstatus\n' >"$sect/runs.tsv"
for t in "${tools[@]}"; do : >"$sect/$t.runs"; done
for ((r = 1; r <= BENCH_RUNS; r++)); do
	for t in "${tools[@]}"; do
		[ -n "${broken[$t]:-}" ] && continue
		run_tool "$t"
		printf '%s\t%s\t%s\n' "$BENCH_WALL_US" "$BENCH_RSS_KB" "$BENCH_STATUS" >>"$sect/$t.runs"
		printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$r" "$BENCH_WALL_US" "$BENCH_RSS_KB" \
			"$BENCH_STATUS" >>"$sect/runs.tsv"
		if ! ok_status "$t" "$BENCH_STATUS"; then
			bench_fail "${label[$t]} failed in timed run $r (exit status $BENCH_STATUS)"
			broken[$t]=1
			failed=1
		elif [ "$BENCH_STATUS" != "${status0[$t]}" ]; then
			bench_warn "$t: exit status $BENCH_STATUS in run $r, ${status0[$t]} in the warm-up"
		fi
	done
done

# The parallel and the serial run must write the same .hpd files.
if [ -d "$sect/out" ] && [ -d "$sect/out-j1" ] && ! diff -r -q "$sect/out" "$sect/out-j1" >&2; then
	bench_fail "hpdiff -o DIR and hpdiff -j 1 -o DIR wrote different .hpd files"
	failed=1
fi

# ---- results -------------------------------------------------------------------

kv() { printf '%s\t%s\n' "$1" "$2" >>"$tsv"; }
kv section hpdiff
kv date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kv cpus "$cpus"
kv runs "$BENCH_RUNS"
kv package "$pkg:$arch"
kv old_version "$old_ver"
kv new_version "$new_ver"
kv old_bytes "$old_size"
kv new_bytes "$new_size"
kv pair_bytes "$pair_bytes"
kv old_members "$old_members"
kv new_members "$new_members"

echo
printf '  %-32s %12s %21s %11s %6s\n' "command (both libc.a)" "median wall" "(min .. max)" "peak RSS" "exit"
printf '  %-32s %12s %21s %11s %6s\n' "--------------------------------" "-----------" "---------------------" "----------" "----"
declare -A wall rss
for t in "${tools[@]}"; do
	lbl=${label[$t]}
	if [ -n "${broken[$t]:-}" ] || [ ! -s "$sect/$t.runs" ]; then
		printf '  %-32s %12s %21s %11s %6s\n' "$lbl" "ERROR" "" "" "${status0[$t]}"
		kv "$t.status" "${status0[$t]}"
		kv "$t.error" 1
		continue
	fi
	wall[$t]=$(bench_median "$sect/$t.runs" 1)
	rss[$t]=$(bench_median "$sect/$t.runs" 2)
	lo=$(bench_min "$sect/$t.runs" 1)
	hi=$(bench_max "$sect/$t.runs" 1)
	printf '  %-32s %10s s %21s %7s MiB %6s\n' "$lbl" "$(bench_secs "${wall[$t]}")" \
		"($(bench_secs "$lo") .. $(bench_secs "$hi"))" "$(bench_mib "${rss[$t]}")" \
		"${status0[$t]}"
	kv "$t.wall_median_s" "$(bench_secs "${wall[$t]}")"
	kv "$t.wall_min_s" "$(bench_secs "$lo")"
	kv "$t.wall_max_s" "$(bench_secs "$hi")"
	kv "$t.maxrss_median_kb" "${rss[$t]}"
	kv "$t.maxrss_max_kb" "$(bench_max "$sect/$t.runs" 2)"
	kv "$t.status" "${status0[$t]}"
done
bench_note "(peak RSS of a pipeline is its largest process; wall time is measured"
bench_note " around GNU time, so it includes one fork+exec)"

# PASS when RATIO OP LIMIT holds (OP: <= or >=), as printed (two decimals).
target_line() { # target_line TEXT KEY RATIO OP LIMIT
	local verdict
	if [ "$3" = n/a ]; then
		verdict=n/a
	elif [ "$(bench_awk "v = ($3 $4 $5); print v")" = 1 ]; then
		verdict=PASS
	else
		verdict=MISS
	fi
	printf '  %-44s %9s  %s\n' "$1" "$(times_x "$3")" "$verdict"
	kv "target.$2.ratio" "$3"
	kv "target.$2.limit" "$5"
	kv "target.$2.result" "$verdict"
}
times_x() { if [ "$1" = n/a ]; then echo n/a; else echo "${1}x"; fi; }
ratio() { # ratio A B: A/B to two decimals, n/a if either is missing
	if [ -z "${1:-}" ] || [ -z "${2:-}" ] || [ "$2" = 0 ]; then
		echo n/a
	else
		bench_awk 'printf "%.2f", a / b' "a=$1" "b=$2"
	fi
}
pair_kb=$(bench_awk 'printf "%.0f", b / 1024' "b=$pair_bytes")
for t in hpdiff hpdiff_j1; do
	lbl=${label[$t]}
	echo
	if [ "$t" = hpdiff ]; then
		echo "  targets (from the issue) for $lbl:"
	else
		echo "  the same targets for $lbl (single worker, for comparison):"
	fi
	target_line "wall <= 3x read-and-hash (hpdiff/hash)" "$t.hash" \
		"$(ratio "${wall[$t]:-}" "${wall[hash]:-}")" "<=" 3
	target_line ">= 5x faster than objdump (objdump/hpdiff)" "$t.objdump" \
		"$(ratio "${wall[objdump]:-}" "${wall[$t]:-}")" ">=" 5
	target_line "peak RSS <= 4x input pair (RSS/pair)" "$t.memory" \
		"$(ratio "${rss[$t]:-}" "$pair_kb")" "<=" 4
done
echo
sp=$(ratio "${wall[hpdiff_j1]:-}" "${wall[hpdiff]:-}")
echo "  parallel speedup (-j 1 wall / all-CPU wall, $cpus CPUs): $(times_x "$sp")"
kv parallel_speedup "$sp"

# ---- hpdiff's own report (from the warm-up run) -----------------------------------

for t in hpdiff hpdiff_j1; do
	lbl=${label[$t]}
	echo
	echo "  $lbl: exit status ${status0[$t]}"
	summary=$(grep -E '^[0-9]+ object pairs? compared' "$sect/$t.warmup.stdout" | tail -n 1)
	if [ -n "$summary" ]; then
		echo "    $summary"
		# "N object pairs compared: X differ (Y not hotpatchable), Z unchanged"
		# shellcheck disable=SC2046 # split into four numbers on purpose
		set -- $(printf '%s\n' "$summary" | sed -E 's/^([0-9]+)[^:]*: ([0-9]+) differ \(([0-9]+) not hotpatchable\), ([0-9]+) unchanged.*/\1 \2 \3 \4/')
		if [ $# -eq 4 ]; then
			kv "$t.pairs" "$1"
			kv "$t.differ" "$2"
			kv "$t.not_hotpatchable" "$3"
			kv "$t.unchanged" "$4"
		fi
	else
		echo "    no summary line on stdout (full output: $sect/$t.warmup.stdout)"
	fi
	n=$(grep -c '' "$sect/$t.warmup.stderr")
	kv "$t.stderr_lines" "$n"
	if [ "$n" = 0 ]; then
		echo "    stderr: empty (no errors or warnings)"
	elif [ "$t" = hpdiff_j1 ] &&
		cmp -s <(sort "$sect/hpdiff.warmup.stderr") <(sort "$sect/hpdiff_j1.warmup.stderr"); then
		echo "    stderr: the same $n line(s) as above (in any order)"
	else
		echo "    stderr: $n line(s) (full: $sect/$t.warmup.stderr); by message:"
		sed -E 's/^hpdiff: [^ ]*: //' "$sect/$t.warmup.stderr" | sort | uniq -c |
			sort -rn | head -n 10 | sed -E 's/^ *([0-9]+) /      \1 x  /'
		echo "    first lines:"
		head -n 20 "$sect/$t.warmup.stderr" | sed 's/^/      /'
	fi
done

echo
bench_note "machine-readable summary: $tsv"
bench_note "raw runs: $sect/runs.tsv"
kv failed "$failed"
exit "$failed"
