/*
 * filtervm.c - a classic-BPF-like packet filter: an accumulator machine with
 * forward-only conditional jumps.  filter_check() validates a program before
 * it is installed; filter_run() executes it against one packet.
 */
#include "api.h"

/* Returns the filter's verdict (>= 0) or -1 on a bad program / packet. */
int filter_run(const struct finsn *prog, size_t len, const uint8_t *pkt, size_t plen)
{
	uint32_t a = 0;
	size_t pc = 0;

	while (pc < len) {
		const struct finsn *in = &prog[pc++];

		switch (in->op) {
		case F_LDB:
			if (in->k >= plen)
				return -1;
			a = pkt[in->k];
			break;
		case F_LDH:
			/* BUG: reads one byte past the packet for k == plen - 1 */
			if (in->k >= plen)
				return -1;
			a = (uint32_t)pkt[in->k] << 8 | pkt[in->k + 1];
			break;
		case F_LDI:
			a = in->k;
			break;
		case F_ADD:
			a += in->k;
			break;
		case F_SUB:
			a -= in->k;
			break;
		case F_AND:
			a &= in->k;
			break;
		case F_OR:
			a |= in->k;
			break;
		case F_SHR:
			a >>= in->k & 31;
			break;
		case F_JEQ:
			pc += a == in->k ? in->jt : in->jf;
			break;
		case F_JGT:
			pc += a > in->k ? in->jt : in->jf;
			break;
		case F_RET:
			return (int)(in->k & 0x7fffffff);
		case F_RETA:
			return (int)(a & 0x7fffffff);
		case F_NOP:
			break;
		default:
			return -1;
		}
	}
	return -1;
}

/* 0 if prog is well formed: known opcodes, jumps in range, ends in a RET. */
int filter_check(const struct finsn *prog, size_t len)
{
	size_t pc;

	if (len == 0 || len > 4096)
		return -1;
	for (pc = 0; pc < len; pc++) {
		const struct finsn *in = &prog[pc];

		switch (in->op) {
		case F_LDB:
		case F_LDH:
			if (in->k > 65535)
				return -1;
			break;
		case F_LDI:
		case F_ADD:
		case F_SUB:
		case F_AND:
		case F_OR:
		case F_NOP:
			break;
		case F_SHR:
			if (in->k > 31)
				return -1;
			break;
		case F_JEQ:
		case F_JGT:
			if (pc + 1 + in->jt >= len || pc + 1 + in->jf >= len)
				return -1;
			break;
		case F_RET:
		case F_RETA:
			break;
		default:
			return -1;
		}
	}
	return prog[len - 1].op == F_RET || prog[len - 1].op == F_RETA ? 0 : -1;
}
