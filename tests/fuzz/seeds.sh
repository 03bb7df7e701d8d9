#!/bin/bash
# Seed a fuzz target's corpus from the built samples (once; libFuzzer adds
# what it finds).  usage: seeds.sh TARGET CORPUS_DIR SAMPLE_DIR BIN_DIR
set -euo pipefail
target=$1 corpus=$2 samples=$3 bin=$4
mkdir -p "$corpus"
# Inputs that once crashed a target are replayed on every run.
regress=$(dirname "$0")/regress/$target
if [ -d "$regress" ]; then
	cp -n "$regress"/* "$corpus"/ 2>/dev/null || true
fi
[ -n "$(ls "$corpus" | grep -v -F "$(ls "$regress" 2>/dev/null)" || true)" ] && exit 0
variants="gcc-O2 gcc-O2-fs clang-O2 gcc-O0 gcc-O2-nopie clang-O2-pic"
case $target in
fuzz_object)
	for v in $variants; do
		for s in "$samples/$v"/*/; do
			cp "$s/old.o" "$corpus/$v-$(basename "$s").o"
		done
	done ;;
fuzz_image)
	# linked programs: PIE, non-PIE, and built with -fPIC
	for v in gcc-O2 gcc-O2-nopie clang-O2-pic; do
		cp "$samples/$v/body-change/old" "$corpus/$v-body-change"
	done ;;
fuzz_archive)
	for v in gcc-O2 clang-O2; do
		ar rcS "$corpus/$v.a" "$samples/$v"/{body-change,switch-jumptable,tls-errno}/old.o
		# thin, and with two members of one name
		ar rcST "$corpus/$v-thin.a" "$samples/$v"/{body-change,switch-jumptable}/old.o
		ar rcS "$corpus/$v-dup.a" "$samples/$v"/{body-change,switch-jumptable}/old.o
	done ;;
fuzz_hpd)
	for v in gcc-O2 clang-O2-pic; do
		for s in "$samples/$v"/*/; do
			"$bin/hpdiff" -o "$corpus/$v-$(basename "$s").hpd" "$s/old.o" "$s/new.o" \
				>/dev/null || [ $? -le 3 ]
		done
	done ;;
fuzz_container | fuzz_manifest | fuzz_payload)
	# packages made with the format library (tests/tools/mkhpk), one signed
	gen=$bin/../tests/mkhpk
	t=$samples/gcc-O2/body-change/old
	work=$(mktemp -d)
	"$gen" -o "$work/plain.hpk" --manifest "$work/plain.manifest" --raw "$work/plain.raw"
	"$gen" -o "$work/bound.hpk" --target "$t" --func latwin_sum --func latwin_avg \
		--baseline-compression --expires 2030-01-01T00:00:00Z \
		--manifest "$work/bound.manifest" --raw "$work/bound.raw"
	bash "$(dirname "$0")/../pki/mkpki.sh" "$work/pki" >/dev/null
	cp "$work/bound.hpk" "$work/signed.hpk"
	"$bin/hpsign" --sign "$work/signed.hpk" --key "$work/pki/p256.key" \
		--cert "$work/pki/p256.pem" --chain "$work/pki/p256.chain"
	case $target in
	fuzz_container) cp "$work"/*.hpk "$corpus"/ ;;
	fuzz_manifest) cp "$work"/*.manifest "$corpus"/ ;;
	fuzz_payload)
		cp "$work"/*.raw "$corpus"/
		# a payload.zst followed by its raw size (u24 little-endian), as the target reads it
		tar -xOf "$work/plain.hpk" payload.zst >"$work/plain.zst"
		n=$(stat -c %s "$work/plain.raw")
		printf "$(printf '\\x%02x\\x%02x\\x%02x' $((n & 255)) $((n >> 8 & 255)) $((n >> 16)))" \
			>>"$work/plain.zst"
		cp "$work/plain.zst" "$corpus"/ ;;
	esac
	rm -rf "$work" ;;
fuzz_verify)
	# signed by the PKI the target trusts (corpus/fuzz_verify.pki, kept across runs)
	pki=$(dirname "$corpus")/fuzz_verify.pki
	[ -s "$pki/root.pem" ] || bash "$(dirname "$0")/../pki/mkpki.sh" "$pki" >/dev/null
	work=$(mktemp -d)
	"$bin/../tests/mkhpk" -o "$work/plain.hpk"
	"$bin/../tests/mkhpk" -o "$work/bound.hpk" --target "$samples/gcc-O2/body-change/old" \
		--func latwin_sum --baseline-compression
	for leaf in p256 rsa2048; do
		"$bin/hpsign" --sign "$work/plain.hpk" -o "$corpus/plain-$leaf.hpk" \
			--key "$pki/$leaf.key" --cert "$pki/$leaf.pem" --chain "$pki/$leaf.chain"
	done
	"$bin/hpsign" --sign "$work/bound.hpk" -o "$corpus/bound-p384.hpk" \
		--key "$pki/p384.key" --cert "$pki/p384.pem" --chain "$pki/p384.chain"
	rm -rf "$work" ;;
fuzz_state)
	# hpapply state records (hpapply/state.c): little-endian fields, as hex here
	le() { # le BYTES VALUE: VALUE as BYTES little-endian bytes
		local i v=$2
		for ((i = 0; i < $1; i++)); do printf '%02x' $((v & 255)); v=$((v >> 8)); done
	}
	str() { printf '%s' "$(le 4 ${#1})"; printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
	record() { # record NAME COMMITTED BODY-HEX [VERSION]: header, body, zeros to a page
		local body=$3 n
		n=$((16 + ${#body} / 2))
		{ printf '4850535441544500%02x%02x0000%s%s' "$2" "${4:-1}" "$(le 4 $n)" "$body"
		  printf '%0*d' $(((4096 - n % 4096) % 4096 * 2)) 0; } | xxd -r -p >"$corpus/$1"
	}
	# generation, floor, sequence, min-sequence, time
	hdr() { printf '%s' "$(le 8 $1)$(le 8 $2)$(le 8 $3)$(le 8 $4)$(le 8 1700000000)"; }
	none=$(le 4 0)
	# after a revert: nothing applied, the floor kept; package id, signer,
	# manifest, build-id empty; image base 0; no redirects, no regions;
	# the reserved count last
	record reverted 1 "$(hdr 3 2 0 0)$(str '')$(str '')$(str '')$none$(le 8 0)$none$none$none"
	# one package applied: a 20-byte build-id, one redirect (addr, len,
	# saved[16], written[16], function, size, name), one region
	redirect="$(le 8 0x555555555130)05$(printf '%032x' 0)e9fb0f0000$(printf '%022x' 0)"
	redirect+="$(le 8 0x55555555512c)$(le 8 64)$(str score)"
	body="$(hdr 2 2 2 1)$(str busy-2)$(str 'O=test,CN=p256')$(str '{"a":1}')"
	body+="$(le 4 20)$(printf '%040x' 0x1234)$(le 8 0x555555554000)$(le 4 1)$redirect"
	body+="$(le 4 1)$(le 8 0x555555600000)$(le 8 8192)$none"
	record applied 1 "$body"
	# version 2: the same package applied to two instances of the library
	# (base, device, inode each), each redirect naming its instance
	body="$(hdr 2 2 2 1)$(str busy-2)$(str 'O=test,CN=p256')$(str '{"a":1}')"
	body+="$(le 4 20)$(printf '%040x' 0x1234)$(le 4 2)"
	body+="$(le 8 0x7f0000000000)$(le 8 0xfe00)$(le 8 4242)"
	body+="$(le 8 0x7f1000000000)$(le 8 0xfe00)$(le 8 4243)$(le 4 2)"
	body+="${redirect}$(le 4 0)${redirect}$(le 4 1)"
	body+="$(le 4 2)$(le 8 0x7f0000100000)$(le 8 4096)$(le 8 0x7f1000100000)$(le 8 4096)$none"
	record applied-v2 1 "$body" 2
	# not committed yet (left by an interrupted run)
	body="$(hdr 4 2 2 1)$(str busy-2)$(str s)$(str m)$none$(le 8 0)$none$none$none"
	record pending 0 "$body" ;;
*)
	echo "seeds.sh: no seeds for $target" >&2 ;;
esac
