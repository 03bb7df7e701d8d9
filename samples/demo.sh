#!/bin/bash
# make demo: the release story on the bundled samples, with visible steps.
# usage: demo.sh BIN_DIR BUILD_DIR
set -euo pipefail
bin=$1 build=$2
samples=$build/samples
work=$build/demo
rm -rf "$work"
mkdir -p "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# hpdiff's exit status says what it found; the demo shows it rather than stopping.
status() { set +e; "$@"; local s=$?; set -e; printf '(exit status %d)\n' "$s"; }

step "1. hpdiff, one object: a bounds check added to a request parser (gcc -O2)"
run cd "$samples/gcc-O2/bounds-check"
status run "$bin/hpdiff" -o "$work/bounds-check.hpd" old.o new.o

step "2. the disassembly diff of what changed"
status run "$bin/hpdiff" --show old.o new.o

step "3. without -ffunction-sections, the first function grows and every other one moves;"
echo "   calls between static functions carry no relocation, yet only one function changed"
run cd "$samples/clang-O2/grown-function"
status run "$bin/hpdiff" old.o new.o

step "4. a change that cannot be hotpatched: a global's initial value (exit status 3)"
run cd "$samples/gcc-O2/changed-global-init"
status run "$bin/hpdiff" -o "$work/changed-global-init.hpd" old.o new.o
run "$bin/hpdiff" --inspect "$work/changed-global-init.hpd"

step "5. what the .hpd carries: code, the new literals, the reference map"
run "$bin/hpdiff" --inspect "$work/bounds-check.hpd"

step "6. whole trees, in parallel, as a build system runs it (every scenario, gcc -O2)"
mkdir -p "$work/tree/old" "$work/tree/new"
for s in "$samples/gcc-O2"/*/; do
	n=$(basename "$s")
	cp "$s/old.o" "$work/tree/old/$n.o"
	cp "$s/new.o" "$work/tree/new/$n.o"
done
status run "$bin/hpdiff" -o "$work/tree/hpd" "$work/tree/old" "$work/tree/new"
run ls "$work/tree/hpd"

printf '\nThe demo wrote its files under %s\n' "$work"
