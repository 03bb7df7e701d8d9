/*
 * frame_mix is written as a top-level asm block, as a vendored library
 * might: a label, no .type, no .size.  No function symbol says where it
 * ends.
 */
#include "api.h"

__asm__(".text\n"
	".globl frame_mix\n"
	"frame_mix:\n"
	"\tmovl %edi, %eax\n"
	"\troll $5, %eax\n"
	"\txorl $0x5a5a, %eax\n"
	"\tret\n");

int frame_ok(unsigned v, unsigned sum)
{
	return frame_mix(v) == sum;
}
