# format/: the on-disk formats (.hpd, .hpk, MANIFEST, payload, state), strict
# readers and writers.  Never prints, never exits.

FORMAT_SRC := $(wildcard format/*.c)
FORMAT_OBJ := $(FORMAT_SRC:%.c=$(B)/obj/%.o)
LIBFORMAT := $(B)/libhpformat.a
LIBS_FORMAT := -lzstd -lcrypto

$(LIBFORMAT): $(FORMAT_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

TEST_LIBS := $(LIBFORMAT) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_FORMAT)
FUZZ_LIB_SRC += $(FORMAT_SRC)
FUZZ_LDLIBS += $(LIBS_FORMAT)
DEPS += $(FORMAT_OBJ:.o=.d)
