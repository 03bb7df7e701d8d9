#!/bin/bash
# References of new code that the baseline reaches in a roundabout way, on
# real gcc, clang and g++ builds, patched into running processes:
#  1. an IFUNC the program defines (gcc and clang): a new call reaches the
#     implementation through the baseline's PLT entry, not the resolver (the
#     symbol's value), and so does a file-local IFUNC's address taken;
#     refused when the baseline never calls it; a changed resolver is not
#     hotpatchable;
#  2. another module's variable referenced PC-relatively by -fPIE code: an
#     address taken (&environ, a C++ typeinfo) is loaded from a slot; a value
#     read in place (fprintf(stderr, ...)) is refused by hppack; a variable
#     the program holds a copy of is the program's.
# Each live check compares the process's answers before, after applying and
# after reverting with those of the baseline, the fixed build and the
# baseline again, fed the same input.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin refs

# live() and pack() come from lib.sh; programs run in a bare environment.
live_env=(env -i HP_TEST=1)

# refused NAME PATTERN BASELINE HPD...: hppack exits 1, says PATTERN, writes nothing.
refused() {
	local name=$1 pattern=$2 st
	shift 2
	pack "$name" "$@"
	st=$?
	if [ $st = 1 ] && grep -q "$pattern" "$work/$name.err" && [ ! -e "$work/$name.hpk" ]; then
		ok "$name: refused: $(head -1 "$work/$name.err")"
	else
		bad "$name: exit $st: $(cat "$work/$name.err")"
	fi
}

cat >"$work/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int calc(int x);
int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin))
		printf("%d\n", calc(atoi(line)));
	return 0;
}
C

# ---- 1. IFUNC ------------------------------------------------------------------------
ifunc_src() { # $1: calc's body, $2: whether other() calls twice, $3: pick's body
	cat <<C
static int twice_impl(int x) { return 2 * x; }
static int four_impl(int x) { return 4 * x; }
int use_four;
static int (*pick(void))(int) { $3 }
int twice(int x) __attribute__((ifunc("pick")));
int calc(int x) { $1 }
int other(int x) { return ${2}; }
C
}
for cc in gcc clang; do
	d=$work/ifunc-$cc
	mkdir -p "$d"
	mkdir -p "$d/old" "$d/new" "$d/nocall" "$d/nocall-new" "$d/resolver"
	ifunc_src 'return x * 7 + 3 - (x >> 2);' 'twice(x) * 10' 'return twice_impl;' >"$d/old/a.c"
	ifunc_src 'return twice(x) * 7 + 3 - (x >> 2);' 'twice(x) * 10' 'return twice_impl;' \
		>"$d/new/a.c"
	ifunc_src 'return x * 7 + 3 - (x >> 2);' 'x * 10' 'return twice_impl;' >"$d/nocall/a.c"
	ifunc_src 'return twice(x) * 7 + 3 - (x >> 2);' 'x * 10' 'return twice_impl;' \
		>"$d/nocall-new/a.c"
	ifunc_src 'return x * 7 + 3 - (x >> 2);' 'twice(x) * 10' \
		'return use_four ? four_impl : twice_impl;' >"$d/resolver/a.c"
	for v in old new nocall nocall-new resolver; do
		(cd "$d/$v" && $cc -O2 -fPIE -c a.c -o ../$v.o) ||
			{ bad "$cc: cannot build $v/a.c"; exit 1; }
	done
	$cc -O2 -pie "$work/main.c" "$d/old.o" -o "$d/prog" &&
		$cc -O2 -pie "$work/main.c" "$d/new.o" -o "$d/fixed" &&
		$cc -O2 -pie "$work/main.c" "$d/nocall.o" -o "$d/prog-nocall" ||
		{ bad "$cc: cannot link"; exit 1; }
	"$bin/hpdiff" "$d/old.o" "$d/new.o" -o "$d/a.hpd" >/dev/null
	inspect=$("$bin/hpdiff" --inspect "$d/a.hpd")
	if grep -q 'R_X86_64_PLT32 *baseline twice (global)' <<<"$inspect" &&
		! grep -q 'baseline pick' <<<"$inspect"; then
		ok "$cc ifunc: hpdiff names the IFUNC twice, not its resolver pick"
	else
		bad "$cc ifunc: the reference map: $inspect"
	fi
	if pack "ifunc-$cc" "$d/prog" "$d/a.hpd"; then
		live "ifunc-$cc" "$d/prog" "$d/fixed" "$work/ifunc-$cc.hpk" "$(printf '5\n-3\n1000')"
	else
		bad "$cc ifunc: hppack: $(cat "$work/ifunc-$cc.err")"
	fi
	"$bin/hpdiff" "$d/nocall.o" "$d/nocall-new.o" -o "$d/n.hpd" >/dev/null
	refused "ifunc-never-called-$cc" \
		"twice is an IFUNC in .*prog-nocall, and the binary has no PLT entry or slot" \
		"$d/prog-nocall" "$d/n.hpd"
	"$bin/hpdiff" "$d/old.o" "$d/resolver.o" >"$d/resolver.out"
	st=$?
	if [ $st = 3 ] && grep -q "pick: NOT HOTPATCHABLE: .*it is an IFUNC resolver" "$d/resolver.out"; then
		ok "$cc ifunc: a changed resolver is not hotpatchable"
	else
		bad "$cc ifunc: changed resolver: exit $st: $(cat "$d/resolver.out")"
	fi
done

# a file-local IFUNC whose address the fix takes (a function pointer): the PLT entry too
d=$work/ifunc-static
mkdir -p "$d/old" "$d/new"
ifunc_src 'return x * 7 + 3 - (x >> 2);' 'twice(x) * 10' 'return twice_impl;' |
	sed 's/^int twice/static int twice/' >"$d/old/a.c"
ifunc_src 'int (*volatile f)(int) = twice; return f(x) * 7 + 3 - (x >> 2);' 'twice(x) * 10' \
	'return twice_impl;' | sed 's/^int twice/static int twice/' >"$d/new/a.c"
for v in old new; do
	(cd "$d/$v" && gcc -O2 -fPIE -c a.c -o ../$v.o) || { bad "cannot build $v/a.c"; exit 1; }
done
gcc -O2 -pie "$work/main.c" "$d/old.o" -o "$d/prog" &&
	gcc -O2 -pie "$work/main.c" "$d/new.o" -o "$d/fixed" || { bad "cannot link"; exit 1; }
"$bin/hpdiff" "$d/old.o" "$d/new.o" -o "$d/a.hpd" >/dev/null
if "$bin/hpdiff" --inspect "$d/a.hpd" | grep -q 'R_X86_64_PC32 *baseline twice (local)' &&
	pack ifunc-static "$d/prog" "$d/a.hpd"; then
	live ifunc-static "$d/prog" "$d/fixed" "$work/ifunc-static.hpk" "$(printf '5\n-3')"
else
	bad "static ifunc: $("$bin/hpdiff" --inspect "$d/a.hpd") $(cat "$work/ifunc-static.err")"
fi

# ---- 2. another module's variable, PC-relatively ---------------------------------------
d=$work/import
mkdir -p "$d"
env_src() { # $1: what calc adds
	cat <<C
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
extern char **environ;
__attribute__((noinline)) size_t count(char ***envp)
{
	size_t n = 0;

	for (char **e = *envp; *e; e++)
		n++;
	return n;
}
int calc(int x) { $1 return x * 3 + 1; }
C
}
mkdir -p "$d/old" "$d/new" "$d/load"
env_src '' >"$d/old/a.c"
env_src 'x += 100 * (int)count(&environ);' >"$d/new/a.c"
env_src 'if (x < 0) fprintf(stderr, "negative\n");' >"$d/load/a.c"
for v in old new load; do
	(cd "$d/$v" && gcc -O2 -fPIE -c a.c -o ../$v.o) || { bad "cannot build $v/a.c"; exit 1; }
done
gcc -O2 -pie "$work/main.c" "$d/old.o" -o "$d/prog" &&
	gcc -O2 -pie "$work/main.c" "$d/new.o" -o "$d/fixed" || { bad "cannot link"; exit 1; }
if objdump -dr "$d/new.o" | grep -A1 'lea .*(%rip)' | grep -q 'R_X86_64_PC32.*environ'; then
	ok "gcc -fPIE takes &environ with a PC-relative lea"
else
	bad "gcc -fPIE no longer takes &environ with lea: $(objdump -dr "$d/new.o")"
fi
"$bin/hpdiff" "$d/old.o" "$d/new.o" -o "$d/env.hpd" >/dev/null
if pack env "$d/prog" "$d/env.hpd"; then
	inspect=$("$bin/hppack" --inspect "$work/env.hpk" --baseline "$d/prog")
	if grep -q 'R_X86_64_GOTPCREL *import environ' <<<"$inspect"; then
		ok "&environ becomes a load from a slot the loader fills"
	else
		bad "&environ: $inspect"
	fi
	live environ "$d/prog" "$d/fixed" "$work/env.hpk" "$(printf '1\n2')"
else
	bad "environ: hppack: $(cat "$work/env.err")"
fi
# an element inside another module's variable the baseline never used: the
# lea's addend carries the offset (tzname+8), which the slot's address must
# keep; with TZ=EST5EDT tzname is {"EST", "EDT"}, so losing it shows
tz_src() { # $1: what calc adds
	cat <<C
#include <string.h>
#include <time.h>
/* no reference to tzname here, so the baseline holds no copy of it */
__attribute__((noinline)) int len(char **p) { tzset(); return p[0] ? (int)strlen(p[0]) * 100 + p[0][1] : -1; }
int calc(int x) { $1 return x * 3 + 1; }
C
}
mkdir -p "$d/tz-old" "$d/tz-new"
tz_src '' >"$d/tz-old/a.c"
tz_src 'x += len(&tzname[1]);' >"$d/tz-new/a.c"
for v in tz-old tz-new; do
	(cd "$d/$v" && gcc -O2 -fPIE -c a.c -o ../$v.o) || { bad "cannot build $v/a.c"; exit 1; }
done
gcc -O2 -pie "$work/main.c" "$d/tz-old.o" -o "$d/tz-prog" &&
	gcc -O2 -pie "$work/main.c" "$d/tz-new.o" -o "$d/tz-fixed" || { bad "cannot link"; exit 1; }
"$bin/hpdiff" "$d/tz-old.o" "$d/tz-new.o" -o "$d/tz.hpd" >/dev/null
if ! nm -D "$d/tz-prog" | grep -q tzname &&
	objdump -dr "$d/tz-new.o" | grep -q 'R_X86_64_PC32.*tzname+0x4' && pack tz "$d/tz-prog" "$d/tz.hpd"; then
	live_env=(env -i HP_TEST=1 TZ=EST5EDT)
	live tzname-element "$d/tz-prog" "$d/tz-fixed" "$work/tz.hpk" "$(printf '1\n2')"
	live_env=(env -i HP_TEST=1)
else
	bad "tzname+8: $(cat "$work/tz.err" 2>/dev/null)"
fi
"$bin/hpdiff" "$d/old.o" "$d/load.o" -o "$d/load.hpd" >/dev/null
refused stderr-read "calc reads or writes stderr in place at +0x[0-9a-f]*, PC-relatively" \
	"$d/prog" "$d/load.hpd"
# a baseline that uses stderr itself holds the copy every module uses: that one
cat >"$d/warn.c" <<'C'
#include <stdio.h>
void warn(void) { fputs("warning\n", stderr); }
C
gcc -O2 -fPIE -c "$d/warn.c" -o "$d/warn.o" &&
	gcc -O2 -pie "$work/main.c" "$d/old.o" "$d/warn.o" -o "$d/prog-copy" ||
	{ bad "cannot build prog-copy"; exit 1; }
if pack copy "$d/prog-copy" "$d/load.hpd"; then
	inspect=$("$bin/hppack" --inspect "$work/copy.hpk" --baseline "$d/prog-copy")
	if grep -q 'R_X86_64_PC32 *baseline+0x[0-9a-f]* -4' <<<"$inspect" &&
		! grep -q 'import *stderr' <<<"$inspect"; then
		ok "stderr is the program's copy when the baseline has one"
	else
		bad "stderr with a copy: $inspect"
	fi
else
	bad "stderr with a copy: hppack: $(cat "$work/copy.err")"
fi

# a C++ typeinfo the baseline never used, its address passed
cat >"$d/main.cc" <<'C'
#include <cstdio>
#include <cstdlib>
int calc(int x);
int main()
{
	char line[64];

	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	while (std::fgets(line, sizeof line, stdin))
		std::printf("%d\n", calc(std::atoi(line)));
}
C
typeinfo_src() { # $1: the type whose name length calc adds
	cat <<C
#include <cstring>
#include <stdexcept>
#include <typeinfo>
__attribute__((noinline)) int name_len(const std::type_info &t) { return (int)std::strlen(t.name()); }
int calc(int x) { return x * 3 + name_len(typeid($1)); }
C
}
mkdir -p "$d/ti-old" "$d/ti-new"
typeinfo_src int >"$d/ti-old/t.cc"
typeinfo_src std::out_of_range >"$d/ti-new/t.cc"
for v in ti-old ti-new; do
	(cd "$d/$v" && g++ -O2 -fPIE -c t.cc -o ../$v.o) || { bad "cannot build $v/t.cc"; exit 1; }
done
g++ -O2 -pie "$d/main.cc" "$d/ti-old.o" -o "$d/ti-prog" &&
	g++ -O2 -pie "$d/main.cc" "$d/ti-new.o" -o "$d/ti-fixed" || { bad "cannot link"; exit 1; }
"$bin/hpdiff" "$d/ti-old.o" "$d/ti-new.o" -o "$d/ti.hpd" >/dev/null
# calc calls code that may throw: until packages carry unwind information
# (issue 9, item 3) it is refused, before its typeinfo reference is resolved.
if ! pack typeinfo "$d/ti-prog" "$d/ti.hpd" && [ ! -e "$work/typeinfo.hpk" ] &&
	grep -q "_Z4calci: not hotpatchable: .*an exception can pass through its calls" \
		"$work/typeinfo.err"; then
	ok "typeinfo: refused until packages carry unwind information"
else
	bad "typeinfo: hppack: $(cat "$work/typeinfo.err")"
fi
exit $fail
