#!/bin/bash
# Static programs as baselines.
#  1. The fix calls strnlen, which a static glibc program defines as an IFUNC
#     (reached through an 8-byte .iplt entry): hppack packs the call through
#     that entry and the running program, patched, answers as the new build.
#  2. The fix calls fnmatch, which the static program does not contain: no
#     library will ever be loaded to find it in, so hppack refuses (exit 1,
#     no package), saying so once however often the fix calls it.
# Environment: HP_BIN, HP_SAMPLES.
set -uo pipefail
bin=${HP_BIN:?} samples=${HP_SAMPLES:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin static
sign=(--key "$pki/p256.key" --cert "$pki/p256.pem" --chain "$pki/p256.chain")

# --- 1. an IFUNC the static program defines ---------------------------------
s=$samples/gcc-O2/new-libc-call
src=$here/../../samples/diff
gcc -O2 -c "$src/driver.c" -o "$work/driver.o" &&
	gcc -O2 -I"$src/new-libc-call" -c "$src/new-libc-call/probe.c" -o "$work/probe.o" &&
	gcc -static "$work/driver.o" "$work/probe.o" "$s/old.o" -o "$work/old-static" &&
	gcc -static "$work/driver.o" "$work/probe.o" "$s/new.o" -o "$work/new-static" ||
	{ echo "cannot link a static program (is libc6-dev's libc.a there?)"; exit 1; }
if ! grep -q ' i strnlen$' <(nm "$work/old-static"); then
	bad "setup: this libc does not link strnlen into a static program as an IFUNC"
else
	"$bin/hpdiff" -o "$work/a.hpd" "$s/old.o" "$s/new.o" >/dev/null
	if ! "$bin/hppack" --baseline "$work/old-static" --seq 1 -o "$work/a.hpk" "${sign[@]}" \
		"$work/a.hpd" 2>"$work/a.err"; then
		bad "IFUNC call into a static program: hppack: $(cat "$work/a.err")"
	else
		mkfifo "$work/in"
		"$work/old-static" <"$work/in" >"$work/out" 2>&1 &
		pids+=($!)
		exec 9>"$work/in"
		echo x >&9
		wait_lines "$work/out" "$(echo x | "$work/old-static" | wc -l)" ||
			bad "the program did not answer"
		"$bin/hpapply" "${pids[0]}" "$work/a.hpk" --ca "$pki/root.pem" >"$work/apply.log" 2>&1
		st=$?
		echo x >&9
		exec 9>&-
		wait "${pids[0]}" 2>/dev/null
		echo x | "$work/new-static" >"$work/want"
		# the second answer, after the patch, is the new build's
		awk 'n==1; /^--$/{n++}' "$work/out" >"$work/got"
		if [ $st = 0 ] && cmp -s "$work/got" "$work/want" &&
			! cmp -s <(awk 'n==0; /^--$/{n++}' "$work/out") "$work/want"; then
			ok "IFUNC call into a static program: packed, applied, answers as the new build"
		else
			bad "IFUNC call into a static program: hpapply exit $st: $(cat "$work/apply.log")"
			diff "$work/got" "$work/want" | head -5
		fi
	fi
fi

# --- 2. an import the static program cannot have ----------------------------
mkdir -p "$work/old" "$work/new"
cat >"$work/old/match.c" <<'C'
int name_matches(const char *pattern, const char *name)
{
	while (*pattern && *pattern == *name)
		pattern++, name++;
	return *pattern == *name;
}
C
cat >"$work/new/match.c" <<'C'
#include <fnmatch.h>
int name_matches(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, 0) == 0 || fnmatch(pattern, name, FNM_CASEFOLD) == 0;
}
C
cat >"$work/main.c" <<'C'
#include <stdio.h>
int name_matches(const char *pattern, const char *name);
int main(void) { printf("%d\n", name_matches("a", "a")); return 0; }
C
(cd "$work/old" && gcc -O2 -c match.c -o ../old.o) && (cd "$work/new" && gcc -O2 -c match.c -o ../new.o) &&
	gcc -static "$work/main.c" "$work/old.o" -o "$work/prog" || { echo "cannot build"; exit 1; }
if grep -qw fnmatch <(nm "$work/prog"); then
	bad "setup: fnmatch is linked into the static program"
else
	"$bin/hpdiff" -o "$work/b.hpd" "$work/old.o" "$work/new.o" >/dev/null
	"$bin/hppack" --baseline "$work/prog" --seq 1 -o "$work/b.hpk" "${sign[@]}" \
		"$work/b.hpd" 2>"$work/b.err"
	st=$?
	# said once, though fnmatch is called twice
	if [ $st = 1 ] && [ "$(grep -c "fnmatch is not defined in .*a static program" "$work/b.err")" = 1 ] &&
		[ ! -e "$work/b.hpk" ]; then
		ok "an import into a static program is refused when packing"
	else
		bad "import into a static program: exit $st: $(cat "$work/b.err")"
	fi
fi
exit $fail
