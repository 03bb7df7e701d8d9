#!/bin/bash
# Executable bytes no sized function symbol covers, built by gcc and gas:
# never "no change".
#  1. Assembly without .type/.size (a label only), with .type but no .size,
#     code after a sized function that no symbol starts, a top-level asm()
#     block in C: a change is reported with the reason, not hotpatchable
#     (exit 3), and the .hpd carries no code.
#  2. Padding is not code: functions growing and shrinking around such code
#     move it and change the nops between them, and nothing is reported for
#     it.
#  3. A changed C function calling unchanged unsized code (a global label
#     and a file-local one, reached without a relocation) is hotpatchable:
#     packed, applied to the running program, which then answers as the
#     fixed build, and as the baseline after revert.
# Environment: HP_BIN.
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin asm

why="executable bytes no sized function symbol covers (assembly without .type and .size, or a top-level asm block)"

# pair NAME EXT [FLAGS...]: old/NAME.o and new/NAME.o from old/NAME.EXT and new/NAME.EXT
pair() {
	local name=$1 ext=$2 d
	shift 2
	for d in old new; do
		(cd "$work/$d" && gcc -O2 "$@" -c "$name.$ext" -o "$name.o") || return 1
	done
}

# unpatchable NAME WHAT LINE: hpdiff exit 3, LINE (a fixed string) in the
# report, the reason given, a .hpd without code
unpatchable() {
	local name=$1 what=$2 line=$3 st
	rm -f "$work/x.hpd"
	"$bin/hpdiff" -o "$work/x.hpd" "$work/old/$name.o" "$work/new/$name.o" >"$work/out" 2>"$work/err"
	st=$?
	if [ $st = 3 ] && grep -qF -- "$line" "$work/out" && grep -qF -- "$why" "$work/out" &&
		"$bin/hpdiff" --inspect "$work/x.hpd" >"$work/inspect" &&
		grep -q "NOT hotpatchable" "$work/inspect" && ! grep -q "^  code " "$work/inspect"; then
		ok "$what: not hotpatchable, saying why"
	else
		bad "$what: exit $st: $(cat "$work/err" "$work/out")"
	fi
}

mkdir -p "$work/old" "$work/new"

# --- 1. changes in unsized code ---------------------------------------------
cat >"$work/old/labels.S" <<'S'
	.text
	.globl	add_one
add_one:
	lea	1(%rdi), %rax
	ret
	.globl	add_two
	.type	add_two, @function
add_two:
	lea	2(%rdi), %rax
	ret
	.globl	sized
	.type	sized, @function
sized:
	mov	%rdi, %rax
	ret
	.size	sized, .-sized
	lea	3(%rdi), %rax
	ret
S
sed 's/lea	1(%rdi)/lea	10(%rdi)/' "$work/old/labels.S" >"$work/new/labels.S"
pair labels S || { echo "cannot assemble"; exit 1; }
unpatchable labels "a label without .type or .size" \
	"func changed  add_one: NOT HOTPATCHABLE: at +0x0 \`lea 0x01(%rdi), %rax\` became \`lea 0x0a(%rdi), %rax\`"
sed 's/lea	2(%rdi)/lea	20(%rdi)/' "$work/old/labels.S" >"$work/new/labels.S"
pair labels S
unpatchable labels "a function of size 0 (.type, no .size)" "func changed  add_two: NOT HOTPATCHABLE"
sed 's/lea	3(%rdi)/lea	30(%rdi)/' "$work/old/labels.S" >"$work/new/labels.S"
pair labels S
unpatchable labels "code after a sized function that no symbol starts" \
	"func changed  (code after sized): NOT HOTPATCHABLE"
# a trap put on purpose after the last ret is code, not padding
cp "$work/old/labels.S" "$work/new/labels.S"
printf '\tud2\n' >>"$work/new/labels.S"
pair labels S
unpatchable labels "a trap added after unsized code" \
	"func changed  (code after sized): NOT HOTPATCHABLE: code added at +0x5: \`ud2\`"

cat >"$work/old/top.c" <<'C'
int helper(int x) { return x * 2; }
__asm__(".globl toplevel\ntoplevel:\n\tmov $1, %eax\n\tret\n");
int after(int x) { return x - 3; }
C
sed 's/mov \$1/mov $2/' "$work/old/top.c" >"$work/new/top.c"
pair top c || { echo "cannot compile"; exit 1; }
unpatchable top "a top-level asm block" \
	"func changed  toplevel: NOT HOTPATCHABLE: at +0x0 \`mov \$0x01, %eax\` became \`mov \$0x02, %eax\`"

# --- 2. padding moves, code does not change ------------------------------------
cat >"$work/old/pad.c" <<'C'
int grow(int x) { return x + 1; }
__asm__(".globl pad_asm\npad_asm:\n\tlea 7(%rdi), %eax\n\tret\n");
int shrink(int x, int y) { return x * y + x / (y | 1) - (x >> 3) + (y << 2); }
__asm__("\tlea 9(%rdi), %eax\n\tret\n");
C
cat >"$work/new/pad.c" <<'C'
int grow(int x) { return (x + 1) * (x - 5) / (x | 3) + (x << 4); }
__asm__(".globl pad_asm\npad_asm:\n\tlea 7(%rdi), %eax\n\tret\n");
int shrink(int x, int y) { return x * y; }
__asm__("\tlea 9(%rdi), %eax\n\tret\n");
C
# in source order, so the asm blocks sit between the functions and move with them
pair pad c -fno-toplevel-reorder
"$bin/hpdiff" "$work/old/pad.o" "$work/new/pad.o" >"$work/out" 2>&1
st=$?
if [ $st = 1 ] && grep -q "func changed  grow" "$work/out" && grep -q "func changed  shrink" "$work/out" &&
	! grep -q "pad_asm\|code after" "$work/out" &&
	[ "$(nm "$work/old/pad.o" | grep pad_asm)" != "$(nm "$work/new/pad.o" | grep pad_asm)" ]; then
	ok "unsized code moved by its neighbours, padding changed: not reported"
else
	bad "unsized code that only moved: exit $st: $(cat "$work/out")"
fi

# --- 3. C code calling unchanged unsized code: carried, applied live ---------------
for v in old new; do
	if [ $v = old ]; then k=2; else k=3; fi
	cat >"$work/$v/calls.c" <<C
#include <stdio.h>
int glob_asm(int);
int local_asm(int) __asm__("local_asm");
__asm__(".text\n.globl glob_asm\nglob_asm:\n\tlea 1(%rdi), %eax\n\tret\n"
	"local_asm:\n\tlea 100(%rdi), %eax\n\tret\n");
__attribute__((noinline)) int compute(int x) { return glob_asm(x) * $k + local_asm(x); }
int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin))
		printf("%d\n", compute(5));
	return 0;
}
C
	(cd "$work/$v" && gcc -O2 -c calls.c -o calls.o && gcc calls.o -o calls) ||
		{ echo "cannot build"; exit 1; }
done
"$bin/hpdiff" -o "$work/calls.hpd" "$work/old/calls.o" "$work/new/calls.o" >"$work/out" 2>&1
st=$?
if [ $st = 1 ] && grep -q "func changed  compute" "$work/out" &&
	[ "$(grep -c "changed\|new " "$work/out")" = 1 ] &&
	"$bin/hppack" --baseline "$work/old/calls" --seq 1 -o "$work/calls.hpk" --key "$pki/p256.key" \
		--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/calls.hpd" 2>"$work/err"; then
	mkfifo "$work/in"
	"$work/old/calls" <"$work/in" >"$work/answers" &
	pids=($!)
	exec 9>"$work/in"
	echo >&9
	wait_lines "$work/answers" 1 || bad "the program did not answer"
	"$bin/hpapply" "${pids[0]}" "$work/calls.hpk" --ca "$pki/root.pem" >"$work/apply.log" 2>&1 ||
		bad "hpapply: $(cat "$work/apply.log")"
	echo >&9
	wait_lines "$work/answers" 2
	"$bin/hpapply" --revert "${pids[0]}" >>"$work/apply.log" 2>&1 || bad "revert: $(cat "$work/apply.log")"
	echo >&9
	wait_lines "$work/answers" 3
	exec 9>&-
	wait "${pids[0]}"
	pids=()
	want="$(echo | "$work/old/calls")
$(echo | "$work/new/calls")
$(echo | "$work/old/calls")"
	if [ "$(cat "$work/answers")" = "$want" ]; then
		ok "a fix calling unsized code: packed; applied, answers as the fixed build; reverted, as the baseline"
	else
		bad "answers $(tr '\n' '|' <"$work/answers"), wanted $(echo "$want" | tr '\n' '|')"
	fi
else
	bad "a fix calling unsized code: hpdiff exit $st: $(cat "$work/out" "$work/err" 2>/dev/null)"
fi
exit $fail
