#!/bin/bash
# A weak definition overridden at link time.  hook.o defines `hook` weak;
# strong.o defines it strong, with the very same code.  Linked together,
# the program's hook is strong.o's: the fix to hook.o's weak hook never runs
# in it, and the fixed build links strong.o's hook as well.  hppack must
# refuse, saying that, rather than "prove" strong.o's function by its equal
# bytes and replace it (the process would then not behave as the fixed
# build).  Linked without strong.o, the weak hook is the program's and the
# package is made.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin weak

mkdir -p "$work/old" "$work/new"
cat >"$work/old/hook.c" <<'C'
__attribute__((weak)) int hook(int x) { return x + 1; }
int use_hook(int x) { return hook(x) * 2; }
C
sed 's/x + 1/x + 100/' "$work/old/hook.c" >"$work/new/hook.c"
echo 'int hook(int x) { return x + 1; }' >"$work/strong.c"
cat >"$work/main.c" <<'C'
#include <stdio.h>
int use_hook(int);
int main(int c, char **v) { (void)v; printf("%d\n", use_hook(c)); return 0; }
C
(cd "$work/old" && gcc -O2 -c hook.c) && (cd "$work/new" && gcc -O2 -c hook.c) &&
	gcc -O2 -c "$work/strong.c" -o "$work/strong.o" &&
	gcc -O2 "$work/main.c" "$work/old/hook.o" "$work/strong.o" -o "$work/prog" &&
	gcc -O2 "$work/main.c" "$work/old/hook.o" -o "$work/prog-weak" || { echo "cannot build"; exit 1; }
"$bin/hpdiff" -o "$work/hook.hpd" "$work/old/hook.o" "$work/new/hook.o" >/dev/null
[ $? = 1 ] || bad "setup: hpdiff does not see the change"

"$bin/hppack" --baseline "$work/prog" --seq 1 -o "$work/p.hpk" "$work/hook.hpd" 2>"$work/err"
st=$?
want="$work/hook.hpd: hook is a weak definition in the object, but $work/prog's hook is another object's strong definition, which overrode it at link time"
if [ $st = 1 ] && grep -qF "$want" "$work/err" && [ ! -e "$work/p.hpk" ]; then
	ok "weak definition overridden by a strong one (same bytes): refused, saying why"
else
	bad "overridden weak definition: exit $st: $(cat "$work/err")"
fi
if "$bin/hppack" --baseline "$work/prog-weak" --seq 1 -o "$work/p.hpk" "$work/hook.hpd" \
	2>"$work/err" && [ -s "$work/p.hpk" ]; then
	ok "the weak definition the program links: packed"
else
	bad "weak definition linked: $(cat "$work/err")"
fi
exit $fail
