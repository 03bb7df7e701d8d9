# hpapply: verify a package and apply, list or revert it in running processes.

HPAPPLY_SRC := $(wildcard hpapply/*.c)
HPAPPLY_OBJ := $(HPAPPLY_SRC:%.c=$(B)/obj/%.o)
HPAPPLY_LIB := $(B)/libhpapply.a
# libunwind confirms suspected return addresses on stacks (safety.c).
LIBS_UNWIND := -lunwind-ptrace -lunwind-generic -lunwind
LIBS_HPAPPLY := -lelf -ljson-c $(LIBS_UNWIND)

$(HPAPPLY_LIB): $(filter-out $(B)/obj/hpapply/main.o,$(HPAPPLY_OBJ))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/hpapply: $(B)/obj/hpapply/main.o $(HPAPPLY_LIB) $(LIBVERIFY) $(LIBFORMAT) $(LIBARCH) \
		$(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_HPAPPLY) $(LIBS_VERIFY) $(LIBS_FORMAT) $(LIBS_ARCH)

DEB_PACKAGES += libunwind-dev
TOOLS += $(B)/bin/hpapply
TEST_LIBS := $(HPAPPLY_LIB) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_HPAPPLY)
# The state record reader (tests/fuzz/fuzz_state.c) and what it links to.
FUZZ_LIB_SRC += hpapply/state.c hpapply/proc.c
DEPS += $(HPAPPLY_OBJ:.o=.d)
