/*
 * Instruction decoding behind a neutral interface, so the differ never sees
 * the decoder's types.  insn.c (zydis) is the only x86 decoder user.
 */
#ifndef HPDIFF_INSN_H
#define HPDIFF_INSN_H

#include <stddef.h>
#include <stdint.h>

enum insn_type {
	INSN_OTHER = 0,
	INSN_CALL,	    /* direct call */
	INSN_JUMP,	    /* direct unconditional jump */
	INSN_JUMP_COND,	    /* direct conditional jump (incl. loop/jrcxz) */
	INSN_CALL_INDIRECT,
	INSN_JUMP_INDIRECT,
	INSN_RETURN,
	INSN_NOP,
	INSN_TRAP,	    /* int3, ud2: never falls through */
	INSN_ENDBR,
};

struct insn {
	uint32_t off;	/* from the start of the decoded buffer */
	uint8_t len;
	uint8_t type;	/* enum insn_type */
	/*
	 * The PC-relative field, if any: a branch displacement or a
	 * RIP-relative memory displacement.  rel_size is 0 when there is none.
	 */
	uint8_t rel_off, rel_size;
	int64_t rel_value; /* the displacement, sign-extended */
};

/* Target of the PC-relative field, as an offset from the buffer start. */
static inline int64_t insn_rel_target(const struct insn *in)
{
	return (int64_t)in->off + in->len + in->rel_value;
}

/*
 * Decode all of code[0, size).  Returns the number of instructions and sets
 * *out (malloc'ed), or -1 if some byte sequence is not an instruction or an
 * instruction runs past the end (*bad_off says where).
 */
long insn_decode_all(const uint8_t *code, size_t size, struct insn **out, size_t *bad_off);

/*
 * AT&T text of the instruction at code[0, len), as if it were at address
 * `addr` (branch targets print as addresses).  Returns buf.
 */
const char *insn_format(const uint8_t *code, size_t len, uint64_t addr, char *buf, size_t size);

/*
 * Re-encode a branch with an 8-bit displacement (jmp rel8, jcc rel8) in
 * its 32-bit form, keeping its prefixes; the new displacement is zero.
 * Writes at most 16 bytes to out; sets *len and *rel_off.  Returns -1 for
 * branches that have no 32-bit form (loop, jrcxz).
 */
int insn_widen_branch(const uint8_t *code, const struct insn *in, uint8_t *out, uint8_t *len,
		      uint8_t *rel_off);

#endif
