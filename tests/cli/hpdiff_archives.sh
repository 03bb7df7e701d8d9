#!/bin/bash
# Static libraries as build systems make them, built by gcc and GNU ar.
#  1. Members of the same name (ar keeps only the file name: s1/util.o and
#     s2/util.o are both util.o) listed in another order by the fixed
#     build's archive are paired by what they are (source file, defined
#     symbols), not by position: the change is reported in the right member,
#     never "built from different source files", never one compared with the
#     other.  When nothing tells them apart, hpdiff stops (exit 2) and says
#     why rather than guess.
#  2. Thin archives (ar rcT) hold only their members' paths: as arguments
#     they are refused with what to do; in a tree whose objects they name
#     they are skipped with a warning (the objects are compared as files);
#     naming an object outside the tree, or thin on one side only, is
#     refused.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin archives

# lib DIR OLD-ORDER: DIR/{old,new}/lib.a from DIR/{old,new}/{s1,s2}/$src;
# the new archive lists the members in the other order.
lib() {
	local dir=$1 src=$2 d s
	for d in old new; do
		for s in s1 s2; do
			(cd "$dir/$d/$s" && gcc -O2 -c "$src") || return 1
		done
	done
	(cd "$dir/old" && ar rc lib.a s1/*.o s2/*.o) && (cd "$dir/new" && ar rc lib.a s2/*.o s1/*.o)
}

# --- 1a. two sources of different names, one member name -----------------------
d=$work/names
mkdir -p "$d/old/s1" "$d/old/s2" "$d/new/s1" "$d/new/s2"
echo 'int one(int x) { return x + 1; }' >"$d/old/s1/m.c"
echo 'int one(int x) { return x + 11; }' >"$d/new/s1/m.c"
echo 'int two(int x) { return x * 2; }' >"$d/old/s2/n.c"
echo 'int two(int x) { return x * 2; }' >"$d/new/s2/n.c"
for v in old new; do
	(cd "$d/$v/s1" && gcc -O2 -c m.c -o util.o) && (cd "$d/$v/s2" && gcc -O2 -c n.c -o util.o) ||
		{ echo "cannot build"; exit 1; }
done
(cd "$d/old" && ar rc lib.a s1/util.o s2/util.o) && (cd "$d/new" && ar rc lib.a s2/util.o s1/util.o)
"$bin/hpdiff" --json -o "$d/out" "$d/old/lib.a" "$d/new/lib.a" >"$d/json" 2>"$d/err"
st=$?
if [ $st = 1 ] && [ ! -s "$d/err" ] && grep -q '"name":"one"' "$d/json" &&
	! grep -q '"name":"two"' "$d/json" && [ -s "$d/out/util.hpd" ] &&
	[ ! -e "$d/out/util-2.hpd" ]; then
	ok "same-named members of different sources, reordered: paired by source"
else
	bad "reordered members of different sources: exit $st: $(cat "$d/err")"
fi

# --- 1b. one source file name (util.c in two directories), reordered -------------
d=$work/same
mkdir -p "$d/old/s1" "$d/old/s2" "$d/new/s1" "$d/new/s2"
printf 'static int k(int x) { return x + 1; }\nint one(int x) { return k(x); }\n' >"$d/old/s1/util.c"
printf 'static int k(int x) { return x + 5; }\nint one(int x) { return k(x); }\n' >"$d/new/s1/util.c"
printf 'static int k(int x) { return x * 2; }\nint two(int x) { return k(x); }\n' >"$d/old/s2/util.c"
cp "$d/old/s2/util.c" "$d/new/s2/util.c"
lib "$d" util.c || { echo "cannot build"; exit 1; }
"$bin/hpdiff" -o "$d/out" "$d/old/lib.a" "$d/new/lib.a" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 1 ] && grep -q "^lib.a(util.o): differs" "$d/out.txt" &&
	grep -q "func changed  one: at +0x0 \`lea 0x01(%rdi), %eax\` became \`lea 0x05(%rdi), %eax\`" \
		"$d/out.txt" && ! grep -q "two" "$d/out.txt" && grep -q "1 differ" "$d/out.txt"; then
	ok "same-named members of one source name, reordered: paired by defined symbols"
else
	bad "reordered members of one source name: exit $st: $(cat "$d/err" "$d/out.txt")"
fi
# the same, both changed: still paired by their symbols
printf 'static int k(int x) { return x * 3; }\nint two(int x) { return k(x); }\n' >"$d/new/s2/util.c"
lib "$d" util.c
"$bin/hpdiff" "$d/old/lib.a" "$d/new/lib.a" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 1 ] && grep -q "func changed  one: .*0x05" "$d/out.txt" &&
	grep -q "func changed  two: .*became \`lea (%rdi,%rdi,2), %eax\`" "$d/out.txt"; then
	ok "both changed and reordered: each compared with its own"
else
	bad "both changed and reordered: exit $st: $(cat "$d/err" "$d/out.txt")"
fi

# --- 1c. nothing tells them apart ----------------------------------------------------
d=$work/twins
mkdir -p "$d/old/s1" "$d/old/s2" "$d/new/s1" "$d/new/s2"
for s in 1 2; do
	printf 'static int k(int x) { return x + %d; }\nint one(int x) { return k(x); }\n' $s \
		>"$d/old/s$s/util.c"
	printf 'static int k(int x) { return x + %d; }\nint one(int x) { return k(x); }\n' $((s + 4)) \
		>"$d/new/s$s/util.c"
done
lib "$d" util.c || { echo "cannot build"; exit 1; }
"$bin/hpdiff" -o "$d/out" "$d/old/lib.a" "$d/new/lib.a" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 2 ] && grep -qF "$d/old/lib.a and $d/new/lib.a: 2 and 2 members are named util.o, and nothing tells which is which" "$d/err" &&
	[ ! -s "$d/out.txt" ] && [ ! -e "$d/out" ]; then
	ok "members nothing tells apart: trouble, saying why"
else
	bad "members nothing tells apart: exit $st: $(cat "$d/err" "$d/out.txt")"
fi

# --- 2. thin archives ---------------------------------------------------------------
d=$work/thin
mkdir -p "$d/old/sub" "$d/new/sub" "$d/elsewhere"
echo 'int one(int x) { return x + 1; }' >"$d/old/sub/x.c"
echo 'int one(int x) { return x + 2; }' >"$d/new/sub/x.c"
for v in old new; do
	(cd "$d/$v" && gcc -O2 -c sub/x.c -o sub/x.o && ar rcT libt.a sub/x.o) ||
		{ echo "cannot build"; exit 1; }
done
"$bin/hpdiff" -o "$d/out" "$d/old/libt.a" "$d/new/libt.a" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 2 ] && grep -qF "hpdiff: $d/old/libt.a: thin archive: it holds the paths of its members, not the objects; compare the build trees" "$d/err" &&
	[ ! -s "$d/out.txt" ] && [ ! -e "$d/out" ]; then
	ok "a thin archive as an argument: trouble, saying what to do"
else
	bad "thin archive argument: exit $st: $(cat "$d/err")"
fi
"$bin/hpdiff" "$d/old" "$d/new" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 1 ] && grep -q "^sub/x.o: differs" "$d/out.txt" &&
	grep -qF "warning: $d/new/libt.a: thin archive: its members are compared as the object files of the tree" "$d/err"; then
	ok "a thin archive of the tree's objects: skipped, its members compared as files"
else
	bad "thin archive in a tree: exit $st: $(cat "$d/err" "$d/out.txt")"
fi
gcc -O2 -c "$d/old/sub/x.c" -o "$d/elsewhere/y.o"
for v in old new; do (cd "$d/$v" && ar rcT liby.a "$d/elsewhere/y.o"); done
"$bin/hpdiff" "$d/old" "$d/new" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 2 ] && grep -qF "$d/old/liby.a: thin archive: its member $d/elsewhere/y.o is not an object file of the tree" "$d/err" &&
	[ ! -s "$d/out.txt" ]; then
	ok "a thin archive naming an object outside the tree: trouble"
else
	bad "thin archive naming an outside object: exit $st: $(cat "$d/err")"
fi
rm -f "$d/old/liby.a" "$d/new/liby.a" "$d/new/libt.a"
(cd "$d/new" && ar rc libt.a sub/x.o)
"$bin/hpdiff" "$d/old" "$d/new" >"$d/out.txt" 2>"$d/err"
st=$?
if [ $st = 2 ] && grep -qF "$d/old/libt.a is a thin archive and $d/new/libt.a is not" "$d/err"; then
	ok "thin on one side only: trouble"
else
	bad "thin on one side: exit $st: $(cat "$d/err")"
fi
exit $fail
