# hpsign: signs packages and verifies them (included by the top Makefile).
#
#   $(B)/libhpverify.a   verification and signing (verify.c, sign.c, cms.c):
#                        what hpapply links to verify in-process
#   $(B)/bin/hpsign      the tool (main.c, report.c)

HPSIGN_SRC := $(wildcard hpsign/*.c)
HPSIGN_OBJ := $(HPSIGN_SRC:%.c=$(B)/obj/%.o)
HPSIGN_TOOL_OBJ := $(B)/obj/hpsign/main.o $(B)/obj/hpsign/report.o
HPVERIFY_LIB := $(B)/libhpverify.a
LIBS_HPVERIFY := -lcrypto
LIBS_HPSIGN := $(LIBS_HPVERIFY) -ljson-c $(LIBS_FORMAT)

$(HPVERIFY_LIB): $(filter-out $(HPSIGN_TOOL_OBJ),$(HPSIGN_OBJ))
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/bin/hpsign: $(HPSIGN_TOOL_OBJ) $(B)/obj/hpdiff/util.o $(HPVERIFY_LIB) $(LIBFORMAT)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_HPSIGN)

TOOLS += $(B)/bin/hpsign
TEST_LIBS := $(HPVERIFY_LIB) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_HPVERIFY) -ljson-c
# softhsm2 and the pkcs11 engine: PKCS#11 keys and their tests; groff-base:
# the man page check; tar: the auditing recipe's test.
DEB_PACKAGES += softhsm2 libengine-pkcs11-openssl groff-base tar
FUZZ_LIB_SRC += $(filter-out hpsign/main.c hpsign/report.c,$(HPSIGN_SRC))
FUZZ_LDLIBS += $(LIBS_HPVERIFY)
EXTRA_DEPS += $(HPSIGN_OBJ:.o=.d)

# Unsigned test packages for the fuzz seeds, the auditing test and the
# benchmark (the unit tests make theirs in-process).
HPK_GEN := $(B)/tests/mkhpk

$(HPK_GEN): tests/tools/mkhpk.c tests/hpkutil.h $(LIBFORMAT)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBFORMAT) $(ALL_LDFLAGS) $(LIBS_FORMAT)

tools: $(HPK_GEN)
