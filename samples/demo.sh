#!/bin/bash
# make demo: a month of hotpatching on kvd, the sample key-value server
# (samples/server): the baseline release has an over-read in its request
# parser; the fix is built, diffed, packed, signed, verified and applied to
# the running server without a restart, then reverted and applied again.
#
# usage: demo.sh BIN_DIR BUILD_DIR   (make demo builds both first)
set -euo pipefail
bin=$1 build=$2
srv=$build/samples/server
src=$(cd "$(dirname "$0")" && pwd)/server
work=$build/demo
server_pid='' load_pid=''

cleanup() {
	local p
	for p in $load_pid $server_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return 0
}
trap cleanup EXIT
trap 'echo; echo "demo: FAILED at line $LINENO" >&2' ERR

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; shift; for l in "$@"; do echo "   $l"; done; }
run() { printf '$ %s\n' "$*"; "$@"; }
die() { echo "demo: $*" >&2; exit 1; }
# show CMD: print a command as one would type it; the next line runs it
show() { printf '$ %s\n' "$1"; }
client() { "$srv/client" --port "$port" "$@"; }
# hp ARGS...: run hpapply.  Exit status 1 is a refusal that leaves the process
# untouched (e.g. a thread stayed busy in the code being replaced): an
# operator tries again, and so does the demo, up to three times in all.
hp() {
	local rc try
	for try in 1 2 3; do
		rc=0
		run hpapply "$@" || rc=$?
		if [ $rc != 1 ] || [ $try = 3 ]; then
			return $rc
		fi
		echo "   (refused, the process is untouched: trying again)"
	done
}

for f in old/server new/server client; do
	[ -x "$srv/$f" ] || die "$srv/$f is missing: run make samples"
done
rm -rf "$work"
mkdir -p "$work"
cd "$work"
ln -s "$srv/old" old
ln -s "$srv/new" new
t0=$(date +%s%N)
export PATH=$bin:$PATH

step "1. Two releases of kvd, same compiler and flags (gcc -O2 -g -fPIE, -pie)" \
	"old/ is the baseline the servers run; new/ is this month's fix: one bounds check" \
	"in the request parser.  Every source file is its own object, as in any build."
run ls -x old new
show "diff -u samples/server/old/parse.c samples/server/new/parse.c"
diff -u "$src/old/parse.c" "$src/new/parse.c" | tail -n +3 || true

step "2. The baseline server runs (loopback, a free port)"
export KVD_AUTH_KEY="demo-admin-key-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
"$srv/old/server" --port 0 --port-file "$work/port" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 500); do
	[ -s "$work/port" ] && break
	kill -0 "$server_pid" 2>/dev/null || die "the server did not start: $(cat server.log)"
	sleep 0.01
done
[ -s "$work/port" ] || die "the server did not start listening"
port=$(cat "$work/port")
echo "   pid $server_pid, port $port; its secret admin key (KVD_AUTH_KEY) is $KVD_AUTH_KEY"
show "client SET greeting hello from before the patch"
client SET greeting hello from before the patch

step "3. The bug: ECHO trusts its length field" \
	"\"ECHO 700 hi\" carries 2 bytes but claims 700: the server sends back 698 bytes" \
	"of its memory, which hold the admin key."
show "client --exploit"
client --exploit --expect old | tee "$work/exploit-before"
grep -q "$KVD_AUTH_KEY" "$work/exploit-before" || die "the leak does not show the key"
echo "   -> the admin key leaked"

step "4. hpdiff on every object pair, as a build system runs it" \
	"Exit status 0: no difference; 1: differences, all hotpatchable."
mkdir hpd
for o in parse proto store server; do
	rc=0
	run hpdiff -o "hpd/$o.hpd" "old/$o.o" "new/$o.o" || rc=$?
	echo "   (exit status $rc)"
	want=0
	[ $o = parse ] && want=1
	[ $rc = $want ] || die "hpdiff $o.o: exit status $rc, expected $want"
done
echo "   the new code, from the disassembly diff (hpdiff --show):"
{ hpdiff --show old/parse.o new/parse.o || true; } | grep -B3 -A1 'length exceeds'

step "5. A signing PKI, for this demo only (tests/pki/mkpki.sh, under $work/pki)"
bash "$src/../../tests/pki/mkpki.sh" "$work/pki" >/dev/null 2>&1 || die "mkpki.sh failed"
echo "   root.pem (trust anchor), p256.key + p256.pem (code-signing leaf), p256.chain"

step "6. hppack: bind the fix to the baseline binary and sign it"
run hppack --baseline old/server --seq 1 -o kvd-fix.hpk --fixes KVD-2027-0001 \
	--key pki/p256.key --cert pki/p256.pem --chain pki/p256.chain -v hpd/*.hpd
echo "   package size: $(stat -c %s kvd-fix.hpk) bytes (the server binary: $(stat -c %s old/server))"

step "7. The auditor verifies the package against the baseline binary"
show "hpsign --verify kvd-fix.hpk --ca pki/root.pem --target old/server"
hpsign --verify kvd-fix.hpk --ca pki/root.pem --target old/server |
	grep -E 'valid|signer|target|checked|replace'

step "8. hpapply to the running server, under load" \
	"4 client threads send checked requests all along; the process is not restarted." \
	"hpapply stops the threads only when none of them is in the code being replaced;" \
	"with -v it says when it had to try again."
"$srv/client" --port "$port" --load --threads 4 --reconnect 0 --seconds 0 >"$work/load.log" 2>&1 &
load_pid=$!
sleep 0.5
start=$(awk '{ print $22 }' "/proc/$server_pid/stat")
echo "   pid before: $server_pid"
hp "$server_pid" kvd-fix.hpk --ca pki/root.pem -v
kill -0 "$server_pid" || die "the server died"
[ "$(awk '{ print $22 }' "/proc/$server_pid/stat")" = "$start" ] || die "the server restarted"
echo "   pid after:  $server_pid (same process, same start time)"

step "9. The same process now rejects the crafted request; its data is still there"
show "client --exploit"
client --exploit --expect new
show "client GET greeting"
client GET greeting

step "10. What is applied"
run hpapply --list "$server_pid"

step "11. Revert: the original code runs again, and leaks again"
hp --revert "$server_pid"
show "client --exploit"
client --exploit --expect old >exploit-reverted
head -1 exploit-reverted

step "12. Apply again, stop the load, stop the server"
hp "$server_pid" kvd-fix.hpk --ca pki/root.pem
show "client --exploit"
client --exploit --expect new
sleep 1 # the load keeps going on the patched server
kill -TERM "$load_pid"
wait "$load_pid" || die "the load saw failures: $(tail -3 load.log)"
load_pid=''
grep '^load:' load.log | sed 's/^/   /'
kill -TERM "$server_pid"
wait "$server_pid" || die "the server did not exit cleanly"
server_pid=''
sed 's/^/   server: /' server.log

printf '\nThe demo took %.1f s; its files are under %s\n' \
	"$((($(date +%s%N) - t0) / 1000000))e-3" "$work"
