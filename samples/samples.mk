# samples/samples.mk -- builds the hpdiff test scenarios under samples/diff/.
#
# Standalone:   make -f samples/samples.mk O=build samples
# Included:     include samples/samples.mk   (from the top Makefile, which sets O)
#
# For every scenario S (a directory samples/diff/S/ holding old.c and new.c,
# or old.cc and new.cc for C++) and every variant V (compiler + flags, see
# SAMPLE_VARIANTS) this builds
#
#   $(O)/samples/V/S/old.o   $(O)/samples/V/S/new.o     the objects to diff
#   $(O)/samples/V/S/old     $(O)/samples/V/S/new       runnable programs
#
# The programs are driver.o + probe.o + old.o (resp. new.o).  A scenario
# without probe.c (main-changed) defines its own main: old.o alone -> old.
# A C++ scenario is compiled with the variant's C++ compiler (g++ for gcc,
# clang++ for clang), its probe is probe.cc, and its programs are linked by
# that compiler.
#
# old.c and new.c are first copied to $(O)/samples/src/{old,new}/S.c and
# compiled from inside that directory, so both objects carry the same file
# name (STT_FILE symbol, DW_AT_name, __FILE__): S.c (S.cc for C++).
# Headers (*.h) in the scenario directory are found through -I.

SAMPLES_MK  := $(lastword $(MAKEFILE_LIST))
SAMPLES_DIR := $(patsubst %/,%,$(dir $(SAMPLES_MK)))
O ?= build

# The C++ scenarios need g++ (clang++ comes with clang).
DEB_PACKAGES += g++

# Do not let this fragment change the including makefile's default goal.
samples_saved_goal := $(.DEFAULT_GOAL)

SAMPLE_C_SCENARIOS := $(sort $(patsubst $(SAMPLES_DIR)/diff/%/old.c,%,\
                        $(wildcard $(SAMPLES_DIR)/diff/*/old.c)))
SAMPLE_CXX_SCENARIOS := $(sort $(patsubst $(SAMPLES_DIR)/diff/%/old.cc,%,\
                          $(wildcard $(SAMPLES_DIR)/diff/*/old.cc)))
SAMPLE_SCENARIOS := $(SAMPLE_C_SCENARIOS) $(SAMPLE_CXX_SCENARIOS)

SAMPLE_VARIANTS := gcc-O2 gcc-O2-fs gcc-O2-pic gcc-O2-nopie gcc-O2-nog \
                   gcc-O0 gcc-O3 gcc-O3-fs \
                   clang-O2 clang-O2-fs clang-O2-pic clang-O2-nopie \
                   clang-O0 clang-O3

# Per variant: compiler, compile flags, link flags, and the selector tokens
# used by the expect files (see samples/README.md).
SAMPLE_FS := -ffunction-sections -fdata-sections

SAMPLE_CC.gcc-O2          := gcc
SAMPLE_CFLAGS.gcc-O2      := -O2 -g -fPIE
SAMPLE_LDFLAGS.gcc-O2     := -pie
SAMPLE_TOKENS.gcc-O2      := gcc O2 nofs pie g

SAMPLE_CC.gcc-O2-fs       := gcc
SAMPLE_CFLAGS.gcc-O2-fs   := -O2 -g -fPIE $(SAMPLE_FS)
SAMPLE_LDFLAGS.gcc-O2-fs  := -pie
SAMPLE_TOKENS.gcc-O2-fs   := gcc O2 fs pie g

SAMPLE_CC.gcc-O2-pic      := gcc
SAMPLE_CFLAGS.gcc-O2-pic  := -O2 -g -fPIC
SAMPLE_LDFLAGS.gcc-O2-pic := -pie
SAMPLE_TOKENS.gcc-O2-pic  := gcc O2 nofs pic g

SAMPLE_CC.gcc-O2-nopie      := gcc
SAMPLE_CFLAGS.gcc-O2-nopie  := -O2 -g -fno-pie
SAMPLE_LDFLAGS.gcc-O2-nopie := -no-pie
SAMPLE_TOKENS.gcc-O2-nopie  := gcc O2 nofs nopie g

SAMPLE_CC.gcc-O2-nog      := gcc
SAMPLE_CFLAGS.gcc-O2-nog  := -O2 -fPIE
SAMPLE_LDFLAGS.gcc-O2-nog := -pie
SAMPLE_TOKENS.gcc-O2-nog  := gcc O2 nofs pie nog

SAMPLE_CC.gcc-O0          := gcc
SAMPLE_CFLAGS.gcc-O0      := -O0 -g -fPIE
SAMPLE_LDFLAGS.gcc-O0     := -pie
SAMPLE_TOKENS.gcc-O0      := gcc O0 nofs pie g

SAMPLE_CC.gcc-O3          := gcc
SAMPLE_CFLAGS.gcc-O3      := -O3 -g -fPIE
SAMPLE_LDFLAGS.gcc-O3     := -pie
SAMPLE_TOKENS.gcc-O3      := gcc O3 nofs pie g

SAMPLE_CC.gcc-O3-fs       := gcc
SAMPLE_CFLAGS.gcc-O3-fs   := -O3 -g -fPIE $(SAMPLE_FS)
SAMPLE_LDFLAGS.gcc-O3-fs  := -pie
SAMPLE_TOKENS.gcc-O3-fs   := gcc O3 fs pie g

SAMPLE_CC.clang-O2        := clang
SAMPLE_CFLAGS.clang-O2    := -O2 -g -fPIE
SAMPLE_LDFLAGS.clang-O2   := -pie
SAMPLE_TOKENS.clang-O2    := clang O2 nofs pie g

SAMPLE_CC.clang-O2-fs       := clang
SAMPLE_CFLAGS.clang-O2-fs   := -O2 -g -fPIE $(SAMPLE_FS)
SAMPLE_LDFLAGS.clang-O2-fs  := -pie
SAMPLE_TOKENS.clang-O2-fs   := clang O2 fs pie g

SAMPLE_CC.clang-O2-pic      := clang
SAMPLE_CFLAGS.clang-O2-pic  := -O2 -g -fPIC
SAMPLE_LDFLAGS.clang-O2-pic := -pie
SAMPLE_TOKENS.clang-O2-pic  := clang O2 nofs pic g

SAMPLE_CC.clang-O2-nopie      := clang
SAMPLE_CFLAGS.clang-O2-nopie  := -O2 -g -fno-pie
SAMPLE_LDFLAGS.clang-O2-nopie := -no-pie
SAMPLE_TOKENS.clang-O2-nopie  := clang O2 nofs nopie g

SAMPLE_CC.clang-O0        := clang
SAMPLE_CFLAGS.clang-O0    := -O0 -g -fPIE
SAMPLE_LDFLAGS.clang-O0   := -pie
SAMPLE_TOKENS.clang-O0    := clang O0 nofs pie g

SAMPLE_CC.clang-O3        := clang
SAMPLE_CFLAGS.clang-O3    := -O3 -g -fPIE
SAMPLE_LDFLAGS.clang-O3   := -pie
SAMPLE_TOKENS.clang-O3    := clang O3 nofs pie g

# The C++ compiler of each variant: the C compiler's own.
$(foreach v,$(SAMPLE_VARIANTS),$(eval SAMPLE_CXX.$(v) := \
  $(patsubst gcc,g++,$(patsubst clang,clang++,$(SAMPLE_CC.$(v))))))

# Extra flags for the harness sources only (driver.c, probe.c, probe.cc).
SAMPLE_HARNESS_CFLAGS := -Wall

SAMPLE_OUT     := $(O)/samples
SAMPLE_ABS_DIR := $(abspath $(SAMPLES_DIR))

# Everything `samples` builds, filled in by the templates below.
SAMPLE_TARGETS :=

# Source copies: $(O)/samples/src/{old,new}/S.c  (variant independent).
# $(1) = scenario, $(2) = old|new, $(3) = c|cc
define samples_src_rule
$(SAMPLE_OUT)/src/$(2)/$(1).$(3): $(SAMPLES_DIR)/diff/$(1)/$(2).$(3)
	@mkdir -p $$(@D)
	cp $$< $$@
endef

# Per variant: driver.o.  $(1) = variant
define samples_variant_rule
$(SAMPLE_OUT)/$(1)/driver.o: $(SAMPLES_DIR)/diff/driver.c $(SAMPLES_MK)
	@mkdir -p $$(@D)
	$(SAMPLE_CC.$(1)) $(SAMPLE_CFLAGS.$(1)) $(SAMPLE_HARNESS_CFLAGS) -c $$< -o $$@
endef

# Per variant and scenario.  $(1) = variant, $(2) = scenario
define samples_scenario_rule
samples_hdrs := $(wildcard $(SAMPLES_DIR)/diff/$(2)/*.h)

$(SAMPLE_OUT)/$(1)/$(2)/old.o: $(SAMPLE_OUT)/src/old/$(2).c $$(samples_hdrs) $(SAMPLES_MK)
	@mkdir -p $$(@D)
	cd $(SAMPLE_OUT)/src/old && $(SAMPLE_CC.$(1)) $(SAMPLE_CFLAGS.$(1)) \
		-I$(SAMPLE_ABS_DIR)/diff/$(2) -c $(2).c -o $$(abspath $$@)

$(SAMPLE_OUT)/$(1)/$(2)/new.o: $(SAMPLE_OUT)/src/new/$(2).c $$(samples_hdrs) $(SAMPLES_MK)
	@mkdir -p $$(@D)
	cd $(SAMPLE_OUT)/src/new && $(SAMPLE_CC.$(1)) $(SAMPLE_CFLAGS.$(1)) \
		-I$(SAMPLE_ABS_DIR)/diff/$(2) -c $(2).c -o $$(abspath $$@)

ifneq ($(wildcard $(SAMPLES_DIR)/diff/$(2)/probe.c),)
$(SAMPLE_OUT)/$(1)/$(2)/probe.o: $(SAMPLES_DIR)/diff/$(2)/probe.c $$(samples_hdrs) $(SAMPLES_MK)
	@mkdir -p $$(@D)
	$(SAMPLE_CC.$(1)) $(SAMPLE_CFLAGS.$(1)) $(SAMPLE_HARNESS_CFLAGS) \
		-I$(SAMPLES_DIR)/diff/$(2) -c $$< -o $$@

$(SAMPLE_OUT)/$(1)/$(2)/old: $(SAMPLE_OUT)/$(1)/driver.o $(SAMPLE_OUT)/$(1)/$(2)/probe.o $(SAMPLE_OUT)/$(1)/$(2)/old.o
	$(SAMPLE_CC.$(1)) $(SAMPLE_LDFLAGS.$(1)) -o $$@ $$^

$(SAMPLE_OUT)/$(1)/$(2)/new: $(SAMPLE_OUT)/$(1)/driver.o $(SAMPLE_OUT)/$(1)/$(2)/probe.o $(SAMPLE_OUT)/$(1)/$(2)/new.o
	$(SAMPLE_CC.$(1)) $(SAMPLE_LDFLAGS.$(1)) -o $$@ $$^
else
$(SAMPLE_OUT)/$(1)/$(2)/old: $(SAMPLE_OUT)/$(1)/$(2)/old.o
	$(SAMPLE_CC.$(1)) $(SAMPLE_LDFLAGS.$(1)) -o $$@ $$^

$(SAMPLE_OUT)/$(1)/$(2)/new: $(SAMPLE_OUT)/$(1)/$(2)/new.o
	$(SAMPLE_CC.$(1)) $(SAMPLE_LDFLAGS.$(1)) -o $$@ $$^
endif

SAMPLE_TARGETS += $(addprefix $(SAMPLE_OUT)/$(1)/$(2)/,old.o new.o old new)
endef

# Per variant and C++ scenario.  $(1) = variant, $(2) = scenario
define samples_cxx_scenario_rule
samples_hdrs := $(wildcard $(SAMPLES_DIR)/diff/$(2)/*.h)

$(SAMPLE_OUT)/$(1)/$(2)/old.o: $(SAMPLE_OUT)/src/old/$(2).cc $$(samples_hdrs) $(SAMPLES_MK)
	@mkdir -p $$(@D)
	cd $(SAMPLE_OUT)/src/old && $(SAMPLE_CXX.$(1)) $(SAMPLE_CFLAGS.$(1)) \
		-I$(SAMPLE_ABS_DIR)/diff/$(2) -c $(2).cc -o $$(abspath $$@)

$(SAMPLE_OUT)/$(1)/$(2)/new.o: $(SAMPLE_OUT)/src/new/$(2).cc $$(samples_hdrs) $(SAMPLES_MK)
	@mkdir -p $$(@D)
	cd $(SAMPLE_OUT)/src/new && $(SAMPLE_CXX.$(1)) $(SAMPLE_CFLAGS.$(1)) \
		-I$(SAMPLE_ABS_DIR)/diff/$(2) -c $(2).cc -o $$(abspath $$@)

$(SAMPLE_OUT)/$(1)/$(2)/probe.o: $(SAMPLES_DIR)/diff/$(2)/probe.cc $$(samples_hdrs) $(SAMPLES_MK)
	@mkdir -p $$(@D)
	$(SAMPLE_CXX.$(1)) $(SAMPLE_CFLAGS.$(1)) $(SAMPLE_HARNESS_CFLAGS) \
		-I$(SAMPLES_DIR)/diff/$(2) -c $$< -o $$@

$(SAMPLE_OUT)/$(1)/$(2)/old: $(SAMPLE_OUT)/$(1)/driver.o $(SAMPLE_OUT)/$(1)/$(2)/probe.o $(SAMPLE_OUT)/$(1)/$(2)/old.o
	$(SAMPLE_CXX.$(1)) $(SAMPLE_LDFLAGS.$(1)) -o $$@ $$^

$(SAMPLE_OUT)/$(1)/$(2)/new: $(SAMPLE_OUT)/$(1)/driver.o $(SAMPLE_OUT)/$(1)/$(2)/probe.o $(SAMPLE_OUT)/$(1)/$(2)/new.o
	$(SAMPLE_CXX.$(1)) $(SAMPLE_LDFLAGS.$(1)) -o $$@ $$^

SAMPLE_TARGETS += $(addprefix $(SAMPLE_OUT)/$(1)/$(2)/,old.o new.o old new)
endef

$(foreach s,$(SAMPLE_C_SCENARIOS),$(foreach w,old new,\
  $(eval $(call samples_src_rule,$(s),$(w),c))))
$(foreach s,$(SAMPLE_CXX_SCENARIOS),$(foreach w,old new,\
  $(eval $(call samples_src_rule,$(s),$(w),cc))))
$(foreach v,$(SAMPLE_VARIANTS),$(eval $(call samples_variant_rule,$(v))))
$(foreach v,$(SAMPLE_VARIANTS),$(foreach s,$(SAMPLE_C_SCENARIOS),\
  $(eval $(call samples_scenario_rule,$(v),$(s)))))
$(foreach v,$(SAMPLE_VARIANTS),$(foreach s,$(SAMPLE_CXX_SCENARIOS),\
  $(eval $(call samples_cxx_scenario_rule,$(v),$(s)))))

# kvd, the multi-threaded demo server (make demo, tests/cli/load_test.sh)
include $(SAMPLES_DIR)/server/server.mk

.PHONY: samples samples-clean
samples: $(SAMPLE_TARGETS)

samples-clean:
	rm -rf $(SAMPLE_OUT)

ifeq ($(firstword $(MAKEFILE_LIST)),$(SAMPLES_MK))
.DEFAULT_GOAL := samples
else
.DEFAULT_GOAL := $(samples_saved_goal)
endif
