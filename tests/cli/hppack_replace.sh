#!/bin/bash
# What hppack replaces, on real gcc, g++ and clang++ builds, patched into running
# processes:
#  1. a function shorter than the redirect jump (4 bytes, or 8 after
#     endbr64): replaced when the padding after it can take the jump (its
#     MANIFEST size covers those bytes), refused by hppack, naming it, when
#     the next function follows at once;
#  2. a C++ inline function of a header fixed in two objects (COMDAT): one
#     replacement, with one copy of its new helper and of its new static
#     local; refused, naming both objects, when the two replacements differ.
# Each live check compares the process's answers before, after applying and
# after reverting with those of the baseline, the fixed build and the
# baseline again, fed the same input.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin replace

# live() and pack() come from lib.sh.

# build DIR CC FLAGS: compile every DIR/*/SRC into DIR/*.o (one object per variant).
build() {
	local dir=$1 cc=$2 flags=$3 v f
	for v in "$dir"/*/; do
		for f in "$v"*.c "$v"*.cc; do
			[ -e "$f" ] || continue
			(cd "$v" && $cc $flags -c "$(basename "$f")") ||
				{ bad "cannot build $f"; exit 1; }
		done
	done
}

# ---- 1. shorter than the redirect ------------------------------------------------------
cat >"$work/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int calc(int x);
int other(int x);
int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin))
		printf("%d %d\n", calc(atoi(line)), other(atoi(line)));
	return 0;
}
C
for variant in "plain:-O2" "endbr:-O2 -fcf-protection=full" "packed:-O2 -falign-functions=1"; do
	name=${variant%%:*} flags=${variant#*:}
	d=$work/short-$name
	mkdir -p "$d/old" "$d/new"
	printf 'int calc(int x) { return x + 1; }\nint other(int x) { return x * 5; }\n' >"$d/old/a.c"
	printf 'int calc(int x) { return x + 2; }\nint other(int x) { return x * 5; }\n' >"$d/new/a.c"
	build "$d" gcc "$flags"
	gcc $flags "$work/main.c" "$d/old/a.o" -o "$d/prog" &&
		gcc $flags "$work/main.c" "$d/new/a.o" -o "$d/fixed" || { bad "cannot link"; exit 1; }
	size=$((16#$(nm -S "$d/prog" | awk '$4 == "calc" { print $2 }')))
	"$bin/hpdiff" "$d/old/a.o" "$d/new/a.o" -o "$d/a.hpd" >/dev/null
	pack "short-$name" "$d/prog" "$d/a.hpd"
	st=$?
	if [ "$name" = packed ]; then
		if [ $st = 1 ] && [ ! -e "$work/short-$name.hpk" ] &&
			grep -q "a.hpd: calc is $size bytes in .*prog, too short for the redirect" \
				"$work/short-$name.err"; then
			ok "short-$name: calc ($size bytes, no padding after it) is refused by hppack"
		else
			bad "short-$name: exit $st: $(cat "$work/short-$name.err")"
		fi
		continue
	fi
	if [ $st != 0 ]; then
		bad "short-$name: hppack: $(cat "$work/short-$name.err")"
		continue
	fi
	want=$((size < 5 ? 5 : 9))
	if [ "$size" -lt "$want" ] &&
		"$bin/hppack" --inspect "$work/short-$name.hpk" --baseline "$d/prog" |
		grep -q "replaces *calc at baseline+0x[0-9a-f]*, $want bytes"; then
		ok "short-$name: calc ($size bytes) replaced with the $((want - size)) padding bytes after it"
	else
		bad "short-$name: calc is $size bytes: $("$bin/hppack" --inspect "$work/short-$name.hpk")"
	fi
	live "short-$name" "$d/prog" "$d/fixed" "$work/short-$name.hpk" "$(printf '5\n-3')"
done

# ---- 2. a header inline function fixed in two objects ---------------------------------------
for cxx in g++ clang++; do
	d=$work/comdat-$cxx
	mkdir -p "$d/old" "$d/new" "$d/split"
	cat >"$d/old/h.h" <<-'C'
	#include <cstring>
	__attribute__((noinline)) inline const char *word(int x) { return x > 5 ? "big" : "small"; }
	C
	cat >"$d/new/h.h" <<-'C'
	#include <cstring>
	__attribute__((noinline)) inline int bump(int x) { return x * 3; }
	__attribute__((noinline)) inline const char *word(int x)
	{
		static int calls;

		return bump(x) + ++calls > 30 ? "large" : "tiny!!";
	}
	C
	cp "$d/new/h.h" "$d/split/h.h"
	for v in old new split; do
		printf '#include "h.h"\nint fa(int x) { return (int)std::strlen(word(x)) + 1; }\n' \
			>"$d/$v/a.cc"
		printf '#include "h.h"\nint fb(int x) { return (int)std::strlen(word(x * 2)) + 2; }\n' \
			>"$d/$v/b.cc"
	done
	# split: b.cc compiled with another version of the header
	sed -i 's/> 30/> 40/' "$d/split/h.h"
	cp "$d/new/a.cc" "$d/split/a.cc"
	sed -i 's/#include "h.h"/#include "..\/new\/h.h"/' "$d/split/a.cc"
	cat >"$d/main.cc" <<-'C'
	#include <cstdio>
	#include <cstdlib>
	int fa(int);
	int fb(int);
	int main()
	{
		char line[64];

		std::setvbuf(stdout, nullptr, _IOLBF, 0);
		while (std::fgets(line, sizeof line, stdin))
			std::printf("%d %d\n", fa(std::atoi(line)), fb(std::atoi(line)));
	}
	C
	build "$d" $cxx "-O2 -fPIE"
	$cxx -O2 -pie "$d/main.cc" "$d/old/a.o" "$d/old/b.o" -o "$d/prog" &&
		$cxx -O2 -pie "$d/main.cc" "$d/new/a.o" "$d/new/b.o" -o "$d/fixed" ||
		{ bad "cannot link"; exit 1; }
	"$bin/hpdiff" "$d/old" "$d/new" -o "$d/hpd" >/dev/null
	# word calls bump: until packages carry unwind information (issue 9,
	# item 3), a changed C++ function that calls anything is not
	# hotpatchable, so both the same and the different replacements are
	# refused for that reason, before the replacements are compared.
	for v in hpd split-hpd; do
		fixed=$d/new
		[ "$v" = split-hpd ] && fixed=$d/split
		"$bin/hpdiff" "$d/old" "$fixed" -o "$d/$v" >/dev/null 2>&1
		pack $v-$cxx "$d/prog" "$d/$v/a.hpd" "$d/$v/b.hpd"
		st=$?
		if [ $st = 1 ] && [ ! -e "$work/$v-$cxx.hpk" ] && grep -q \
			"_Z4wordi: not hotpatchable: .*an exception can pass through its calls" \
			"$work/$v-$cxx.err"; then
			ok "comdat-$cxx ($v): refused until packages carry unwind information"
		else
			bad "comdat-$cxx ($v): exit $st: $(cat "$work/$v-$cxx.err")"
		fi
	done
done
exit $fail
