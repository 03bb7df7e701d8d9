# hpsign: signs packages and verifies them (the library is verify/).

HPSIGN_SRC := $(wildcard hpsign/*.c)
HPSIGN_OBJ := $(HPSIGN_SRC:%.c=$(B)/obj/%.o)

$(B)/bin/hpsign: $(HPSIGN_OBJ) $(LIBVERIFY) $(LIBFORMAT) $(LIBARCH) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -ljson-c $(LIBS_VERIFY) $(LIBS_FORMAT) $(LIBS_ARCH)

TOOLS += $(B)/bin/hpsign
# groff-base: the man page check; tar: the auditing recipe's test.
DEB_PACKAGES += groff-base tar
DEPS += $(HPSIGN_OBJ:.o=.d)
