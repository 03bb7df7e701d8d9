/*
 * x86-64 relocation types carried by .hpd and .hpk files, and the answers
 * to arch.h's relocation and machine questions.  The numbers are the
 * psABI's R_X86_64_* values, so the formats store them unchanged.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"

#define R(num, nm, sz, sgn, calc) [num] = {"R_X86_64_" nm, sz, sgn, calc}

static const struct hp_reloc_desc x86_64[] = {
	R(1, "64", 8, false, HP_CALC_ABS),
	R(2, "PC32", 4, true, HP_CALC_PCREL),
	R(4, "PLT32", 4, true, HP_CALC_PCREL),
	R(9, "GOTPCREL", 4, true, HP_CALC_GOTPCREL),
	R(10, "32", 4, false, HP_CALC_ABS),
	R(11, "32S", 4, true, HP_CALC_ABS),
	R(15, "PC8", 1, true, HP_CALC_PCREL),
	R(17, "DTPOFF64", 8, true, HP_CALC_DTPOFF),
	R(18, "TPOFF64", 8, true, HP_CALC_TPOFF),
	R(19, "TLSGD", 4, true, HP_CALC_TLSGD),
	R(20, "TLSLD", 4, true, HP_CALC_TLSGD),
	R(21, "DTPOFF32", 4, true, HP_CALC_DTPOFF),
	R(22, "GOTTPOFF", 4, true, HP_CALC_GOTTPOFF),
	R(23, "TPOFF32", 4, true, HP_CALC_TPOFF),
	R(24, "PC64", 8, true, HP_CALC_PCREL),
	R(32, "SIZE32", 4, false, HP_CALC_SIZE),
	R(33, "SIZE64", 8, false, HP_CALC_SIZE),
	R(41, "GOTPCRELX", 4, true, HP_CALC_GOTPCREL),
	R(42, "REX_GOTPCRELX", 4, true, HP_CALC_GOTPCREL),
};

const struct hp_reloc_desc *hp_reloc_describe(uint16_t machine, uint32_t type)
{
	if (machine != EM_X86_64 || type >= sizeof(x86_64) / sizeof(x86_64[0]))
		return NULL;
	return x86_64[type].name ? &x86_64[type] : NULL;
}

/* Names of the psABI types the formats do not carry, for messages. */
static const char *const other_names[] = {
	[0] = "R_X86_64_NONE",
	[3] = "R_X86_64_GOT32",
	[5] = "R_X86_64_COPY",
	[6] = "R_X86_64_GLOB_DAT",
	[7] = "R_X86_64_JUMP_SLOT",
	[8] = "R_X86_64_RELATIVE",
	[12] = "R_X86_64_16",
	[13] = "R_X86_64_PC16",
	[14] = "R_X86_64_8",
	[16] = "R_X86_64_DTPMOD64",
	[25] = "R_X86_64_GOTOFF64",
	[26] = "R_X86_64_GOTPC32",
	[27] = "R_X86_64_GOT64",
	[28] = "R_X86_64_GOTPCREL64",
	[29] = "R_X86_64_GOTPC64",
	[30] = "R_X86_64_GOTPLT64",
	[31] = "R_X86_64_PLTOFF64",
	[34] = "R_X86_64_GOTPC32_TLSDESC",
	[35] = "R_X86_64_TLSDESC_CALL",
	[36] = "R_X86_64_TLSDESC",
	[37] = "R_X86_64_IRELATIVE",
	[38] = "R_X86_64_RELATIVE64",
};

const char *hp_reloc_name(uint16_t machine, uint32_t type, char *buf, size_t size)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	if (d)
		return d->name;
	if (machine == EM_X86_64 && type < sizeof(other_names) / sizeof(other_names[0]) &&
	    other_names[type])
		return other_names[type];
	snprintf(buf, size, "type %u", type);
	return buf;
}

const char *hp_reloc_hint(uint16_t machine, uint32_t type)
{
	if (machine != EM_X86_64)
		return "";
	if (type >= 34 && type <= 36)
		return " (TLS descriptors, from -mtls-dialect=gnu2: build with the default "
		       "dialect)";
	if (type >= 25 && type <= 31)
		return " (large code model, from -mcmodel=large: build with the default code "
		       "model)";
	return "";
}

bool arch_reloc_is_none(uint16_t machine, uint32_t type)
{
	return machine == EM_X86_64 && type == R_X86_64_NONE;
}

static enum hp_reloc_calc calc_of(uint16_t machine, uint32_t type)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	return d ? d->calc : HP_CALC_NONE;
}

bool arch_reloc_pc_relative(uint16_t machine, uint32_t type)
{
	return calc_of(machine, type) == HP_CALC_PCREL;
}

bool arch_reloc_got_load(uint16_t machine, uint32_t type)
{
	return calc_of(machine, type) == HP_CALC_GOTPCREL;
}

bool arch_reloc_tp_offset(uint16_t machine, uint32_t type)
{
	enum hp_reloc_calc c = calc_of(machine, type);

	return c == HP_CALC_TPOFF || c == HP_CALC_GOTTPOFF;
}

bool arch_reloc_got_tp_load(uint16_t machine, uint32_t type)
{
	return calc_of(machine, type) == HP_CALC_GOTTPOFF;
}

bool arch_reloc_plt_call(uint16_t machine, uint32_t type)
{
	return machine == EM_X86_64 && type == R_X86_64_PLT32;
}

uint32_t arch_reloc_canonical(uint16_t machine, uint32_t type)
{
	/* a call through the PLT and a direct call compute the same for a local target */
	return machine == EM_X86_64 && type == R_X86_64_PLT32 ? R_X86_64_PC32 : type;
}

uint32_t arch_reloc_pcrel_type(uint16_t machine, unsigned size)
{
	if (machine != EM_X86_64)
		return 0;
	switch (size) {
	case 1:
		return R_X86_64_PC8;
	case 4:
		return R_X86_64_PC32;
	case 8:
		return R_X86_64_PC64;
	default:
		return 0;
	}
}

uint32_t arch_reloc_abs_type(uint16_t machine, unsigned size, bool zero_ext)
{
	if (machine != EM_X86_64)
		return 0;
	if (size == 8)
		return R_X86_64_64;
	if (size == 4)
		return zero_ext ? R_X86_64_32 : R_X86_64_32S;
	return 0;
}

enum arch_dyn_reloc arch_dyn_reloc_kind(uint16_t machine, uint32_t type)
{
	if (machine != EM_X86_64)
		return ARCH_DYN_OTHER;
	switch (type) {
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
		return ARCH_DYN_SLOT;
	case R_X86_64_IRELATIVE:
		return ARCH_DYN_IRELATIVE;
	case R_X86_64_TPOFF64:
		return ARCH_DYN_TPOFF;
	default:
		return ARCH_DYN_OTHER;
	}
}

unsigned arch_reloc_pc_bias(uint16_t machine, uint32_t type)
{
	/* call, jmp, lea, mov ... with a rel32 last: the addend is target - 4 */
	if (machine == EM_X86_64 && (type == R_X86_64_PC32 || type == R_X86_64_PLT32))
		return 4;
	return 0;
}
