#!/bin/bash
# make realworld: the monthly cycle on real Debian 12 security updates,
# built as Debian builds them, with the tools as they are today.
#
#   bash realworld/run.sh BINDIR WORKDIR
#
# 1. sources.sh: a deb-src entry if apt has none, apt-get build-dep and
#    apt-get source of nginx and expat (the newest revision the mirror
#    serves).
# 2. build.sh: the newest source package's patch series cut at each
#    security revision since the baseline (nginx 1.22.1-9+deb12u9, expat
#    2.5.0-1+deb12u2), each cut built by `debian/rules build` with
#    DEB_BUILD_OPTIONS="nocheck parallel=2" in WORKDIR/PKG/mNN/tree.
# 3. Per month (cumulative, always against month 0): hpdiff over the two
#    build trees (--json --show), hppack of the changed binary with
#    --seq = month and --previous = last month's package, signed with a
#    throwaway PKI (tests/pki/mkpki.sh); bsdiff and xdelta3 of the
#    stripped binaries (stripped as dh_strip does) for comparison.
# 4. Live: the baseline nginx on 127.0.0.1 under bounded load (httpload),
#    every nginx process (master and workers) patched with hpapply month
#    after month, failed requests counted; two processes parsing XML in a
#    loop (xmlloop) on the baseline libexpat, both patched, one reverted.
#
# A tool that refuses is recorded (its message in WORKDIR/results/) and the
# run goes on.  The figures are printed at the end and kept in
# WORKDIR/results/summary.txt.  Exit status: 0 ran (whatever the tools
# said), 1 the harness itself could not run (sources, build, setup).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
if [ $# -ne 2 ]; then
	echo "usage: $0 BINDIR WORKDIR" >&2
	exit 2
fi
bin=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
res=$work/results
NGINX_BASE=${REALWORLD_NGINX_BASE:-1.22.1-9+deb12u9}
EXPAT_BASE=${REALWORLD_EXPAT_BASE:-2.5.0-1+deb12u2}
PORT=${REALWORLD_PORT:-18439}
export SOURCE_DATE_EPOCH=1800000000

die() {
	echo "realworld: $*" >&2
	exit 1
}
note() { echo "realworld: $*"; }

# REALWORLD_PACKAGES: which of the two to run (default both).
pkgs=${REALWORLD_PACKAGES:-nginx expat}
want() { [[ " $pkgs " == *" $1 "* ]]; }

# REALWORLD_NO_BUILD=1: use the trees as they are (no fetch, no build).
if [ -z "${REALWORLD_NO_BUILD:-}" ]; then
# shellcheck disable=SC2086
bash "$here/sources.sh" "$work" $pkgs || die "cannot get the sources"
if want nginx; then bash "$here/build.sh" "$work" nginx "$NGINX_BASE" || die "nginx build failed"; fi
if want expat; then bash "$here/build.sh" "$work" expat "$EXPAT_BASE" || die "expat build failed"; fi
fi

for p in $pkgs; do rm -rf "$res/$p"; done
mkdir -p "$res"
summary=$res/summary${REALWORLD_PACKAGES:+-${pkgs// /-}}.txt
: >"$summary"
say() { echo "$*" | tee -a "$summary"; }

rm -rf "$res/pki"
bash "$root/tests/pki/mkpki.sh" "$res/pki" >/dev/null 2>&1 || die "cannot make the test PKI"
gcc -O2 -Wall -Wextra -pthread -o "$res/httpload" "$here/httpload.c" || die "cannot build httpload"

# strip_like_debian IN OUT: what dh_strip ships (executables: --strip-all
# minus .comment/.note sections; shared libraries: --strip-unneeded).
strip_like_debian() {
	case $1 in
	*.so*) strip --remove-section=.comment --remove-section=.note --strip-unneeded -o "$2" "$1" ;;
	*) strip --remove-section=.comment --remove-section=.note -o "$2" "$1" ;;
	esac
}

# pack_month PKG MONTH OBJDIR BINREL HPDSEL
#   OBJDIR: the build-tree directory hpdiff compares (relative to mNN/tree)
#   BINREL: the changed binary (relative to mNN/tree)
#   HPDSEL: a find(1) filter naming the .hpd a user must pick by hand when
#           the documented `find hpd -name '*.hpd'` is refused ("" none)
pack_month() {
	local pkg=$1 m=$2 objdir=$3 binrel=$4 hpdsel=$5
	local mm d0 dm out rc
	mm=$(printf 'm%02d' "$m")
	d0=$work/$pkg/m00/tree
	dm=$work/$pkg/$mm/tree
	out=$res/$pkg/$mm
	mkdir -p "$out/dist"
	strip_like_debian "$d0/$binrel" "$res/$pkg/m00.dist" 2>/dev/null ||
		cp "$d0/$binrel" "$res/$pkg/m00.dist"
	strip_like_debian "$dm/$binrel" "$out/dist/bin"
	# hpdiff over the two trees (cumulative: against month 0).
	rc=0
	(cd "$work/$pkg" && "$bin/hpdiff" "m00/tree/$objdir" "$mm/tree/$objdir" -o "$out/hpd" --json --show \
		>"$out/hpdiff.json" 2>"$out/hpdiff.err") || rc=$?
	echo "$rc" >"$out/hpdiff.rc"
	python3 "$here/lineonly.py" "$out/hpdiff.json" >"$out/lineonly.txt" 2>&1 || true
	# Deltas of the stripped binaries.
	bsdiff "$res/$pkg/m00.dist" "$out/dist/bin" "$out/bsdiff.patch" 2>/dev/null || true
	xdelta3 -e -f -s "$res/$pkg/m00.dist" "$out/dist/bin" "$out/xdelta3.vcdiff" 2>/dev/null || true
	# hppack: the documented workflow first, every .hpd hpdiff wrote.
	local prev=() hpds
	[ "$m" -gt 1 ] && prev=(--previous "$res/$pkg/$(printf 'm%02d' $((m - 1)))/$pkg.hpk")
	if [ "$m" -gt 1 ] && [ ! -f "${prev[1]}" ]; then prev=(); fi
	mapfile -t hpds < <(find "$out/hpd" -name '*.hpd' 2>/dev/null | sort)
	echo "${#hpds[@]}" >"$out/nhpd"
	pack() {
		"$bin/hppack" --baseline "$res/$pkg/m00.dist" --baseline-symbols "$d0/$binrel" --seq "$m" "${prev[@]}" \
			--fixes "$(cut -f3 "$work/$pkg/months.tsv" | sed -n "2,$((m + 1))p" | tr '\n' ' ' | sed 's/ *$//')" \
			--key "$res/pki/p256.key" --cert "$res/pki/p256.pem" --chain "$res/pki/p256.chain" \
			-o "$out/$pkg.hpk" -v "$@"
	}
	rc=0
	if [ "${#hpds[@]}" -eq 0 ]; then
		echo "no .hpd written (hpdiff exit $(cat "$out/hpdiff.rc"))" >"$out/hppack.txt"
		rc=none
	else
		pack "${hpds[@]}" >"$out/hppack.txt" 2>&1 || rc=$?
	fi
	echo "$rc" >"$out/hppack.rc"
	rm -f "$out/hppack-hand.rc" "$out/hppack-hand.dropped"
	if [ "$rc" != 0 ] && [ "$rc" != none ]; then
		# The hand steps the documented workflow needs today: on a libtool
		# tree only lib/.libs/*.o (issue 11 item 4); then without the .hpd
		# files hppack names as not built into this baseline (objects of
		# other binaries: dynamic modules, programs) or not hotpatchable.
		if [ -n "$hpdsel" ]; then
			set -f
			# shellcheck disable=SC2086
			mapfile -t hpds < <(find "$out/hpd" -name '*.hpd' $hpdsel | sort)
			set +f
			echo "picked by hand: ${#hpds[@]} .hpd ($hpdsel)" >"$out/hppack-hand.dropped"
		fi
		local try drop
		for try in 1 2 3 4; do
			rc=0
			pack "${hpds[@]}" >"$out/hppack-hand.txt" 2>&1 || rc=$?
			[ "$rc" = 1 ] || break
			drop=$(grep -E 'were not built into this baseline|cannot be hotpatched|the package is for another baseline' "$out/hppack-hand.txt" |
				grep -oE '[^ :]+\.hpd' | sort -u)
			[ -n "$drop" ] || break
			echo "$drop" | sed 's|^.*/hpd/|dropped: |' >>"$out/hppack-hand.dropped"
			mapfile -t hpds < <(printf '%s\n' "${hpds[@]}" | grep -vxF "$drop")
			[ "${#hpds[@]}" -gt 0 ] || break
		done
		echo "$rc" >"$out/hppack-hand.rc"
	fi
	printf '%s\n' "${hpds[@]}" >"$out/hpds.used"
	# A second package without the object whose main() changed: a thread
	# never returns from main, so hpapply cannot replace it in a running
	# process (nginx: main changes when only the configure string, which
	# embeds the build path, differs).
	local mainobj
	mainobj=$(python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print("\n".join(o["name"] for o in r.get("objects", []) if any(f["name"] == "main" for f in o.get("functions", []))))' "$out/hpdiff.json" 2>/dev/null)
	rm -f "$out/nomain.rc"
	if [ -n "$mainobj" ]; then
		echo "$mainobj" >"$out/main.objects"
		mapfile -t hpds < <(printf '%s\n' "${hpds[@]}" | grep -vF "$(echo "$mainobj" | sed 's/\.o$/.hpd/')")
		local prevnm=()
		[ "$m" -gt 1 ] && [ -f "$res/$pkg/$(printf 'm%02d' $((m - 1)))/$pkg-nomain.hpk" ] &&
			prevnm=(--previous "$res/$pkg/$(printf 'm%02d' $((m - 1)))/$pkg-nomain.hpk")
		rc=0
		"$bin/hppack" --baseline "$res/$pkg/m00.dist" --baseline-symbols "$d0/$binrel" --seq "$m" "${prevnm[@]}" \
			--key "$res/pki/p256.key" --cert "$res/pki/p256.pem" --chain "$res/pki/p256.chain" \
			-o "$out/$pkg-nomain.hpk" -v "${hpds[@]}" >"$out/nomain.txt" 2>&1 || rc=$?
		echo "$rc" >"$out/nomain.rc"
	fi
}

# ---- per month: hpdiff, hppack, deltas -------------------------------------

months() { awk -F'\t' '$1 > 0 { print $1 }' "$work/$1/months.tsv"; }

want nginx && for m in $(months nginx); do
	note "nginx month $m: hpdiff, hppack"
	pack_month nginx "$m" debian/build-bin/objs debian/build-bin/objs/nginx ""
done
want expat && expat_so=$(cd "$work/expat/m00/tree" && ls build/lib/.libs/libexpat.so.1.* | head -1)
want expat && for m in $(months expat); do
	note "expat month $m: hpdiff, hppack"
	pack_month expat "$m" build "$expat_so" "-path */lib/.libs/* ! -path *.a/* ! -path *.a.hpd"
done

# ---- live: nginx under load -----------------------------------------------

# hpapply_all PKGFILE LOG PID...: apply to every process; prints per process
# "pid rc ms stall".
hpapply_all() {
	local pkgf=$1 log=$2 pid rc t0 t1
	shift 2
	for pid in "$@"; do
		t0=$(date +%s%N)
		rc=0
		timeout 60 "$bin/hpapply" "$pid" "$pkgf" --ca "$res/pki/root.pem" --crl "$res/pki/crls.pem" -v \
			>>"$log" 2>&1 || rc=$?
		t1=$(date +%s%N)
		echo "$pid $rc $(((t1 - t0) / 1000000)) $(grep -o 'stopped for [0-9.]* ms' "$log" | tail -1 | awk '{print $3}')"
	done
}

run_nginx_live() {
live=$res/nginx/live
mkdir -p "$live/html" "$live/tmp"
head -c 4096 /dev/urandom | base64 >"$live/html/index.html"
cat >"$live/nginx.conf" <<CONF
# Debian's default nginx.conf, trimmed to a loopback server under $live.
user www-data;
worker_processes auto;
pid $live/nginx.pid;
error_log $live/error.log;
events { worker_connections 768; }
http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	default_type application/octet-stream;
	access_log off;
	client_body_temp_path $live/tmp/body;
	proxy_temp_path $live/tmp/proxy;
	fastcgi_temp_path $live/tmp/fastcgi;
	uwsgi_temp_path $live/tmp/uwsgi;
	scgi_temp_path $live/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $live/html;
		location / { }
	}
}
CONF
chmod -R a+rX "$live"
ngx=$res/nginx/m00.dist
nginx_pids() {
	local master
	master=$(cat "$live/nginx.pid" 2>/dev/null) || return
	echo "$master $(pgrep -P "$master" | tr '\n' ' ')"
}
stop_all() {
	[ -f "$live/nginx.pid" ] && kill "$(cat "$live/nginx.pid")" 2>/dev/null
	[ -n "${loadpid:-}" ] && kill "$loadpid" 2>/dev/null
	for p in ${xpids:-}; do kill "$p" 2>/dev/null; done
}
trap stop_all EXIT
: >"$res/nginx/live.tsv"
if "$ngx" -p "$live" -c "$live/nginx.conf" -e "$live/error.log" 2>"$live/start.err"; then
	sleep 1
	rm -f "$live/stop"
	"$res/httpload" "$PORT" /index.html "$live/stop" 4 1000 >"$live/load.out" 2>&1 &
	loadpid=$!
	sleep 2
	for m in $(months nginx); do
		mm=$(printf 'm%02d' "$m")
		pkgf=$res/nginx/$mm/nginx.hpk
		if [ ! -f "$pkgf" ]; then
			echo -e "$m\tno package" >>"$res/nginx/live.tsv"
			continue
		fi
		# shellcheck disable=SC2046
		hpapply_all "$pkgf" "$res/nginx/$mm/hpapply.txt" $(nginx_pids) >"$res/nginx/$mm/hpapply.tsv"
		if [ -f "$res/nginx/$mm/nginx-nomain.hpk" ]; then
			# shellcheck disable=SC2046
			hpapply_all "$res/nginx/$mm/nginx-nomain.hpk" "$res/nginx/$mm/hpapply-nomain.txt" $(nginx_pids) \
				>"$res/nginx/$mm/hpapply-nomain.tsv"
		fi
		echo -e "$m\tapplied" >>"$res/nginx/live.tsv"
		sleep 2
	done
	# shellcheck disable=SC2046
	"$bin/hpapply" --list "$(cat "$live/nginx.pid")" >"$res/nginx/list.txt" 2>&1
	sleep 1
	touch "$live/stop"
	wait "$loadpid"
	loadpid=""
	kill "$(cat "$live/nginx.pid")" 2>/dev/null
	sleep 1
else
	echo "nginx did not start: $(cat "$live/start.err")" >"$live/load.out"
fi
}
want nginx && run_nginx_live

# ---- live: expat in two processes -----------------------------------------

run_expat_live() {
xl=$res/expat/live
mkdir -p "$xl"
base_lib=$work/expat/m00/tree/build/lib
gcc -O2 -Wall -Wextra -I "$work/expat/m00/tree/expat/lib" -o "$res/xmlloop" "$here/xmlloop.c" -L "$base_lib/.libs" -lexpat ||
	die "cannot build xmlloop"
xpids=""
for i in 1 2; do
	LD_LIBRARY_PATH=$base_lib/.libs "$res/xmlloop" "$xl" &
	xpids="$xpids $!"
done
sleep 1
# probe N: ask each process for the behaviour probe, wait (10 s) for answers.
probe() {
	local n=$1 p i
	echo "$n" >"$xl/probe.req"
	for p in $xpids; do
		for i in $(seq 100); do
			[ -f "$xl/probe.$p.$n" ] && break
			sleep 0.1
		done
		echo "$p $(cat "$xl/probe.$p.$n" 2>/dev/null || echo 'no answer')"
	done
}
probe 0 >"$xl/probe-baseline.txt"
last_x=""
for m in $(months expat); do
	mm=$(printf 'm%02d' "$m")
	pkgf=$res/expat/$mm/expat.hpk
	[ -f "$pkgf" ] || continue
	# shellcheck disable=SC2086
	hpapply_all "$pkgf" "$res/expat/$mm/hpapply.txt" $xpids >"$res/expat/$mm/hpapply.tsv"
	probe "$m" >"$xl/probe-$mm.txt"
	last_x=$mm
done
if [ -n "$last_x" ]; then
	first=${xpids# }
	first=${first%% *}
	"$bin/hpapply" --revert "$first" -v >"$xl/revert.txt" 2>&1
	echo "$?" >"$xl/revert.rc"
	probe 99 >"$xl/probe-reverted.txt"
fi
sleep 1
for p in $xpids; do echo "$p $(cat "$xl/count.$p" 2>/dev/null) alive=$(kill -0 "$p" 2>/dev/null && echo yes || echo no)"; done >"$xl/counts.txt"
for p in $xpids; do kill "$p" 2>/dev/null; done
xpids=""
}
want expat && run_expat_live

# ---- the figures -------------------------------------------------------------

# shellcheck disable=SC2086
bash "$here/report.sh" "$work" $pkgs | tee -a "$summary"
