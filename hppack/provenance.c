/*
 * What the linker may change inside a function of an object it links:
 *  - every relocated field (addresses, displacements);
 *  - around GOTPCRELX / REX_GOTPCRELX fields, the instruction itself: a
 *    load from the GOT becomes `lea` (8b -> 8d), `call *foo@GOTPCREL`
 *    becomes `addr32 call foo`, `jmp *` becomes `jmp foo; nop`, and in
 *    non-PIE output `mov` becomes `mov $imm`;
 *  - TLS sequences relaxed to cheaper models: initial exec to local exec
 *    (`mov x@gottpoff(%rip)` -> `mov $x`), general and local dynamic
 *    sequences rewritten whole (16 and 12 bytes).
 * Those bytes are masked; every other byte must be the OLD object's.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hppack/provenance.h"

static void mask_range(uint8_t *mask, uint32_t size, int64_t from, int64_t to)
{
	if (from < 0)
		from = 0;
	if (to > (int64_t)size)
		to = size;
	for (int64_t i = from; i < to; i++)
		mask[i] = 1;
}

uint32_t provenance_mismatch(const uint8_t *base, const struct hp_func *f)
{
	uint8_t *mask = calloc(f->old_size, 1);
	uint32_t bad = 0;

	if (!mask)
		return 1;
	for (uint32_t i = 0; i < f->nold_relocs; i++) {
		const struct hp_reloc *r = &f->old_relocs[i];
		const struct hp_reloc_desc *d = hp_reloc_describe(HP_MACHINE_X86_64, r->type);
		int64_t off = r->offset;

		mask_range(mask, f->old_size, off, off + (d ? d->size : 4));
		switch (r->type) {
		case R_X86_64_GOTPCRELX:
		case R_X86_64_REX_GOTPCRELX:
			mask_range(mask, f->old_size, off - 3, off + 5);
			break;
		case R_X86_64_GOTTPOFF:
			mask_range(mask, f->old_size, off - 3, off + 4);
			break;
		case R_X86_64_TLSGD: /* data16 lea; data16 data16 rex64 call */
			mask_range(mask, f->old_size, off - 4, off + 12);
			break;
		case R_X86_64_TLSLD: /* lea; call */
			mask_range(mask, f->old_size, off - 3, off + 9);
			break;
		default:
			break;
		}
	}
	for (uint32_t i = 0; i < f->old_size; i++) {
		if (!mask[i] && base[i] != f->old_code[i]) {
			bad = i + 1;
			break;
		}
	}
	free(mask);
	return bad;
}
