#!/bin/bash
# Link-time optimisation, built by the real compilers.
#  1. LTO intermediate objects hold no machine code: gcc -flto (GIMPLE only),
#     clang -flto and -flto=thin (bitcode), an ELF object holding only
#     bitcode, a gcc-ar library of slim objects.  hpdiff never says "no
#     change" for them: exit 2, the file named, the reason and what to do,
#     nothing on stdout, no .hpd.
#  2. Fat LTO objects (-ffat-lto-objects) are compared by their machine code
#     (exit 1) and the .hpd is marked (--inspect, --json).  clang's
#     -fembed-bitcode is an ordinary object.
#  3. hppack refuses a baseline linked with LTO (GNU ld, gold, clang with
#     lld), saying LTO is why, and writes no package; the same objects linked
#     with -fno-lto pack.  A fat LTO .hpd against a baseline without the
#     object's source file says why too.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin lto

want_lto="LTO intermediate object: build without -flto, or with -ffat-lto-objects"
mkdir -p "$work/old" "$work/new" "$work/out"
cat >"$work/old/a.c" <<'C'
static int counter;
__attribute__((noinline)) int helper(int x) { counter++; return x * 2; }
int f(int x) { return helper(x) + counter; }
C
sed 's/x \* 2/x * 3/' "$work/old/a.c" >"$work/new/a.c"
cat >"$work/old/m.c" <<'C'
#include <stdio.h>
int f(int);
int main(int c, char **v) { (void)v; printf("%d\n", f(c)); return 0; }
C
cp "$work/old/m.c" "$work/new/m.c"

# compile NAME FLAGS...: old/NAME.o and new/NAME.o from a.c
compile() {
	local name=$1 cc=$2 d
	shift 2
	for d in old new; do
		(cd "$work/$d" && $cc -O2 "$@" -c a.c -o "$name.o") || return 1
	done
}

# refused NAME WHAT OLD NEW: exit 2, "FILE: <lto message> (WHAT)", nothing written
refused() {
	local name=$1 what=$2 old=$3 new=$4 st
	rm -f "$work/out/x.hpd"
	"$bin/hpdiff" -o "$work/out/x.hpd" "$old" "$new" >"$work/stdout" 2>"$work/stderr"
	st=$?
	if [ $st = 2 ] && grep -qF "hpdiff: $old: $want_lto ($what)" "$work/stderr" &&
		[ ! -s "$work/stdout" ] && [ ! -e "$work/out/x.hpd" ]; then
		ok "$name: trouble, '$what'"
	else
		bad "$name: exit $st: $(cat "$work/stderr" "$work/stdout")"
	fi
}

# --- 1. LTO intermediate objects -------------------------------------------
compile gcc-slim gcc -flto || { echo "cannot build with gcc -flto"; exit 1; }
refused "gcc -flto" "it holds gcc's GIMPLE and no machine code" \
	"$work/old/gcc-slim.o" "$work/new/gcc-slim.o"
compile clang-full clang -flto && compile clang-thin clang -flto=thin ||
	{ echo "cannot build with clang -flto"; exit 1; }
refused "clang -flto" "it is LLVM bitcode, not machine code" \
	"$work/old/clang-full.o" "$work/new/clang-full.o"
refused "clang -flto=thin" "it is LLVM bitcode, not machine code" \
	"$work/old/clang-thin.o" "$work/new/clang-thin.o"
# only NEW is: the message names it
rm -f "$work/out/x.hpd"
compile plain gcc
"$bin/hpdiff" -o "$work/out/x.hpd" "$work/old/plain.o" "$work/new/gcc-slim.o" >/dev/null 2>"$work/stderr"
st=$?
if [ $st = 2 ] && grep -qF "$work/new/gcc-slim.o: $want_lto" "$work/stderr" &&
	[ ! -e "$work/out/x.hpd" ]; then
	ok "a plain OLD and an LTO NEW: NEW named"
else
	bad "plain/LTO pair: exit $st: $(cat "$work/stderr")"
fi
# an ELF object holding only bitcode (no code or data of its own)
: >"$work/empty.c"
for d in old new; do
	gcc -c "$work/empty.c" -o "$work/$d/empty.o" &&
		objcopy --add-section .llvmbc="$work/$d/clang-full.o" \
			--set-section-flags .llvmbc=readonly,exclude \
			"$work/$d/empty.o" "$work/$d/wrapped.o" || { echo "cannot build"; exit 1; }
done
refused "bitcode in an ELF wrapper" "it holds LLVM bitcode and no machine code" \
	"$work/old/wrapped.o" "$work/new/wrapped.o"
# a static library of slim objects: the member named
for d in old new; do
	(cd "$work/$d" && cp gcc-slim.o a.o && rm -f liba.a && gcc-ar rcs liba.a a.o) ||
		{ echo "cannot build"; exit 1; }
done
"$bin/hpdiff" -o "$work/out/lib" "$work/old/liba.a" "$work/new/liba.a" >"$work/stdout" 2>"$work/stderr"
st=$?
if [ $st = 2 ] && grep -qF "liba.a(a.o): $want_lto" "$work/stderr" && [ ! -s "$work/stdout" ] &&
	[ ! -e "$work/out/lib" ]; then
	ok "a gcc-ar library of slim LTO objects: trouble, the member named"
else
	bad "library of slim objects: exit $st: $(cat "$work/stderr")"
fi

# --- 2. fat objects and embedded bitcode are compared ------------------------
compile fat gcc -flto -ffat-lto-objects
"$bin/hpdiff" -o "$work/fat.hpd" "$work/old/fat.o" "$work/new/fat.o" >"$work/stdout" 2>"$work/stderr"
st=$?
if [ $st = 1 ] && grep -q "func changed  helper" "$work/stdout" &&
	"$bin/hpdiff" --inspect "$work/fat.hpd" | grep -qF \
		"note: fat LTO objects: a baseline linked with LTO does not hold this code" &&
	"$bin/hpdiff" --inspect --json "$work/fat.hpd" | grep -q '"fat_lto":true'; then
	ok "fat LTO objects: compared by their machine code, the .hpd marked"
else
	bad "fat LTO objects: exit $st: $(cat "$work/stderr" "$work/stdout")"
fi
compile embedded clang -fembed-bitcode
"$bin/hpdiff" -o "$work/emb.hpd" "$work/old/embedded.o" "$work/new/embedded.o" >"$work/stdout" 2>&1
st=$?
if [ $st = 1 ] && grep -q "func changed  helper" "$work/stdout" &&
	"$bin/hpdiff" --inspect --json "$work/emb.hpd" | grep -q '"fat_lto":false'; then
	ok "clang -fembed-bitcode: an ordinary object"
else
	bad "clang -fembed-bitcode: exit $st: $(cat "$work/stdout")"
fi

# --- 3. hppack and baselines linked with LTO -----------------------------------
(cd "$work/old" && gcc -O2 -flto -ffat-lto-objects -c m.c -o m-fat.o &&
	gcc -O2 -g -flto fat.o m-fat.o -o prog-bfd &&
	gcc -O2 -flto -fuse-ld=gold fat.o m-fat.o -o prog-gold &&
	gcc -O2 -fno-lto fat.o m-fat.o -o prog-nolto &&
	objcopy --strip-symbol=a.c prog-nolto prog-nofile &&
	clang -O2 -flto -c m.c -o m-cl.o &&
	clang -O2 -flto -fuse-ld=lld clang-full.o m-cl.o -Wl,--build-id -o prog-lld &&
	clang -O2 -c a.c -o plain-cl.o) || { echo "cannot link"; exit 1; }
(cd "$work/new" && clang -O2 -c a.c -o plain-cl.o)
"$bin/hpdiff" -o "$work/cl.hpd" "$work/old/plain-cl.o" "$work/new/plain-cl.o" >/dev/null

# packs NAME BASELINE HPD WANT...: exit 1, no package, every WANT in the message
refuses() {
	local name=$1 base=$2 hpd=$3 st w miss=
	shift 3
	rm -f "$work/p.hpk"
	"$bin/hppack" --baseline "$base" --seq 1 -o "$work/p.hpk" "$hpd" 2>"$work/stderr"
	st=$?
	for w in "$@"; do grep -qF -- "$w" "$work/stderr" || miss="$miss [$w]"; done
	if [ $st = 1 ] && [ -z "$miss" ] && [ ! -e "$work/p.hpk" ]; then
		ok "$name: refused, saying why"
	else
		bad "$name: exit $st, missing$miss: $(cat "$work/stderr")"
	fi
}
why="was linked with link-time optimisation"
refuses "fat objects, gcc LTO link (GNU ld)" "$work/old/prog-bfd" "$work/fat.hpd" \
	"$work/old/prog-bfd $why" "a nameless unit amid the objects'" "-fno-lto when linking"
refuses "fat objects, gcc LTO link (gold)" "$work/old/prog-gold" "$work/fat.hpd" \
	"$work/old/prog-gold $why" "<artificial>"
refuses "clang objects, clang LTO link (lld)" "$work/old/prog-lld" "$work/cl.hpd" \
	"$work/old/prog-lld $why" "ld-temp.o"
refuses "fat objects, a baseline without their source file" "$work/old/prog-nofile" \
	"$work/fat.hpd" "$work/fat.hpd: fat.o was built from fat LTO objects (-ffat-lto-objects)" \
	"has no symbols of a.c"
if "$bin/hppack" --baseline "$work/old/prog-nolto" --seq 1 -o "$work/p.hpk" "$work/fat.hpd" \
	2>"$work/stderr" && [ -s "$work/p.hpk" ]; then
	ok "fat objects, baseline linked with -fno-lto: packed"
else
	bad "fat objects, -fno-lto baseline: $(cat "$work/stderr")"
fi
exit $fail
