# hppack: .hpd files + baseline binary -> package (.hpk), signed or not.

HPPACK_SRC := $(wildcard hppack/*.c)
HPPACK_OBJ := $(HPPACK_SRC:%.c=$(B)/obj/%.o)
HPPACK_LIB := $(B)/libhppack.a
LIBS_HPPACK := -lelf -ljson-c

$(HPPACK_LIB): $(filter-out $(B)/obj/hppack/main.o,$(HPPACK_OBJ))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/hppack: $(B)/obj/hppack/main.o $(HPPACK_LIB) $(LIBVERIFY) $(LIBFORMAT) $(LIBARCH) \
		$(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_HPPACK) $(LIBS_VERIFY) $(LIBS_FORMAT) $(LIBS_ARCH)

TOOLS += $(B)/bin/hppack
TEST_LIBS := $(HPPACK_LIB) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_HPPACK)
DEPS += $(HPPACK_OBJ:.o=.d)
