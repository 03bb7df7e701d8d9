/*
 * x86-64 decoding with zydis.  Only what the differ needs: instruction
 * boundaries, a coarse type, and where the PC-relative field is.  The fast
 * path decodes without operands; operands are decoded only for text.
 */
#include <Zydis/Zydis.h>
#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "common/cli.h"
#include "common/mem.h"

static ZydisDecoder decoder;
static ZydisFormatter formatter;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_ATT);
	/* "(%rip)" plus the displacement: the target is named separately, by identity. */
	ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_FORCE_RELATIVE_RIPREL,
				  ZYAN_TRUE);
	ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE);
	ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE,
				  ZYDIS_PADDING_DISABLED);
}

/* Workers decode in parallel; the decoder and formatter are read-only after this. */
static void init(void)
{
	pthread_once(&once, init_once);
}

static uint8_t classify(const ZydisDecodedInstruction *zi, int relative)
{
	switch (zi->meta.category) {
	case ZYDIS_CATEGORY_CALL:
		return relative ? INSN_CALL : INSN_CALL_INDIRECT;
	case ZYDIS_CATEGORY_UNCOND_BR:
		return relative ? INSN_JUMP : INSN_JUMP_INDIRECT;
	case ZYDIS_CATEGORY_COND_BR:
		return INSN_JUMP_COND;
	case ZYDIS_CATEGORY_RET:
		return INSN_RETURN;
	case ZYDIS_CATEGORY_NOP:
	case ZYDIS_CATEGORY_WIDENOP: /* the multi-byte `nopw 0x0(%rax,%rax,1)` of padding */
		return zi->mnemonic == ZYDIS_MNEMONIC_ENDBR64 ? INSN_ENDBR : INSN_NOP;
	default:
		break;
	}
	if (zi->mnemonic == ZYDIS_MNEMONIC_INT3 || zi->mnemonic == ZYDIS_MNEMONIC_UD2)
		return INSN_TRAP;
	if (zi->mnemonic == ZYDIS_MNEMONIC_ENDBR64)
		return INSN_ENDBR;
	return INSN_OTHER;
}

static void fill(struct insn *in, uint32_t off, const ZydisDecodedInstruction *zi)
{
	int relative = 0;

	in->off = off;
	in->len = zi->length;
	in->rel_off = in->rel_size = 0;
	in->rel_value = 0;
	if (zi->attributes & ZYDIS_ATTRIB_IS_RELATIVE) {
		for (int i = 0; i < 2; i++) {
			if (zi->raw.imm[i].size && zi->raw.imm[i].is_relative) {
				in->rel_off = zi->raw.imm[i].offset;
				in->rel_size = zi->raw.imm[i].size / 8;
				in->rel_value = zi->raw.imm[i].value.s;
				relative = 1;
			}
		}
		/* mod 00, r/m 101 without SIB is RIP-relative in 64-bit mode. */
		if (!relative && (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM) &&
		    zi->raw.modrm.mod == 0 && zi->raw.modrm.rm == 5 && zi->raw.disp.size) {
			in->rel_off = zi->raw.disp.offset;
			in->rel_size = zi->raw.disp.size / 8;
			in->rel_value = zi->raw.disp.value;
		}
	}
	in->type = classify(zi, relative);
}

long insn_decode_all(uint16_t machine, const uint8_t *code, size_t size, struct insn **out,
		     size_t *bad_off)
{
	size_t cap = size / 4 + 4, n = 0, off = 0;
	struct insn *v;

	*out = NULL;
	if (machine != EM_X86_64) {
		*bad_off = 0;
		return -1;
	}
	init();
	v = xmalloc(cap * sizeof(*v));
	if (!v)
		return -1;
	while (off < size) {
		ZydisDecodedInstruction zi;

		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&decoder, NULL, code + off,
							      size - off, &zi))) {
			*bad_off = off;
			free(v);
			return -1;
		}
		if (grow_array(&v, &cap, n, sizeof(*v), 16) < 0) {
			free(v);
			*bad_off = off;
			return -1;
		}
		fill(&v[n++], (uint32_t)off, &zi);
		off += zi.length;
	}
	*out = v;
	return (long)n;
}

/* Multi-byte nops and int3 (0xcc): what gas and clang pad with.  ud2 is a trap put on purpose. */
bool insn_is_padding(uint16_t machine, const struct insn *in)
{
	(void)machine;
	return in->type == INSN_NOP || (in->type == INSN_TRAP && in->len == 1);
}

const char *insn_format(uint16_t machine, const uint8_t *code, size_t len, uint64_t addr, char *buf,
			size_t size)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	init();
	if (machine != EM_X86_64 ||
	    ZYAN_FAILED(ZydisDecoderDecodeFull(&decoder, code, len, &zi, ops)) ||
	    ZYAN_FAILED(ZydisFormatterFormatInstruction(
		    &formatter, &zi, ops, zi.operand_count_visible, buf, size, addr, NULL))) {
		snprintf(buf, size, "(bad)");
	}
	return buf;
}

int insn_widen_branch(uint16_t machine, const uint8_t *code, const struct insn *in, uint8_t *out,
		      uint8_t *len, uint8_t *rel_off)
{
	uint8_t op, pre;

	if (machine != EM_X86_64 || in->rel_size != 1 || in->rel_off < 1)
		return -1;
	pre = in->rel_off - 1; /* prefixes (bnd, branch hints) before the opcode */
	op = code[in->off + pre];
	memcpy(out, code + in->off, pre);
	if (op == 0xeb) { /* jmp rel8 -> jmp rel32 */
		out[pre] = 0xe9;
		*rel_off = pre + 1;
	} else if (op >= 0x70 && op <= 0x7f) { /* jcc rel8 -> 0f 8x rel32 */
		out[pre] = 0x0f;
		out[pre + 1] = (uint8_t)(0x80 + (op - 0x70));
		*rel_off = pre + 2;
	} else {
		return -1;
	}
	memset(out + *rel_off, 0, INSN_WIDE_REL_SIZE);
	*len = *rel_off + INSN_WIDE_REL_SIZE;
	return 0;
}

const char *insn_widen_refusal(uint16_t machine, bool leaves)
{
	(void)machine;
	/* jmp and jcc have rel32 forms; loop, loope, loopne, jrcxz and jecxz only rel8 */
	return leaves ? "an 8-bit PC-relative field leaves the function and is not a jmp or jcc "
			"that has a 32-bit form"
		      : "a loop or jrcxz instruction would no longer reach its target";
}

/*
 * `lea disp32(%rip), %reg` (8d, ModRM mod 00 r/m 101) and `mov
 * disp32(%rip), %reg` (8b) differ in the opcode byte only, with the same
 * prefixes, REX and ModRM: the linker relaxes the mov into the lea when the
 * target is near (GOTPCRELX); this goes back.  The 32-bit form (no REX.W)
 * loads the slot's low half, the address truncated as the lea truncated it;
 * a 16-bit operand or a 32-bit address size is left alone.
 */
uint32_t insn_address_from_slot(uint16_t machine, uint8_t *code, size_t size, uint32_t field,
				int64_t *bias)
{
	size_t off = 0;

	if (machine != EM_X86_64)
		return 0;
	init();
	while (off < size && off <= field) {
		ZydisDecodedInstruction zi;
		size_t disp;

		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&decoder, NULL, code + off,
							      size - off, &zi)))
			return 0;
		if (off + zi.length <= field) {
			off += zi.length;
			continue;
		}
		disp = zi.raw.disp.offset;
		if (zi.mnemonic != ZYDIS_MNEMONIC_LEA ||
		    zi.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY ||
		    zi.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT || zi.opcode != 0x8d ||
		    zi.address_width != 64 || (zi.operand_width != 64 && zi.operand_width != 32) ||
		    !(zi.attributes & ZYDIS_ATTRIB_HAS_MODRM) || zi.raw.modrm.mod != 0 ||
		    zi.raw.modrm.rm != 5 || zi.raw.disp.size != 32 || off + disp != field ||
		    disp < 2 || code[off + disp - 2] != 0x8d)
			return 0;
		code[off + disp - 2] = 0x8b;
		*bias = (int64_t)(zi.length - disp);
		return R_X86_64_GOTPCREL;
	}
	return 0;
}
