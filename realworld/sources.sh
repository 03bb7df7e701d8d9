#!/bin/bash
# make realworld, step 1: the Debian sources and build dependencies.
#
#   bash realworld/sources.sh WORKDIR PACKAGE...
#
# Adds a deb-src entry derived from the machine's configured Debian sources
# when apt has none (a deb822 file /etc/apt/sources.list.d/realworld-src.sources
# copying every "Types: deb" stanza of *.sources / every "deb " line of
# *.list as deb-src), runs apt-get update, then for each PACKAGE:
# apt-get build-dep (noninteractive) and apt-get source into
# WORKDIR/src/PACKAGE (unpacked, the newest version apt knows).
# Needs root for the sources entry and build-dep; without root it prints
# what to run.  Exit status: 0 done, 1 a step failed.
set -u
work=$1
shift
srcfile=/etc/apt/sources.list.d/realworld-src.sources

has_src() {
	grep -rqsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
	grep -rqsiE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources && return 0
	return 1
}

if ! has_src; then
	if [ "$(id -u)" != 0 ]; then
		echo "realworld: apt has no deb-src entry; run as root (make realworld) to add one" >&2
		exit 1
	fi
	tmp=$(mktemp)
	# deb822 stanzas: copy those whose Types has deb, as deb-src.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS=""; ORS="\n\n" }
		     /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/ {
			n = split($0, l, "\n"); out = ""
			for (i = 1; i <= n; i++) {
				if (l[i] ~ /^#/) continue
				if (l[i] ~ /^Types:/) l[i] = "Types: deb-src"
				out = out l[i] "\n"
			}
			printf "%s\n", out
		     }' "$f" >>"$tmp"
	done
	# One-line form: deb URI SUITE COMPONENTS -> a deb822 stanza each.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" {
			i = 2; opts = ""
			if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
			uri = $i; suite = $(i + 1); comps = ""
			for (j = i + 2; j <= NF; j++) comps = comps (comps ? " " : "") $j
			printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uri, suite, comps
			if (opts ~ /signed-by=/) { match(opts, /signed-by=[^] ]*/); printf "Signed-By: %s\n", substr(opts, RSTART + 10, RLENGTH - 10) }
			printf "\n"
		}' "$f" >>"$tmp"
	done
	if [ ! -s "$tmp" ]; then
		echo "realworld: no Debian 'deb' source configured to derive a deb-src entry from" >&2
		rm -f "$tmp"
		exit 1
	fi
	echo "realworld: adding $srcfile (deb-src of the configured Debian sources)"
	install -m 0644 "$tmp" "$srcfile"
	rm -f "$tmp"
	apt-get update -qq || exit 1
fi

# fetch_version PKG VERSION DIR: the .dsc of VERSION and the files it lists
# from the pool of a configured deb-src URI (apt-get source knows only the
# versions in its index; a mirror may hold fewer or more).
fetch_version() {
	local p=$1 v=$2 dir=$3 pooldir uri f ok
	pooldir=$(apt-cache showsrc "$p" | awk '/^Directory:/ { print $2; exit }')
	pooldir=${pooldir%/}
	local vq=${v/+/%2B}
	for uri in $(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{ print $2 }' | sort -u); do
		for sub in "${pooldir}" "pool/updates/main/${p:0:1}/$p" "pool/main/${p:0:1}/$p"; do
			if curl -fsS -m 60 -o "$dir/${p}_$v.dsc" "$uri/$sub/${p}_$vq.dsc" 2>/dev/null; then
				ok=1
				for f in $(awk '/^Files:/ { f = 1; next } /^[^ ]/ { f = 0 } f { print $3 }' "$dir/${p}_$v.dsc"); do
					[ -s "$dir/$f" ] && continue
					curl -fsS -m 300 -o "$dir/$f" "$uri/$sub/${f/+/%2B}" 2>/dev/null || { ok=0; break; }
				done
				[ "$ok" = 1 ] && return 0
			fi
		done
	done
	rm -f "$dir/${p}_$v.dsc"
	return 1
}

mkdir -p "$work/src"
for p in "$@"; do
	if [ -f "$work/src/$p/.done" ]; then
		continue
	fi
	echo "realworld: apt-get build-dep $p"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$p" >"$work/src/$p.build-dep.log" 2>&1 || {
		echo "realworld: apt-get build-dep $p failed; see $work/src/$p.build-dep.log" >&2
		exit 1
	}
	rm -rf "$work/src/$p"
	mkdir -p "$work/src/$p"
	newest=$(apt-cache showsrc "$p" | awk '/^Version:/ { print $2 }' | sort -V | tail -1)
	echo "realworld: apt-get source $p (newest in apt's index: $newest)"
	if (cd "$work/src/$p" && apt-get source -qq --download-only "$p=$newest") >"$work/src/$p.source.log" 2>&1; then
		got=$newest
	else
		# The mirror does not serve the newest: walk back the +debNNuN revisions.
		echo "realworld: the mirror does not serve $p $newest (see $work/src/$p.source.log); trying earlier revisions"
		got=""
		v=$newest
		while [[ $v =~ ^(.*u)([0-9]+)$ ]] && [ "${BASH_REMATCH[2]}" -gt 1 ]; do
			v="${BASH_REMATCH[1]}$((BASH_REMATCH[2] - 1))"
			if fetch_version "$p" "$v" "$work/src/$p"; then
				got=$v
				break
			fi
		done
		if [ -z "$got" ]; then
			echo "realworld: no revision of $p could be fetched" >&2
			exit 1
		fi
	fi
	echo "realworld: $p $got fetched"
	(cd "$work/src/$p" && dpkg-source -x -q "${p}_${got#*:}.dsc" tree) >>"$work/src/$p.source.log" 2>&1 || {
		echo "realworld: dpkg-source -x $p $got failed; see $work/src/$p.source.log" >&2
		exit 1
	}
	printf '%s\n%s\n' "$got" "$newest" >"$work/src/$p/.done"
done
