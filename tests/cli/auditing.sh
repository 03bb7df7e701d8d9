#!/bin/bash
# The auditing recipe of docs/auditing.md, with stock tools only (tar,
# openssl, sha256sum, zstd, readelf, dd), on a good package made by hpdiff
# and hppack and signed by hpsign, and on tampered packages: the good one
# must pass every step, each tampered one must fail one.  hpsign --verify
# must agree on each verdict.
#
# Run by `make check` (test-cli) with HP_BIN (the tools) and HP_SAMPLES
# (the built samples).
set -uo pipefail
export LC_ALL=C OPENSSL_CONF=/dev/null

bin=${HP_BIN:?} samples=${HP_SAMPLES:?}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# ---- the recipe ------------------------------------------------------------------

# file_offset FILE IMAGE_OFFSET SIZE: the file offset of an image offset (step 7)
file_offset() {
	local type o va pa fs rest al base= a
	while read -r type o va pa fs rest; do
		[ "$type" = LOAD ] || continue
		al=${rest##* }
		[ -n "$base" ] || base=$((al > 1 ? va - va % al : va))
		a=$((base + $2))
		if ((a >= va && a + $3 <= va + fs)); then
			echo $((o + a - va))
			return 0
		fi
	done < <(readelf -lW "$1")
	return 1
}

# audit PKG ROOT [TARGET [CRLS]]: 0 when every step of docs/auditing.md passes;
# otherwise says which step failed.
audit() {
	local pkg=$1 root=$2 target=${3:-} crls=${4:-} x expect size trust
	x=$(mktemp -d "$work/audit.XXXXXX")
	# 1. strict listing, and the archive's size
	if ! tar -tvf "$pkg" >"$x/list" 2>"$x/tar.err" || [ -s "$x/tar.err" ]; then
		echo "step 1: tar: $(head -1 "$x/tar.err")"
		return 1
	fi
	if [ "$(awk '{ print substr($1, 1, 1) $6 }' "$x/list" | tr '\n' ' ')" != \
		"-MANIFEST -MANIFEST.sig -payload.zst " ]; then
		echo "step 1: members are not exactly MANIFEST, MANIFEST.sig, payload.zst"
		return 1
	fi
	expect=1024
	for size in $(awk '{ print $3 }' "$x/list"); do
		expect=$((expect + 512 + (size + 511) / 512 * 512))
	done
	if [ "$(stat -c %s "$pkg")" != "$expect" ]; then
		echo "step 1: archive is $(stat -c %s "$pkg") bytes, its members make $expect"
		return 1
	fi
	# 2. extract
	mkdir "$x/pkg" && tar -xf "$pkg" -C "$x/pkg" --no-same-owner || return 1
	cd "$x/pkg" || return 1
	# 3. signature and chain
	trust=$root
	local crl_flags=()
	if [ -n "$crls" ]; then
		cat "$root" "$crls" >trust.pem
		trust=trust.pem
		crl_flags=(-crl_check_all)
	fi
	if ! openssl cms -verify -binary -inform DER -in MANIFEST.sig -content MANIFEST \
		-CAfile "$trust" "${crl_flags[@]}" -purpose any -auth_level 2 \
		-signer signer.pem -out /dev/null 2>cms.err; then
		echo "step 3: openssl cms -verify: $(grep -m1 -i -E 'error|fail' cms.err)"
		cd - >/dev/null
		return 1
	fi
	# 4. the signer may sign code
	openssl x509 -in signer.pem -noout -ext extendedKeyUsage,basicConstraints,keyUsage >ext
	if ! grep -q 'Code Signing' ext || grep -q 'CA:TRUE' ext ||
		{ grep -q 'Key Usage:' ext && ! grep -q 'Digital Signature' ext; }; then
		echo "step 4: signer certificate may not sign code"
		cd - >/dev/null
		return 1
	fi
	audit_manifest "$target"
	local rc=$?
	cd - >/dev/null
	return $rc
}

# Steps 5 to 9, in the extracted package's directory.
audit_manifest() {
	local target=$1 exp off size hash name fo
	field() { sed -n "s/^$1: //p" MANIFEST; }
	# 5. expiry
	exp=$(field expires)
	if [ -n "$exp" ] && [ "$(date -d "$exp" +%s)" -le "$(date +%s)" ]; then
		echo "step 5: package expired at $exp"
		return 1
	fi
	# 6. payload.zst
	if [ "$(stat -c %s payload.zst)" != "$(field payload-size)" ] ||
		[ "$(sha256sum <payload.zst | cut -d' ' -f1)" != "$(field payload-sha256)" ]; then
		echo "step 6: payload.zst is not the one MANIFEST describes"
		return 1
	fi
	# 7. the target
	: >prefix.bin
	if [ -n "$target" ]; then
		if [ "$(sha256sum <"$target" | cut -d' ' -f1)" != "$(field target-sha256)" ] ||
			[ "$(readelf -n "$target" | awk '/Build ID/ { print $3 }')" != \
				"$(field target-build-id)" ] ||
			! readelf -h "$target" | grep -q 'Machine:.*X86-64'; then
			echo "step 7: $target is not the package's target"
			return 1
		fi
		while read -r off size hash name; do
			if ! fo=$(file_offset "$target" "$off" "$size"); then
				echo "step 7: $name is outside the target's file"
				return 1
			fi
			dd if="$target" bs=1M iflag=skip_bytes,count_bytes skip="$fo" count="$size" \
				status=none >f.bin
			if [ "$(sha256sum <f.bin | cut -d' ' -f1)" != "$hash" ]; then
				echo "step 7: baseline bytes of $name differ"
				return 1
			fi
			cat f.bin >>prefix.bin
		done < <(field replace)
	fi
	# 8. decompress
	case $(field payload-compression) in
	zstd) zstd -d -q payload.zst -o payload.raw 2>/dev/null ;;
	zstd+baseline)
		if [ -z "$target" ]; then
			echo "payload content not checked: compressed against the baseline"
			return 0
		fi
		zstd -d -q --patch-from=prefix.bin payload.zst -o payload.raw 2>/dev/null
		;;
	*) false ;;
	esac || {
		echo "step 8: payload.zst does not decompress"
		return 1
	}
	# 9. raw payload
	if [ "$(stat -c %s payload.raw)" != "$(field payload-raw-size)" ] ||
		[ "$(sha256sum <payload.raw | cut -d' ' -f1)" != "$(field payload-raw-sha256)" ]; then
		echo "step 9: the raw payload is not the one MANIFEST describes"
		return 1
	fi
}

# ---- the cases ------------------------------------------------------------------------

# expect good|bad NAME PKG [TARGET [CRLS]]: the recipe's and hpsign's verdicts
expect() {
	local want=$1 name=$2 pkg=$3 target=${4:-} crls=${5:-} said rc hp
	said=$(audit "$pkg" "$pki/root.pem" "$target" "$crls")
	rc=$?
	local args=(--verify "$pkg" --ca "$pki/root.pem")
	[ -n "$target" ] && args+=(--target "$target")
	[ -n "$crls" ] && args+=(--crl "$crls")
	"$bin/hpsign" "${args[@]}" >/dev/null 2>&1
	hp=$?
	if { [ "$want" = good ] && [ $rc = 0 ] && [ $hp = 0 ]; } ||
		{ [ "$want" = bad ] && [ $rc != 0 ] && [ $hp = 1 ]; }; then
		pass=$((pass + 1))
		echo "ok    $name${said:+: $said}"
	else
		fail=$((fail + 1))
		echo "FAIL  $name: expected $want; recipe status $rc ($said), hpsign status $hp"
	fi
}

# made STATUS good|bad NAME PKG [TARGET [CRLS]]: expect, when the package of the
# case was made (STATUS 0); a case whose package could not be made (openssl,
# tar, cp failed) is a failure, not a case silently skipped
made() {
	local st=$1
	shift
	if [ "$st" = 0 ]; then
		expect "$@"
	else
		fail=$((fail + 1))
		echo "FAIL  $2: cannot make the package (status $st)"
	fi
}

# flip PKG OFFSET: xor one byte of a copy
flip() {
	local b
	b=$(dd if="$1" bs=1 skip="$2" count=1 status=none | od -An -tu1 | tr -d ' ')
	printf "$(printf '\\x%02x' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# member_offset PKG NAME: where a member's data starts
member_offset() {
	local at=0 size n
	while read -r size n; do
		at=$((at + 512))
		[ "$n" = "$2" ] && { echo $at; return; }
		at=$((at + (size + 511) / 512 * 512))
	done < <(tar -tvf "$1" | awk '{ print $3, $6 }')
}

# ustar PKG DIR: a package from MANIFEST, MANIFEST.sig, payload.zst with GNU tar
ustar() {
	tar --format=ustar -b 1 --owner=root:0 --group=root:0 --mode=0644 --mtime=@1700000000 \
		-cf "$1" -C "$2" MANIFEST MANIFEST.sig payload.zst
}

pki=$work/pki
bash "$here/../pki/mkpki.sh" "$pki" >/dev/null || exit 2
S=$samples/gcc-O2/body-change
target=$S/old

# a real package: hpdiff, hppack, hpsign
"$bin/hpdiff" "$S/old.o" "$S/new.o" -o "$work/fix.hpd" >/dev/null
[ $? = 1 ] || { echo "hpdiff failed"; exit 2; }
"$bin/hppack" --baseline "$target" --seq 1 -o "$work/good.hpk" "$work/fix.hpd" || exit 2
"$bin/hpsign" --sign "$work/good.hpk" --key "$pki/p256.key" --cert "$pki/p256.pem" \
	--chain "$pki/p256.chain" || exit 2
# and a plain zstd one from the format library
"$bin/../tests/mkhpk" -o "$work/plain.hpk" || exit 2
"$bin/hpsign" --sign "$work/plain.hpk" --key "$pki/rsa2048.key" --cert "$pki/rsa2048.pem" \
	--chain "$pki/rsa2048.chain" || exit 2

expect good "hppack package, with its target" "$work/good.hpk" "$target"
expect good "hppack package, without the target" "$work/good.hpk"
expect good "with the CRLs" "$work/good.hpk" "$target" "$pki/crls.pem"
expect good "plain zstd package" "$work/plain.hpk"

bad=$work/bad.hpk
cp "$work/good.hpk" "$bad" && flip "$bad" $(($(member_offset "$bad" payload.zst) + 10))
made $? bad "payload byte flipped" "$bad" "$target"
cp "$work/good.hpk" "$bad" && flip "$bad" $(($(member_offset "$bad" MANIFEST) + 30))
made $? bad "manifest byte flipped" "$bad" "$target"
cp "$work/good.hpk" "$bad" && flip "$bad" $(($(member_offset "$bad" MANIFEST.sig) + 200))
made $? bad "signature byte flipped" "$bad" "$target"
cp "$work/good.hpk" "$bad" && head -c 512 /dev/zero >>"$bad"
made $? bad "bytes after the archive" "$bad" "$target"
cp "$work/good.hpk" "$bad" && echo extra >"$work/extra" &&
	tar --format=ustar -b 1 -rf "$bad" -C "$work" extra
made $? bad "an extra member" "$bad" "$target"
expect bad "another target" "$work/good.hpk" "$samples/gcc-O2/switch-jumptable/old"
cp "$target" "$work/forged" && printf x | dd of="$work/forged" bs=1 \
	seek=$(($(stat -c %s "$target") - 1)) conv=notrunc status=none
made $? bad "same build-id, other bytes" "$work/good.hpk" "$work/forged"

# re-signed by hand with stock openssl and tar: what hpsign refuses to sign with
mkdir -p "$work/m" && tar -xf "$work/good.hpk" -C "$work/m"
resign() { # resign LEAF [CERTFILE]: a copy of good.hpk signed by LEAF
	local chain=()
	[ -s "$pki/$1.chain" ] && chain=(-certfile "$pki/$1.chain")
	openssl cms -sign -binary -outform DER -nosmimecap -in "$work/m/MANIFEST" \
		-signer "$pki/$1.pem" -inkey "$pki/$1.key" "${chain[@]}" \
		-out "$work/m/MANIFEST.sig" && ustar "$bad" "$work/m"
}
resign p384
made $? good "signed with stock openssl (P-384)" "$bad" "$target"
resign noeku
made $? bad "leaf without codeSigning" "$bad" "$target"
resign caleaf
made $? bad "leaf with CA:TRUE" "$bad" "$target"
resign untrusted
made $? bad "leaf of an untrusted root" "$bad" "$target"
resign self
made $? bad "self-signed leaf" "$bad" "$target"
resign expired
made $? bad "expired leaf" "$bad" "$target"
resign rsa1024
made $? bad "RSA-1024 leaf" "$bad" "$target"
resign revoked
made $? bad "revoked leaf (CRLs)" "$bad" "$target" "$pki/crls.pem"
resign underrevoked
made $? bad "revoked intermediate (CRLs)" "$bad" "$target" "$pki/crls.pem"

# an expired package (MANIFEST expires)
"$bin/../tests/mkhpk" -o "$work/old.hpk" --expires 2024-01-01T00:00:00Z &&
	"$bin/hpsign" --sign "$work/old.hpk" --key "$pki/p256.key" --cert "$pki/p256.pem" \
		--chain "$pki/p256.chain" || exit 2
expect bad "expired package" "$work/old.hpk"

echo "auditing recipe: $pass passed, $fail failed"
[ "$fail" = 0 ]
