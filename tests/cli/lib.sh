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
