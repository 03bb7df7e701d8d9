#!/bin/bash
# A fix that moves a global variable into a new object file, as glibc's
# update moved __rseq_offset into dl-rseq-symbols.o: the fixed a.c refers
# to it through a hidden alias (_hits) that only the new b.o defines.
#  1. hpdiff records the alias in b.hpd; hppack binds both names to the
#     variable the running program already has, so the count goes on
#     (a second, new copy would restart it at 0).
#  2. If the move also changes the variable's size, hppack refuses.
# And a function moved into a new object:
#  3. moved as it was: the package carries no second copy, the changed caller
#     calls the baseline's, and the program answers as the fixed build;
#  4. moved and changed: refused (callers of the old copy would keep it).
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin moved

# refused NAME BASELINE OLD NEW PATTERN OK WHAT: hpdiff OLD NEW into
# $work/NAME; hppack of the .hpd files written there, against BASELINE,
# must exit 1, say PATTERN (grep) and write no package: ok OK, else bad WHAT.
refused() {
	local out=$work/$1 base=$2 old=$3 new=$4 pattern=$5 st
	"$bin/hpdiff" -o "$out" "$old" "$new" >/dev/null
	"$bin/hppack" --baseline "$base" --seq 1 -o "$out.hpk" "$out"/*.hpd 2>"$out.err"
	st=$?
	if [ $st = 1 ] && grep -q "$pattern" "$out.err" && [ ! -e "$out.hpk" ]; then
		ok "$6"
	else
		bad "$7: exit $st: $(cat "$out.err")"
	fi
}

mkdir -p "$work/v0" "$work/v1" "$work/v2"
cat >"$work/v0/a.c" <<'C'
long hits;
int check(int x) { hits++; return x > 5; }
long get_hits(void) { return hits; }
C
cat >"$work/v1/a.c" <<'C'
extern long _hits __attribute__((visibility("hidden")));
int check(int x) { _hits++; return x > 3; }
long get_hits(void) { return _hits; }
C
cat >"$work/v1/b.c" <<'C'
long hits;
extern long _hits __attribute__((alias("hits"), visibility("hidden")));
C
cp "$work/v1/a.c" "$work/v2/a.c"
sed 's/^long hits;/int hits;/; s/extern long _hits/extern int _hits/' "$work/v1/b.c" >"$work/v2/b.c"
sed -i 's/extern long _hits/extern int _hits/' "$work/v2/a.c"
cat >"$work/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int check(int x);
long get_hits(void);
int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		int r = check(atoi(line));

		printf("%d %ld\n", r, get_hits());
	}
	return 0;
}
C
for v in v0 v1 v2; do
	mkdir -p "$work/$v/obj"
	for c in "$work/$v"/*.c; do
		(cd "$work/$v" && gcc -O2 -c "$(basename "$c")" -o "obj/$(basename "$c" .c).o") ||
			{ echo "cannot build"; exit 1; }
	done
done
gcc -O2 "$work/main.c" "$work/v0/obj/a.o" -o "$work/prog" || { echo "cannot link"; exit 1; }

# --- 1. moved, same size: bound to the running variable -------------------------
"$bin/hpdiff" -o "$work/hpd" "$work/v0/obj" "$work/v1/obj" >"$work/hpdiff.out"
st=$?
[ $st = 1 ] || bad "hpdiff v0 v1: exit $st: $(cat "$work/hpdiff.out")"
if "$bin/hpdiff" --inspect "$work/hpd/b.hpd" | grep -q '^      also named _hits (global)$'; then
	ok "hpdiff records the hidden alias _hits of the new variable hits"
else
	bad "no alias in b.hpd: $("$bin/hpdiff" --inspect "$work/hpd/b.hpd")"
fi
if ! "$bin/hppack" --baseline "$work/prog" --seq 1 -o "$work/p.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/hpd/a.hpd" "$work/hpd/b.hpd" \
	2>"$work/err"; then
	bad "hppack: $(cat "$work/err")"
	exit 1
fi
if ! inspect=$("$bin/hppack" --inspect "$work/p.hpk" --baseline "$work/prog" 2>&1); then
	bad "hppack --inspect: $inspect"
elif grep -qE '^  new (data|bss|rodata) +hits,' <<<"$inspect"; then
	bad "the package carries a second hits"
else
	ok "the package carries no second copy of hits"
fi
mkfifo "$work/in"
"$work/prog" <"$work/in" >"$work/out" &
pids=($!)
exec 9>"$work/in"
printf '4\n4\n' >&9
wait_lines "$work/out" 2 || bad "the program did not answer"
"$bin/hpapply" "${pids[0]}" "$work/p.hpk" --ca "$pki/root.pem" >"$work/apply.log" 2>&1 ||
	bad "hpapply: $(cat "$work/apply.log")"
printf '4\n' >&9
exec 9>&-
wait "${pids[0]}"
pids=()
# before: x > 5 is false; after: x > 3 is true, and the third hit counts on
if [ "$(tr '\n' '|' <"$work/out")" = "0 1|0 2|1 3|" ]; then
	ok "patched: the fixed check uses the running count through _hits (0 1, 0 2, 1 3)"
else
	bad "answers: $(tr '\n' '|' <"$work/out"), wanted 0 1|0 2|1 3|"
fi

# --- 2. moved and resized: refused ---------------------------------------------
refused hpd2 "$work/prog" "$work/v0/obj" "$work/v2/obj" \
	"hits moves into b.o with 4 bytes, but .*prog has it with 8 bytes" \
	"a moved variable whose size changed is refused" "moved and resized"

# --- 3 and 4. a function moved into a new object ---------------------------------
mkdir -p "$work/f0" "$work/f1" "$work/f2"
cat >"$work/f0/a.c" <<'C'
__attribute__((noinline)) int scale(int x) { return x * 3; }
int use(int x) { return scale(x) + 1; }
C
cat >"$work/f1/a.c" <<'C'
int scale(int x);
int use(int x) { return scale(x) + 2; }
C
cat >"$work/f1/c.c" <<'C'
__attribute__((noinline)) int scale(int x) { return x * 3; }
C
cp "$work/f1/a.c" "$work/f2/a.c"
sed 's/x \* 3/x * 4/' "$work/f1/c.c" >"$work/f2/c.c"
cat >"$work/main2.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int use(int x);
int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin))
		printf("%d\n", use(atoi(line)));
	return 0;
}
C
for v in f0 f1 f2; do
	mkdir -p "$work/$v/obj"
	for c in "$work/$v"/*.c; do
		(cd "$work/$v" && gcc -O2 -c "$(basename "$c")" -o "obj/$(basename "$c" .c).o") ||
			{ echo "cannot build"; exit 1; }
	done
done
gcc -O2 "$work/main2.c" "$work/f0/obj/a.o" -o "$work/prog2" || { echo "cannot link"; exit 1; }
"$bin/hpdiff" -o "$work/fh1" "$work/f0/obj" "$work/f1/obj" >/dev/null
if ! "$bin/hppack" --baseline "$work/prog2" --seq 1 -o "$work/f1.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/fh1/a.hpd" "$work/fh1/c.hpd" \
	2>"$work/err3"; then
	bad "moved function: hppack: $(cat "$work/err3")"
else
	inspect=$("$bin/hppack" --inspect "$work/f1.hpk" --baseline "$work/prog2")
	if grep -q '^  new code *scale' <<<"$inspect" || ! grep -q '^  replaces *use ' <<<"$inspect"; then
		bad "moved function: the package: $inspect"
	else
		ok "a function moved as it was: no second copy, its caller replaced"
	fi
	rm -f "$work/in"
	mkfifo "$work/in"
	"$work/prog2" <"$work/in" >"$work/out2" &
	pids=($!)
	exec 9>"$work/in"
	echo 5 >&9
	wait_lines "$work/out2" 1 || bad "the program did not answer"
	"$bin/hpapply" "${pids[0]}" "$work/f1.hpk" --ca "$pki/root.pem" >"$work/apply2.log" 2>&1 ||
		bad "hpapply: $(cat "$work/apply2.log")"
	echo 5 >&9
	exec 9>&-
	wait "${pids[0]}"
	pids=()
	[ "$(tr '\n' '|' <"$work/out2")" = "16|17|" ] &&
		ok "patched: use() calls the baseline's scale() (16, then 17)" ||
		bad "answers: $(tr '\n' '|' <"$work/out2"), wanted 16|17|"
fi
refused fh2 "$work/prog2" "$work/f0/obj" "$work/f2/obj" \
	"scale is new in c.o, but .*prog2 already has a function scale with other code" \
	"a function moved and changed is refused" "moved and changed"
exit $fail
