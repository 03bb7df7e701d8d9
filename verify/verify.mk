# verify/: verification and signing of packages (CMS/X.509 through OpenSSL),
# shared by hpsign, hppack (signing) and hpapply (verifying in-process).

VERIFY_SRC := $(wildcard verify/*.c)
VERIFY_OBJ := $(VERIFY_SRC:%.c=$(B)/obj/%.o)
LIBVERIFY := $(B)/libhpverify.a
LIBS_VERIFY := -lcrypto -ldl

$(LIBVERIFY): $(VERIFY_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

TEST_LIBS := $(LIBVERIFY) $(TEST_LIBS)
TEST_LDLIBS += $(LIBS_VERIFY)
FUZZ_LIB_SRC += $(VERIFY_SRC)
FUZZ_LDLIBS += $(LIBS_VERIFY)
# softhsm2 and the pkcs11 engine: PKCS#11 keys and their tests.
DEB_PACKAGES += softhsm2 libengine-pkcs11-openssl
DEPS += $(VERIFY_OBJ:.o=.d)
