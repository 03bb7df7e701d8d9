/*
 * The functions the package replaces: each found in the baseline by name
 * and source file and proven to be the OLD object's code (provenance.c),
 * then listed for the manifest by address with its code block.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "hppack/provenance.h"
#include "common/mem.h"

/*
 * Link-time optimisation.  A program linked with LTO was compiled at link
 * time from the objects' intermediate code, across objects: its code is not
 * any object's, and a function fixed in one object may have been inlined
 * into the code of others, which no .hpd shows.  Such a baseline cannot be
 * hotpatched from objects at all.  Fat LTO objects (-ffat-lto-objects, the
 * .hpd's LTO flag) hold machine code hpdiff can compare, but gcc links them
 * with LTO unless the link is given -fno-lto: then the baseline lost the
 * objects' file symbols (baseline.c), and its code differs from theirs.
 */
enum outcome pack_refuse_lto_baseline(struct packer *p)
{
	return refuse(p,
		      "%s was linked with link-time optimisation (%s): its code was compiled "
		      "across objects, so it is not the objects' code, and a function fixed in "
		      "one object may be inlined into others; hotpatch a baseline linked without "
		      "-flto (with fat LTO objects: -fno-lto when linking)",
		      p->b->path, p->b->lto);
}

/* What a refusal of a fat LTO input adds: LTO is why its code is not found. */
static const char *lto_hint(const struct input *in)
{
	if (!(in->h->flags & HP_HPD_F_LTO))
		return "";
	return " (the objects are fat LTO objects, -ffat-lto-objects: if the baseline was "
	       "linked with LTO, as gcc links them unless given -fno-lto, its code was compiled "
	       "from their intermediate code, not their machine code)";
}

/*
 * A fat LTO input whose source file the baseline does not list: linked with
 * LTO (whose units replace the objects' file symbols), so nothing in it can
 * be the objects' code.
 */
static bool lto_lost_source(const struct packer *p, const struct input *in)
{
	return (in->h->flags & HP_HPD_F_LTO) && in->h->source[0] &&
	       !baseline_has_file(p->b, in->h->source);
}

/*
 * A weak definition loses to a strong one at link time: when the object
 * defines f weak and the baseline's only definitions of the name are
 * strong (global), they are another object's, and the object's function
 * is not in the baseline at all.  Replacing the other object's function,
 * even one with the same bytes, would not make the process behave as the
 * fixed build, which links that same strong definition.
 */
static bool weak_overridden(const struct hp_func *f, const struct bsym **cand, size_t n)
{
	if (f->bind != HP_BIND_WEAK || !n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (cand[i]->bind != STB_GLOBAL)
			return false;
	return true;
}

/* Which of the candidates has f's baseline code?  NULL if none or several do. */
static const struct bsym *prove(struct packer *p, const struct hp_func *f, const struct bsym **cand,
				size_t n, uint32_t *bad)
{
	const struct bsym *hit = NULL;
	int hits = 0;

	*bad = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *bytes;
		uint32_t mismatch;

		if (cand[i]->type != STT_FUNC || cand[i]->size != f->old_size) {
			*bad = *bad ? *bad : UINT32_MAX;
			continue;
		}
		bytes = hp_image_bytes(&p->b->img, cand[i]->value - p->b->img.base, cand[i]->size);
		mismatch = bytes ? provenance_mismatch(p->machine, bytes, f) : 1;
		if (mismatch) {
			if (!*bad || *bad == UINT32_MAX)
				*bad = mismatch;
			continue;
		}
		hit = cand[i];
		hits++;
	}
	return hits == 1 ? hit : NULL;
}

/* Why none of the n candidates (cand[0] the first) was proven to be f (prove()'s bad). */
static enum outcome refuse_unproven(struct packer *p, const struct input *in,
				    const struct hp_func *f, const struct bsym *first, size_t n,
				    uint32_t bad)
{
	if (n > 1 && !bad)
		return refuse(p, "%s: %s: %zu functions of that name in %s have its code", in->path,
			      f->base_name, n, p->b->path);
	if (bad == UINT32_MAX)
		return refuse(p,
			      "%s: %s has %u bytes in the object but %llu in %s: the objects "
			      "were not built into this baseline%s",
			      in->path, f->base_name, f->old_size, (unsigned long long)first->size,
			      p->b->path, lto_hint(in));
	return refuse(p,
		      "%s: %s differs from %s's at +0x%x: the objects were not built into "
		      "this baseline%s",
		      in->path, f->base_name, p->b->path, bad - 1, lto_hint(in));
}

/*
 * Find and prove the baseline function each changed function replaces, and
 * with it the input's source file group: before pack_place(), whose test of a
 * moved function resolves the input's file-local symbols by that group.
 */
static enum outcome find_replaced(struct packer *p, struct input *in)
{
	enum outcome out = OUTCOME_OK;

	in->replaces = xcalloc(in->h->nfuncs + 1, sizeof(*in->replaces));
	if (!in->replaces)
		return OUTCOME_TROUBLE;
	if (lto_lost_source(p, in))
		return refuse(
			p,
			"%s: %s was built from fat LTO objects (-ffat-lto-objects), and %s "
			"has no symbols of %s: it was linked with link-time optimisation, as "
			"gcc links such objects unless given -fno-lto, so its code is not the "
			"objects' code (or it was not built from them); link the baseline "
			"with -fno-lto",
			in->path, in->h->object, p->b->path, in->h->source);
	for (uint32_t i = 0; i < in->h->nfuncs; i++) {
		const struct hp_func *f = &in->h->funcs[i];
		const struct bsym *cand[MAX_CANDIDATES], *s;
		const char *scope = scope_of(in, f->bind);
		size_t n;
		uint32_t bad;

		if (f->status != HP_FUNC_CHANGED)
			continue;
		n = baseline_find(p->b, f->base_name, scope, cand, MAX_CANDIDATES);
		if (!n) {
			out = refuse(p,
				     "%s: %s%s%s is not in %s: the package is for another "
				     "baseline%s",
				     in->path, f->base_name, scope ? " of " : "",
				     scope ? scope : "", p->b->path, lto_hint(in));
			continue;
		}
		if (weak_overridden(f, cand, n < MAX_CANDIDATES ? n : MAX_CANDIDATES)) {
			out = refuse(
				p,
				"%s: %s is a weak definition in the object, but %s's %s is "
				"another object's strong definition, which overrode it at link "
				"time: the fixed function never runs in this baseline",
				in->path, f->base_name, p->b->path, f->base_name);
			continue;
		}
		s = prove(p, f, cand, n < MAX_CANDIDATES ? n : MAX_CANDIDATES, &bad);
		if (!s) {
			out = refuse_unproven(p, in, f, cand[0], n, bad);
			continue;
		}
		/* a hidden global the linker made local has no source file group */
		if (f->bind == HP_BIND_LOCAL)
			in->group = s->group;
		in->replaces[i] = s;
	}
	return out;
}

static int add_replaced(struct packer *p, const struct bsym *s, uint32_t code, const char *name)
{
	struct hp_manifest_func *f;
	const uint8_t *bytes = hp_image_bytes(&p->b->img, s->value - p->b->img.base, s->size);

	f = xrealloc(p->funcs, (p->nfuncs + 1) * sizeof(*f));
	if (!f)
		return -1;
	p->funcs = f;
	p->func_code = xrealloc(p->func_code, (p->nfuncs + 1) * sizeof(*p->func_code));
	if (!p->func_code || !bytes)
		return -1;
	f = &p->funcs[p->nfuncs];
	f->offset = s->value - p->b->img.base;
	f->size = (uint32_t)s->size;
	f->name = xstrdup(name);
	if (!f->name || hp_sha256(bytes, s->size, f->sha256) < 0)
		return -1;
	p->func_code[p->nfuncs++] = code;
	return 0;
}

enum outcome pack_find(struct packer *p)
{
	enum outcome out = OUTCOME_OK;

	for (size_t i = 0; i < p->nin && out != OUTCOME_TROUBLE; i++)
		out = outcome_worst(out, find_replaced(p, &p->in[i]));
	return out;
}

/* The replaced functions of an input with their placed code (after pack_place()). */
static int add_input_replaced(struct packer *p, const struct input *in)
{
	for (uint32_t i = 0; i < in->h->nfuncs; i++)
		if (in->replaces[i] &&
		    add_replaced(p, in->replaces[i], in->code_of[i], in->h->funcs[i].base_name) < 0)
			return -1;
	return 0;
}

/* A replaced function with its code block, and where it was added (ties keep that order). */
struct replaced {
	struct hp_manifest_func f;
	uint32_t code, order;
};

static int cmp_replaced(const void *a, const void *b)
{
	const struct replaced *x = a, *y = b;

	if (x->f.offset != y->f.offset)
		return x->f.offset < y->f.offset ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Order replaced functions by address, the manifest's order; no overlaps. */
static enum outcome order_replaced(struct packer *p)
{
	struct replaced *v = xcalloc(p->nfuncs + 1, sizeof(*v));
	enum outcome out = OUTCOME_OK;

	if (!v)
		return OUTCOME_TROUBLE;
	for (uint32_t i = 0; i < p->nfuncs; i++)
		v[i] = (struct replaced){.f = p->funcs[i], .code = p->func_code[i], .order = i};
	sort(v, p->nfuncs, sizeof(*v), cmp_replaced);
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		p->funcs[i] = v[i].f;
		p->func_code[i] = v[i].code;
	}
	free(v);
	for (uint32_t i = 1; i < p->nfuncs; i++)
		if (p->funcs[i].offset < p->funcs[i - 1].offset + p->funcs[i - 1].size)
			out = refuse(p, "%s is replaced twice (by more than one .hpd)",
				     p->funcs[i].name);
	p->pl.replaced = xcalloc(p->nfuncs + 1, sizeof(*p->pl.replaced));
	if (!p->pl.replaced)
		return OUTCOME_TROUBLE;
	if (p->nfuncs) /* func_code is NULL when nothing is replaced */
		memcpy(p->pl.replaced, p->func_code, p->nfuncs * sizeof(*p->func_code));
	p->pl.nreplaced = p->nfuncs;
	return out;
}

enum outcome pack_list_replaced(struct packer *p)
{
	for (size_t i = 0; i < p->nin; i++)
		if (add_input_replaced(p, &p->in[i]) < 0)
			return OUTCOME_TROUBLE;
	return order_replaced(p);
}
