/*
 * Architecture vocabulary shared by the tools: which relocation types the
 * formats carry, how wide their fields are and how they are computed.  Only
 * x86-64 exists today; every x86-64 specific of the formats lives in
 * x86_64.c behind these functions.
 */
#ifndef HP_ARCH_H
#define HP_ARCH_H

#include <stdbool.h>
#include <stdint.h>

/* How a relocation's value is formed (S symbol, A addend, P place). */
enum hp_reloc_calc {
	HP_CALC_NONE = 0, /* type not supported by the formats */
	HP_CALC_ABS,	  /* S + A */
	HP_CALC_PCREL,	  /* S + A - P */
	HP_CALC_GOTPCREL, /* address of a slot holding S, + A - P */
	HP_CALC_TPOFF,	  /* S + A relative to the thread pointer (local exec) */
	HP_CALC_GOTTPOFF, /* address of a slot holding S's TP offset, + A - P */
	HP_CALC_DTPOFF,	  /* S + A relative to the module's TLS block */
	HP_CALC_TLSGD,	  /* general / local dynamic TLS sequences */
	HP_CALC_SIZE,	  /* symbol size + A */
};

struct hp_reloc_desc {
	const char *name;	/* "R_X86_64_PC32" */
	uint8_t size;		/* field width in bytes */
	bool is_signed;		/* value must fit the field as signed */
	enum hp_reloc_calc calc;
};

/* ELF machine number of the one supported architecture (EM_X86_64). */
#define HP_MACHINE_X86_64 62

/* Description of a relocation type, or NULL if the formats do not carry it. */
const struct hp_reloc_desc *hp_reloc_describe(uint16_t machine, uint32_t type);

/* "R_X86_64_PC32", or "relocation type N" in buf for unknown types. */
const char *hp_reloc_name(uint16_t machine, uint32_t type, char *buf, size_t size);

/* For a type the formats do not carry: " (what produces it: what to do)", or "". */
const char *hp_reloc_hint(uint16_t machine, uint32_t type);

#endif
