# tests/: unit tests (Criterion), CLI scripts, fuzz targets (libFuzzer).

# Unsigned test packages for the fuzz seeds, the auditing test and the
# benchmark (the unit tests make theirs in-process).
HPK_GEN := $(B)/tests/mkhpk

$(HPK_GEN): $(B)/obj/tests/tools/mkhpk.o $(LIBFORMAT) $(LIBARCH) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_FORMAT) $(LIBS_ARCH)

tools: $(HPK_GEN)
DEPS += $(B)/obj/tests/tools/mkhpk.d

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
UNIT_DEFS := -DHP_SRCDIR='"$(CURDIR)"' -DHP_BINDIR='"$(abspath $(B))/bin"' \
	-DHP_SAMPLEDIR='"$(abspath $(O))/samples"'

$(B)/tests/unit/%: tests/unit/%.c $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(UNIT_DEFS) -o $@ $< $(TEST_LIBS) $(ALL_LDFLAGS) -lcriterion \
		$(TEST_LDLIBS)

DEPS += $(UNIT_BIN:=.d)

# tests/cli/realworld_objects.sh: the object pairs of tests/realworld are xz files.
DEB_PACKAGES += xz-utils
# tests/cli/lto.sh links clang LTO objects with lld.
DEB_PACKAGES += lld

test-unit: $(UNIT_BIN) tools samples
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs=2 --short-filename; done

test-cli: tools samples
	@set -e; for t in $(filter-out tests/cli/lib.sh,$(wildcard tests/cli/*.sh)); do \
		echo "== $$t"; \
		HP_BIN=$(abspath $(B))/bin HP_SAMPLES=$(abspath $(O))/samples bash $$t; done

# Fuzz targets: libFuzzer with clang, always with ASan/UBSan; each source is
# compiled once into $(O)/fuzz/obj, with its .d file.
FUZZ_SRC := $(wildcard tests/fuzz/*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)
FUZZ_CFLAGS := $(CPPFLAGS_HP) -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -MMD -MP
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(O)/fuzz/obj/%.o)

$(O)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(O)/fuzz/%: $(O)/fuzz/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ -pthread $(sort $(FUZZ_LDLIBS))

FUZZ_MAIN_OBJ := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/obj/tests/fuzz/%.o)
# Kept between runs (make would delete them as intermediates of a pattern chain).
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_MAIN_OBJ)
DEPS += $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_MAIN_OBJ:.o=.d)

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
