/*
 * Two routines of a top-level asm block, without .type or .size: a global
 * one, and a file-local one that frame_sum reaches without a relocation
 * (or, with -ffunction-sections, through the .text section symbol).  The
 * fix is in the C function; the assembly does not change.
 */
#include "api.h"

unsigned fold(unsigned v) __asm__("fold");

__asm__(".text\n"
	".globl frame_mix\n"
	"frame_mix:\n"
	"\tmovl %edi, %eax\n"
	"\troll $5, %eax\n"
	"\txorl $0x5a5a, %eax\n"
	"\tret\n"
	"fold:\n"
	"\tmovl %edi, %eax\n"
	"\tshrl $16, %eax\n"
	"\txorl %edi, %eax\n"
	"\tret\n");

unsigned frame_sum(unsigned v)
{
	return fold(frame_mix(v)) & 0xfff;
}
