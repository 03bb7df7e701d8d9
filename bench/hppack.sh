#!/bin/bash
# Benchmark section: how small hppack's packages are, next to binary deltas
# of the same fix made in the same run.
#
#   bash bench/hppack.sh BINDIR WORKDIR
#
# 1. Every hotpatchable sample scenario of the gcc-O2 variant: the
#    compressed payload and the whole signed package, next to what it takes
#    to ship the fixed LINKED binary instead: `bsdiff old new`,
#    `xdelta3 -e -s old new`, `zstd -19 --patch-from=old new`, and the fixed
#    binary itself with `zstd -19`.
# 2. A real-sized fix: bench/hppack-prog.c linked statically (-static,
#    non-PIE) against the libc.a of two Debian libc6-dev versions (the
#    ones bench/hpdiff.sh uses, from the same cache): prog-old is the
#    baseline, prog-new the fix.  hpdiff runs on the two libc.a; the .hpd
#    of every member linked into prog-old (from the linker map) is packed
#    against prog-old; the same delta tools run on prog-old/prog-new.
#
# Targets (from the issue; informational, a miss does not fail the run),
# for a one-function fix: the compressed payload is smaller than the
# smallest binary delta, and the whole signed package is under 8 KB.
#
# Environment: BENCH_RUNS (timed hppack runs for the libc case, default 5),
# BENCH_SAMPLES (built samples; default WORKDIR/../samples, built with
# `make samples` if missing), BENCH_LIBC_OLD / BENCH_LIBC_NEW (pin the
# libc6-dev versions, as for bench/hpdiff.sh).
#
# Writes WORKDIR/hppack-bench.tsv (key<TAB>value) and keeps everything under
# WORKDIR/hppack/.  Exit status: 0 ran, 1 a tool failed (an error, not a
# refusal), 2 usage.

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
root=$(cd "$here/.." && pwd)
outdir=$(cd "$(dirname "$work")" && pwd)
samples=${BENCH_SAMPLES:-$outdir/samples}
sect=$work/hppack
tsv=$work/hppack-bench.tsv
pkg=libc6-dev
arch=amd64
libc_dir=usr/lib/x86_64-linux-gnu

echo "== hppack: package size next to binary deltas of the same fix =="
for t in "$bindir/hpdiff" "$bindir/hppack"; do
	if [ ! -x "$t" ]; then
		bench_fail "$t not found or not executable (build it first: make)"
		exit 1
	fi
done
for t in "$BENCH_GNU_TIME" bsdiff xdelta3 zstd gcc tar stat; do
	if ! command -v "$t" >/dev/null 2>&1; then
		bench_fail "$t is missing (Debian packages bsdiff, xdelta3, zstd, gcc, time: make deps)"
		exit 1
	fi
done
rm -rf "$sect" "$tsv"
mkdir -p "$sect" "$work/debs" "$work/src" || exit 1
if ! bash "$root/tests/pki/mkpki.sh" "$sect/pki" >/dev/null 2>&1; then
	bench_fail "cannot make the test PKI (tests/pki/mkpki.sh)"
	exit 1
fi
if [ ! -x "$samples/gcc-O2/body-change/old" ]; then
	bench_note "building the samples (make samples O=$outdir)"
	if ! make -C "$root" --no-print-directory O="$outdir" samples >"$sect/samples.log" 2>&1; then
		bench_fail "make samples failed; see $sect/samples.log"
		exit 1
	fi
fi
export SOURCE_DATE_EPOCH=1800000000

kv() { printf '%s\t%s\n' "$1" "$2" >>"$tsv"; }
kv section hppack
kv date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

failed=0

# deltas OLD NEW DIR: sets D_BSDIFF D_XDELTA D_ZSTDP D_ZSTD (bytes, or ERR) and
# D_MIN, the smallest of the three deltas.
deltas() {
	local old=$1 new=$2 d=$3 v bad=0
	mkdir -p "$d"
	D_BSDIFF=ERR D_XDELTA=ERR D_ZSTDP=ERR D_ZSTD=ERR D_MIN=
	if bsdiff "$old" "$new" "$d/bsdiff.patch" 2>"$d/bsdiff.err"; then
		D_BSDIFF=$(stat -c %s "$d/bsdiff.patch")
	else bad=1; fi
	if xdelta3 -e -f -s "$old" "$new" "$d/xdelta3.patch" 2>"$d/xdelta3.err"; then
		D_XDELTA=$(stat -c %s "$d/xdelta3.patch")
	else bad=1; fi
	if zstd -q -f -19 --patch-from="$old" "$new" -o "$d/zstd.patch" 2>"$d/zstd.err"; then
		D_ZSTDP=$(stat -c %s "$d/zstd.patch")
	else bad=1; fi
	if zstd -q -f -19 "$new" -o "$d/new.zst" 2>"$d/zstd19.err"; then
		D_ZSTD=$(stat -c %s "$d/new.zst")
	else bad=1; fi
	for v in "$D_BSDIFF" "$D_XDELTA" "$D_ZSTDP"; do
		[ "$v" = ERR ] && continue
		if [ -z "$D_MIN" ] || [ "$v" -lt "$D_MIN" ]; then D_MIN=$v; fi
	done
	if [ "$bad" = 1 ]; then
		bench_fail "a delta tool failed in $d: $(cat "$d"/*.err | head -3)"
		failed=1
	fi
}

# pack BASELINE DIR HPD...: unsigned and signed packages; sets P_STATUS (hppack's
# exit status), P_FUNCS, P_PAYLOAD (payload.zst bytes), P_RAW, P_COMP, P_UNSIGNED,
# P_SIGNED (package bytes).
pack() {
	local base=$1 d=$2
	shift 2
	mkdir -p "$d"
	P_FUNCS=- P_PAYLOAD=- P_RAW=- P_COMP=- P_UNSIGNED=- P_SIGNED=-
	"$bindir/hppack" --baseline "$base" --seq 1 -o "$d/unsigned.hpk" "$@" \
		>"$d/hppack.out" 2>"$d/hppack.err"
	P_STATUS=$?
	[ "$P_STATUS" = 0 ] || return 0
	"$bindir/hppack" --baseline "$base" --seq 1 -o "$d/signed.hpk" \
		--key "$sect/pki/p256.key" --cert "$sect/pki/p256.pem" \
		--chain "$sect/pki/p256.chain" "$@" >>"$d/hppack.out" 2>>"$d/hppack.err"
	P_STATUS=$?
	[ "$P_STATUS" = 0 ] || return 0
	tar -xOf "$d/unsigned.hpk" MANIFEST >"$d/MANIFEST"
	P_FUNCS=$(awk -F': ' '$1 == "functions" { print $2 }' "$d/MANIFEST")
	P_PAYLOAD=$(awk -F': ' '$1 == "payload-size" { print $2 }' "$d/MANIFEST")
	P_RAW=$(awk -F': ' '$1 == "payload-raw-size" { print $2 }' "$d/MANIFEST")
	P_COMP=$(awk -F': ' '$1 == "payload-compression" { print $2 }' "$d/MANIFEST")
	P_UNSIGNED=$(stat -c %s "$d/unsigned.hpk")
	P_SIGNED=$(stat -c %s "$d/signed.hpk")
}

verdict() { # verdict A B: PASS if A < B
	if [ "$1" != - ] && [ -n "$2" ] && [ "$1" -lt "$2" ]; then echo PASS; else echo MISS; fi
}

header() {
	printf '  %-22s %4s %8s %8s %9s %8s %8s %9s %9s  %-6s %-6s\n' "$1" fns payload \
		"(raw)" "signed" bsdiff xdelta3 "zstd-pf" "zstd -19" "<delta" "<8KB"
	printf '  %-22s %4s %8s %8s %9s %8s %8s %9s %9s  %-6s %-6s\n' \
		"----------------------" ---- -------- -------- --------- -------- -------- \
		--------- --------- ------ ------
}

row() { # row NAME KEY: prints and records the P_* and D_* of one case
	local v1 v2
	v1=$(verdict "$P_PAYLOAD" "$D_MIN")
	v2=$(verdict "$P_SIGNED" 8192)
	printf '  %-22s %4s %8s %8s %9s %8s %8s %9s %9s  %-6s %-6s\n' "$1" "$P_FUNCS" \
		"$P_PAYLOAD" "($P_RAW)" "$P_SIGNED" "$D_BSDIFF" "$D_XDELTA" "$D_ZSTDP" "$D_ZSTD" \
		"$v1" "$v2"
	kv "$2.functions" "$P_FUNCS"
	kv "$2.payload_zst_bytes" "$P_PAYLOAD"
	kv "$2.payload_raw_bytes" "$P_RAW"
	kv "$2.compression" "$P_COMP"
	kv "$2.package_unsigned_bytes" "$P_UNSIGNED"
	kv "$2.package_signed_bytes" "$P_SIGNED"
	kv "$2.bsdiff_bytes" "$D_BSDIFF"
	kv "$2.xdelta3_bytes" "$D_XDELTA"
	kv "$2.zstd_patch_from_bytes" "$D_ZSTDP"
	kv "$2.zstd19_new_bytes" "$D_ZSTD"
	ROW_V1=$v1 ROW_V2=$v2
}

# ---- 1. the samples --------------------------------------------------------------

echo
bench_note "samples: $samples/gcc-O2 (gcc -O2 -g -fPIE, -pie); every size in bytes."
bench_note "payload: payload.zst (raw: decoded payload); signed: the whole package with"
bench_note "MANIFEST.sig (ECDSA P-256, chain of 2 certificates); the deltas turn the"
bench_note "baseline binary into the fixed one; zstd-pf: zstd -19 --patch-from=old."
echo
header scenario
one=0 one_v1=0 one_v2=0 n=0
for dir in "$samples"/gcc-O2/*/; do
	s=$(basename "$dir")
	if [ ! -f "$dir/old.o" ] || [ ! -x "$dir/old" ]; then continue; fi
	d=$sect/samples/$s
	mkdir -p "$d"
	"$bindir/hpdiff" "$dir/old.o" "$dir/new.o" -o "$d/x.hpd" >"$d/hpdiff.out" 2>&1
	st=$?
	case $st in
	1) ;;
	0 | 3) continue ;; # unchanged, or not hotpatchable (hpdiff says why)
	*)
		bench_fail "hpdiff failed on $s (exit $st): $(head -1 "$d/hpdiff.out")"
		failed=1
		continue
		;;
	esac
	pack "$dir/old" "$d" "$d/x.hpd"
	if [ "$P_STATUS" != 0 ]; then
		printf '  %-22s hppack exit %s: %s\n' "$s" "$P_STATUS" "$(head -1 "$d/hppack.err")"
		kv "sample.$s.hppack_status" "$P_STATUS"
		# a refusal (1) is a finding, not a failed run; trouble (2) is
		[ "$P_STATUS" = 1 ] || failed=1
		continue
	fi
	deltas "$dir/old" "$dir/new" "$d"
	row "$s" "sample.$s"
	n=$((n + 1))
	if [ "$P_FUNCS" = 1 ]; then
		one=$((one + 1))
		[ "$ROW_V1" = PASS ] && one_v1=$((one_v1 + 1))
		[ "$ROW_V2" = PASS ] && one_v2=$((one_v2 + 1))
	fi
done
echo
bench_note "$n hotpatchable scenarios packed; $one of them replace one function.  The"
bench_note "targets are for one-function fixes; the verdicts of the other rows are"
bench_note "for information."
printf '  %-62s %7s  %s\n' "target: one-function fix, payload < smallest binary delta" \
	"$one_v1/$one" "$([ "$one" -gt 0 ] && [ "$one_v1" = "$one" ] && echo PASS || echo MISS)"
printf '  %-62s %7s  %s\n' "target: one-function fix, signed package < 8 KB" \
	"$one_v2/$one" "$([ "$one" -gt 0 ] && [ "$one_v2" = "$one" ] && echo PASS || echo MISS)"
kv samples.packed "$n"
kv samples.one_function "$one"
kv target.payload_below_delta "$one_v1/$one"
kv target.signed_below_8kb "$one_v2/$one"

# ---- 2. a real-sized fix: a static program and two libc.a -------------------------

echo
echo "== hppack: a static program, linked against two libc6-dev versions =="

pick_versions() { # sets old_ver and new_ver, or returns 1 after saying why
	local v f i cached=()
	if [ -n "${BENCH_LIBC_OLD:-}" ] && [ -n "${BENCH_LIBC_NEW:-}" ]; then
		old_ver=$BENCH_LIBC_OLD new_ver=$BENCH_LIBC_NEW
		return 0
	fi
	bench_apt_versions "$pkg" "$arch"
	if [ "${#BENCH_VERSIONS[@]}" -lt 2 ] && bench_apt_update_once; then
		bench_apt_versions "$pkg" "$arch"
	fi
	if [ "${#BENCH_VERSIONS[@]}" -lt 2 ]; then
		for f in "$work/debs/${pkg}_"*"_$arch.deb"; do
			[ -s "$f" ] && v=$(dpkg-deb -f "$f" Version 2>/dev/null) && cached+=("$v")
		done
		[ "${#cached[@]}" -ge 2 ] || return 1
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
	old_ver=${BENCH_VERSIONS[0]}
	new_ver=${BENCH_VERSIONS[${#BENCH_VERSIONS[@]} - 1]}
}

fetch_libc() { # fetch_libc VERSION: sets LIBC_DIR to the extracted lib directory
	local dir=$work/src/${pkg}_${1//:/%3a}
	bench_fetch_deb "$pkg" "$1" "$arch" "$work/debs" || return 1
	bench_extract_deb "$BENCH_DEB" "$dir" || return 1
	if [ ! -s "$dir/$libc_dir/libc.a" ] || [ ! -s "$dir/$libc_dir/crt1.o" ]; then
		bench_fail "$BENCH_DEB has no $libc_dir/libc.a or crt1.o"
		return 1
	fi
	LIBC_DIR=$dir/$libc_dir
}

libc_case() {
	local old_lib new_lib L=$sect/libc st hpds=() m
	if ! pick_versions; then
		echo "  SKIPPED: fewer than two versions of $pkg:$arch are available (apt-cache"
		echo "  madison, or .debs in $work/debs); pin them with BENCH_LIBC_OLD/BENCH_LIBC_NEW."
		kv libc.skipped yes
		return 0
	fi
	bench_note "old: $pkg $old_ver   new: $pkg $new_ver"
	fetch_libc "$old_ver" || return 1
	old_lib=$LIBC_DIR
	fetch_libc "$new_ver" || return 1
	new_lib=$LIBC_DIR
	mkdir -p "$L/hpd"
	if ! gcc -O2 -g -c "$here/hppack-prog.c" -o "$L/prog.o" 2>"$L/cc.err" ||
		! gcc -static -B"$old_lib/" -L"$old_lib" -Wl,--build-id -Wl,-Map,"$L/old.map" \
			-o "$L/prog-old" "$L/prog.o" 2>"$L/ld-old.err" ||
		! gcc -static -B"$new_lib/" -L"$new_lib" -Wl,--build-id -Wl,-Map,"$L/new.map" \
			-o "$L/prog-new" "$L/prog.o" 2>"$L/ld-new.err"; then
		bench_fail "cannot build prog-old/prog-new: $(cat "$L"/*.err | grep -v statically | head -3)"
		return 1
	fi
	if ! grep -q "$old_lib/libc.a" "$L/old.map"; then
		bench_fail "prog-old was not linked against $old_lib/libc.a"
		return 1
	fi
	bench_note "prog-old: $(stat -c %s "$L/prog-old") bytes, prog-new: $(stat -c %s "$L/prog-new") bytes (static, non-PIE)"
	"$bindir/hpdiff" "$old_lib/libc.a" "$new_lib/libc.a" -o "$L/hpd" >"$L/hpdiff.out" 2>&1
	st=$?
	if [ "$st" != 1 ] && [ "$st" != 3 ]; then
		bench_fail "hpdiff on the two libc.a: exit $st: $(head -1 "$L/hpdiff.out")"
		return 1
	fi
	# the members the linker took from the new libc.a: the fix as built, which
	# may bring objects the baseline did not have (glibc moved __rseq_offset
	# into a new dl-rseq-symbols.o)
	sed -n '/^Archive member included/,/^\(Allocating common symbols\|Discarded input sections\)/p' \
		"$L/new.map" |
		grep -oE 'libc\.a\([^)]+\)' | sed 's/^libc\.a(\(.*\)\.o)$/\1/' | sort -u >"$L/linked.txt"
	while read -r m; do
		if grep -qxF "$m" "$L/linked.txt" && [ -f "$L/hpd/$m.hpd" ]; then
			hpds+=("$L/hpd/$m.hpd")
		fi
	done < <(sed -n 's/^libc\.a(\([^)]*\)\.o): differs.*/\1/p' "$L/hpdiff.out" | sort -u)
	bench_note "hpdiff: $(tail -1 "$L/hpdiff.out")"
	bench_note "$(wc -l <"$L/linked.txt") libc.a members linked into prog-new; ${#hpds[@]} of them changed or new:"
	printf '%s\n' "${hpds[@]##*/}" | sed 's/\.hpd$//' | paste -sd' ' | fold -s -w 76 | sed 's/^/    /'
	if [ "${#hpds[@]}" = 0 ]; then
		bench_note "nothing linked changed: no package to make"
		return 0
	fi
	pack "$L/prog-old" "$L/pack" "${hpds[@]}"
	if [ "$P_STATUS" != 0 ]; then
		bench_fail "hppack exit $P_STATUS on the libc fix:"
		sed 's/^/    /' "$L/pack/hppack.err" | head -20 >&2
		kv libc.hppack_status "$P_STATUS"
		[ "$P_STATUS" = 1 ] && return 0
		return 1
	fi
	deltas "$L/prog-old" "$L/prog-new" "$L/deltas"
	echo
	header case
	row "libc ${old_ver##*+}->${new_ver##*+}" libc
	bench_note "payload compression: $P_COMP; imports: $("$bindir/hppack" --inspect \
		"$L/pack/unsigned.hpk" --baseline "$L/prog-old" | sed -n 's/^  import *//p' |
		paste -sd, | sed 's/,/, /g')"
	bench_note "(a static program loads no library: a weak import it lacks is null, as at"
	bench_note "link time; hppack refuses a non-weak one)"
	# the time it takes (median of BENCH_RUNS), for the record
	: >"$L/pack.runs"
	for ((r = 1; r <= BENCH_RUNS; r++)); do
		bench_run_once /dev/null "$L/time.err" "$bindir/hppack" --baseline "$L/prog-old" \
			--seq 1 -o "$L/timed.hpk" "${hpds[@]}"
		# same inputs and SOURCE_DATE_EPOCH: the very package measured above
		if [ "$BENCH_STATUS" != 0 ] || ! cmp -s "$L/timed.hpk" "$L/pack/unsigned.hpk"; then
			bench_fail "hppack timed run $r: exit $BENCH_STATUS, or not the same package"
			return 1
		fi
		printf '%s\t%s\n' "$BENCH_WALL_US" "$BENCH_RSS_KB" >>"$L/pack.runs"
	done
	bench_note "hppack on the ${#hpds[@]} .hpd: $(bench_secs "$(bench_median "$L/pack.runs" 1)") s median wall, $(bench_mib "$(bench_median "$L/pack.runs" 2)") MiB peak RSS"
	kv libc.old_version "$old_ver"
	kv libc.new_version "$new_ver"
	kv libc.hpd_files "${#hpds[@]}"
	kv libc.hppack_wall_median_s "$(bench_secs "$(bench_median "$L/pack.runs" 1)")"
	libc_apply "$L" "$old_lib" "$new_lib"
}

# libc_apply DIR OLD_LIB NEW_LIB: the same fix, packed for a program that
# keeps running (hppack-serve.c), applied to it live with hpapply and
# reverted; its answers are compared with the build against the new libc.a.
libc_apply() {
	local L=$1/serve old_lib=$2 new_lib=$3 hpds=() m pid st stopped n ok=no
	mkdir -p "$L"
	if ! gcc -O2 -c "$here/hppack-serve.c" -o "$L/serve.o" 2>"$L/cc.err" ||
		! gcc -static -B"$old_lib/" -L"$old_lib" -Wl,--build-id -o "$L/serve-old" \
			"$L/serve.o" 2>"$L/ld-old.err" ||
		! gcc -static -B"$new_lib/" -L"$new_lib" -Wl,--build-id -Wl,-Map,"$L/new.map" \
			-o "$L/serve-new" "$L/serve.o" 2>"$L/ld-new.err"; then
		bench_fail "cannot build serve-old/serve-new"
		failed=1
		return
	fi
	sed -n '/^Archive member included/,/^\(Allocating common symbols\|Discarded input sections\)/p' \
		"$L/new.map" | grep -oE 'libc\.a\([^)]+\)' | sed 's/^libc\.a(\(.*\)\.o)$/\1/' |
		sort -u >"$L/linked.txt"
	while read -r m; do
		[ -f "$1/hpd/$m.hpd" ] && hpds+=("$1/hpd/$m.hpd")
	done <"$L/linked.txt"
	if [ "${#hpds[@]}" = 0 ]; then
		bench_note "applied live: nothing the serving program links changed"
		return
	fi
	if ! "$bindir/hppack" --baseline "$L/serve-old" --seq 1 -o "$L/fix.hpk" \
		--key "$sect/pki/p256.key" --cert "$sect/pki/p256.pem" \
		--chain "$sect/pki/p256.chain" "${hpds[@]}" 2>"$L/hppack.err"; then
		bench_fail "hppack for the serving program: $(head -1 "$L/hppack.err")"
		failed=1
		return
	fi
	printf 'alpha = 1\nnot a pair\nbeta=22\n' >"$L/input"
	"$L/serve-new" <"$L/input" >"$L/want"
	rm -f "$L/in"
	mkfifo "$L/in"
	"$L/serve-old" <"$L/in" >"$L/got" 2>&1 &
	pid=$!
	exec 8>"$L/in"
	echo "before = 0" >&8
	"$bindir/hpapply" -v "$pid" "$L/fix.hpk" --ca "$sect/pki/root.pem" >"$L/apply.out" 2>&1
	st=$?
	cat "$L/input" >&8
	"$bindir/hpapply" --revert "$pid" >>"$L/apply.out" 2>&1 || st=$((st ? st : 9))
	echo "after = 0" >&8
	exec 8>&-
	wait "$pid"
	n=$(sed -n 's/.*: \([0-9]*\) functions redirected.*/\1/p' "$L/apply.out")
	stopped=$(sed -n 's/^threads stopped for \(.*\) ms$/\1/p' "$L/apply.out")
	if [ "$st" = 0 ] && [ "$(sed -n '2,4p' "$L/got")" = "$(cat "$L/want")" ] &&
		[ "$(sed -n 5p "$L/got")" = "after = 0: after is 0" ]; then
		ok=yes
	fi
	bench_note "applied live to a running static program (hppack-serve.c, ${#hpds[@]} .hpd):"
	bench_note "  ${n:-?} functions redirected, threads stopped ${stopped:-?} ms, answers as the new"
	bench_note "  build: $ok, reverted: $([ "$st" = 0 ] && echo yes || echo no)"
	kv libc.apply_functions "${n:-0}"
	kv libc.apply_ok "$ok"
	if [ "$ok" != yes ]; then
		bench_fail "the libc fix applied live: hpapply exit $st: $(head -3 "$L/apply.out")"
		failed=1
	fi
}
libc_case || failed=1
exit "$failed"
