#!/bin/bash
# C++ exceptions and patched code (issue 9, item 3).  A package does not
# carry unwind information yet, so in a patched process the unwinder finds
# no FDE for a frame of new code and an exception through it ends in
# std::terminate().  With g++ and clang++, with and without function
# sections:
#  1. a fix to functions that catch, clean up, or let an exception pass
#     through (they call something) is not hotpatchable: hpdiff exits 3
#     naming each such function and why, and hppack refuses its .hpd;
#     when .eh_frame does not parse, every function that calls is refused;
#  2. a fix to a C++ function that calls nothing is packed and applied to a
#     live process that throws and catches through unchanged code: it then
#     answers as the fixed build, and as the baseline after revert.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin exceptions
sign=(--key "$pki/p256.key" --cert "$pki/p256.pem" --chain "$pki/p256.chain")
input=$(printf '%s\n' 7 60 120)

for cxx in g++ clang++; do
	for flags in "-O2 -fPIE" "-O1 -fPIE -ffunction-sections"; do
		v="$cxx $flags"
		d=$work/$cxx${flags// /}
		for fix in 0 1 2; do
			mkdir -p "$d/v$fix"
			cp "$here/progs/exc.cpp" "$d/v$fix/exc.cpp"
			(cd "$d/v$fix" && $cxx $flags -DFIX=$fix -c exc.cpp -o exc.o) ||
				{ bad "$v: cannot compile"; continue 2; }
		done
		$cxx $flags -c "$here/progs/excmain.cpp" -o "$d/main.o" &&
			for fix in 0 1 2; do $cxx -pie "$d/main.o" "$d/v$fix/exc.o" -o "$d/v$fix/prog" || exit 1; done ||
			{ bad "$v: cannot link"; continue; }

		# --- 1. functions exceptions need unwind information for -------
		"$bin/hpdiff" -o "$d/1.hpd" "$d/v0/exc.o" "$d/v1/exc.o" >"$d/1.out" 2>&1
		st=$?
		if [ $st = 3 ] &&
			grep -Eq '^  func changed  _Z7guardedi(\.cold)?: NOT HOTPATCHABLE: .*it handles exceptions \(it has an LSDA in \.gcc_except_table\) and a package cannot carry the unwind information its new code needs$' "$d/1.out" &&
			grep -q '^  func changed  _Z4passi: NOT HOTPATCHABLE: .*an exception can pass through its calls and a package cannot carry the unwind information its new code needs$' "$d/1.out"; then
			ok "$v: a fix where exceptions pass or are caught is not hotpatchable, with the reason"
		else
			bad "$v: hpdiff exit $st (want 3): $(cat "$d/1.out")"
		fi
		if "$bin/hppack" --baseline "$d/v0/prog" --seq 1 -o "$d/1.hpk" "${sign[@]}" "$d/1.hpd" \
			>/dev/null 2>"$d/1.err" || [ -e "$d/1.hpk" ]; then
			bad "$v: hppack packed a fix it cannot carry unwind information for"
		else
			ok "$v: hppack refuses it ($(head -1 "$d/1.err"))"
		fi

		# --- 1b. call frame information that does not parse ---------------
		# The CIE's version byte (8 bytes into .eh_frame) made 9.
		at=$(objdump -h "$d/v1/exc.o" | awk '$2 == ".eh_frame" { print $6 }')
		cp "$d/v1/exc.o" "$d/bad.o"
		if [ -n "$at" ] && printf '\x09' | dd of="$d/bad.o" bs=1 seek=$((0x$at + 8)) \
			conv=notrunc status=none; then
			"$bin/hpdiff" "$d/v0/exc.o" "$d/bad.o" >"$d/bad.out" 2>&1
			st=$?
			if [ $st = 3 ] && grep -q "^  func changed  _Z4passi: NOT HOTPATCHABLE: .*; the object's unwind information (.eh_frame) cannot be read, so whether an exception can pass through the new code is unknown$" "$d/bad.out"; then
				ok "$v: unreadable .eh_frame: functions that call are refused"
			else
				bad "$v: unreadable .eh_frame: hpdiff exit $st: $(cat "$d/bad.out")"
			fi
		else
			bad "$v: setup: no .eh_frame in exc.o"
		fi

		# --- 2. a C++ function that calls nothing --------------------------
		"$bin/hpdiff" -o "$d/2.hpd" "$d/v0/exc.o" "$d/v2/exc.o" >"$d/2.out" 2>&1
		st=$?
		if [ $st != 1 ] || grep -q 'NOT HOTPATCHABLE' "$d/2.out"; then
			bad "$v: a leaf fix: hpdiff exit $st (want 1): $(cat "$d/2.out")"
			continue
		fi
		if ! "$bin/hppack" --baseline "$d/v0/prog" --seq 1 -o "$d/2.hpk" "${sign[@]}" \
			"$d/2.hpd" >/dev/null 2>"$d/2.err"; then
			bad "$v: a leaf fix: hppack: $(cat "$d/2.err")"
			continue
		fi
		want0=$(echo "$input" | "$d/v0/prog") want2=$(echo "$input" | "$d/v2/prog")
		[ "$want0" != "$want2" ] || { bad "$v: setup: the fix changes nothing"; continue; }
		rm -f "$d/in"
		mkfifo "$d/in"
		"$d/v0/prog" <"$d/in" >"$d/out" 2>&1 &
		pid=$!
		pids+=($pid)
		exec 9>"$d/in"
		echo "$input" >&9
		wait_lines "$d/out" 3 || bad "$v: the program did not answer"
		"$bin/hpapply" "$pid" "$d/2.hpk" --ca "$pki/root.pem" >"$d/apply.log" 2>&1
		ast=$?
		echo "$input" >&9
		wait_lines "$d/out" 6
		"$bin/hpapply" --revert "$pid" >"$d/revert.log" 2>&1
		rst=$?
		echo "$input" >&9
		wait_lines "$d/out" 9
		exec 9>&-
		wait "$pid" 2>/dev/null
		if [ $ast = 0 ] && [ "$(sed -n 1,3p "$d/out")" = "$want0" ] &&
			[ "$(sed -n 4,6p "$d/out")" = "$want2" ]; then
			ok "$v: a leaf fix applied: throwing and catching through unchanged code, answers as the fixed build"
		else
			bad "$v: a leaf fix: hpapply exit $ast: $(cat "$d/apply.log"); got: $(cat "$d/out")"
		fi
		if [ $rst = 0 ] && [ "$(sed -n 7,9p "$d/out")" = "$want0" ]; then
			ok "$v: reverted: answers as the baseline"
		else
			bad "$v: revert exit $rst: $(cat "$d/revert.log"); got: $(sed -n 7,9p "$d/out")"
		fi
	done
done
exit $fail
