#!/bin/bash
# Small programs for tests/unit/test_hppack.c, made once per test run: each
# is a baseline binary and the .hpd files of a fix, built to put one of
# hppack's resolution rules on the spot.
#
#   bash tests/hppack-fixture.sh DIR BINDIR SAMPLEDIR
#
# DIR/scope/    two source files both named util.c, each with a static `step`
#               and a static `hits`; prog links main.o b/util.o a/util.o.
#               a.hpd fixes a's step (a local function), m.hpd fixes main.c,
#               g.hpd changes a's global a_run so that it calls step.
# DIR/hidden/   libh.so: a hidden function and a hidden variable (the linker
#               makes them local); h.hpd changes both functions.
# DIR/gc/       prog linked with --gc-sections, which drops helper_unused;
#               gc.hpd makes work() call it.
# DIR/nofile/   libx.a(x.o) built without STT_FILE symbols (like glibc's),
#               with a static `tally`, and y.o with a hidden global `tally`;
#               x.hpd fixes x.o's static inc().
# DIR/plt/      new-libc-call's baseline (gcc-O2) linked with one more object
#               that calls strnlen, so the baseline has strnlen@plt; nlc.hpd.
set -euo pipefail
dir=$1 bin=$2 samples=$3
cc="gcc -O2 -fPIE"
mkdir -p "$dir"
cd "$dir"

# ---- scope -------------------------------------------------------------------
mkdir -p scope/old/a scope/old/b scope/new/a scope/new2/a
cat >scope/old/a/util.c <<'EOF'
static int hits;
__attribute__((noinline)) static int step(int x)
{
	hits++;
	return x + hits;
}
int a_run(int x)
{
	return step(x) * 2;
}
EOF
cat >scope/new/a/util.c <<'EOF'
static int hits;
__attribute__((noinline)) static int step(int x)
{
	hits += 2;
	if (x > 1000)
		return 0;
	return x + hits;
}
int a_run(int x)
{
	return step(x) * 2;
}
EOF
cat >scope/new2/a/util.c <<'EOF'
static int hits;
__attribute__((noinline)) static int step(int x)
{
	hits++;
	return x + hits;
}
int a_run(int x)
{
	if (x < 0)
		return -1;
	return step(x) * 2 + step(x + 1);
}
EOF
cat >scope/old/b/util.c <<'EOF'
static int hits;
__attribute__((noinline)) static int step(int x)
{
	hits--;
	return x * 3 - hits;
}
int b_run(int x)
{
	return step(x) + 1;
}
EOF
cat >scope/old/main.c <<'EOF'
#include <stdio.h>
int a_run(int x);
int b_run(int x);
int report(int v)
{
	return printf("%d\n", v);
}
int main(int argc, char **argv)
{
	(void)argv;
	return report(a_run(argc) + b_run(argc)) < 0;
}
EOF
sed 's/printf("%d\\n", v)/printf("v=%d\\n", v)/' scope/old/main.c >scope/new/main.c
for d in old/a old/b new/a new2/a old new; do
	(cd "scope/$d" && $cc -g -c ./*.c)
done
gcc -pie -o scope/prog scope/old/main.o scope/old/b/util.o scope/old/a/util.o
"$bin/hpdiff" scope/old/a/util.o scope/new/a/util.o -o scope/a.hpd >/dev/null || [ $? = 1 ]
"$bin/hpdiff" scope/old/main.o scope/new/main.o -o scope/m.hpd >/dev/null || [ $? = 1 ]
"$bin/hpdiff" scope/old/a/util.o scope/new2/a/util.o -o scope/g.hpd >/dev/null || [ $? = 1 ]

# ---- hidden ------------------------------------------------------------------
mkdir -p hidden/old hidden/new
cat >hidden/old/h.c <<'EOF'
__attribute__((visibility("hidden"))) int counter;
__attribute__((visibility("hidden"), noinline)) int hid(int x)
{
	return x * 7;
}
int bump(int x)
{
	counter += hid(x);
	return counter;
}
EOF
sed -e 's/x \* 7/x * 9/' -e 's/counter += hid(x);/if (x < 0)\n\t\treturn -1;\n\tcounter += hid(x);/' \
	hidden/old/h.c >hidden/new/h.c
(cd hidden/old && gcc -O2 -fPIC -c h.c && gcc -shared -o libh.so h.o)
(cd hidden/new && gcc -O2 -fPIC -c h.c)
"$bin/hpdiff" hidden/old/h.o hidden/new/h.o -o hidden/h.hpd >/dev/null || [ $? = 1 ]

# ---- gc ----------------------------------------------------------------------
mkdir -p gc/old gc/new
cat >gc/old/g.c <<'EOF'
__attribute__((noinline)) int helper_unused(int x)
{
	return x * 5;
}
__attribute__((noinline)) int work(int x)
{
	return x + 1;
}
int main(int argc, char **argv)
{
	(void)argv;
	return work(argc);
}
EOF
sed 's/return x + 1;/return x > 5 ? helper_unused(x) : x + 1;/' gc/old/g.c >gc/new/g.c
(cd gc/old && $cc -ffunction-sections -c g.c && gcc -pie -Wl,--gc-sections -o prog g.o)
(cd gc/new && $cc -ffunction-sections -c g.c)
"$bin/hpdiff" gc/old/g.o gc/new/g.o -o gc/gc.hpd >/dev/null || [ $? = 1 ]

# ---- nofile ------------------------------------------------------------------
mkdir -p nofile/old nofile/new
cat >nofile/old/x.c <<'EOF'
static int tally;
__attribute__((noinline)) static int inc(int v)
{
	tally += v;
	return tally;
}
int x_api(int v)
{
	return inc(v) + 1;
}
EOF
sed 's/tally += v;/if (v < 0)\n\t\treturn -1;\n\ttally += v;/' nofile/old/x.c >nofile/new/x.c
cat >nofile/y.c <<'EOF'
__attribute__((visibility("hidden"))) int tally = 5;
int y_api(void)
{
	return tally;
}
EOF
cat >nofile/main.c <<'EOF'
int x_api(int v);
int y_api(void);
int main(int argc, char **argv)
{
	(void)argv;
	return x_api(argc) + y_api();
}
EOF
for d in old new; do
	# no .file directive: no STT_FILE symbol, as in glibc's objects
	(cd "nofile/$d" && $cc -S x.c && sed -i '/^[[:space:]]*\.file/d' x.s && $cc -c x.s &&
		rm -f libx.a && ar rcD libx.a x.o)
done
(cd nofile && $cc -c y.c main.c && gcc -pie -o prog main.o y.o old/libx.a)
"$bin/hpdiff" nofile/old/libx.a nofile/new/libx.a -o nofile/out >/dev/null || [ $? = 1 ]
mv nofile/out/x.hpd nofile/x.hpd

# ---- plt ---------------------------------------------------------------------
mkdir -p plt
s=$samples/gcc-O2/new-libc-call
printf '#include <string.h>\nsize_t extra_strnlen(const char *s)\n{\n\treturn strnlen(s, 8);\n}\n' >plt/extra.c
(cd plt && $cc -c extra.c)
gcc -pie -o plt/old "$samples/gcc-O2/driver.o" "$s/probe.o" "$s/old.o" plt/extra.o
"$bin/hpdiff" "$s/old.o" "$s/new.o" -o plt/nlc.hpd >/dev/null || [ $? = 1 ]
