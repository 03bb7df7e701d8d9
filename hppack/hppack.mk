# hppack: .hpd files + baseline binary -> package.  Included by the Makefile.


HPPACK_SRC := $(wildcard hppack/*.c)
HPPACK_OBJ := $(HPPACK_SRC:%.c=$(B)/obj/%.o)
HPPACK_LIB := $(B)/libhppack.a

$(B)/obj/hppack/%.o: ALL_CFLAGS += -iquote hpdiff -iquote hpsign

$(HPPACK_LIB): $(filter-out $(B)/obj/hppack/main.o,$(HPPACK_OBJ)) $(B)/obj/hpdiff/util.o
	@rm -f $@
	$(AR) rcs $@ $^

# Signs with hpsign's signer (libhpverify.a, built by hpsign/hpsign.mk).
$(B)/bin/hppack: $(B)/obj/hppack/main.o $(HPPACK_LIB) $(B)/libhpverify.a $(LIBFORMAT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lelf -ljson-c -lzstd -lcrypto -ldl

TOOLS += $(B)/bin/hppack
TEST_LIBS := $(HPPACK_LIB) $(TEST_LIBS)
EXTRA_DEPS += $(HPPACK_OBJ:.o=.d)

