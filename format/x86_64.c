/*
 * x86-64 relocation types carried by .hpd and .hpk files.  The numbers are
 * the psABI's R_X86_64_* values, so the formats store them unchanged.
 */
#include <stdio.h>

#include "arch.h"

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
	if (machine != HP_MACHINE_X86_64 || type >= sizeof(x86_64) / sizeof(x86_64[0]))
		return NULL;
	return x86_64[type].name ? &x86_64[type] : NULL;
}

/* Names of the psABI types the formats do not carry, for messages. */
static const char *const other_names[] = {
	[0] = "R_X86_64_NONE",	       [3] = "R_X86_64_GOT32",
	[5] = "R_X86_64_COPY",	       [6] = "R_X86_64_GLOB_DAT",
	[7] = "R_X86_64_JUMP_SLOT",    [8] = "R_X86_64_RELATIVE",
	[12] = "R_X86_64_16",	       [13] = "R_X86_64_PC16",
	[14] = "R_X86_64_8",	       [16] = "R_X86_64_DTPMOD64",
	[25] = "R_X86_64_GOTOFF64",    [26] = "R_X86_64_GOTPC32",
	[27] = "R_X86_64_GOT64",       [28] = "R_X86_64_GOTPCREL64",
	[29] = "R_X86_64_GOTPC64",     [30] = "R_X86_64_GOTPLT64",
	[31] = "R_X86_64_PLTOFF64",    [34] = "R_X86_64_GOTPC32_TLSDESC",
	[35] = "R_X86_64_TLSDESC_CALL", [36] = "R_X86_64_TLSDESC",
	[37] = "R_X86_64_IRELATIVE",   [38] = "R_X86_64_RELATIVE64",
};

const char *hp_reloc_name(uint16_t machine, uint32_t type, char *buf, size_t size)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	if (d)
		return d->name;
	if (machine == HP_MACHINE_X86_64 && type < sizeof(other_names) / sizeof(other_names[0]) &&
	    other_names[type])
		return other_names[type];
	snprintf(buf, size, "type %u", type);
	return buf;
}

const char *hp_reloc_hint(uint16_t machine, uint32_t type)
{
	if (machine != HP_MACHINE_X86_64)
		return "";
	if (type >= 34 && type <= 36)
		return " (TLS descriptors, from -mtls-dialect=gnu2: build with the default dialect)";
	if (type >= 25 && type <= 31)
		return " (large code model, from -mcmodel=large: build with the default code model)";
	return "";
}
