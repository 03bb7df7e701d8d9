# hpapply: apply, list and revert packages in running processes.


HPAPPLY_SRC := $(wildcard hpapply/*.c)
HPAPPLY_OBJ := $(HPAPPLY_SRC:%.c=$(B)/obj/%.o)
HPAPPLY_LIB := $(B)/libhpapply.a

$(B)/obj/hpapply/%.o: ALL_CFLAGS += -iquote hpdiff -iquote hpsign

$(HPAPPLY_LIB): $(filter-out $(B)/obj/hpapply/main.o,$(HPAPPLY_OBJ)) $(B)/obj/hpdiff/util.o
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/hpapply: $(B)/obj/hpapply/main.o $(HPAPPLY_LIB) $(B)/libhpverify.a $(LIBFORMAT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lelf -ljson-c -lzstd -lcrypto -ldl $(LIBS_UNWIND)

# libunwind confirms suspected return addresses on stacks (safety.c).
LIBS_UNWIND := -lunwind-ptrace -lunwind-generic -lunwind
DEB_PACKAGES += libunwind-dev
TEST_LDLIBS += $(LIBS_UNWIND)

TOOLS += $(B)/bin/hpapply
TEST_LIBS := $(HPAPPLY_LIB) $(TEST_LIBS)
EXTRA_DEPS += $(HPAPPLY_OBJ:.o=.d)



# The state record reader (tests/fuzz/fuzz_state.c) and what it links to.
FUZZ_LIB_SRC += hpapply/state.c hpapply/proc.c
