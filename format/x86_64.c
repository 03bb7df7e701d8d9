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

const char *hp_reloc_name(uint16_t machine, uint32_t type, char *buf, size_t size)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	if (d)
		return d->name;
	snprintf(buf, size, "relocation type %u", type);
	return buf;
}
