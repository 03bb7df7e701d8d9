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
