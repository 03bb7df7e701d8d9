#!/bin/bash
# Benchmark section: hpsign --verify on a package with a large payload,
# next to sha256sum (and openssl dgst -sha256) of the same payload.zst.
#
#   bash bench/hpsign.sh BINDIR WORKDIR
#
# The package is made by tests/tools/mkhpk (built with the tools, at
# BINDIR/../tests/mkhpk): a valid payload whose read-only data item is
# BENCH_HPSIGN_MB MiB (default 32) of random bytes, so payload.zst is as
# large; signed with an ECDSA P-256 key of a throwaway PKI
# (tests/pki/mkpki.sh).  hpsign --verify reads the package, checks the
# container, the signature and the chain, hashes payload.zst, decompresses
# it, hashes the raw payload and decodes it: two SHA-256 passes over the
# payload where sha256sum makes one.
#
# Target (from the issue; informational): at least 1 GB/s of payload.
# Writes WORKDIR/hpsign-bench.tsv; raw runs under WORKDIR/hpsign/.
# Exit status: 0 ran, 1 a tool failed.

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
mb=${BENCH_HPSIGN_MB:-32}
hpsign=$bindir/hpsign
mkhpk=$bindir/../tests/mkhpk
sect=$work/hpsign
tsv=$work/hpsign-bench.tsv

echo "== hpsign: verifying a package with $mb MiB of payload =="
for t in "$hpsign" "$mkhpk"; do
	if [ ! -x "$t" ]; then
		bench_fail "$t not found or not executable (build it first: make)"
		exit 1
	fi
done
for t in "$BENCH_GNU_TIME" sha256sum openssl tar; do
	if ! command -v "$t" >/dev/null 2>&1; then
		bench_fail "$t is missing (make deps)"
		exit 1
	fi
done
rm -rf "$sect" "$tsv"
mkdir -p "$sect" || exit 1

# ---- inputs ----------------------------------------------------------------------

if ! bash "$here/../tests/pki/mkpki.sh" "$sect/pki" >/dev/null; then
	bench_fail "cannot make the test PKI (tests/pki/mkpki.sh)"
	exit 1
fi
pkg=$sect/big.hpk
if ! "$mkhpk" -o "$pkg" --random-mb "$mb" ||
	! "$hpsign" --sign "$pkg" --key "$sect/pki/p256.key" --cert "$sect/pki/p256.pem" \
		--chain "$sect/pki/p256.chain"; then
	bench_fail "cannot make the package"
	exit 1
fi
tar -xOf "$pkg" payload.zst >"$sect/payload.zst" || exit 1
zst_bytes=$(stat -c %s "$sect/payload.zst")
pkg_bytes=$(stat -c %s "$pkg")
bench_note "package: $pkg_bytes bytes, payload.zst $zst_bytes bytes ($(bench_mib $((zst_bytes / 1024))) MiB)"

# ---- the commands ------------------------------------------------------------------

tools=(verify sha256sum openssl)
declare -A label=(
	[verify]="hpsign --verify"
	[sha256sum]="sha256sum payload.zst"
	[openssl]="openssl dgst -sha256 payload.zst"
)
run_tool() {
	case $1 in
	verify)
		bench_run_once "$sect/verify.out" "$sect/verify.err" \
			"$hpsign" --verify "$pkg" --ca "$sect/pki/root.pem" ;;
	sha256sum)
		bench_run_once "$sect/sha256sum.out" "$sect/sha256sum.err" sha256sum "$sect/payload.zst" ;;
	openssl)
		bench_run_once "$sect/openssl.out" "$sect/openssl.err" \
			env OPENSSL_CONF=/dev/null openssl dgst -sha256 "$sect/payload.zst" ;;
	esac
}

failed=0
declare -A broken
for t in "${tools[@]}"; do
	run_tool "$t"
	if [ "$BENCH_STATUS" != 0 ]; then
		bench_fail "${label[$t]} failed (exit status $BENCH_STATUS): $(head -1 "$sect/$t.err")"
		broken[$t]=1
		failed=1
	fi
	: >"$sect/$t.runs"
done
for ((r = 1; r <= BENCH_RUNS; r++)); do
	for t in "${tools[@]}"; do
		[ -n "${broken[$t]:-}" ] && continue
		run_tool "$t"
		printf '%s\t%s\t%s\n' "$BENCH_WALL_US" "$BENCH_RSS_KB" "$BENCH_STATUS" >>"$sect/$t.runs"
	done
done

# ---- results -----------------------------------------------------------------------

kv() { printf '%s\t%s\n' "$1" "$2" >>"$tsv"; }
kv section hpsign
kv date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kv runs "$BENCH_RUNS"
kv payload_zst_bytes "$zst_bytes"
kv package_bytes "$pkg_bytes"

echo
printf '  %-34s %12s %21s %11s %10s %10s\n' "command" "median wall" "(min .. max)" "peak RSS" \
	"payload" "best run"
printf '  %-34s %12s %21s %11s %10s %10s\n' "----------------------------------" "-----------" \
	"---------------------" "----------" "---------" "---------"
declare -A mbps best
for t in "${tools[@]}"; do
	if [ -n "${broken[$t]:-}" ]; then
		printf '  %-34s %12s\n' "${label[$t]}" ERROR
		continue
	fi
	wall=$(bench_median "$sect/$t.runs" 1)
	lo=$(bench_min "$sect/$t.runs" 1)
	hi=$(bench_max "$sect/$t.runs" 1)
	rss=$(bench_median "$sect/$t.runs" 2)
	mbps[$t]=$(bench_awk 'printf "%.0f", b / us' "b=$zst_bytes" "us=$wall")
	best[$t]=$(bench_awk 'printf "%.0f", b / us' "b=$zst_bytes" "us=$lo")
	printf '  %-34s %10s s %21s %7s MiB %5s MB/s %5s MB/s\n' "${label[$t]}" \
		"$(bench_secs "$wall")" "($(bench_secs "$lo") .. $(bench_secs "$hi"))" \
		"$(bench_mib "$rss")" "${mbps[$t]}" "${best[$t]}"
	kv "$t.wall_median_s" "$(bench_secs "$wall")"
	kv "$t.maxrss_median_kb" "$rss"
	kv "$t.payload_mb_per_s" "${mbps[$t]}"
	kv "$t.payload_mb_per_s_best" "${best[$t]}"
done
bench_note "(MB/s: payload.zst bytes / median, and / fastest, wall time; process start"
bench_note " included.  On a busy machine the fastest run is the better estimate.)"
echo
if [ -n "${mbps[verify]:-}" ]; then
	if [ "${mbps[verify]}" -ge 1000 ]; then verdict=PASS; else verdict=MISS; fi
	printf '  %-44s %9s  %s\n' "target: hpsign --verify >= 1000 MB/s" "${mbps[verify]}" "$verdict"
	kv target.verify_mbps.result "$verdict"
	if [ -n "${mbps[sha256sum]:-}" ]; then
		printf '  %-44s %9s\n' "hpsign --verify / sha256sum (speed)" \
			"$(bench_awk 'printf "%.2fx", a / b' "a=${mbps[verify]}" "b=${mbps[sha256sum]}")"
	fi
	if [ -n "${mbps[openssl]:-}" ]; then
		printf '  %-44s %9s\n' "hpsign --verify / openssl dgst (speed)" \
			"$(bench_awk 'printf "%.2fx", a / b' "a=${mbps[verify]}" "b=${mbps[openssl]}")"
	fi
	bench_note "hpsign hashes the payload twice (payload.zst, then the raw payload),"
	bench_note "so its bound is about half of openssl dgst's speed."
fi
exit "$failed"
