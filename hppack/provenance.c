/*
 * What the linker may change inside a function of an object it links:
 * every relocated field (addresses, displacements), and around some fields
 * the instruction itself, which it relaxes to a cheaper form (the
 * architecture says which: arch_link_rewrites).  Those bytes are masked;
 * every other byte must be the OLD object's.
 */
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

uint32_t provenance_mismatch(uint16_t machine, const uint8_t *base, const struct hp_func *f)
{
	uint8_t *mask = calloc(f->old_size, 1);
	uint32_t bad = 0;

	if (!mask)
		return 1;
	for (uint32_t i = 0; i < f->nold_relocs; i++) {
		const struct hp_reloc *r = &f->old_relocs[i];
		const struct hp_reloc_desc *d = hp_reloc_describe(machine, r->type);
		int64_t off = r->offset;
		int from, to;

		mask_range(mask, f->old_size, off, off + (d ? d->size : 4));
		if (arch_link_rewrites(machine, r->type, &from, &to))
			mask_range(mask, f->old_size, off + from, off + to);
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
