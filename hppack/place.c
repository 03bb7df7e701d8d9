/*
 * Placing: one code block per changed or new function and one data block
 * per data item, unless the baseline already has the very function or
 * variable (moved between objects), which is then used instead.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/mem.h"

/*
 * A "new" global variable the baseline already defines under that name (or
 * an alias) was moved from another object by the fix: it is the same
 * variable, and the running process holds its value.  The package binds to
 * the baseline's instance instead of making a second one (*bound, and
 * in->bound_of[d] its offset, else -1); a size that differs is refused.
 */
static enum outcome bind_existing(struct packer *p, struct input *in, uint32_t d, bool *bound)
{
	const struct hp_hpd *h = in->h;
	const struct hp_data *hd = &h->data[d];
	const struct bsym *cand[MAX_CANDIDATES];
	const char *name;

	in->bound_of[d] = -1;
	*bound = false;
	if (hd->kind == HP_DATA_RODATA || hd->bind == HP_BIND_LOCAL)
		return OUTCOME_OK;
	for (uint32_t k = 0; (name = nth_name(h, hd->name, in->dalias_at, in->dalias, d, k)); k++) {
		size_t n = baseline_find(p->b, name, NULL, cand, MAX_CANDIDATES);
		const struct bsym *s = n ? cand[0] : NULL;

		if (!s || (s->type != STT_OBJECT && s->type != STT_NOTYPE))
			continue;
		if (s->size != hd->size)
			return refuse(p,
				      "%s: %s moves into %s with %llu bytes, but %s has it with "
				      "%llu bytes: a running process cannot change its size",
				      in->path, name, h->object, (unsigned long long)hd->size,
				      p->b->path, (unsigned long long)s->size);
		in->bound_of[d] = (int64_t)(s->value - p->b->img.base);
		*bound = true;
		return OUTCOME_OK;
	}
	return OUTCOME_OK;
}

/* Where the baseline itself has hs (a symbol, else its PLT entry): an image offset. */
static bool baseline_target(const struct packer *p, const struct input *in, const struct hp_sym *hs,
			    int64_t *off)
{
	size_t n;
	const struct bsym *s = baseline_sym(p, in, hs, &n);
	uint64_t v;

	if (n) {
		if (!s || s->type == STT_TLS || s->type == STT_GNU_IFUNC)
			return false;
		*off = (int64_t)(s->value - p->b->img.base);
		return true;
	}
	if ((v = baseline_plt(p->b, hs->name))) {
		*off = (int64_t)(v - p->b->img.base);
		return true;
	}
	return false;
}

/*
 * Is new function f, as the baseline has it at s, the same code: equal
 * bytes outside the reference fields, and each reference a PC-relative one
 * to the place the baseline's field points at?  Anything else (a widened
 * branch, a reference into the package, a GOT access the linker may have
 * relaxed) is not shown to be the same.
 */
static bool same_code(const struct packer *p, const struct input *in, const struct hp_func *f,
		      const struct bsym *s)
{
	uint64_t at = s->value - p->b->img.base;
	const uint8_t *bytes = s->size == f->size ? hp_image_bytes(&p->b->img, at, f->size) : NULL;
	uint32_t pos = 0;

	if (!bytes)
		return false;
	for (uint32_t i = 0; i < f->nrelocs; i++) {
		const struct hp_reloc *r = &f->relocs[i];
		int64_t target;
		int32_t field;

		if (r->target_kind != HP_TGT_SYM || !pcrel32(p->machine, r->type) ||
		    memcmp(bytes + pos, f->code + pos, r->offset - pos) ||
		    !baseline_target(p, in, &in->h->syms[r->target], &target))
			return false;
		memcpy(&field, bytes + r->offset, 4);
		if ((int64_t)field != wsub(wadd(target, r->addend), (int64_t)(at + r->offset)))
			return false;
		pos = r->offset + 4;
	}
	return !memcmp(bytes + pos, f->code + pos, f->size - pos);
}

/*
 * A "new" global function the baseline already has under its name or an
 * alias was moved from another object by the fix.  Moved as it was, it is
 * the baseline's function (*bound, and in->fbound_of[fi] its offset, else
 * -1: references go there); moved and changed, the old copy would go on
 * serving every caller the package does not replace, so the package is
 * refused.
 */
static enum outcome moved_function(struct packer *p, struct input *in, uint32_t fi, bool *bound)
{
	const struct hp_hpd *h = in->h;
	const struct hp_func *f = &h->funcs[fi];
	const struct bsym *cand[MAX_CANDIDATES];
	const char *name;

	in->fbound_of[fi] = -1;
	*bound = false;
	if (f->status != HP_FUNC_NEW || f->bind == HP_BIND_LOCAL)
		return OUTCOME_OK;
	for (uint32_t k = 0; (name = nth_name(h, f->name, in->falias_at, in->falias, fi, k)); k++) {
		size_t n = baseline_find(p->b, name, NULL, cand, MAX_CANDIDATES);

		if (!n || cand[0]->type != STT_FUNC)
			continue;
		if (same_code(p, in, f, cand[0])) {
			in->fbound_of[fi] = (int64_t)(cand[0]->value - p->b->img.base);
			*bound = true;
			return OUTCOME_OK;
		}
		return refuse(p,
			      "%s: %s is new in %s, but %s already has a function %s with "
			      "other code: moved between objects and changed, which a package "
			      "cannot replace (every caller of the old copy would keep it)",
			      in->path, f->name, h->object, p->b->path, name);
	}
	return OUTCOME_OK;
}

/* A code block for each function of the input the baseline does not already have. */
static enum outcome place_code(struct packer *p, struct input *in)
{
	const struct hp_hpd *h = in->h;
	enum outcome out = OUTCOME_OK;

	for (uint32_t f = 0; f < h->nfuncs; f++) {
		struct hp_pcode *c;
		bool bound;

		out = outcome_worst(out, moved_function(p, in, f, &bound));
		if (bound) {
			in->code_of[f] = NO_ITEM;
			continue;
		}
		if (grow_array(&p->pl.code, &p->cap_code, p->pl.ncode, sizeof(*c), 16) < 0)
			return OUTCOME_TROUBLE;
		in->code_of[f] = p->pl.ncode;
		c = &p->pl.code[p->pl.ncode++];
		c->kind =
			h->funcs[f].status == HP_FUNC_CHANGED ? HP_PCODE_REPLACEMENT : HP_PCODE_NEW;
		c->align = h->funcs[f].align;
		c->name = xstrdup(h->funcs[f].name);
		c->size = h->funcs[f].size;
		c->code = xmalloc(c->size);
		if (!c->name || !c->code)
			return OUTCOME_TROUBLE;
		memcpy(c->code, h->funcs[f].code, c->size);
	}
	return out;
}

/*
 * A new global variable an earlier input defines too is one variable, as
 * the linker makes it: a C++ inline function's static local
 * (`_ZZ3tagiE5calls`, a COMDAT of every object that uses the function), or
 * an inline variable.  The input uses the earlier input's block or
 * baseline instance (*shared); a size that differs is refused.
 */
static enum outcome share_earlier(struct packer *p, struct input *in, uint32_t d, bool *shared)
{
	const struct hp_data *hd = &in->h->data[d];
	const struct named *n = hd->bind == HP_BIND_LOCAL ? NULL : find_named(p, hd->name);
	const struct input *first;

	*shared = false;
	if (!n || n->kind != HP_TGT_DATA || &p->in[n->in] >= in)
		return OUTCOME_OK;
	first = &p->in[n->in];
	if (first->h->data[n->index].size != hd->size)
		return refuse(p, "%s: %s has %llu bytes, but %llu in %s: one variable of two sizes",
			      in->path, hd->name, (unsigned long long)hd->size,
			      (unsigned long long)first->h->data[n->index].size, first->path);
	in->data_of[d] = first->data_of[n->index];
	in->bound_of[d] = first->bound_of[n->index];
	in->shared[d] = *shared = true;
	return OUTCOME_OK;
}

/* A data block for each data item of the input the baseline does not already have. */
static enum outcome place_data(struct packer *p, struct input *in)
{
	const struct hp_hpd *h = in->h;
	enum outcome out = OUTCOME_OK;

	for (uint32_t d = 0; d < h->ndata; d++) {
		const struct hp_data *hd = &h->data[d];
		struct hp_pdata *pd;
		bool bound, shared;

		out = outcome_worst(out, bind_existing(p, in, d, &bound));
		if (bound) {
			in->data_of[d] = NO_ITEM;
			continue;
		}
		out = outcome_worst(out, share_earlier(p, in, d, &shared));
		if (shared)
			continue;
		if (grow_array(&p->pl.data, &p->cap_data, p->pl.ndata, sizeof(*pd), 16) < 0)
			return OUTCOME_TROUBLE;
		in->data_of[d] = p->pl.ndata;
		pd = &p->pl.data[p->pl.ndata++];
		pd->kind = hd->kind == HP_DATA_VAR   ? HP_PDATA_DATA
			   : hd->kind == HP_DATA_BSS ? HP_PDATA_BSS
						     : HP_PDATA_RODATA;
		pd->align = hd->align;
		pd->name = xstrdup(hd->name);
		pd->size = hd->size;
		if (!pd->name)
			return OUTCOME_TROUBLE;
		if (hd->init) {
			pd->init = xmalloc(hd->size);
			if (!pd->init)
				return OUTCOME_TROUBLE;
			memcpy(pd->init, hd->init, hd->size);
		}
	}
	return out;
}

enum outcome pack_place(struct packer *p)
{
	enum outcome out = OUTCOME_OK;

	for (size_t i = 0; i < p->nin && out != OUTCOME_TROUBLE; i++) {
		struct input *in = &p->in[i];
		const struct hp_hpd *h = in->h;

		in->code_of = xcalloc(h->nfuncs + 1, sizeof(*in->code_of));
		in->data_of = xcalloc(h->ndata + 1, sizeof(*in->data_of));
		in->bound_of = xcalloc(h->ndata + 1, sizeof(*in->bound_of));
		in->fbound_of = xcalloc(h->nfuncs + 1, sizeof(*in->fbound_of));
		in->shared = xcalloc(h->ndata + 1, sizeof(*in->shared));
		if (!in->code_of || !in->data_of || !in->bound_of || !in->fbound_of || !in->shared)
			return OUTCOME_TROUBLE;
		out = outcome_worst(out, place_code(p, in));
		if (out != OUTCOME_TROUBLE)
			out = outcome_worst(out, place_data(p, in));
	}
	return out;
}
