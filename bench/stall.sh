#!/bin/bash
# Benchmark section "stall": what a client feels while hpapply works on its
# server, measured from outside, beside what hpapply reports.
#
#   bash bench/stall.sh BINDIR WORKDIR
#
# A probe client (bench/probe.c) sends a request as soon as the previous
# reply arrived, for 100 ms before each hpapply call (the normal latency)
# and while the call runs; the longest wait for one reply during the call
# is the stall the client saw.  Servers:
#   kvd      the demo server (samples/server: one thread per connection)
#   evloop   a single-threaded event-loop server (samples/evloop: one
#            thread serves everyone), with a baseline of about 3 MB
#   deep     evloop --deep: a second thread spends most of its time 20000
#            frames deep inside a function the package replaces, so
#            hpapply is refused and retries
# Calls, per cycle k: apply (seq 2k-1), replace (seq 2k over it), a refused
# apply (seq 2k-1 again: refused for its sequence), revert; for deep, a
# fresh server each cycle and one apply (with retries; it may end refused).
# Target (issue: the stall a service feels): every gap at most 2 ms over the
# probe's normal latency, p99 over the cycles.  Informational: a miss is
# printed, not failed.
#
# Environment: BENCH_STALL_CYCLES (default 100; deep runs a tenth of them).
# Writes WORKDIR/stall-bench.tsv; raw figures under WORKDIR/stall/.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bin=$1 work=$2/stall
tsv=$2/stall-bench.tsv
root=$(cd "$here/.." && pwd)
CYCLES=${BENCH_STALL_CYCLES:-100}
DEEP_CYCLES=$(((CYCLES + 9) / 10))
rm -rf "$work" "$tsv"
mkdir -p "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT

echo "== stall: the longest wait a client sees while hpapply works =="
bash "$root/tests/pki/mkpki.sh" "$work/pki" >/dev/null 2>&1 || {
	bench_fail "cannot make the test PKI"
	exit 1
}
ca=$work/pki/root.pem
sign=(--key "$work/pki/p256.key" --cert "$work/pki/p256.pem" --chain "$work/pki/p256.chain")

cc -O2 -Wall -o "$work/probe" "$here/probe.c" || {
	bench_fail "cannot build the probe"
	exit 1
}

# pkgs NAME BASELINE HPD...: NAME-1.hpk ... NAME-N.hpk, the same fix with sequence 1 to N
# (2 per cycle: a revert keeps the sequence floor, so each cycle applies newer packages)
pkgs() {
	local name=$1 base=$2
	shift 2
	for s in $(seq $((2 * CYCLES))); do
		"$bin/hppack" --baseline "$base" --seq "$s" -o "$work/$name-$s.hpk" "${sign[@]}" "$@" \
			>/dev/null || return 1
	done
}

# evloop: old and new, same compiler and flags, each from its own directory
for v in old new; do
	mkdir -p "$work/evloop/$v"
	(cd "$root/samples/evloop/$v" && gcc -O2 -g -fPIE -pthread -c evloop.c \
		-o "$work/evloop/$v/evloop.o" && gcc -pie -pthread "$work/evloop/$v/evloop.o" \
		-o "$work/evloop/$v/evloop") || {
		bench_fail "cannot build evloop"
		exit 1
	}
done
"$bin/hpdiff" "$work/evloop/old/evloop.o" "$work/evloop/new/evloop.o" -o "$work/evloop.hpd" \
	>/dev/null
pkgs evloop "$work/evloop/old/evloop" "$work/evloop.hpd" || {
	bench_fail "cannot pack evloop"
	exit 1
}

# kvd: the samples' build (make samples)
kvd=${BENCH_SAMPLES:-$2/../samples}/server
if [ -x "$kvd/old/server" ]; then
	mkdir -p "$work/kvd-hpd"
	"$bin/hpdiff" "$kvd/old" "$kvd/new" -o "$work/kvd-hpd/" >/dev/null
	pkgs kvd "$kvd/old/server" "$work"/kvd-hpd/*.hpd || {
		bench_fail "cannot pack kvd"
		exit 1
	}
else
	bench_note "kvd skipped: $kvd/old/server is not built (make samples)"
fi

# start NAME: the server running; sets port and pid
start() {
	local log=$work/$1.log
	rm -f "$work/$1.port"
	case $1 in
	kvd)
		"$kvd/old/server" --port 0 --port-file "$work/kvd.port" 2>"$log" &
		pid=$!
		;;
	evloop) "$work/evloop/old/evloop" >"$work/evloop.port" 2>"$log" & pid=$! ;;
	deep) "$work/evloop/old/evloop" --deep >"$work/deep.port" 2>"$log" & pid=$! ;;
	esac
	pids+=("$pid")
	for _ in $(seq 100); do
		[ -s "$work/$1.port" ] && break
		sleep 0.05
	done
	port=$(awk '{ print $NF; exit }' "$work/$1.port" 2>/dev/null)
	[ -n "$port" ] || {
		bench_fail "$1 did not start: $(cat "$log")"
		return 1
	}
}

# measure SERVER OP WANT_EXIT HPAPPLY-ARGS...: one call under the probe
measure() {
	local srv=$1 op=$2 want=$3 line out pause
	shift 3
	line=$("$work/probe" "$port" PING 100 -- "$bin/hpapply" -v "$@" 2>"$work/call.log")
	[ $? = 0 ] || {
		bench_fail "$srv $op: the probe failed: $(cat "$work/call.log")"
		return 1
	}
	read -r normal_p50 _ during _ st <<<"$line"
	if ! [[ $st =~ ^($want)$ ]]; then
		bench_fail "$srv $op: hpapply exited $st (wanted $want): $(tail -3 "$work/call.log")"
		return 1
	fi
	pause=$(awk '/threads stopped for/ { print $4 }' "$work/call.log" | tail -1)
	echo "$during" >>"$work/$srv.$op.gap_us"
	echo $((during - normal_p50)) >>"$work/$srv.$op.over_us"
	echo "${pause:-0}" >>"$work/$srv.$op.pause_ms"
	echo "$normal_p50" >>"$work/$srv.normal_us"
}

# pctl FILE P: the P-th percentile of the numbers in FILE
pctl() {
	sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

status=0
for srv in kvd evloop deep; do
	[ "$srv" = kvd ] && [ ! -x "$kvd/old/server" ] && continue
	start "$srv" || {
		status=1
		continue
	}
	pkg=$work/$srv
	[ "$srv" = deep ] && pkg=$work/evloop
	if [ "$srv" = deep ]; then
		for c in $(seq "$DEEP_CYCLES"); do
			[ "$c" = 1 ] || start "$srv" || break
			measure "$srv" retried "0|1" "$pid" "$pkg-1.hpk" --ca "$ca" || {
				status=1
				break
			}
			kill "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		done
	else
		for c in $(seq "$CYCLES"); do
			measure "$srv" apply 0 "$pid" "$pkg-$((2 * c - 1)).hpk" --ca "$ca" &&
				measure "$srv" replace 0 "$pid" "$pkg-$((2 * c)).hpk" --ca "$ca" &&
				measure "$srv" refused 1 "$pid" "$pkg-$((2 * c - 1)).hpk" --ca "$ca" &&
				measure "$srv" revert 0 --revert "$pid" || {
				status=1
				break
			}
		done
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done

printf '\n  %-7s %-8s %6s %9s %12s %12s %12s %14s\n' server call calls "normal" \
	"gap p50 ms" "gap p99 ms" "gap max ms" "hpapply -v p99"
echo "  (gap: the longest wait for one reply during the call, over the normal p50 latency;"
echo "   hpapply -v: the pause hpapply itself reports)"
worst=0
for srv in kvd evloop deep; do
	for op in apply replace refused revert retried; do
		f=$work/$srv.$op.over_us
		[ -s "$f" ] || continue
		p50=$(pctl "$f" 50)
		p99=$(pctl "$f" 99)
		max=$(sort -g "$f" | tail -1)
		pp=$(pctl "$work/$srv.$op.pause_ms" 99)
		printf '  %-7s %-8s %6s %7sus %12s %12s %12s %14s\n' "$srv" "$op" "$(wc -l <"$f")" \
			"$(pctl "$work/$srv.normal_us" 50)" \
			"$(bench_awk 'printf "%.2f", v / 1000' "v=$p50")" \
			"$(bench_awk 'printf "%.2f", v / 1000' "v=$p99")" \
			"$(bench_awk 'printf "%.2f", v / 1000' "v=$max")" "$pp"
		printf 'stall_gap_p99_ms_%s_%s\t%s\nhpapply_pause_p99_ms_%s_%s\t%s\n' "$srv" "$op" \
			"$(bench_awk 'printf "%.3f", v / 1000' "v=$p99")" "$srv" "$op" "$pp" >>"$tsv"
		worst=$(bench_awk 'print (a > b) ? a : b' "a=$worst" "b=$p99")
	done
done
target=$(bench_awk 'print (w <= 2000) ? "PASS" : "MISS"' "w=$worst")
echo
echo "  target: every gap <= 2 ms over normal, p99: worst p99 $(bench_awk 'printf "%.2f", v / 1000' "v=$worst") ms  $target"
exit $status
