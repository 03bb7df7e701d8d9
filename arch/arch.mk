# arch/: everything that knows the instruction set, behind arch/arch.h.  One
# folder per architecture; x86-64 is the one built.  The decoder uses zydis.

ARCH := x86_64
ARCH_SRC := $(wildcard arch/$(ARCH)/*.c)
ARCH_OBJ := $(ARCH_SRC:%.c=$(B)/obj/%.o)
LIBARCH := $(B)/libhparch.a
LIBS_ARCH := -lZydis

$(LIBARCH): $(ARCH_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

TEST_LIBS := $(LIBARCH) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_ARCH)
FUZZ_LIB_SRC += $(ARCH_SRC)
FUZZ_LDLIBS += $(LIBS_ARCH)
DEPS += $(ARCH_OBJ:.o=.d)
