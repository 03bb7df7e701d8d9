# hpdiff: baseline and fixed objects -> .hpd (what changed, its reference map).

HPDIFF_SRC := $(wildcard hpdiff/*.c)
HPDIFF_OBJ := $(HPDIFF_SRC:%.c=$(B)/obj/%.o)
# Everything of hpdiff but main(), for unit tests and fuzz targets.
HPDIFF_LIB := $(B)/libhpdiff.a
LIBS_HPDIFF := -lelf -ldwarf -ljson-c

$(HPDIFF_LIB): $(filter-out $(B)/obj/hpdiff/main.o,$(HPDIFF_OBJ))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/hpdiff: $(B)/obj/hpdiff/main.o $(HPDIFF_LIB) $(LIBFORMAT) $(LIBARCH) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_HPDIFF) $(LIBS_FORMAT) $(LIBS_ARCH)

TOOLS += $(B)/bin/hpdiff
TEST_LIBS := $(HPDIFF_LIB) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_HPDIFF)
FUZZ_LIB_SRC += $(filter-out hpdiff/main.c,$(HPDIFF_SRC))
FUZZ_LDLIBS += $(LIBS_HPDIFF)
DEPS += $(HPDIFF_OBJ:.o=.d)
