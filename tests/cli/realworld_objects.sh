#!/bin/bash
# Real-world object pairs (tests/realworld/NAME/): objects taken from the
# Debian builds `make realworld` makes (tests/realworld/README.md says which
# and with which flags), compressed with xz.  hpdiff on each pair must say
# what NAME/expect records it says today:
#   exit N                       hpdiff's exit status
#   func|data NAME STATUS...     each line hpdiff reports for a function or
#                                datum (its first three words), the set of
#                                them exactly
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hp-realworld-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
n=0
for d in "$here"/../realworld/*/; do
	[ -f "$d/expect" ] || continue
	name=$(basename "$d")
	n=$((n + 1))
	mkdir -p "$work/$name/old" "$work/$name/new"
	obj=$(cat "$d/object")
	if ! xz -dc "$d/old.o.xz" >"$work/$name/old/$obj" || ! xz -dc "$d/new.o.xz" >"$work/$name/new/$obj"; then
		echo "FAIL  $name: cannot decompress the objects (xz-utils)"
		fail=1
		continue
	fi
	rc=0
	(cd "$work/$name" && timeout 120 "$bin/hpdiff" "old/$obj" "new/$obj") >"$work/$name.out" 2>&1 || rc=$?
	awk '$1 == "func" || $1 == "data" { print $1, $2, $3 }' "$work/$name.out" | sort >"$work/$name.got"
	grep -E '^(func|data) ' "$d/expect" | sort >"$work/$name.want"
	want_rc=$(awk '$1 == "exit" { print $2 }' "$d/expect")
	if [ "$rc" != "$want_rc" ]; then
		echo "FAIL  $name: hpdiff exit $rc, expected $want_rc"
		sed 's/^/      /' "$work/$name.out" | head -20
		fail=1
	elif ! diff -u "$work/$name.want" "$work/$name.got" >"$work/$name.diff"; then
		echo "FAIL  $name: hpdiff reports other functions than recorded"
		sed 's/^/      /' "$work/$name.diff"
		fail=1
	else
		echo "ok    $name: hpdiff exit $rc, $(wc -l <"$work/$name.got") functions/data as recorded"
	fi
done
if [ "$n" = 0 ]; then
	echo "FAIL  no tests/realworld/*/expect found"
	fail=1
fi
exit $fail
