#!/bin/bash
# Seed a fuzz target's corpus from the built samples (once; libFuzzer adds
# what it finds).  usage: seeds.sh TARGET CORPUS_DIR SAMPLE_DIR BIN_DIR
set -euo pipefail
target=$1 corpus=$2 samples=$3 bin=$4
mkdir -p "$corpus"
# Inputs that once crashed a target are replayed on every run.
regress=$(dirname "$0")/regress/$target
if [ -d "$regress" ]; then
	cp -n "$regress"/* "$corpus"/ 2>/dev/null || true
fi
[ -n "$(ls "$corpus" | grep -v -F "$(ls "$regress" 2>/dev/null)" || true)" ] && exit 0
variants="gcc-O2 gcc-O2-fs clang-O2 gcc-O0 gcc-O2-nopie clang-O2-pic"
case $target in
fuzz_object)
	for v in $variants; do
		for s in "$samples/$v"/*/; do
			cp "$s/old.o" "$corpus/$v-$(basename "$s").o"
		done
	done ;;
fuzz_archive)
	for v in gcc-O2 clang-O2; do
		ar rcS "$corpus/$v.a" "$samples/$v"/{body-change,switch-jumptable,tls-errno}/old.o
	done ;;
fuzz_hpd)
	for v in gcc-O2 clang-O2-pic; do
		for s in "$samples/$v"/*/; do
			"$bin/hpdiff" -o "$corpus/$v-$(basename "$s").hpd" "$s/old.o" "$s/new.o" \
				>/dev/null || [ $? -le 3 ]
		done
	done ;;
*)
	echo "seeds.sh: no seeds for $target" >&2 ;;
esac
