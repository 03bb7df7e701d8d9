# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# Helpers shared by the benchmark sections (sourced, not run).
#
# Needs bash, coreutils, awk (mawk is enough), GNU time (/usr/bin/time,
# Debian package `time`) and, for the download helpers, apt-get, apt-cache
# and dpkg-deb.  No Python.

export LC_ALL=C

BENCH_RUNS=${BENCH_RUNS:-5}
case $BENCH_RUNS in
'' | *[!0-9]* | 0)
	printf 'BENCH_RUNS=%s is not a positive number; using 5\n' "$BENCH_RUNS" >&2
	BENCH_RUNS=5
	;;
esac
BENCH_GNU_TIME=${BENCH_GNU_TIME:-/usr/bin/time}

# A section script exits with 0 (ran), BENCH_SKIP (could not run here, for
# a reason it printed; not a failure) or anything else (failed).
BENCH_SKIP=77

bench_note() { printf '  %s\n' "$*"; }
bench_warn() { printf '  WARNING: %s\n' "$*" >&2; }
bench_fail() { printf '  ERROR: %s\n' "$*" >&2; }

# ---- timing ----------------------------------------------------------------

# Sets BENCH_NOW to the wall clock in microseconds, without forking.
bench_now() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		BENCH_NOW=${EPOCHREALTIME/[.,]/}
	else
		BENCH_NOW=$(($(date +%s%N) / 1000))
	fi
}

# bench_run_once STDOUT STDERR CMD [ARG...]
# Runs CMD once under GNU time, its output to the given files.  Sets
# BENCH_WALL_US (wall time, microseconds, measured around the command),
# BENCH_RSS_KB (peak resident set size in KiB: the largest of the command's
# processes, as wait4 reports it) and BENCH_STATUS (CMD's exit status).
bench_run_once() {
	local out=$1 err=$2 tf t0
	shift 2
	tf=$(mktemp "${TMPDIR:-/tmp}/bench-time.XXXXXX") || return 2
	bench_now
	t0=$BENCH_NOW
	"$BENCH_GNU_TIME" -f '%e %M' -o "$tf" "$@" >"$out" 2>"$err"
	BENCH_STATUS=$?
	bench_now
	BENCH_WALL_US=$((BENCH_NOW - t0))
	# GNU time puts "Command exited with non-zero status N" (or "Command
	# terminated by signal N") before the formatted line: take the last.
	BENCH_RSS_KB=$(awk 'NF { l = $NF } END { print (l == "" ? 0 : l) }' "$tf")
	rm -f "$tf"
}

# bench_median FILE COLUMN: median of a numeric column (tab separated).
bench_median() {
	cut -f "$2" "$1" | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "nan"; exit }
			if (NR % 2) print v[(NR + 1) / 2]
			else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

bench_min() { cut -f "$2" "$1" | sort -n | head -n 1; }
bench_max() { cut -f "$2" "$1" | sort -n | tail -n 1; }

# bench_awk PROGRAM [NAME=VALUE...]: floating-point arithmetic through awk;
# each NAME=VALUE becomes an awk variable, PROGRAM runs in BEGIN.
bench_awk() {
	local prog=$1
	shift
	local args=()
	local a
	for a in "$@"; do args+=(-v "$a"); done
	awk "${args[@]}" "BEGIN { $prog }"
}

bench_secs() { bench_awk 'printf "%.3f", us / 1e6' "us=$1"; }
bench_mib() { bench_awk 'printf "%.1f", kb / 1024' "kb=$1"; }

# ---- inputs from Debian's package registry ----------------------------------

BENCH_APT_UPDATED=${BENCH_APT_UPDATED:-0}

# Runs `apt-get update -qq` once per bench run, only as root.
bench_apt_update_once() {
	[ "$BENCH_APT_UPDATED" = 1 ] && return 1
	[ "$(id -u)" = 0 ] || return 1
	BENCH_APT_UPDATED=1
	bench_note "running apt-get update -qq (package lists missing or stale)"
	apt-get update -qq >/dev/null 2>&1
}

# bench_apt_versions PKG ARCH: sets the array BENCH_VERSIONS to the versions of
# PKG for ARCH the configured repositories offer, oldest first (Debian order).
bench_apt_versions() {
	local pkg=$1 arch=$2 v sorted=() i
	for v in $(apt-cache madison "$pkg" 2>/dev/null |
		awk -F'|' -v arch="$arch" '
			{ gsub(/^ +| +$/, "", $2) }
			$3 ~ ("[ /]" arch " Packages") || $3 ~ / all Packages/ {
				if (!seen[$2]++) print $2
			}'); do
		# Insertion sort with dpkg's version order (few versions).
		i=${#sorted[@]}
		sorted+=("$v")
		while [ "$i" -gt 0 ] && dpkg --compare-versions "${sorted[i - 1]}" gt "$v"; do
			sorted[i]=${sorted[i - 1]}
			i=$((i - 1))
		done
		sorted[i]=$v
	done
	BENCH_VERSIONS=("${sorted[@]}")
}

# bench_deb_file PKG VERSION ARCH: the file name apt-get download gives.
bench_deb_file() {
	local v=${2//:/%3a}
	printf '%s_%s_%s.deb\n' "$1" "$v" "$3"
}

# bench_fetch_deb PKG VERSION ARCH DIR: downloads PKG=VERSION into DIR unless
# a valid copy is there already; sets BENCH_DEB to its path.
bench_fetch_deb() {
	local pkg=$1 ver=$2 arch=$3 dir=$4 file tmp
	file=$dir/$(bench_deb_file "$pkg" "$ver" "$arch")
	if [ -s "$file" ] && dpkg-deb --info "$file" >/dev/null 2>&1; then
		bench_note "cached: $file"
		BENCH_DEB=$file
		return 0
	fi
	mkdir -p "$dir" || return 1
	tmp=$(mktemp -d "$dir/.download.XXXXXX") || return 1
	bench_note "downloading $pkg:$arch=$ver"
	if ! (cd "$tmp" && apt-get download -q "$pkg:$arch=$ver" >download.log 2>&1); then
		if bench_apt_update_once; then
			(cd "$tmp" && apt-get download -q "$pkg:$arch=$ver" >download.log 2>&1)
		fi
	fi
	if [ ! -s "$tmp/$(basename "$file")" ]; then
		bench_fail "apt-get download $pkg:$arch=$ver failed:"
		sed 's/^/    /' "$tmp/download.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	mv -f "$tmp/$(basename "$file")" "$file" && rm -rf "$tmp" || return 1
	BENCH_DEB=$file
}

# bench_extract_deb DEB DIR: dpkg-deb -x into DIR (once; kept as a cache).
bench_extract_deb() {
	local deb=$1 dir=$2 tmp
	[ -e "$dir/.extracted" ] && return 0
	rm -rf "$dir"
	tmp=$dir.tmp.$$
	rm -rf "$tmp"
	if ! { mkdir -p "$tmp" && dpkg-deb -x "$deb" "$tmp" &&
		touch "$tmp/.extracted" && mv "$tmp" "$dir"; }; then
		rm -rf "$tmp"
		bench_fail "dpkg-deb -x $deb failed"
		return 1
	fi
}
