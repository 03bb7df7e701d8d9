#!/bin/bash
# hpapply on real processes: every refusal (exit 1) leaves the process
# untouched; trouble (exit 2); cumulative packages; a shared library as the
# baseline; many threads; and hpapply killed with SIGKILL at many moments,
# which must never leave the process stopped, crashed or half-patched.
#
# Environment: HP_BIN (tool directory).
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hp-apply-XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
pki=$work/pki
bash "$here/../pki/mkpki.sh" "$pki" >/dev/null 2>&1 || { echo "cannot make the test PKI"; exit 1; }
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { echo "ok: $*"; }

# ---- building the programs -------------------------------------------------------

cc=(gcc -O2 -g -fPIE -pthread)
for fix in 0 1 2; do
	mkdir -p "$work/v$fix"
	cp "$here/progs/busy.c" "$work/v$fix/busy.c"
	(cd "$work/v$fix" && "${cc[@]}" -DFIX=$fix -c busy.c -o busy.o && "${cc[@]}" -pie busy.o -o busy) ||
		{ echo "cannot build the test program"; exit 1; }
	cp "$here/progs/libscore.c" "$work/v$fix/libscore.c"
	(cd "$work/v$fix" && gcc -O2 -g -fPIC -DFIX=$fix -c libscore.c -o libscore.o &&
		gcc -shared -Wl,--build-id -o libscore.so libscore.o) || { echo "cannot build the library"; exit 1; }
done
gcc -O2 -g -o "$work/uselib" "$here/progs/uselib.c" -L"$work/v0" -lscore -Wl,-rpath,"$work/v0"

pack() { # pack OUT SEQ BASELINE HPD [hppack options]
	local out=$1 seq=$2 base=$3 hpd=$4
	shift 4
	"$bin/hppack" --baseline "$base" --seq "$seq" -o "$out" --key "$pki/p256.key" \
		--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$@" "$hpd" >/dev/null
}

"$bin/hpdiff" -o "$work/fix1.hpd" "$work/v0/busy.o" "$work/v1/busy.o" >/dev/null
"$bin/hpdiff" -o "$work/fix2.hpd" "$work/v0/busy.o" "$work/v2/busy.o" >/dev/null
"$bin/hpdiff" -o "$work/lib.hpd" "$work/v0/libscore.o" "$work/v1/libscore.o" >/dev/null
pack "$work/p1.hpk" 1 "$work/v0/busy" "$work/fix1.hpd" || { echo "cannot pack"; exit 1; }
pack "$work/p2.hpk" 2 "$work/v0/busy" "$work/fix2.hpd" --previous "$work/p1.hpk"
pack "$work/p3.hpk" 3 "$work/v0/busy" "$work/fix2.hpd" --previous "$work/p2.hpk"
pack "$work/lib.hpk" 1 "$work/v0/libscore.so" "$work/lib.hpd"

# ---- running them ---------------------------------------------------------------------

# start NAME CMD...: run CMD reading a fifo, output in $work/NAME.out; sets $pid
start() {
	local name=$1
	shift
	rm -f "$work/$name.in" "$work/$name.out"
	mkfifo "$work/$name.in"
	"$@" <"$work/$name.in" >"$work/$name.out" 2>&1 &
	pid=$!
	exec {fd}>"$work/$name.in"
	eval "fd_$name=$fd"
	sleep 0.1
}

# ask NAME [LINE]: one request (LINE, by default x), prints the answer
ask() {
	local name=$1 out=$work/$1.out fdv n
	fdv=fd_$name
	n=$(grep -c '^--$' "$out")
	echo "${2:-x}" >&"${!fdv}"
	for _ in $(seq 300); do
		[ "$(grep -c '^--$' "$out")" -gt "$n" ] && break
		sleep 0.01
	done
	awk -v n="$n" '/^--$/ { k++; next } k == n { print }' "$out"
}

stopped() { grep -qE '^State:\s+[tT]' "/proc/$1/status"; }
is_applied() { "$bin/hpapply" --list "$1" --json | grep -q '"applied":true'; }
finish() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
ours() { grep -c '/memfd:hpapply' "/proc/$1/maps"; }
# descriptors of ours open in PID: memory files, and /proc/PID/mem
our_fds() { ls -l "/proc/$1/fd" | grep -cE 'memfd:hpapply|/mem$'; }
# the signal masks of PID's threads
masks() { awk '/^SigBlk:/ { print $2 }' /proc/"$1"/task/*/status | sort | tr '\n' ' '; }
old_answer="score(500) = 1000, version = baseline"
fix1_answer="score(500) = -1, version = baseline"
fix2_answer="score(500) = -1, version = fixed twice"

# untouched NAME PID: still the baseline, running, nothing of ours mapped
untouched() {
	local a
	a=$(ask "$1")
	[ "$a" = "$old_answer" ] || { fail "$3: the process answers '$a'"; return; }
	stopped "$2" && { fail "$3: the process is stopped"; return; }
	[ "$(ours "$2")" = 0 ] || { fail "$3: hpapply mappings left behind"; return; }
	[ "$(our_fds "$2")" = 0 ] || { fail "$3: descriptors left open: $(ls -l "/proc/$2/fd")"; return; }
	ok "$3"
}

# refused WHAT PID PKG [CA]: hpapply must exit 1, naming WHAT ("refused (CLASS)")
refused() {
	local what=$1 p=$2 pkg=$3 ca=${4:-$pki/root.pem} log=$work/refused.log
	"$bin/hpapply" "$p" "$pkg" --ca "$ca" >"$log" 2>&1
	local st=$?
	[ $st = 1 ] || { fail "refusal '$what': exit $st: $(cat "$log")"; return 1; }
	grep -qF -- "$what" "$log" || { fail "refusal '$what' not named: $(cat "$log")"; return 1; }
}

# ---- refusals: exit 1, process untouched --------------------------------------------------

start r "$work/v0/busy" 8
rpid=$pid
[ "$(ask r)" = "$old_answer" ] || fail "baseline answer: $(ask r)"

# invalid package: a flipped byte in the middle of payload.zst's data (the last
# member, before the two end blocks)
cp "$work/p1.hpk" "$work/bad.hpk"
size=$(stat -c %s "$work/bad.hpk")
psize=$(tar -tvf "$work/bad.hpk" | awk '$6 == "payload.zst" { print $3 }')
at=$((size - 1024 - (psize + 511) / 512 * 512 + psize / 2))
b=$(od -An -tu1 -j "$at" -N1 "$work/bad.hpk" | tr -d ' ')
printf "$(printf '\\x%02x' $((b ^ 0x42)))" | dd of="$work/bad.hpk" bs=1 seek="$at" conv=notrunc status=none
refused "refused (payload hash)" "$rpid" "$work/bad.hpk" && untouched r "$rpid" "invalid package refused"
# a signature that does not chain to the given anchor
refused "refused (chain)" "$rpid" "$work/p1.hpk" "$pki/other-root.pem" && untouched r "$rpid" "untrusted signer refused"
# wrong baseline: the package for the library, applied to the program
refused "refused (target)" "$rpid" "$work/lib.hpk" && untouched r "$rpid" "wrong baseline refused"
# expired package
SOURCE_DATE_EPOCH=1600000000 "$bin/hppack" --baseline "$work/v0/busy" --seq 1 -o "$work/old.hpk" \
	--expires 2021-01-01T00:00:00Z --key "$pki/p256.key" --cert "$pki/p256.pem" \
	--chain "$pki/p256.chain" "$work/fix1.hpd" >/dev/null
refused "refused (expired)" "$rpid" "$work/old.hpk" && untouched r "$rpid" "expired package refused"
finish "$rpid"

# baseline bytes differ: the function was changed in memory (by something else)
start m "$work/v0/busy" 2
mpid=$pid
base=$(awk '$6 ~ /v0\/busy$/ { split($1, a, "-"); print a[1]; exit }' "/proc/$mpid/maps")
# a byte in the middle of spin(), which package 2 replaces and no thread runs here
read -r off size < <(nm -S "$work/v0/busy" | awk '$4 == "spin" { print $1, $2 }')
printf '\x90' | dd of="/proc/$mpid/mem" bs=1 seek=$((0x$base + 0x$off + 0x$size / 2)) conv=notrunc \
	status=none 2>/dev/null
"$bin/hpapply" "$mpid" "$work/p2.hpk" --ca "$pki/root.pem" >"$work/m.log" 2>&1
st=$?
if [ $st = 1 ] && grep -q "differ from the baseline" "$work/m.log" && [ "$(ours "$mpid")" = 0 ] &&
	! stopped "$mpid"; then
	ok "baseline bytes differing in memory refused"
else
	fail "bytes differing: exit $st: $(cat "$work/m.log")"
fi
finish "$mpid"

# a thread that never leaves a function being replaced
start s "$work/v0/busy" 2 spin
spid=$pid
"$bin/hpapply" "$spid" "$work/p1.hpk" --ca "$pki/root.pem" >"$work/s.log" 2>&1
st=$?
if [ $st = 1 ] && grep -q "executing in spin" "$work/s.log" && grep -q "attempts" "$work/s.log"; then
	untouched s "$spid" "busy thread: refused, naming the thread and function"
else
	fail "busy thread: exit $st: $(cat "$work/s.log")"
fi
finish "$spid"

# a stale return address into check() in a buffer on the stack: not a reason to refuse
for fix in 0 1; do
	mkdir -p "$work/st$fix"
	cp "$here/progs/stale.c" "$work/st$fix/stale.c"
	(cd "$work/st$fix" && gcc -O2 -g -fPIE -DFIX=$fix -c stale.c -o stale.o && gcc -pie stale.o -o stale)
done
"$bin/hpdiff" -o "$work/stale.hpd" "$work/st0/stale.o" "$work/st1/stale.o" >/dev/null
pack "$work/stale.hpk" 1 "$work/st0/stale" "$work/stale.hpd"
"$work/st0/stale" &
stpid=$!
sleep 0.2
"$bin/hpapply" "$stpid" "$work/stale.hpk" --ca "$pki/root.pem" >"$work/stale.log" 2>&1 &&
	ok "a stale return address on the stack does not block the apply" ||
	fail "stale return address: $(cat "$work/stale.log")"
finish "$stpid"

# ---- trouble: exit 2 -----------------------------------------------------------------------------

# trouble WHAT MESSAGE CMD...: CMD must exit 2 and print MESSAGE
trouble() {
	local what=$1 msg=$2 log=$work/trouble.log st
	shift 2
	"$@" >"$log" 2>&1
	st=$?
	[ $st = 2 ] && grep -qxF -- "$msg" "$log" && ok "$what: exit 2" ||
		fail "$what: exit $st: $(cat "$log")"
}
trouble "no such process" "hpapply: process 999999: no such process" \
	"$bin/hpapply" 999999 "$work/p1.hpk" --ca "$pki/root.pem"
trouble "bad usage" "hpapply: expected PID and PKG" "$bin/hpapply" 1
trouble "no --ca" "hpapply: --ca is required: packages are always verified" \
	"$bin/hpapply" "$$" "$work/p1.hpk"
# trouble_attach WHAT NAME MESSAGE CMD...: CMD (an hpapply on process $pid) must
# exit 2 naming MESSAGE, without crashing, and leave the process untouched
trouble_attach() {
	local what=$1 name=$2 msg=$3 st
	shift 3
	"$@" >"$work/$name.log" 2>&1
	st=$?
	if [ $st = 2 ] && grep -q -- "$msg" "$work/$name.log"; then
		ok "$what: exit 2, '$msg'"
	else
		fail "$what: exit $st (139 is a crash): $(cat "$work/$name.log")"
	fi
	untouched "$name" "$pid" "$what: untouched"
}
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	# package and anchor readable by nobody: the attach is what must fail
	pub=$(mktemp -d /tmp/hp-apply-pub-XXXXXX)
	chmod 755 "$pub"
	cp "$work/p1.hpk" "$pki/root.pem" "$pub"/
	chmod 644 "$pub"/*
	start n "$work/v0/busy" 1
	trouble_attach "no permission" n "cannot open its memory" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$bin/hpapply" "$pid" "$pub/p1.hpk" --ca "$pub/root.pem"
	finish "$pid"
	rm -rf "$pub"
fi
# a process another tracer is attached to (as under a debugger)
cat >"$work/tracer.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	if (argc != 2 || ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0) < 0)
		return perror("tracer"), 1;
	puts("seized");
	fflush(stdout);
	pause();
	return 0;
}
EOF
gcc -O2 -o "$work/tracer" "$work/tracer.c" || { echo "cannot build the tracer"; exit 1; }
start d "$work/v0/busy" 1
"$work/tracer" "$pid" >"$work/tracer.out" 2>&1 &
tracer=$!
for _ in $(seq 100); do grep -q seized "$work/tracer.out" && break; sleep 0.01; done
if grep -q seized "$work/tracer.out"; then
	trouble_attach "already traced" d "traced by a debugger" \
		"$bin/hpapply" "$pid" "$work/p1.hpk" --ca "$pki/root.pem"
else
	fail "the tracer could not attach: $(cat "$work/tracer.out")"
fi
kill "$tracer" 2>/dev/null
wait "$tracer" 2>/dev/null
finish "$pid"

# ---- cumulative packages, sequence, list, revert --------------------------------------------

start c "$work/v0/busy" 4
cpid=$pid
"$bin/hpapply" "$cpid" "$work/p1.hpk" --ca "$pki/root.pem" >/dev/null && [ "$(ask c)" = "$fix1_answer" ] &&
	ok "package 1 applied" || fail "package 1: $(ask c)"
"$bin/hpapply" "$cpid" "$work/p2.hpk" --ca "$pki/root.pem" >/dev/null && [ "$(ask c)" = "$fix2_answer" ] &&
	ok "package 2 replaced package 1 in one step" || fail "package 2: $(ask c)"
"$bin/hpapply" --list "$cpid" --json >"$work/list.json"
grep -q '"sequence":2' "$work/list.json" && grep -q '"name":"version"' "$work/list.json" &&
	ok "--list shows package 2 and its functions" || fail "--list: $(cat "$work/list.json")"
refused "refused (sequence)" "$cpid" "$work/p1.hpk" && [ "$(ask c)" = "$fix2_answer" ] &&
	ok "older package refused, package 2 still applied" || fail "older package"
refused "refused (sequence)" "$cpid" "$work/p2.hpk" && ok "same sequence refused" || fail "same sequence"
"$bin/hpapply" --revert "$cpid" >/dev/null && [ "$(ask c)" = "$old_answer" ] &&
	ok "revert restores the baseline" || fail "revert: $(ask c)"
refused "refused (sequence)" "$cpid" "$work/p1.hpk" && ok "after revert, the anti-rollback floor still refuses package 1" ||
	fail "floor after revert"
"$bin/hpapply" "$cpid" "$work/p3.hpk" --ca "$pki/root.pem" >/dev/null && [ "$(ask c)" = "$fix2_answer" ] &&
	ok "package 3 applied after revert" || fail "package 3"
"$bin/hpapply" --revert "$cpid" >/dev/null
"$bin/hpapply" --revert "$cpid" >/dev/null 2>&1
[ $? = 1 ] && ok "revert with nothing applied: exit 1" || fail "double revert"
[ "$(ours "$cpid")" = 1 ] && ok "only the state record stays mapped" || fail "mappings: $(grep hpapply /proc/$cpid/maps)"
finish "$cpid"

# the state record is not trusted for writes: a redirect put back by something
# else makes a revert refuse, touching nothing
start e "$work/v0/busy" 2
epid=$pid
"$bin/hpapply" "$epid" "$work/p2.hpk" --ca "$pki/root.pem" >/dev/null || fail "state check: apply"
base=$(awk '$6 ~ /v0\/busy$/ { split($1, a, "-"); print a[1]; exit }' "/proc/$epid/maps")
func=$("$bin/hpapply" --list "$epid" | awk '$1 == "redirected" && $2 == "version" { print $4 }')
dd if="$work/v0/busy" bs=1 skip=$((func - 0x$base)) count=9 status=none |
	dd of="/proc/$epid/mem" bs=1 seek=$((func)) conv=notrunc status=none 2>/dev/null
before=$(grep hpapply "/proc/$epid/maps")
"$bin/hpapply" --revert "$epid" >"$work/e.log" 2>&1
st=$?
if [ $st = 1 ] && grep -q "changed by something else" "$work/e.log" && [ "$(ask e)" = "$fix1_answer" ] &&
	[ "$(grep hpapply "/proc/$epid/maps")" = "$before" ] && ! stopped "$epid"; then
	ok "a redirect changed by something else: revert refused, nothing touched"
else
	fail "state check: exit $st: $(cat "$work/e.log"); answer $(ask e)"
fi
finish "$epid"

# ---- a shared library as the baseline ------------------------------------------------------

start l "$work/uselib"
lpid=$pid
[ "$(ask l)" = "lib_score(500) = 1500" ] || fail "library baseline answer: $(ask l)"
"$bin/hpapply" "$lpid" "$work/lib.hpk" --ca "$pki/root.pem" >/dev/null &&
	[ "$(ask l)" = "lib_score(500) = -1" ] && ok "package for a shared library applied" ||
	fail "shared library: $(ask l)"
"$bin/hpapply" --revert "$lpid" >/dev/null && [ "$(ask l)" = "lib_score(500) = 1500" ] &&
	ok "shared library reverted" || fail "shared library revert"
finish "$lpid"

# ---- many threads -------------------------------------------------------------------------------

start t "$work/v0/busy" 64
tpid=$pid
good=0
for i in $(seq 20); do
	"$bin/hpapply" "$tpid" "$work/p2.hpk" --ca "$pki/root.pem" >/dev/null && [ "$(ask t)" = "$fix2_answer" ] &&
		"$bin/hpapply" --revert "$tpid" >/dev/null && [ "$(ask t)" = "$old_answer" ] && good=$((good + 1))
	# the floor: package 2 can be applied again only while nothing newer was
done
[ "$good" = 20 ] && kill -0 "$tpid" && ok "64 threads: 20 apply/revert cycles" || fail "64 threads: $good of 20"
finish "$tpid"

# one thread: it runs the commit itself, and is stopped again right after it
start o "$work/v0/busy" 0
opid=$pid
good=0
for i in $(seq 30); do
	"$bin/hpapply" "$opid" "$work/p2.hpk" --ca "$pki/root.pem" >/dev/null && [ "$(ask o)" = "$fix2_answer" ] &&
		"$bin/hpapply" --revert "$opid" >/dev/null && [ "$(ask o)" = "$old_answer" ] && good=$((good + 1))
done
[ "$good" = 30 ] && kill -0 "$opid" && ok "single thread: 30 apply/revert cycles" || fail "single thread: $good of 30"
finish "$opid"

# a stream of signals whose handler makes system calls, while hpapply runs its
# remote calls on the one thread that receives them
BUSY_SIGNALS=1 start g "$work/v0/busy" 0
gpid=$pid
gmasks=$(masks "$gpid")
(while kill -USR1 "$gpid" 2>/dev/null; do :; done) &
sender=$!
good=0
for i in $(seq 20); do
	"$bin/hpapply" "$gpid" "$work/p2.hpk" --ca "$pki/root.pem" >>"$work/g.log" 2>&1 &&
		[ "$(ask g)" = "$fix2_answer" ] && "$bin/hpapply" --revert "$gpid" >>"$work/g.log" 2>&1 &&
		[ "$(ask g)" = "$old_answer" ] && good=$((good + 1))
done
kill "$sender" 2>/dev/null
wait "$sender" 2>/dev/null
sleep 0.1 # a handler still running shows its signal blocked
[ "$good" = 20 ] && kill -0 "$gpid" && ! stopped "$gpid" && [ "$(ours "$gpid")" = 1 ] &&
	[ "$(masks "$gpid")" = "$gmasks" ] &&
	ok "a stream of signals: 20 apply/revert cycles" ||
	fail "a stream of signals: $good of 20, masks $(masks "$gpid") (were $gmasks): $(grep -v "applied\|reverted" "$work/g.log")"
finish "$gpid"

# the process cannot patch its own code: its seccomp filter makes a call of the
# commit stub fail; known from the filter before anything runs: refused
for call in pwrite64 openat; do
	BUSY_DENY=$call start w "$work/v0/busy" 2
	wpid=$pid
	before=$(masks "$wpid")
	"$bin/hpapply" "$wpid" "$work/p1.hpk" --ca "$pki/root.pem" >"$work/w.log" 2>&1
	st=$?
	if [ $st = 1 ] && grep -qF "its seccomp filter would make it fail with Operation not permitted (SECCOMP_RET_ERRNO) for hpapply's $call" "$work/w.log" &&
		[ "$(masks "$wpid")" = "$before" ]; then
		untouched w "$wpid" "$call denied by seccomp in the process: refused, nothing changed"
	else
		fail "$call denied: exit $st: $(cat "$work/w.log")"
	fi
	finish "$wpid"
done

# ---- hpapply killed at any moment -----------------------------------------------------------------

start k "$work/v0/busy" 8
kpid=$pid
kmasks=$(masks "$kpid")
consistent=0 applied=0
for i in $(seq 60); do
	delay=$(awk -v i="$i" 'BEGIN { srand(i); printf "%.4f", rand() * 0.04 }')
	if [ "$(awk '/^State:/ { print $2 }' /proc/$kpid/status)" = "" ]; then break; fi
	if is_applied "$kpid"; then
		"$bin/hpapply" --revert "$kpid" >/dev/null 2>&1 &
	else
		"$bin/hpapply" "$kpid" "$work/p2.hpk" --ca "$pki/root.pem" >/dev/null 2>&1 &
	fi
	hp=$!
	sleep "$delay"
	kill -9 "$hp" 2>/dev/null
	wait "$hp" 2>/dev/null
	sleep 0.02
	if ! kill -0 "$kpid" 2>/dev/null; then
		fail "killed hpapply (after ${delay}s): the process died"
		break
	fi
	stopped "$kpid" && { fail "killed hpapply (after ${delay}s): the process is stopped"; break; }
	[ "$(masks "$kpid")" = "$kmasks" ] ||
		{ fail "killed hpapply (after ${delay}s): signal masks $(masks "$kpid"), were $kmasks"; break; }
	a=$(ask k)
	case $a in
	"$old_answer") consistent=$((consistent + 1)) ;;
	"$fix2_answer") consistent=$((consistent + 1)) applied=$((applied + 1)) ;;
	*) fail "killed hpapply (after ${delay}s): half-patched: '$a'"; break ;;
	esac
	# the state must agree with the behaviour
	if is_applied "$kpid"; then
		[ "$a" = "$fix2_answer" ] || fail "killed hpapply: state says applied, process answers '$a'"
	else
		[ "$a" = "$old_answer" ] || fail "killed hpapply: state says nothing applied, process answers '$a'"
	fi
done
[ "$consistent" = 60 ] && ok "hpapply killed 60 times at random moments: always whole ($applied patched)" ||
	fail "kill test: $consistent of 60 consistent"
# leftovers of killed runs are swept by the next run; plant one more
# descriptor of the kind a run killed between creating and closing leaves
ask k m >/dev/null
left=$(our_fds "$kpid")
is_applied "$kpid" && "$bin/hpapply" --revert "$kpid" >/dev/null
"$bin/hpapply" "$kpid" "$work/p3.hpk" --ca "$pki/root.pem" >/dev/null &&
	"$bin/hpapply" --revert "$kpid" >/dev/null && [ "$(ours "$kpid")" = 1 ] &&
	[ "$left" -ge 1 ] && [ "$(our_fds "$kpid")" = 0 ] && [ "$(masks "$kpid")" = "$kmasks" ] &&
	[ "$(ask k)" = "$old_answer" ] &&
	ok "after the kills, apply and revert work and nothing is left over" ||
	fail "after the kills ($left left): $(grep hpapply /proc/$kpid/maps; ls -l /proc/$kpid/fd | grep -E 'hpapply|/mem$')"
finish "$kpid"

echo "hpapply tests: $failed failed"
[ "$failed" = 0 ]
