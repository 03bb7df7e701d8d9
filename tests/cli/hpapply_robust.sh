#!/bin/bash
# hpapply on targets that are hard to stop or to work in: it patches them
# correctly or refuses with the reason, in bounded time, and the target is
# alive and answers as the fixed build (or, after a refusal or a revert,
# as the baseline) afterwards.
#
#   a process whose main thread calls _exit while hpapply works
#   a process whose main thread has ended (pthread_exit in main)
#   a thread in vfork(), a thread in uninterruptible sleep, a frozen cgroup
#   seccomp: strict mode, a filter that kills on a call hpapply makes, one
#   that does not
#   stacks: a return into the package's code 10 MiB deep, from an alternate
#   signal stack, and a pc a signal interrupted there: no revert while so
#   a library loaded three times (dlopen of a copy, dlmopen): every instance
#   patched and reverted; unloaded and loaded again: the record is stale
#
# Every hpapply runs under timeout(1): a hang is a failure, not a stuck
# test.  Environment: HP_BIN (tool directory).
set -uo pipefail
bin=${HP_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cli_begin robust

# ---- programs and packages --------------------------------------------------------------

cc=(gcc -O2 -g -fPIE -pthread)
for fix in 0 1; do
	mkdir -p "$work/v$fix"
	(cd "$work/v$fix" && "${cc[@]}" -DFIX=$fix -c "$here/progs/busy.c" -o busy.o &&
		"${cc[@]}" -pie busy.o -o busy) || { echo "cannot build the test program"; exit 1; }
done
"$bin/hpdiff" -o "$work/fix1.hpd" "$work/v0/busy.o" "$work/v1/busy.o" >/dev/null
"$bin/hppack" --baseline "$work/v0/busy" --seq 1 -o "$work/p1.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/fix1.hpd" >/dev/null ||
	{ echo "cannot pack"; exit 1; }
for fix in 0 1; do
	(cd "$work/v$fix" && "${cc[@]}" -DFIX=$fix -c "$here/progs/deep.c" -o deep.o &&
		"${cc[@]}" -pie deep.o -o deep) || { echo "cannot build deep"; exit 1; }
done
"$bin/hpdiff" -o "$work/deep.hpd" "$work/v0/deep.o" "$work/v1/deep.o" >/dev/null
"$bin/hppack" --baseline "$work/v0/deep" --seq 1 -o "$work/deep.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/deep.hpd" >/dev/null ||
	{ echo "cannot pack deep"; exit 1; }
# libscore.so needs libhelp.so (whose help_sign its FIX 2 calls)
mkdir -p "$work/v2" "$work/help"
gcc -O2 -g -fPIC -shared -o "$work/help/libhelp.so" "$here/progs/libhelp.c" ||
	{ echo "cannot build libhelp"; exit 1; }
for fix in 0 1 2; do
	(cd "$work/v$fix" && gcc -O2 -g -fPIC -DFIX=$fix -c "$here/progs/libscore.c" -o libscore.o &&
		gcc -shared -Wl,--build-id -o libscore.so libscore.o -L"$work/help" -Wl,--no-as-needed \
			-lhelp -Wl,-rpath,"$work/help") || { echo "cannot build the library"; exit 1; }
done
gcc -O2 -g -o "$work/libuser" "$here/progs/libuser.c" || { echo "cannot build libuser"; exit 1; }
mkdir -p "$work/copy"
cp "$work/v0/libscore.so" "$work/copy/libscore-copy.so"
"$bin/hpdiff" -o "$work/lib.hpd" "$work/v0/libscore.o" "$work/v1/libscore.o" >/dev/null
"$bin/hppack" --baseline "$work/v0/libscore.so" --seq 1 -o "$work/lib.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/lib.hpd" >/dev/null ||
	{ echo "cannot pack the library"; exit 1; }
# the same fix through a call to libhelp.so: the package imports help_sign
"$bin/hpdiff" -o "$work/lib2.hpd" "$work/v0/libscore.o" "$work/v2/libscore.o" >/dev/null
"$bin/hppack" --baseline "$work/v0/libscore.so" --seq 1 -o "$work/lib2.hpk" --key "$pki/p256.key" \
	--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$work/lib2.hpd" >/dev/null ||
	{ echo "cannot pack the library's second fix"; exit 1; }
base_answer="score(500) = 1000, version = baseline"
fix_answer="score(500) = -1, version = baseline"

# hp LOG ARGS...: hpapply ARGS under a time limit, output in LOG; prints the
# exit status (124 if it had to be stopped)
hp() {
	local log=$1
	shift
	timeout 60 "$bin/hpapply" "$@" >"$log" 2>&1
	echo $?
}
apply() { hp "$1" "$2" "$work/p1.hpk" --ca "$pki/root.pem"; }

# untouched NAME PID WHAT: still the baseline, running, nothing of ours mapped
untouched() {
	local a
	a=$(fifo_ask "$1")
	if [ "$a" != "$base_answer" ]; then
		bad "$3: the process answers '$a'"
	elif is_stopped "$2"; then
		bad "$3: the process is stopped"
	elif [ "$(hp_maps "$2")" != 0 ]; then
		bad "$3: hpapply mappings left behind: $(grep hpapply "/proc/$2/maps")"
	else
		ok "$3"
	fi
}

# patched NAME PID WHAT: apply works now, and the process answers as the fix
patched() {
	local st
	st=$(apply "$work/$1.apply.log" "$2")
	if [ "$st" = 0 ] && [ "$(fifo_ask "$1")" = "$fix_answer" ]; then
		ok "$3"
	else
		bad "$3: exit $st: $(cat "$work/$1.apply.log")"
	fi
}

# ---- the process exits while hpapply works ----------------------------------------------

# A thread spins in score(): hpapply retries for a second or more, and the
# main thread calls _exit(3) in the middle of that.  The kernel reports the
# traced main thread's end only after the other traced threads were reaped.
BUSY_EXIT_MS=300 "$work/v0/busy" 2 spin </dev/null >/dev/null 2>&1 &
epid=$!
pids+=("$epid")
st=$(apply "$work/exit.log" "$epid")
wait "$epid"
est=$?
if [ "$st" = 2 ] && grep -qxF "hpapply: process $epid exited during the apply" "$work/exit.log" &&
	[ "$est" = 3 ] && [ ! -e "/proc/$epid" ]; then
	ok "the process exits during the retries: exit 2, 'exited during the apply', its own exit status"
else
	bad "exit during the apply: hpapply exit $st, process exit $est: $(cat "$work/exit.log")"
fi

# The same at many moments of an apply, with 8 threads: applied, or the exit
# said; never a hang, and the process always ends by its own _exit.
good=0
for ms in 0 5 10 20 30 40 50 60 80 100 125 150; do
	BUSY_EXIT_MS=$ms "$work/v0/busy" 8 </dev/null >/dev/null 2>&1 &
	epid=$!
	pids+=("$epid")
	sleep 0.002
	st=$(apply "$work/exit.log" "$epid")
	wait "$epid"
	est=$?
	case $st in
	0) ;;
	2) grep -qE "process $epid( exited during the apply|: no such process)" "$work/exit.log" ||
		{ bad "exit after $ms ms: $(cat "$work/exit.log")"; continue; } ;;
	*) bad "exit after $ms ms: hpapply exit $st: $(cat "$work/exit.log")"; continue ;;
	esac
	[ "$est" = 3 ] || { bad "exit after $ms ms: the process ended with $est"; continue; }
	good=$((good + 1))
done
[ "$good" = 12 ] && ok "the process exits at 12 moments of an apply: never a hang, its own exit"

# ---- the main thread has ended ------------------------------------------------------------

BUSY_MAIN_EXIT=0 fifo_start me "$work/v0/busy" 2
mpid=$pid
[ "$(fifo_ask me)" = "$base_answer" ] || bad "main thread gone: baseline answer $(fifo_ask me)"
patched me "$mpid" "main thread gone (pthread_exit in main): applied"
if "$bin/hpapply" --list "$mpid" --json 2>&1 | grep -q '"applied":true'; then
	ok "main thread gone: --list shows the package"
else
	bad "main thread gone: --list: $("$bin/hpapply" --list "$mpid" 2>&1)"
fi
st=$(hp "$work/me.log" --revert "$mpid")
[ "$st" = 0 ] && [ "$(fifo_ask me)" = "$base_answer" ] && ok "main thread gone: reverted" ||
	bad "main thread gone: revert exit $st: $(cat "$work/me.log")"

# The main thread (the one hpapply works through) calls pthread_exit 50 ms
# after hpapply attached, during the retries: while a thread spins in
# spin(), refused for that; once the spinning is over (300 ms after the
# attach), applied through another thread.
BUSY_MAIN_EXIT=traced fifo_start mx "$work/v0/busy" 2 spin
st=$(apply "$work/mx.log" "$pid")
if [ "$st" = 1 ] && grep -q "executing in spin, after 12 attempts" "$work/mx.log"; then
	untouched mx "$pid" "main thread ends during the retries: refused for the busy thread, cleaned up"
else
	bad "main thread ends during the retries: exit $st: $(cat "$work/mx.log")"
fi
BUSY_MAIN_EXIT=traced BUSY_SPIN_MS=300 fifo_start my "$work/v0/busy" 2 spin
patched my "$pid" "main thread ends before the commit: applied through another thread"

# ---- threads that cannot be stopped ------------------------------------------------------------

# A thread in vfork(): it waits in the kernel while the child runs in the
# process's memory.  Refused, naming it; once the child is gone, applied.
BUSY_VFORK=1 fifo_start vf "$work/v0/busy" 2
vpid=$pid
sleep 0.1
child=$(cat /proc/"$vpid"/task/*/children | tr -d ' \n')
[ -n "$child" ] && pids+=("$child")
st=$(apply "$work/vf.log" "$vpid")
if [ "$st" = 1 ] && grep -q "is in vfork(): it waits while its child $child runs" "$work/vf.log"; then
	untouched vf "$vpid" "a thread in vfork(): refused (exit 1), naming it and the child"
else
	bad "vfork: exit $st: $(cat "$work/vf.log")"
fi
kill -9 "$child" 2>/dev/null
sleep 0.1
patched vf "$vpid" "the vfork child gone: applied"

# A thread in uninterruptible sleep: stat() on a FUSE file system that never
# answers.
fuse_mnt=$work/fuse
mkdir -p "$fuse_mnt"
gcc -O2 -o "$work/fusehang" "$here/progs/fusehang.c" || { echo "cannot build fusehang"; exit 1; }
"$work/fusehang" "$fuse_mnt" >"$work/fuse.out" 2>&1 &
fpid=$!
pids+=("$fpid")
for _ in $(seq 100); do grep -q mounted "$work/fuse.out" && break; sleep 0.01; done
if grep -q mounted "$work/fuse.out"; then
	BUSY_STAT=$fuse_mnt/x fifo_start d "$work/v0/busy" 2
	dpid=$pid
	sleep 0.2
	st=$(apply "$work/d.log" "$dpid")
	if [ "$st" = 1 ] && grep -q "is in uninterruptible sleep (state D, in " "$work/d.log" &&
		grep -q "after 12 attempts" "$work/d.log"; then
		untouched d "$dpid" "a thread in uninterruptible sleep: refused (exit 1), naming it"
	else
		bad "uninterruptible sleep: exit $st: $(cat "$work/d.log")"
	fi
	kill -9 "$fpid"
	wait "$fpid" 2>/dev/null
	umount -l "$fuse_mnt" 2>/dev/null
	for _ in $(seq 100); do grep -q ' D ' /proc/"$dpid"/task/*/stat || break; sleep 0.01; done
	patched d "$dpid" "the sleep over: applied"
else
	echo "skip  uninterruptible sleep: cannot mount FUSE here: $(cat "$work/fuse.out")"
	kill -9 "$fpid" 2>/dev/null
fi

# A frozen cgroup: cgroup v2 (cgroup.freeze), and the v1 freezer.  Refused at
# once, the process untouched; thawed, applied.
cg_frozen() { # cg_frozen KIND DIR FREEZE THAW: one case
	local kind=$1 dir=$2 freeze=$3 thaw=$4 st
	mkdir -p "$dir" || { echo "skip  $kind: cannot make a cgroup"; return; }
	fifo_start fz "$work/v0/busy" 2
	local zpid=$pid
	echo "$zpid" >"$dir/cgroup.procs" && eval "$freeze" || {
		echo "skip  $kind: cannot freeze"
		kill -9 "$zpid"
		return
	}
	sleep 0.1
	st=$(apply "$work/fz.log" "$zpid")
	eval "$thaw"
	if [ "$st" = 1 ] && grep -q "process $zpid: refused: process $zpid is in a frozen cgroup" \
		"$work/fz.log" && ! grep -q attempts "$work/fz.log"; then
		untouched fz "$zpid" "$kind: refused at once (exit 1), naming the cgroup"
	else
		bad "$kind: exit $st: $(cat "$work/fz.log")"
	fi
	patched fz "$zpid" "$kind thawed: applied"
	kill -9 "$zpid"
	wait "$zpid" 2>/dev/null
	rmdir "$dir" 2>/dev/null
}
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
cg1=$(awk '$9 == "cgroup" && $NF ~ /(^|,)freezer(,|$)/ { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cg2" ] && [ -w "$cg2" ]; then
	d=$cg2/hp-robust-$$
	cg_frozen "cgroup v2 freezer" "$d" "echo 1 >$d/cgroup.freeze" "echo 0 >$d/cgroup.freeze"
else
	echo "skip  cgroup v2 freezer: no writable cgroup2 mount"
fi
if [ -n "$cg1" ] && [ -w "$cg1" ]; then
	d=$cg1/hp-robust-$$
	cg_frozen "cgroup v1 freezer" "$d" "echo FROZEN >$d/freezer.state" \
		"echo THAWED >$d/freezer.state"
else
	echo "skip  cgroup v1 freezer: not mounted"
fi

# ---- the whole stack ------------------------------------------------------------------------

# The worker goes into the package's entry(), then waits where its return
# into the package's code is: below 10 MiB of frames, beyond an alternate
# signal stack, or as the pc a signal interrupted.  A revert would unmap
# that code: refused while it waits; once it has returned, reverted.
fifo_start deep "$work/v0/deep"
kpid=$pid
[ "$(fifo_ask deep)" = "entry = 0" ] || bad "deep: baseline answer $(fifo_ask deep)"
for mode in d:"will return into the applied package's code":"10 MiB deep" \
	a:"will return into the applied package's code":"from an alternate signal stack" \
	s:"was interrupted in the applied package's code by a signal":"interrupted by a signal"; do
	IFS=: read -r cmd msg what <<<"$mode"
	st=$(hp "$work/deep.log" "$kpid" "$work/deep.hpk" --ca "$pki/root.pem")
	[ "$st" = 0 ] && [ "$(fifo_ask deep)" = "entry = 1000" ] ||
		{ bad "deep ($what): apply exit $st: $(cat "$work/deep.log")"; continue; }
	[ "$(fifo_ask deep "$cmd")" = waiting ] || { bad "deep ($what): the worker does not wait"; continue; }
	st=$(hp "$work/deep.log" --revert "$kpid")
	if [ "$st" = 1 ] && grep -qF "$msg" "$work/deep.log"; then
		ok "a thread returning into the package's code ($what): revert refused"
	else
		bad "deep ($what): revert exit $st: $(cat "$work/deep.log")"
	fi
	a=$(fifo_ask deep r)
	case $a in
	"returned 100"[01]) ok "  the thread returned through the package's code" ;;
	*) bad "deep ($what): after the refusal the worker answers '$a'" ;;
	esac
	st=$(hp "$work/deep.log" --revert "$kpid")
	[ "$st" = 0 ] && [ "$(fifo_ask deep)" = "entry = 0" ] && ok "  then reverted" ||
		bad "deep ($what): revert after the return: exit $st: $(cat "$work/deep.log")"
done
kill -0 "$kpid" 2>/dev/null || bad "deep: the process died"

# ---- a library loaded more than once, unloaded, loaded again -------------------------------------

lib() { hp "$1" "$2" "$work/lib.hpk" --ca "$pki/root.pem"; }
fifo_start lu "$work/libuser"
lpid=$pid
fifo_ask lu "o $work/v0/libscore.so" >/dev/null
fifo_ask lu "o $work/copy/libscore-copy.so" >/dev/null
fifo_ask lu "m $work/v0/libscore.so" >/dev/null
a=$(fifo_ask lu)
[ "$a" = "lib_score(500) = 1500 1500 1500" ] || bad "three instances: baseline answer '$a'"
# the new code calling libhelp.so, of which the dlmopen namespace has its own copy
st=$(hp "$work/lu.log" "$lpid" "$work/lib2.hpk" --ca "$pki/root.pem")
if [ "$st" = 1 ] && grep -q "the package calls help_sign, defined in .*libhelp.so, which is loaded more than once" "$work/lu.log" &&
	[ "$(fifo_ask lu)" = "lib_score(500) = 1500 1500 1500" ] && [ "$(hp_maps "$lpid")" = 0 ]; then
	ok "an import from a library loaded twice (dlmopen): refused, naming it, nothing changed"
else
	bad "import from a library loaded twice: exit $st: $(cat "$work/lu.log")"
fi
st=$(lib "$work/lu.log" "$lpid")
a=$(fifo_ask lu)
if [ "$st" = 0 ] && [ "$a" = "lib_score(500) = -1 -1 -1" ] &&
	[ "$(grep -c '^  instance ' "$work/lu.log")" = 3 ]; then
	ok "a library loaded three times (a copy, dlmopen): every instance patched, each listed"
else
	bad "three instances: exit $st, answer '$a': $(cat "$work/lu.log")"
fi
"$bin/hpapply" --list "$lpid" >"$work/lu.list" 2>&1
[ "$(grep -c '^  baseline ' "$work/lu.list")" = 3 ] && [ "$(grep -c '^  redirected lib_score' "$work/lu.list")" = 3 ] &&
	ok "  --list shows the three instances" || bad "three instances: --list: $(cat "$work/lu.list")"
st=$(hp "$work/lu.log" --revert "$lpid")
a=$(fifo_ask lu)
[ "$st" = 0 ] && [ "$a" = "lib_score(500) = 1500 1500 1500" ] && ok "  and each reverted" ||
	bad "three instances: revert exit $st, answer '$a': $(cat "$work/lu.log")"

# dlclose after an apply: the record names code no longer loaded
fifo_ask lu c >/dev/null
fifo_ask lu "o $work/v0/libscore.so" >/dev/null
st=$(lib "$work/lu.log" "$lpid")
[ "$st" = 0 ] && [ "$(fifo_ask lu)" = "lib_score(500) = -1" ] || bad "dlclose: apply exit $st: $(cat "$work/lu.log")"
fifo_ask lu c >/dev/null
grep -v hpapply "/proc/$lpid/maps" | grep -q "libscore.so" && bad "dlclose: the library is still mapped"
"$bin/hpapply" --list "$lpid" >"$work/lu.list" 2>&1
"$bin/hpapply" --list "$lpid" --json >"$work/lu.json" 2>&1
if grep -q "^process $lpid: nothing applied" "$work/lu.list" && grep -q "unloaded since" "$work/lu.list" &&
	grep -q '"applied":false' "$work/lu.json"; then
	ok "the library unloaded (dlclose): --list says nothing is applied, the record stale"
else
	bad "dlclose: --list: $(cat "$work/lu.list" "$work/lu.json")"
fi
st=$(hp "$work/lu.log" --revert "$lpid")
[ "$st" = 1 ] && grep -q "nothing is applied" "$work/lu.log" && ok "  revert: nothing to revert (exit 1)" ||
	bad "dlclose: revert exit $st: $(cat "$work/lu.log")"
# loaded again: it runs the baseline, and a new apply works
fifo_ask lu "o $work/v0/libscore.so" >/dev/null
[ "$(fifo_ask lu)" = "lib_score(500) = 1500" ] || bad "dlopen again: answer $(fifo_ask lu)"
"$bin/hpapply" --list "$lpid" --json >"$work/lu.json" 2>&1
grep -q '"applied":false' "$work/lu.json" || bad "dlopen again: --list: $(cat "$work/lu.json")"
st=$(lib "$work/lu.log" "$lpid")
a=$(fifo_ask lu)
[ "$st" = 0 ] && [ "$a" = "lib_score(500) = -1" ] && ok "  loaded again (dlopen): applied anew" ||
	bad "dlopen again: apply exit $st, answer '$a': $(cat "$work/lu.log")"
st=$(hp "$work/lu.log" --revert "$lpid")
[ "$st" = 0 ] && [ "$(fifo_ask lu)" = "lib_score(500) = 1500" ] && ok "  and reverted" ||
	bad "dlopen again: revert exit $st: $(cat "$work/lu.log")"
[ "$(hp_maps "$lpid")" = 1 ] || bad "dlopen again: mappings left: $(grep hpapply "/proc/$lpid/maps")"
# with libhelp.so loaded once, the package that imports from it applies
fifo_start l2 "$work/libuser"
fifo_ask l2 "o $work/v0/libscore.so" >/dev/null
st=$(hp "$work/l2.log" "$pid" "$work/lib2.hpk" --ca "$pki/root.pem")
[ "$st" = 0 ] && [ "$(fifo_ask l2)" = "lib_score(500) = -1" ] &&
	ok "the package importing from another library (loaded once): applied" ||
	bad "import: exit $st: $(cat "$work/l2.log")"

# ---- seccomp ------------------------------------------------------------------------------

# A filter that kills the process on memfd_create: known before anything
# runs in it.
BUSY_KILL=memfd_create fifo_start sk "$work/v0/busy" 2
st=$(apply "$work/sk.log" "$pid")
if [ "$st" = 1 ] && grep -qF "its seccomp filter would kill the process (SECCOMP_RET_KILL_PROCESS) for hpapply's memfd_create" "$work/sk.log"; then
	untouched sk "$pid" "seccomp filter killing memfd_create: refused, the process alive"
else
	bad "seccomp kill: exit $st: $(cat "$work/sk.log")"
fi

# A filter against memory both writable and executable: hpapply never asks
# for that, so the filter allows every call it makes.
BUSY_WX=1 fifo_start wx "$work/v0/busy" 2
patched wx "$pid" "seccomp filter denying write+exec mappings: applied"
st=$(hp "$work/wx.log" --revert "$pid")
[ "$st" = 0 ] && [ "$(fifo_ask wx)" = "$base_answer" ] && ok "  and reverted" ||
	bad "seccomp write+exec: revert exit $st: $(cat "$work/wx.log")"

# Strict mode: the only thread may read, write and exit.  Refused; with
# other threads there, one of them does the work.
BUSY_STRICT=1 fifo_start ss "$work/v0/busy" 0
st=$(apply "$work/ss.log" "$pid")
if [ "$st" = 1 ] && grep -qF "is in seccomp strict mode" "$work/ss.log"; then
	untouched ss "$pid" "seccomp strict mode: refused, the process alive"
else
	bad "strict mode: exit $st: $(cat "$work/ss.log")"
fi
BUSY_STRICT=1 fifo_start sm "$work/v0/busy" 2
patched sm "$pid" "main thread in strict mode, others not: applied through another thread"

# ---- messages ------------------------------------------------------------------------------

# no message of all the runs above ends in ': Success' (an errno of 0)
if grep -l ': Success$' "$work"/*.log >/dev/null 2>&1; then
	bad "a message ends in ': Success': $(grep -h ': Success$' "$work"/*.log)"
else
	ok "no message ends in ': Success'"
fi

exit $fail
