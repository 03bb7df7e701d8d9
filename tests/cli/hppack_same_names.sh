#!/bin/bash
# A build system runs hpdiff once per object.  Two objects may share a file
# name (src/a/util.o, src/b/util.o, each compiled from its own util.c in its
# own directory, so their STT_FILE entries are both "util.c"), and both may
# define a static function of the same name with different code.  Packed
# together, the two .hpd files are two objects, not one given twice: the
# package replaces each static helper in its own file (told apart by its
# code), and the running program, patched, answers as the fixed build.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin names

# util.c of directory $1, version $2 (0 baseline, 1 fixed)
util() {
	local dir=$1 v=$2 mul add
	if [ "$dir" = a ]; then mul=3 add=$((v ? 100 : 1)); else mul=5 add=$((v ? 200 : 2)); fi
	cat <<C
__attribute__((noinline)) static int scale(int x) { return x * $mul + $add; }
int ${dir}_value(int x) { return scale(x) + 1; }
C
}
for v in 0 1; do
	for d in a b; do
		mkdir -p "$work/v$v/src/$d"
		util $d $v >"$work/v$v/src/$d/util.c"
		(cd "$work/v$v/src/$d" && gcc -O2 -c util.c -o util.o) || { echo "cannot build"; exit 1; }
	done
	cat >"$work/v$v/main.c" <<'C'
#include <stdio.h>
int a_value(int x);
int b_value(int x);
int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin))
		printf("%d %d\n", a_value(7), b_value(7));
	return 0;
}
C
	gcc -O2 "$work/v$v/main.c" "$work/v$v/src/a/util.o" "$work/v$v/src/b/util.o" \
		-o "$work/v$v/prog" || { echo "cannot link"; exit 1; }
done

for d in a b; do
	"$bin/hpdiff" -o "$work/$d.hpd" "$work/v0/src/$d/util.o" "$work/v1/src/$d/util.o" >/dev/null
	[ $? = 1 ] || bad "hpdiff src/$d/util.o: expected exit 1"
done
if ! "$bin/hppack" --baseline "$work/v0/prog" --seq 1 -o "$work/p.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/a.hpd" "$work/b.hpd" 2>"$work/err"; then
	bad "two util.o of different directories: hppack: $(cat "$work/err")"
	exit 1
fi
n=$("$bin/hppack" --inspect "$work/p.hpk" --baseline "$work/v0/prog" | grep -c 'replaces *scale ')
[ "$n" = 2 ] && ok "both scale() are replaced, one per util.o" ||
	bad "expected two replaced scale(), got $n"

mkfifo "$work/in"
"$work/v0/prog" <"$work/in" >"$work/out" &
pids=($!)
exec 9>"$work/in"
echo >&9
wait_lines "$work/out" "$(echo | "$work/v0/prog" | wc -l)" || bad "the program did not answer"
"$bin/hpapply" "${pids[0]}" "$work/p.hpk" --ca "$pki/root.pem" >"$work/apply.log" 2>&1 ||
	bad "hpapply: $(cat "$work/apply.log")"
echo >&9
exec 9>&-
wait "${pids[0]}"
pids=()
want="$(echo | "$work/v0/prog")
$(echo | "$work/v1/prog")"
if [ "$(cat "$work/out")" = "$want" ]; then
	ok "patched, the program answers as the fixed build ($(tail -1 "$work/out"))"
else
	bad "answers: $(tr '\n' '|' <"$work/out"), wanted $(echo "$want" | tr '\n' '|')"
fi
exit $fail
