/*
 * Placing a package in the target and applying its relocations.
 *
 * Every reference between the image and the package is PC-relative, so
 * the region goes within their reach of the image (ARCH_NEAR_REACH: 2 GiB
 * on x86-64).  A call to another library (which may be anywhere) goes
 * through a far jump in the region, and a GOT-style load reads an 8-byte
 * slot in the region: those are the only 64-bit addresses the package
 * needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpapply/placement.h"
#include "common/cli.h"
#include "common/mem.h"

#define PAGE 4096ull
/* Room left for the heap to grow before a region is placed after it. */
#define HEAP_ROOM (256ull << 20)

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The type's field and calculation (arch/arch.h); NULL if unknown. */
static const struct hp_reloc_desc *describe(const struct plan *p, uint32_t type)
{
	return hp_reloc_describe(p->machine, type);
}

/*
 * The instruction reads an 8-byte value from a slot, an address or a
 * thread-pointer offset: the package brings its own slot, in the region.
 */
static bool loads_slot(const struct plan *p, uint32_t type)
{
	return arch_reloc_got_load(p->machine, type) || arch_reloc_got_tp_load(p->machine, type);
}

/*
 * A call to another library goes through a far jump in the region: the
 * library may be anywhere, out of a 32-bit displacement's reach.
 */
static bool calls_import(const struct plan *p, const struct hp_preloc *r)
{
	return r->target == HP_PT_IMPORT && arch_reloc_plt_call(p->machine, r->type);
}

/*
 * The first address an absolute field cannot hold, or 0 if it holds any:
 * a 4-byte field reaches 4 GiB zero-extended, 2 GiB sign-extended (the
 * upper half of the signed range is the kernel's).  The same rule as
 * apply()'s check that a value fits its field.
 */
static uint64_t abs_reach(const struct hp_reloc_desc *d)
{
	if (!d || d->calc != HP_CALC_ABS || d->size >= 8)
		return 0;
	return d->is_signed ? 1ull << (8 * d->size - 1) : 1ull << (8 * d->size);
}

static long slot_of(const struct plan *p, const struct hp_preloc *r)
{
	for (size_t i = 0; i < p->nslots; i++)
		if (p->slots[i].target == r->target && p->slots[i].index == r->index &&
		    p->slots[i].target_off == r->target_off)
			return (long)i;
	return -1;
}

static int note_relocs(struct plan *p, const struct hp_preloc *r, uint32_t n, uint32_t nimports)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t lim = abs_reach(describe(p, r[i].type));

		if (lim && (!p->low_limit || lim < p->low_limit))
			p->low_limit = lim;
		if (calls_import(p, &r[i]) && r[i].index < nimports)
			p->stub_off[r[i].index] = 0; /* placed below */
		if (loads_slot(p, r[i].type) && slot_of(p, &r[i]) < 0) {
			struct slot *v = xrealloc(p->slots, (p->nslots + 1) * sizeof(*v));

			if (!v)
				return -1;
			p->slots = v;
			v[p->nslots++] = (struct slot){r[i].target, r[i].index, r[i].target_off, 0};
		}
	}
	return 0;
}

int layout_plan(const struct hp_payload *pl, uint16_t machine, struct plan *p)
{
	uint64_t rx = 0, rw = 0;

	memset(p, 0, sizeof(*p));
	p->machine = machine;
	p->code_off = xcalloc(pl->ncode + 1, sizeof(*p->code_off));
	p->data_off = xcalloc(pl->ndata + 1, sizeof(*p->data_off));
	p->data_rw = xcalloc(pl->ndata + 1, sizeof(*p->data_rw));
	p->stub_off = xcalloc(pl->nimports + 1, sizeof(*p->stub_off));
	if (!p->code_off || !p->data_off || !p->data_rw || !p->stub_off)
		return -1;
	for (uint32_t i = 0; i < pl->nimports; i++)
		p->stub_off[i] = UINT64_MAX;
	for (uint32_t i = 0; i < pl->ncode; i++)
		if (note_relocs(p, pl->code[i].relocs, pl->code[i].nrelocs, pl->nimports) < 0)
			return -1;
	for (uint32_t i = 0; i < pl->ndata; i++)
		if (note_relocs(p, pl->data[i].relocs, pl->data[i].nrelocs, pl->nimports) < 0)
			return -1;
	for (uint32_t i = 0; i < pl->ncode; i++) {
		rx = align_up(rx, pl->code[i].align);
		p->code_off[i] = rx;
		rx += pl->code[i].size;
	}
	for (uint32_t i = 0; i < pl->ndata; i++) {
		uint64_t *at = pl->data[i].kind == HP_PDATA_RODATA ? &rx : &rw;

		p->data_rw[i] = pl->data[i].kind != HP_PDATA_RODATA;
		*at = align_up(*at, pl->data[i].align);
		p->data_off[i] = *at;
		*at += pl->data[i].size;
	}
	rx = align_up(rx, 8);
	for (size_t i = 0; i < p->nslots; i++, rx += 8)
		p->slots[i].off = rx;
	for (uint32_t i = 0; i < pl->nimports; i++) {
		if (p->stub_off[i] == UINT64_MAX)
			continue;
		rx = align_up(rx, 16);
		p->stub_off[i] = rx;
		rx += ARCH_FAR_STUB_LEN;
	}
	p->rx_size = align_up(rx ? rx : 1, PAGE);
	p->rw_size = align_up(rw, PAGE);
	return 0;
}

void plan_free(struct plan *p)
{
	free(p->code_off);
	free(p->data_off);
	free(p->data_rw);
	free(p->stub_off);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

uint64_t layout_code_at(const struct plan *p, uint64_t base, uint32_t i)
{
	return base + p->code_off[i];
}

/* ---- placing --------------------------------------------------------------------- */

/* The best address inside gap [g0, g1) for a region of size t within [lo, hi]. */
static bool fit(uint64_t g0, uint64_t g1, uint64_t t, uint64_t lo, uint64_t hi, uint64_t img_lo,
		uint64_t img_hi, uint64_t *at, uint64_t *dist)
{
	uint64_t b;

	if (g0 < lo)
		g0 = lo;
	if (g1 > hi + t)
		g1 = hi + t;
	g0 = align_up(g0, PAGE);
	g1 &= ~(PAGE - 1);
	if (g1 <= g0 || g1 - g0 < t)
		return false;
	/* as close to the image as the gap allows */
	b = g0 >= img_hi ? g0 : g1 - t;
	*dist = b >= img_hi ? b - img_hi : img_lo - (b + t);
	*at = b;
	return true;
}

int layout_place(const struct plan *p, const struct maps *m, uint64_t img_lo, uint64_t img_hi,
		 uint64_t *base)
{
	uint64_t t = p->rx_size + p->rw_size, lo, hi, best = 0, best_dist = UINT64_MAX;

	lo = img_hi > ARCH_NEAR_REACH - PAGE ? img_hi - (ARCH_NEAR_REACH - PAGE) : PAGE * 16;
	hi = img_lo + (ARCH_NEAR_REACH - PAGE) > t ? img_lo + (ARCH_NEAR_REACH - PAGE) - t : 0;
	if (lo < (1ull << 16))
		lo = 1ull << 16; /* vm.mmap_min_addr */
	if (p->low_limit && hi > p->low_limit - t)
		hi = p->low_limit - t;
	for (size_t i = 0; i <= m->n; i++) {
		uint64_t g0 = i ? m->v[i - 1].end : 0;
		uint64_t g1 = i < m->n ? m->v[i].start : ARCH_USER_END;
		uint64_t at, dist;

		if (i && !strcmp(m->v[i - 1].path, "[heap]"))
			g0 += HEAP_ROOM;
		/* stay clear of the main stack's growth */
		if (i < m->n && !strcmp(m->v[i].path, "[stack]"))
			g1 = g1 > (64ull << 20) ? g1 - (64ull << 20) : 0;
		if (g1 > g0 && fit(g0, g1, t, lo, hi, img_lo, img_hi, &at, &dist) &&
		    dist < best_dist) {
			best = at;
			best_dist = dist;
		}
	}
	if (best_dist == UINT64_MAX)
		return error("no free address range of %llu bytes within %llu GiB of the image",
			     (unsigned long long)t, ARCH_NEAR_REACH >> 30);
	*base = best;
	return 0;
}

/* ---- relocating -------------------------------------------------------------------- */

struct where {
	const struct plan *p;
	const struct hp_payload *pl;
	uint64_t base, rw_base, image_base;
	const uint64_t *imports;
};

static uint64_t target_addr(const struct where *w, uint8_t target, uint32_t index, int64_t off)
{
	switch (target) {
	case HP_PT_IMAGE:
		return w->image_base + (uint64_t)off;
	case HP_PT_CODE:
		return w->base + w->p->code_off[index] + (uint64_t)off;
	case HP_PT_DATA:
		return (w->p->data_rw[index] ? w->rw_base : w->base) + w->p->data_off[index] +
		       (uint64_t)off;
	case HP_PT_IMPORT:
		return w->imports[index] + (uint64_t)off;
	default:
		return (uint64_t)off; /* HP_PT_CONST */
	}
}

static void put(uint8_t *at, uint64_t v, int size)
{
	for (int i = 0; i < size; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static int apply(const struct where *w, const struct hp_preloc *r, uint8_t *field, uint64_t place,
		 const char *item)
{
	const struct hp_reloc_desc *d = describe(w->p, r->type);
	uint64_t s = target_addr(w, r->target, r->index, r->target_off), v;

	if (calls_import(w->p, r))
		s = w->base + w->p->stub_off[r->index] + (uint64_t)r->target_off;
	if (loads_slot(w->p, r->type))
		s = w->base + w->p->slots[slot_of(w->p, r)].off;
	/* the payload only carries 4- and 8-byte fields: S + A, or S + A - P */
	if (!d || (d->size != 4 && d->size != 8))
		return error("%s: a reference at +0x%x has an unsupported type %u", item, r->offset,
			     r->type);
	v = s + (uint64_t)r->addend;
	if (d->calc == HP_CALC_PCREL || d->calc == HP_CALC_GOTPCREL || d->calc == HP_CALC_GOTTPOFF)
		v -= place;
	/* 8-byte fields take any value; 4-byte ones must fit, signed or not */
	if (d->size == 4 &&
	    (d->is_signed ? (int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX : v > UINT32_MAX))
		goto overflow;
	put(field, v, d->size);
	return 0;
overflow:
	return error("%s: a reference at +0x%x cannot reach 0x%llx from 0x%llx", item, r->offset,
		     (unsigned long long)s, (unsigned long long)place);
}

int layout_fill(const struct plan *p, const struct hp_payload *pl, uint64_t base,
		uint64_t image_base, const uint64_t *imports, uint8_t **rx, uint8_t **rw)
{
	struct where w = {p, pl, base, base + p->rx_size, image_base, imports};

	*rx = xcalloc(p->rx_size, 1);
	*rw = xcalloc(p->rw_size ? p->rw_size : 1, 1);
	if (!*rx || !*rw)
		return -1;
	/* traps between functions, like a linker's padding */
	arch_fill_trap(*rx, p->rx_size);
	for (uint32_t i = 0; i < pl->ncode; i++) {
		const struct hp_pcode *c = &pl->code[i];
		uint8_t *at = *rx + p->code_off[i];

		memcpy(at, c->code, c->size);
		for (uint32_t k = 0; k < c->nrelocs; k++)
			if (apply(&w, &c->relocs[k], at + c->relocs[k].offset,
				  base + p->code_off[i] + c->relocs[k].offset, c->name) < 0)
				return -1;
	}
	for (uint32_t i = 0; i < pl->ndata; i++) {
		const struct hp_pdata *d = &pl->data[i];
		uint8_t *at = (p->data_rw[i] ? *rw : *rx) + p->data_off[i];
		uint64_t va = (p->data_rw[i] ? w.rw_base : base) + p->data_off[i];

		if (d->init)
			memcpy(at, d->init, d->size);
		else
			memset(at, 0, d->size);
		for (uint32_t k = 0; k < d->nrelocs; k++)
			if (apply(&w, &d->relocs[k], at + d->relocs[k].offset,
				  va + d->relocs[k].offset, d->name) < 0)
				return -1;
	}
	for (size_t i = 0; i < p->nslots; i++)
		put(*rx + p->slots[i].off,
		    target_addr(&w, p->slots[i].target, p->slots[i].index, p->slots[i].target_off),
		    8);
	for (uint32_t i = 0; i < pl->nimports; i++)
		if (p->stub_off[i] != UINT64_MAX)
			arch_far_stub(imports[i], *rx + p->stub_off[i]);
	return 0;
}
