#!/bin/bash
# End to end, for every hotpatchable sample scenario in every variant:
# run the old program, diff, pack and sign, apply to the running process,
# check it now answers exactly like the new build (same process), revert,
# check it answers like the old build again.
#
# Environment: HP_BIN (tool directory), HP_SAMPLES (built samples);
# HP_E2E_SCENARIOS, if set, limits the run to those scenarios (space
# separated) and the count of passes to at least one each.
# Scenarios hppack refuses on purpose (thread-locals in -fPIC code) must be
# refused with exit status 1 and are counted separately.
set -uo pipefail
bin=${HP_BIN:?} samples=${HP_SAMPLES:?}
work=$(mktemp -d /tmp/hp-e2e-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
bash "$(dirname "$0")/../pki/mkpki.sh" "$work/pki" >/dev/null 2>&1 || { echo "cannot make the test PKI"; exit 1; }

pass=0 fail=0 refused=0 skipped=0
failures=()

# probe PROGRAM-OUTPUT-FILE FD: one request, wait for its "--" line
probe() {
	local out=$1 fd=$2 before
	before=$(grep -c '^--$' "$out")
	echo x >&"$fd"
	for _ in $(seq 200); do
		[ "$(grep -c '^--$' "$out")" -gt "$before" ] && break
		sleep 0.01
	done
	# the answer: the lines after the previous "--"
	awk -v n="$before" '/^--$/ { k++; next } k == n { print }' "$out"
}

run_one() {
	local v=$1 s=$2 dir=$samples/$1/$2 t=$work/$1-$2
	mkdir -p "$t"
	"$bin/hpdiff" -o "$t/x.hpd" "$dir/old.o" "$dir/new.o" >"$t/diff.log" 2>&1
	local st=$?
	case $st in
	1) ;;
	0 | 3) skipped=$((skipped + 1)); return ;; # same, or not hotpatchable
	*) failures+=("$v/$s: hpdiff failed (exit $st): $(head -1 "$t/diff.log")")
	   fail=$((fail + 1)); return ;;
	esac
	SOURCE_DATE_EPOCH=1800000000 "$bin/hppack" --baseline "$dir/old" --seq 1 -o "$t/x.hpk" \
		--key "$work/pki/p256.key" --cert "$work/pki/p256.pem" --chain "$work/pki/p256.chain" \
		"$t/x.hpd" >"$t/pack.log" 2>&1
	case $? in
	0) ;;
	1) if grep -q 'thread-local' "$t/pack.log"; then refused=$((refused + 1)); return; fi
	   failures+=("$v/$s: hppack refused: $(head -1 "$t/pack.log")"); fail=$((fail + 1)); return ;;
	*) failures+=("$v/$s: hppack failed: $(head -1 "$t/pack.log")"); fail=$((fail + 1)); return ;;
	esac
	local want_new want_old
	want_new=$(echo x | "$dir/new" 2>/dev/null | sed '/^--$/d')
	want_old=$(echo x | "$dir/old" 2>/dev/null | sed '/^--$/d')
	mkfifo "$t/in"
	# the program opens its output only once we open the fifo: make it now, so
	# that the first probe does not count lines of a file not yet created
	: >"$t/out"
	"$dir/old" <"$t/in" >"$t/out" 2>/dev/null &
	local pid=$!
	exec 9>"$t/in"
	local before after reverted revert_failed=0
	before=$(probe "$t/out" 9)
	if ! "$bin/hpapply" "$pid" "$t/x.hpk" --ca "$work/pki/root.pem" >"$t/apply.log" 2>&1; then
		failures+=("$v/$s: hpapply failed: $(tail -1 "$t/apply.log")")
		fail=$((fail + 1))
	else
		after=$(probe "$t/out" 9)
		"$bin/hpapply" --revert "$pid" >"$t/revert.log" 2>&1 ||
			revert_failed=1
		reverted=$(probe "$t/out" 9)
		if [ "$before" != "$want_old" ]; then
			failures+=("$v/$s: the old program's answer is not reproducible"); fail=$((fail + 1))
		elif [ "$after" != "$want_new" ]; then
			failures+=("$v/$s: after apply it does not answer like the new build")
			diff <(echo "$want_new") <(echo "$after") | head -6 >&2
			fail=$((fail + 1))
		elif [ $revert_failed = 1 ]; then
			failures+=("$v/$s: revert failed: $(tail -1 "$t/revert.log")"); fail=$((fail + 1))
		elif [ "$reverted" != "$want_old" ]; then
			failures+=("$v/$s: after revert it does not answer like the old build"); fail=$((fail + 1))
		elif ! kill -0 "$pid" 2>/dev/null; then
			failures+=("$v/$s: the process died"); fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	fi
	exec 9>&-
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

for vdir in "$samples"/*/; do
	v=$(basename "$vdir")
	[ "$v" = src ] || [ "$v" = server ] && continue
	for sdir in "$vdir"*/; do
		s=$(basename "$sdir")
		# main never returns: it cannot be replaced in a running process (documented)
		[ "$s" = main-changed ] && continue
		if [ -n "${HP_E2E_SCENARIOS:-}" ] && [[ " $HP_E2E_SCENARIOS " != *" $s "* ]]; then
			continue
		fi
		run_one "$v" "$s"
	done
done
echo "end to end: $pass applied and reverted correctly, $refused refused as expected," \
	"$skipped not hotpatchable or unchanged, $fail failed"
for f in "${failures[@]}"; do echo "  FAIL $f"; done
if [ -n "${HP_E2E_SCENARIOS:-}" ]; then
	[ "$fail" = 0 ] && [ "$pass" -ge "$(echo $HP_E2E_SCENARIOS | wc -w)" ]
else
	[ "$fail" = 0 ] && [ "$pass" -gt 100 ]
fi
