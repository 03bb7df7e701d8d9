#include <stdio.h>
#include "api.h"

void probe(void)
{
	/* "IPv4 TCP to port 80?" on a fake 20-byte packet; the packet buffer
	 * is larger than the length we pass, so the old code's over-read of
	 * one byte stays inside the array. */
	static const uint8_t pkt[24] = {
		0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x06,
		0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0xaa, 0xbb,
		0xcc, 0xdd, 0xee, 0x01, 0x99, 0, 0, 0
	};
	static const struct finsn tcp80[] = {
		{ F_LDH, 0, 0, 0 },
		{ F_JEQ, 0, 4, 0x0800 },
		{ F_LDB, 0, 0, 7 },
		{ F_JEQ, 0, 2, 6 },
		{ F_LDH, 0, 0, 8 },
		{ F_JEQ, 1, 0, 80 },
		{ F_RET, 0, 0, 0 },
		{ F_RET, 0, 0, 0xffff },
	};
	static const struct finsn tail[] = {
		{ F_LDH, 0, 0, 19 },	/* last byte of a 20-byte packet */
		{ F_AND, 0, 0, 0xff0f },
		{ F_OR, 0, 0, 0x20 },
		{ F_SHR, 0, 0, 1 },
		{ F_SUB, 0, 0, 3 },
		{ F_ADD, 0, 0, 10 },
		{ F_NOP, 0, 0, 0 },
		{ F_JGT, 0, 0, 5 },
		{ F_RETA, 0, 0, 0 },
	};
	static const struct finsn bad[] = {
		{ F_JEQ, 9, 0, 1 },
		{ F_RET, 0, 0, 1 },
	};

	printf("check(tcp80) = %d\n", filter_check(tcp80, 8));
	printf("run(tcp80) = %d\n", filter_run(tcp80, 8, pkt, 20));
	printf("check(tail) = %d\n", filter_check(tail, 9));
	printf("run(tail) = %d\n", filter_run(tail, 9, pkt, 20));
	printf("check(bad) = %d\n", filter_check(bad, 2));
	printf("run(ldh@0, 1-byte packet) = %d\n", filter_run(tcp80, 8, pkt, 1));
}
