# Hotpatch toolchain.
#
#   make            build every tool into build/ (or $(O))
#   make check      install missing Debian packages, build, run all tests
#   make demo       the release story end to end on the bundled samples
#   make SANITIZE=1 check    the same tests under ASan and UBSan
#   make bench      benchmarks against the reference tools (downloads inputs)
#   make fuzz       longer fuzzing runs of every reader of untrusted bytes
#   make install    PREFIX=/usr/local DESTDIR=

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
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DHP_VERSION='"$(VERSION)"' $(WARNINGS) \
	-Iformat -I/usr/include/libdwarf $(SAN_FLAGS) $(CFLAGS) -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS) -pthread

LIBS_FORMAT := -lzstd -lcrypto
LIBS_HPDIFF := -lelf -ldwarf -lZydis -ljson-c $(LIBS_FORMAT)

# Debian packages the build, the tests, the demo and the benchmarks need.
DEB_PACKAGES := make gcc clang libc6-dev binutils pkg-config \
	libelf-dev libdwarf-dev libzydis-dev libzstd-dev libssl-dev libjson-c-dev \
	libcriterion-dev libclang-rt-14-dev zstd openssl time

all: tools

# ---- the shared format library ------------------------------------------

FORMAT_SRC := $(wildcard format/*.c)
FORMAT_OBJ := $(FORMAT_SRC:%.c=$(B)/obj/%.o)
LIBFORMAT := $(B)/libhpformat.a

$(LIBFORMAT): $(FORMAT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# ---- tools ----------------------------------------------------------------

HPDIFF_SRC := $(wildcard hpdiff/*.c)
HPDIFF_OBJ := $(HPDIFF_SRC:%.c=$(B)/obj/%.o)
# Everything of hpdiff but main(), for unit tests and fuzz targets.
HPDIFF_LIB := $(B)/libhpdiff.a

$(HPDIFF_LIB): $(filter-out $(B)/obj/hpdiff/main.o,$(HPDIFF_OBJ))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/hpdiff: $(B)/obj/hpdiff/main.o $(HPDIFF_LIB) $(LIBFORMAT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_HPDIFF)

TOOLS := $(B)/bin/hpdiff
# Libraries the unit tests link (tools' fragments add theirs in front).
TEST_LIBS := $(HPDIFF_LIB) $(LIBFORMAT)
TEST_LDLIBS := $(LIBS_HPDIFF)

# Each further tool brings its own rules: TOOLS, TEST_LIBS, TEST_LDLIBS,
# DEB_PACKAGES and FUZZ_LIB_SRC grow there.
-include $(wildcard hppack/hppack.mk hpsign/hpsign.mk hpapply/hpapply.mk)
-include bench/bench.mk

tools: $(TOOLS)

# ---- tests ----------------------------------------------------------------

include samples/samples.mk

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)

$(B)/tests/unit/%: tests/unit/%.c $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote hpdiff -iquote hppack -iquote hpsign -iquote hpapply \
		-DHP_SRCDIR='"$(CURDIR)"' -DHP_BINDIR='"$(abspath $(B))/bin"' \
		-DHP_SAMPLEDIR='"$(abspath $(O))/samples"' -o $@ $< $(TEST_LIBS) \
		$(ALL_LDFLAGS) -lcriterion $(TEST_LDLIBS)

test-unit: $(UNIT_BIN) tools samples
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs=2 --short-filename; done

test-cli: tools samples
	@set -e; for t in $(filter-out tests/cli/lib.sh,$(wildcard tests/cli/*.sh)); do echo "== $$t"; \
		HP_BIN=$(abspath $(B))/bin HP_SAMPLES=$(abspath $(O))/samples bash $$t; done

# Fuzz targets: libFuzzer with clang, always with ASan/UBSan.
FUZZ_SRC := $(wildcard tests/fuzz/*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DHP_VERSION='"$(VERSION)"' -Iformat -iquote hpdiff \
	-iquote hppack -iquote hpsign -iquote hpapply \
	-I/usr/include/libdwarf -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_LIB_SRC += $(FORMAT_SRC) $(filter-out hpdiff/main.c,$(HPDIFF_SRC))
FUZZ_LDLIBS += $(LIBS_HPDIFF)

$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(wildcard format/*.h hpdiff/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) -pthread $(sort $(FUZZ_LDLIBS))

# Each target gets a corpus seeded from tests/fuzz/seeds.sh, then runs briefly.
fuzz-smoke: $(FUZZ_BIN) samples tools
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
		echo "== fuzz $$n ($(FUZZ_SMOKE_SECONDS)s)"; \
		bash tests/fuzz/seeds.sh $$n $(O)/fuzz/corpus/$$n $(O)/samples $(abspath $(B))/bin; \
		$$f -max_total_time=$(FUZZ_SMOKE_SECONDS) -rss_limit_mb=2048 -timeout=10 \
			-artifact_prefix=$(O)/fuzz/$$n- \
			-print_final_stats=0 $(O)/fuzz/corpus/$$n 2>$(O)/fuzz/$$n.log \
			|| { tail -50 $(O)/fuzz/$$n.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(O)/fuzz/$$n.log | tail -1; done

fuzz: $(FUZZ_BIN) samples tools
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); \
		bash tests/fuzz/seeds.sh $$n $(O)/fuzz/corpus/$$n $(O)/samples $(abspath $(B))/bin; \
		$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 \
			-artifact_prefix=$(O)/fuzz/$$n- \
			$(O)/fuzz/corpus/$$n; done

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

format-code:
	clang-format -i $(wildcard format/*.[ch] hp*/*.[ch] tests/*/*.c)

.PHONY: all tools check check-all test-unit test-cli fuzz fuzz-smoke demo bench deps \
	install clean format-code

-include $(FORMAT_OBJ:.o=.d) $(HPDIFF_OBJ:.o=.d) $(EXTRA_DEPS) $(UNIT_BIN:=.d)
