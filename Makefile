# Hotpatch toolchain.
#
#   make            build every tool into build/ (or $(O))
#   make check      install missing Debian packages, build, run all tests
#   make demo       the release story end to end on the bundled samples
#   make SANITIZE=1 check    the same tests under ASan and UBSan
#   make bench      benchmarks against the reference tools (downloads inputs)
#   make realworld  the monthly cycle on Debian 12 nginx and expat updates (downloads)
#   make fuzz       longer fuzzing runs of every reader of untrusted bytes
#   make format-check        the tree against .clang-format (CI runs it)
#   make install    PREFIX=/usr/local DESTDIR=
#
# The tree is the pipeline: objects -> hpdiff/ -> .hpd -> hppack/ -> .hpk ->
# hpsign/ (signed, verified) -> hpapply/ -> a running process.  Shared code
# lives in its own homes: format/ (on-disk formats), verify/ (verification
# and signing), common/ (messages, allocation), arch/ (the instruction set).
# Each directory brings its own rules in a fragment included below.

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
# Seconds each fuzz target runs in `make check` and in `make fuzz`.
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SECONDS ?= 300

VERSION := 0.1.0

ifeq ($(SANITIZE),1)
B := $(O)/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
B := $(O)/rel
SAN_FLAGS :=
endif

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wno-format-nonliteral
# Every include names its folder from the repository root: "format/hpk.h".
CPPFLAGS_HP := -std=c11 -D_GNU_SOURCE -DHP_VERSION='"$(VERSION)"' -I. -I/usr/include/libdwarf
ALL_CFLAGS := $(CPPFLAGS_HP) $(WARNINGS) $(SAN_FLAGS) $(CFLAGS) -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS) -pthread

# Debian packages the build, the tests, the demo and the benchmarks need;
# fragments add theirs.
DEB_PACKAGES := make gcc clang clang-format libc6-dev binutils pkg-config \
	libelf-dev libdwarf-dev libzydis-dev libzstd-dev libssl-dev libjson-c-dev \
	libcriterion-dev libclang-rt-14-dev zstd openssl time

all: tools

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Each fragment adds to: TOOLS (programs), TEST_LIBS and TEST_LDLIBS (what
# unit tests link, in link order: a fragment puts its library in front of
# the ones it uses), FUZZ_LIB_SRC and FUZZ_LDLIBS (what fuzz targets are
# built from), DEB_PACKAGES, and DEPS (the compiler's .d files to include).
TOOLS :=
TEST_LIBS :=
TEST_LDLIBS :=
FUZZ_LIB_SRC :=
FUZZ_LDLIBS :=
DEPS :=

# Shared homes, in the order they link (each uses only the ones above it).
include common/common.mk
include arch/arch.mk
include format/format.mk
include verify/verify.mk
# Tools: one directory each, in pipeline order.
include hpdiff/hpdiff.mk
include hppack/hppack.mk
include hpsign/hpsign.mk
include hpapply/hpapply.mk
# Samples, tests, benchmarks.
include samples/samples.mk
include tests/tests.mk
include bench/bench.mk
include realworld/realworld.mk

tools: $(TOOLS)

ifeq ($(SANITIZE),1)
# The fuzz targets are already sanitized; a second copy adds nothing.
check-all: test-unit test-cli
else
check-all: test-unit test-cli fuzz-smoke
endif

check: deps
	@$(MAKE) --no-print-directory check-all

# ---- demo, bench ----------------------------------------------------------

demo: deps
	@$(MAKE) --no-print-directory tools samples
	@bash samples/demo.sh $(abspath $(B))/bin $(abspath $(O))

bench: deps
	@$(MAKE) --no-print-directory tools
	@bash bench/run.sh $(abspath $(B))/bin $(abspath $(O))/bench

# ---- formatting -----------------------------------------------------------

# Every C file of the project (samples are test inputs, kept as written).
FORMAT_FILES = $(sort $(wildcard common/*.[ch] arch/*.h arch/*/*.[ch] format/*.[ch] verify/*.[ch] \
	hp*/*.[ch] tests/*.h tests/*/*.c))

format-code:
	clang-format -i $(FORMAT_FILES)

# Fails, listing the files, when any differs from what clang-format makes of it.
format-check:
	@bad=""; for f in $(FORMAT_FILES); do \
		clang-format --dry-run -Werror $$f >/dev/null 2>&1 || bad="$$bad $$f"; done; \
	if [ -n "$$bad" ]; then echo "format-check: not formatted (make format-code):$$bad"; \
		exit 1; fi; echo "format-check: $(words $(FORMAT_FILES)) files formatted"

# ---- dependencies, install, clean ------------------------------------------

# Installs what is missing when run as root; otherwise prints the command.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' \
			|| missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "deps: missing Debian packages; run as root:"; \
		echo "  apt-get install -y$$missing"; exit 1; \
	fi

install: tools
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(wildcard docs/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf $(O)

.PHONY: all tools check check-all test-unit test-cli fuzz fuzz-smoke demo bench realworld deps \
	install clean format-code format-check

-include $(DEPS)
