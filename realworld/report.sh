#!/bin/bash
# make realworld, the figures: what run.sh recorded under WORKDIR/results.
#
#   bash realworld/report.sh WORKDIR
set -u
work=$1
shift
pkgs=${*:-nginx expat}
res=$work/results
size() { [ -f "$1" ] && stat -c %s "$1" || echo -; }
first_refusal() { grep -m3 -iE 'refus|not |cannot|ambiguous|error' "$1" 2>/dev/null | cut -c1-300; }

for pkg in $pkgs; do
	echo
	echo "==== $pkg: baseline $(awk -F'\t' '$1 == 0 { print $2 }' "$work/$pkg/months.tsv")," \
		"newest fetched $(head -1 "$work/src/$pkg/.done"), newest in apt's index $(sed -n 2p "$work/src/$pkg/.done")"
	awk -F'\t' '$1 > 0' "$work/$pkg/months.tsv" | while IFS=$'\t' read -r m ver added; do
		mm=$(printf 'm%02d' "$m")
		d=$res/$pkg/$mm
		echo "-- month $m: $ver (adds: $added)"
		read -r _ changed _ cand _ nbad <"$d/lineonly.txt"
		echo "   hpdiff exit $(cat "$d/hpdiff.rc"): functions changed $changed;" \
			"line-only recognised 0 (hpdiff has no line-only status yet);" \
			"line-only candidates $cand (every difference an immediate that looks like a line shift)"
		echo "   .hpd written: $(cat "$d/nhpd"); objects not hotpatchable: $nbad"
		tail -n +2 "$d/lineonly.txt" | sed 's/^/   /'
		if [ -s "$d/hpdiff.err" ]; then
			echo "   hpdiff said:"
			sort "$d/hpdiff.err" | uniq -c | sort -rn | head -8 | sed 's/^/     /'
		fi
		echo "   hppack (documented workflow, every .hpd) exit $(cat "$d/hppack.rc"), package $(size "$d/$pkg.hpk") bytes"
		if [ "$(cat "$d/hppack.rc")" != 0 ]; then
			echo "     refusal: $(grep -c . "$d/hppack.txt") lines; the first:"
			first_refusal "$d/hppack.txt" | sed 's/^/       /'
		fi
		if [ -f "$d/hppack-hand.rc" ]; then
			echo "   hppack after hand steps: exit $(cat "$d/hppack-hand.rc"), package $(size "$d/$pkg.hpk") bytes"
			sort "$d/hppack-hand.dropped" 2>/dev/null | uniq -c | sort -rn | head -12 | sed 's/^/       /'
			[ "$(cat "$d/hppack-hand.rc")" != 0 ] && first_refusal "$d/hppack-hand.txt" | sed 's/^/       /'
		fi
		echo "   stripped binary $(size "$d/dist/bin") bytes; bsdiff $(size "$d/bsdiff.patch"), xdelta3 $(size "$d/xdelta3.vcdiff")"
		if [ -f "$d/hpapply.tsv" ]; then
			echo "   hpapply (pid exit wall_ms stall_ms):"
			sed 's/^/     /' "$d/hpapply.tsv"
			grep -vE 'stopped for' "$d/hpapply.txt" | grep -iE 'refus|error|cannot' | sort -u | head -3 | sed 's/^/     /'
		else
			echo "   hpapply: not run (no package)"
		fi
		if [ -f "$d/nomain.rc" ]; then
			echo "   main() changed in: $(tr '\n' ' ' <"$d/main.objects")(see hpdiff.json); package without it:" \
				"hppack exit $(cat "$d/nomain.rc"), $(size "$d/$pkg-nomain.hpk") bytes"
			[ "$(cat "$d/nomain.rc")" != 0 ] && first_refusal "$d/nomain.txt" | sed 's/^/       /'
			if [ -f "$d/hpapply-nomain.tsv" ]; then
				echo "   hpapply of the package without main (pid exit wall_ms stall_ms):"
				sed 's/^/     /' "$d/hpapply-nomain.tsv"
				grep -vE 'stopped for' "$d/hpapply-nomain.txt" | grep -iE 'refus|error|cannot' | sort -u | head -3 | sed 's/^/     /'
			fi
		fi
	done
done
[[ " $pkgs " == *" nginx "* ]] && {
echo
echo "==== live nginx (baseline build, stripped as shipped, on 127.0.0.1, 4 client connections, 1 ms pause)"
echo "   load: $(cat "$res/nginx/live/load.out" 2>/dev/null)"
[ -f "$res/nginx/list.txt" ] && sed 's/^/   list: /' "$res/nginx/list.txt" | head -5
echo "   behaviour check: none.  CVE-2026-56434 (SSI subrequest double post) needs unbuffered"
echo "   proxying and a race; CVE-2026-60005 reads uninitialised memory (no deterministic"
echo "   answer to compare); CVE-2026-42533 needs a crafted script configuration and shows as"
echo "   a heap overrun: none gives a practical request-level reproducer."
}
[[ " $pkgs " == *" expat "* ]] || exit 0
echo
echo "==== live expat (two xmlloop processes on the baseline libexpat, LD_LIBRARY_PATH)"
x=$res/expat/live
echo "   probe = XML_Parse re-entered from a start handler (CVE-2026-50219: fixed library refuses)"
for f in "$x"/probe-*.txt; do
	[ -f "$f" ] && sed "s/^/   $(basename "$f" .txt): /" "$f"
done
[ -f "$x/revert.rc" ] && echo "   revert of the first process: exit $(cat "$x/revert.rc")" &&
	grep -iE 'refus|error|stopped' "$x/revert.txt" | head -2 | sed 's/^/     /'
sed 's/^/   counts: /' "$x/counts.txt" 2>/dev/null
