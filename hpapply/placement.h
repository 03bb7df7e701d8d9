/*
 * Where a package's code and data go in the target, and their final bytes.
 *
 * One region per package, near the baseline image: first the read-only,
 * executable part (code, read-only data, address slots for GOT-style
 * references, far jumps to imports), then the writable part (new variables).
 */
#ifndef HPAPPLY_LAYOUT_H
#define HPAPPLY_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/hpk.h"
#include "hpapply/proc.h"

struct slot {
	uint8_t target; /* enum hp_ptarget */
	uint32_t index;
	int64_t target_off;
	uint64_t off; /* in the executable part */
};

struct plan {
	uint16_t machine;   /* the ELF machine whose relocation types the payload uses */
	uint64_t *code_off; /* per code block, in the executable part */
	uint64_t *data_off; /* per data block, in its part */
	bool *data_rw;	    /* data block in the writable part */
	uint64_t *stub_off; /* per import: far jump, or UINT64_MAX */
	struct slot *slots;
	size_t nslots;
	uint64_t rx_size, rw_size; /* page multiples; rw_size may be 0 */
	uint64_t low_limit;	   /* addresses must stay below this (32-bit fields), or 0 */
};

/*
 * Lay out the package whose relocation types are `machine`'s: where each
 * block, slot and far jump goes in the region.  -1 if out of memory.
 */
int layout_plan(const struct hp_payload *pl, uint16_t machine, struct plan *p);
void plan_free(struct plan *p);

/*
 * Pick a free address for the region within ARCH_NEAR_REACH of the image
 * [img_lo, img_hi).  -1 after a message if there is none.
 */
int layout_place(const struct plan *p, const struct maps *m, uint64_t img_lo, uint64_t img_hi,
		 uint64_t *base);

/* The final bytes of both parts for region address `base`; -1 after a message. */
int layout_fill(const struct plan *p, const struct hp_payload *pl, uint64_t base,
		uint64_t image_base, const uint64_t *imports, uint8_t **rx, uint8_t **rw);

/* Runtime address of code block i. */
uint64_t layout_code_at(const struct plan *p, uint64_t base, uint32_t i);

#endif
