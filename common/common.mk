# common/: messages, command-line and memory helpers every tool links.

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
LIBCOMMON := $(B)/libhpcommon.a

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

TEST_LIBS := $(LIBCOMMON)
FUZZ_LIB_SRC += $(COMMON_SRC)
DEPS += $(COMMON_OBJ:.o=.d)
