#!/bin/bash
# Under load: the demo server (samples/server, kvd) keeps serving while its
# parser fix is applied and reverted 200 times.
#
# The baseline server runs; a client drives it from 8 threads with verified
# requests (a new connection every 100 requests, so connection threads come
# and go) plus a crafted request every 20 ms.  Each cycle applies the signed
# package, checks that the same process now rejects the crafted request,
# reverts, and checks that it leaks again.
#
# Passes when: no request failed; the process is the same (pid and start
# time) and still answers; every hpapply exited 0; right after every hpapply
# the crafted request showed the state hpapply --list reports (and the one
# asked for).  An hpapply that fails is counted and the run goes on from the
# state the process is really in, so one run shows every kind of failure.
# Prints the time hpapply kept the threads stopped (-v), p50 and p99.
#
# Environment: HP_BIN (tool directory), HP_SAMPLES (built samples);
# CYCLES (default 200) and THREADS (default 8) may be overridden.
set -uo pipefail
bin=${HP_BIN:?} samples=${HP_SAMPLES:?}
srv=$samples/server
cycles=${CYCLES:-200} threads=${THREADS:-8}
work=$(mktemp -d /tmp/hp-load-XXXXXX)
server_pid='' load_pid=''

cleanup() {
	local p
	for p in $load_pid $server_pid; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

fail() {
	echo "load test: FAIL: $*"
	for f in server.log load.err; do
		[ -s "$work/$f" ] && { echo "-- $f"; tail -15 "$work/$f"; }
	done
	exit 1
}

now_ms() { date +%s%3N; }
start_time() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }
# exploit: "old" or "new" (or "error"), the first word of the client's verdict
exploit() { "$srv/client" --port "$port" --exploit | awk -F: 'NR == 1 { print $1 }'; }

for f in old/server new/server client; do
	[ -x "$srv/$f" ] || fail "$srv/$f not built (make samples)"
done
t_start=$(now_ms)

# ---- the package -------------------------------------------------------------
bash "$(dirname "$0")/../pki/mkpki.sh" "$work/pki" >/dev/null 2>&1 || fail "cannot make the test PKI"
# per object, as a build system runs it: only parse.o differs, in parse_request only
mkdir "$work/hpd"
for o in parse proto store server; do
	"$bin/hpdiff" -o "$work/hpd/$o.hpd" "$srv/old/$o.o" "$srv/new/$o.o" >"$work/$o.diff" 2>&1
	rc=$? want=0
	[ $o = parse ] && want=1
	[ $rc = $want ] || fail "hpdiff $o.o: exit $rc, want $want: $(cat "$work/$o.diff")"
done
grep -q 'func changed  parse_request' "$work/parse.diff" ||
	fail "hpdiff does not report parse_request: $(cat "$work/parse.diff")"
[ "$(grep -c '^  func ' "$work/parse.diff")" = 1 ] ||
	fail "hpdiff reports more than parse_request: $(cat "$work/parse.diff")"
"$bin/hppack" --baseline "$srv/old/server" --seq 1 -o "$work/fix.hpk" --key "$work/pki/p256.key" \
	--cert "$work/pki/p256.pem" --chain "$work/pki/p256.chain" "$work/hpd/"*.hpd \
	>"$work/pack.out" 2>&1 || fail "hppack: $(cat "$work/pack.out")"

# ---- the server under load ---------------------------------------------------------
KVD_AUTH_KEY=load-test-key "$srv/old/server" --port 0 --port-file "$work/port" \
	2>"$work/server.log" &
server_pid=$!
for _ in $(seq 500); do
	[ -s "$work/port" ] && break
	kill -0 "$server_pid" 2>/dev/null || fail "the server did not start"
	sleep 0.01
done
port=$(cat "$work/port" 2>/dev/null) || fail "the server did not write its port"
started=$(start_time "$server_pid")
[ "$(exploit)" = old ] || fail "the baseline server does not show the old behaviour"

"$srv/client" --port "$port" --load --threads "$threads" --seconds 0 --probe-ms 20 \
	>"$work/load.log" 2>"$work/load.err" &
load_pid=$!
sleep 0.5

# ---- apply / revert cycles -----------------------------------------------------------
: >"$work/pauses"
: >"$work/failures"
runs=0 bad_runs=0 bad_behaviour=0
applied=0 # what the process runs: 1 the fix, 0 the baseline code
# hp OP: hpapply -v apply or revert; keeps the pause; on failure records it and
# takes the state from hpapply --list; then checks the crafted request
hp() {
	local op=$1 rc b want
	runs=$((runs + 1))
	if [ "$op" = apply ]; then
		"$bin/hpapply" -v "$server_pid" "$work/fix.hpk" --ca "$work/pki/root.pem"
	else
		"$bin/hpapply" -v --revert "$server_pid"
	fi >"$work/hp.out" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		applied=$([ "$op" = apply ] && echo 1 || echo 0)
		sed -n 's/^threads stopped for \([0-9.]*\) ms$/\1/p' "$work/hp.out" >>"$work/pauses"
	else
		bad_runs=$((bad_runs + 1))
		applied=0
		"$bin/hpapply" --list "$server_pid" 2>&1 | grep -q ' applied$' && applied=1
		echo "$op #$runs: exit $rc, then $([ $applied = 1 ] && echo applied || echo not applied):" \
			"$(grep -v 'retrying$' "$work/hp.out" | tr '\n' ' ')" >>"$work/failures"
	fi
	want=$([ $applied = 1 ] && echo new || echo old)
	b=$(exploit)
	if [ "$b" != "$want" ]; then
		bad_behaviour=$((bad_behaviour + 1))
		echo "$op #$runs: exit $rc; the crafted request got '$b', want '$want'" >>"$work/failures"
	fi
	kill -0 "$server_pid" 2>/dev/null || fail "$op #$runs: the server died"
}
t_cycles=$(now_ms)
while [ $runs -lt $((2 * cycles)) ]; do
	if [ $applied = 0 ]; then hp apply; else hp revert; fi
done
t_end_cycles=$(now_ms)
sleep 0.5

# ---- verdict ---------------------------------------------------------------------
kill -0 "$load_pid" 2>/dev/null || fail "the load client stopped early: $(tail -3 "$work/load.log")"
kill -TERM "$load_pid"
wait "$load_pid"
load_rc=$?
load_pid=''
[ "$(start_time "$server_pid")" = "$started" ] || fail "the server process changed"
[ "$(grep -c 'listening on' "$work/server.log")" = 1 ] || fail "the server restarted"
[ "$("$srv/client" --port "$port" PING)" = PONG ] || fail "the server does not answer"
stats=$("$srv/client" --port "$port" STATS)
summary=$(grep '^load:' "$work/load.log")
probes=$(grep '^probe:' "$work/load.log")
[ -n "$summary" ] || fail "no load summary: $(tail -3 "$work/load.log")"

pid=$server_pid
kill -TERM "$server_pid"
wait "$server_pid"
server_rc=$?
server_pid=''

pct() {
	sort -n "$work/pauses" | awk -v p="$1" '{ v[NR] = $1 }
		END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'
}
t_end=$(now_ms)
printf 'load test: %d hpapply runs (apply, revert, ...) on pid %d, %d threads of load\n' \
	"$runs" "$pid" "$threads"
printf '  %s\n  %s\n  server %s\n' "$summary" "$probes" "$stats"
printf '  threads stopped per hpapply: p50 %s ms, p99 %s ms, max %s ms (%d runs)\n' \
	"$(pct 50)" "$(pct 99)" "$(sort -n "$work/pauses" | tail -1)" "$(wc -l <"$work/pauses")"
printf '  cycles took %.1f s (%.0f ms per apply + revert), whole test %.1f s\n' \
	"$((t_end_cycles - t_cycles))e-3" "$((2 * (t_end_cycles - t_cycles) / runs))" \
	"$((t_end - t_start))e-3"
printf '  hpapply: %d of %d runs failed; behaviour wrong after %d\n' "$bad_runs" "$runs" \
	"$bad_behaviour"
sed 's/^/    /' "$work/failures" | head -20

[ "$load_rc" = 0 ] && echo "$summary" | grep -q ' 0 failed ' || fail "the load saw failures"
[ "$server_rc" = 0 ] || fail "the server exited with status $server_rc after SIGTERM"
[ "$bad_behaviour" = 0 ] || fail "wrong behaviour after $bad_behaviour hpapply runs"
[ "$bad_runs" = 0 ] || fail "$bad_runs hpapply runs exited non-zero"
echo "load test: ok"
