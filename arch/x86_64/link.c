/*
 * What the x86-64 linker does to the code it links, as hppack needs to
 * know it: the instructions it may rewrite around a relocated field, the
 * GOT slot a PLT entry jumps through, and where an executable's
 * thread-locals lie from the thread pointer.
 */
#include <elf.h>
#include <string.h>

#include "arch/arch.h"

/*
 * The instructions GNU ld and lld rewrite in place:
 *  - around GOTPCRELX / REX_GOTPCRELX fields: a load from the GOT becomes
 *    `lea` (8b -> 8d), `call *foo@GOTPCREL` becomes `addr32 call foo`,
 *    `jmp *` becomes `jmp foo; nop`, and in non-PIE output `mov` becomes
 *    `mov $imm`;
 *  - TLS sequences relaxed to cheaper models: initial exec to local exec
 *    (`mov x@gottpoff(%rip)` -> `mov $x`), general and local dynamic
 *    sequences rewritten whole (16 and 12 bytes).
 */
bool arch_link_rewrites(uint16_t machine, uint32_t type, int *from, int *to)
{
	if (machine != EM_X86_64)
		return false;
	switch (type) {
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		*from = -3;
		*to = 5;
		return true;
	case R_X86_64_GOTTPOFF:
		*from = -3;
		*to = 4;
		return true;
	case R_X86_64_TLSGD: /* data16 lea; data16 data16 rex64 call */
		*from = -4;
		*to = 12;
		return true;
	case R_X86_64_TLSLD: /* lea; call */
		*from = -3;
		*to = 9;
		return true;
	default:
		return false;
	}
}

/*
 * Each PLT entry holds a `jmp *slot(%rip)` (ff 25 disp32) that reads the
 * GOT slot of one import, whatever the layout around it: 16-byte lazy
 * entries, 16-byte .plt.sec entries after endbr64 and a bnd prefix, 8-byte
 * static .iplt entries (jmp; xchg %ax,%ax).
 */
size_t arch_plt_jump(uint16_t machine, const uint8_t *code, size_t len, uint64_t addr,
		     uint64_t *slot)
{
	int32_t disp;

	if (machine != EM_X86_64 || len < 6 || code[0] != 0xff || code[1] != 0x25)
		return 0;
	memcpy(&disp, code + 2, 4);
	*slot = addr + 6 + (int64_t)disp;
	return 6;
}

/*
 * TLS variant II: the executable's block sits right below the thread
 * pointer, its end rounded up to the block's alignment.
 */
int64_t arch_tls_tp_offset(uint16_t machine, uint64_t off, uint64_t memsz, uint64_t align)
{
	uint64_t block;

	if (machine != EM_X86_64)
		return 0;
	align = align ? align : 1;
	block = (memsz + align - 1) & ~(align - 1);
	return (int64_t)(off - block);
}
