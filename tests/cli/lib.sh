# Shared by the shell tests (sourced).

# wait_lines FILE N: wait until FILE holds N lines, that is until a program
# fed through a FIFO has answered the requests written so far, so that a
# patch applied next cannot change those answers.  Gives up after 30 s.
wait_lines() {
	local file=$1 n=$2 i
	for i in $(seq 3000); do
		[ -e "$file" ] && [ "$(wc -l <"$file")" -ge "$n" ] && return 0
		sleep 0.01
	done
	echo "FAIL  $file: no $n lines of answers after 30 s" >&2
	return 1
}

# cli_begin NAME: the common start of a test.  Makes the work directory
# $work (/tmp/hp-NAME-XXXXXX) and the test PKI in $pki; sets fail=0 and
# defines ok and bad to report checks (bad sets fail=1); on exit, kills
# with SIGKILL every process whose pid the test put in the array pids
# (empty at first) and removes $work.  Exits 1 when the PKI cannot be made.
cli_begin() {
	work=$(mktemp -d "/tmp/hp-$1-XXXXXX")
	pids=()
	trap cli_cleanup EXIT
	fail=0
	ok() { echo "ok    $*"; }
	bad() { echo "FAIL  $*"; fail=1; }
	pki=$work/pki
	bash "$(dirname "${BASH_SOURCE[0]}")/../pki/mkpki.sh" "$pki" >/dev/null 2>&1 ||
		{ echo "cannot make the test PKI"; exit 1; }
}

cli_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$work"
}

# fifo_start NAME CMD...: run CMD in the background reading the fifo
# $work/NAME.in, its output in $work/NAME.out; sets $pid and adds it to
# pids (killed on exit).
fifo_start() {
	local name=$1 fd
	shift
	rm -f "$work/$name.in" "$work/$name.out"
	mkfifo "$work/$name.in"
	"$@" <"$work/$name.in" >"$work/$name.out" 2>&1 &
	pid=$!
	pids+=("$pid")
	exec {fd}>"$work/$name.in"
	eval "fd_$name=$fd"
	sleep 0.1
}

# fifo_ask NAME [LINE]: one request (LINE, by default x) to a program that
# ends each answer with a line "--"; prints the answer (empty after 10 s
# without one).
fifo_ask() {
	local name=$1 out=$work/$1.out fdv n
	fdv=fd_$name
	n=$(grep -c '^--$' "$out")
	echo "${2:-x}" >&"${!fdv}"
	for _ in $(seq 1000); do
		[ "$(grep -c '^--$' "$out")" -gt "$n" ] && break
		sleep 0.01
	done
	awk -v n="$n" '/^--$/ { k++; next } k == n { print }' "$out"
}

# is_stopped PID: is the process (its main thread) in a stopped state?
is_stopped() { grep -qE '^State:\s+[tT]' "/proc/$1/status"; }
# hp_maps PID: how many of hpapply's mappings PID has
hp_maps() { grep -c '/memfd:hpapply' "/proc/$1/maps"; }

# live_env: a command prefix the live runs start programs with (hppack_refs.sh
# runs them with `env -i HP_TEST=1`); empty by default.
live_env=()

# live_answers PROG INPUT: PROG's output for INPUT, started as live() starts it.
live_answers() {
	printf '%s\n' "$2" | "${live_env[@]}" "$1"
}

# live NAME PROG FIXED PKG INPUT: run PROG and feed it INPUT before, after
# applying PKG (hpapply --ca $pki/root.pem) and after reverting it; its
# answers must be PROG's, FIXED's and PROG's again.  Uses $work, $bin,
# $pki, pids, ok and bad of cli_begin.
live() {
	local name=$1 prog=$2 fixed=$3 pkg=$4 input=$5 n want got pid
	n=$(printf '%s\n' "$input" | wc -l)
	want=$(live_answers "$prog" "$input"; live_answers "$fixed" "$input"
		live_answers "$prog" "$input")
	mkfifo "$work/$name.in"
	"${live_env[@]}" "$prog" <"$work/$name.in" >"$work/$name.out" &
	pid=$!
	pids+=("$pid")
	exec 9>"$work/$name.in"
	printf '%s\n' "$input" >&9
	wait_lines "$work/$name.out" "$n"
	"$bin/hpapply" "$pid" "$pkg" --ca "$pki/root.pem" >"$work/$name.log" 2>&1 ||
		bad "$name: hpapply: $(cat "$work/$name.log")"
	printf '%s\n' "$input" >&9
	wait_lines "$work/$name.out" $((2 * n))
	"$bin/hpapply" --revert "$pid" >>"$work/$name.log" 2>&1 ||
		bad "$name: hpapply --revert: $(cat "$work/$name.log")"
	printf '%s\n' "$input" >&9
	exec 9>&-
	wait "$pid"
	got=$(cat "$work/$name.out")
	if [ "$got" = "$want" ]; then
		ok "$name: the patched process answers as the fixed build, reverted as the baseline"
	else
		bad "$name: answers $(echo $got), wanted $(echo $want)"
	fi
}

# pack NAME BASELINE HPD...: a signed package $work/NAME.hpk (sequence 1);
# 0 or hppack's status, its messages in $work/NAME.err.
pack() {
	local name=$1 base=$2
	shift 2
	"$bin/hppack" --baseline "$base" --seq 1 -o "$work/$name.hpk" --key "$pki/p256.key" \
		--cert "$pki/p256.pem" --chain "$pki/p256.chain" "$@" 2>"$work/$name.err"
}
