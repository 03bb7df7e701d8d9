#!/bin/bash
# make realworld, step 2: one build tree per monthly revision, built as
# Debian builds, with the baseline kept (objects, unstripped binaries).
#
#   bash realworld/build.sh WORKDIR PACKAGE BASELINE_VERSION
#
# Reads WORKDIR/src/PACKAGE/tree (the newest source package fetched by
# sources.sh).  Its debian/changelog says which CVEs each revision after
# BASELINE_VERSION added; a debian/patches/series entry whose name carries
# one of those CVE ids belongs to that revision, every other entry is
# baseline.  Month 0 is the baseline cut, month N the cut at the Nth later
# revision.  Each cut is built in WORKDIR/PACKAGE/mNN/tree (same name and
# depth for every month, so objects carry the same paths) from the same
# upstream tarball and debian/ directory: dpkg-source --before-build
# applies the cut series, then `debian/rules build` runs with
# DEB_BUILD_OPTIONS="nocheck parallel=2" (dh_strip is not part of build).
#
# Writes WORKDIR/PACKAGE/months.tsv: month, version, patches added.
# REALWORLD_ONLY_MONTH=N builds month N only (runs for other months may go
# on at the same time; each month's tree is locked while it builds).
# Exit status: 0 built, 1 a build failed.
set -u
work=$1
pkg=$2
base=$3
src=$work/src/$pkg/tree
out=$work/$pkg
dsc=$(ls "$work/src/$pkg"/*.dsc | head -1)
mkdir -p "$out"

# Revisions newer than the baseline, oldest first, with their CVE ids.
revs=$(dpkg-parsechangelog -l "$src/debian/changelog" --since "$base" -S Version | tac)
if [ -z "$revs" ]; then
	revs=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
fi
declare -A cve_rev
for r in $revs; do
	for c in $(dpkg-parsechangelog -l "$src/debian/changelog" --from "$r" --to "$r" -S Changes |
		grep -oE 'CVE-[0-9]{4}-[0-9]+' | sort -u); do
		[ -n "${cve_rev[$c]:-}" ] || cve_rev[$c]=$r
	done
done
# The revision a series entry belongs to ("" = baseline).
entry_rev() {
	local c
	for c in $(grep -oE 'CVE-[0-9]{4}-[0-9]+' <<<"$1"); do
		if [ -n "${cve_rev[$c]:-}" ]; then
			echo "${cve_rev[$c]}"
			return
		fi
	done
}

: >"$out/months.tsv.$$"
month=0
for r in "$base" $revs; do
	m=$(printf 'm%02d' "$month")
	dir=$out/$m
	# The cut: baseline entries plus those of revisions up to r.
	allowed=" $base "
	for x in $revs; do
		allowed="$allowed$x "
		[ "$x" = "$r" ] && break
	done
	[ "$r" = "$base" ] && allowed=" $base "
	added=""
	series=""
	while IFS= read -r line; do
		case $line in
		'' | '#'*)
			series+="$line"$'\n'
			continue
			;;
		esac
		er=$(entry_rev "$line")
		if [ -z "$er" ] || [[ $allowed == *" $er "* ]]; then
			series+="$line"$'\n'
			[ "$er" = "$r" ] && [ "$r" != "$base" ] && added="$added ${line%% *}"
		fi
	done <"$src/debian/patches/series"
	printf '%s\t%s\t%s\n' "$month" "$r" "${added# }" >>"$out/months.tsv.$$"
	if [ -n "${REALWORLD_ONLY_MONTH:-}" ] && [ "$REALWORLD_ONLY_MONTH" != "$month" ]; then
		month=$((month + 1))
		continue
	fi
	# One build of a month at a time (two runs would share the tree).
	exec 9>"$out/.lock.$m"
	flock 9
	if [ -f "$dir/built" ] && [ "$(cat "$dir/series.cut")" = "$series" ]; then
		echo "realworld: $pkg month $month ($r): already built"
		month=$((month + 1))
		continue
	fi
	echo "realworld: $pkg month $month ($r): building ($(grep -cv '^#' <<<"${series%$'\n'}") patches${added:+, adds$added})"
	rm -rf "$dir"
	mkdir -p "$dir"
	# The newest source package unpacked without its patches, then cut.
	(cd "$dir" && dpkg-source -x -q --skip-patches "$dsc" tree) >"$dir/build.log" 2>&1 || {
		echo "realworld: dpkg-source -x $dsc failed; see $dir/build.log" >&2
		exit 1
	}
	printf '%s' "$series" >"$dir/tree/debian/patches/series"
	printf '%s' "$series" >"$dir/series.cut"
	if ! (cd "$dir/tree" && dpkg-source --before-build . &&
		DEB_BUILD_OPTIONS="nocheck parallel=2" debian/rules build) >>"$dir/build.log" 2>&1; then
		echo "realworld: $pkg month $month build failed; see $dir/build.log" >&2
		exit 1
	fi
	(cd "$dir/tree" && dpkg-buildflags --export=sh) >"$dir/buildflags"
	touch "$dir/built"
	month=$((month + 1))
done
mv "$out/months.tsv.$$" "$out/months.tsv"
