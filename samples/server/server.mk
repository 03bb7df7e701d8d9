# samples/server/server.mk -- builds kvd, the demo server, in its baseline
# (old/) and fixed (new/) versions, and its client.  Included by samples.mk,
# which sets SAMPLES_DIR, SAMPLE_OUT and SAMPLE_TARGETS.
#
#   $(O)/samples/server/old/*.o  old/server   the baseline release
#   $(O)/samples/server/new/*.o  new/server   the fix build: same compiler, same flags
#   $(O)/samples/server/client
#
# Ordinary distribution flags, no -ffunction-sections.  Each tree is
# compiled from inside its source directory, so both builds of parse.c
# carry the same file name (STT_FILE, DW_AT_name).

KVD_DIR     := $(SAMPLES_DIR)/server
KVD_OUT     := $(SAMPLE_OUT)/server
KVD_SRCS    := parse.c proto.c store.c server.c
KVD_CC      := gcc
KVD_CFLAGS  := -O2 -g -fPIE -pthread -Wall -Wextra
KVD_LDFLAGS := -pie -pthread

# $(1) = old|new
define kvd_tree_rule
$(KVD_OUT)/$(1)/%.o: $(KVD_DIR)/$(1)/%.c $(KVD_DIR)/$(1)/kvd.h $(KVD_DIR)/server.mk
	@mkdir -p $$(@D)
	cd $(KVD_DIR)/$(1) && $(KVD_CC) $(KVD_CFLAGS) -c $$*.c -o $$(abspath $$@)

$(KVD_OUT)/$(1)/server: $(addprefix $(KVD_OUT)/$(1)/,$(KVD_SRCS:.c=.o))
	$(KVD_CC) $(KVD_LDFLAGS) -o $$@ $$^

SAMPLE_TARGETS += $(addprefix $(KVD_OUT)/$(1)/,$(KVD_SRCS:.c=.o) server)
endef

$(foreach t,old new,$(eval $(call kvd_tree_rule,$(t))))

$(KVD_OUT)/client: $(KVD_DIR)/client.c $(KVD_DIR)/server.mk
	@mkdir -p $(@D)
	$(KVD_CC) -O2 -g -Wall -Wextra -pthread -o $@ $<

SAMPLE_TARGETS += $(KVD_OUT)/client
