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

/* Padding after a function this long at most is looked at (alignment is far less). */
#define MAX_PADDING 4096

/* Is code[0, len) only padding: whole nops and traps, which nothing runs? */
static bool only_padding(uint16_t machine, const uint8_t *code, size_t len)
{
	struct insn *v;
	size_t bad;
	long n = insn_decode_all(machine, code, len, &v, &bad);
	bool ok = n >= 0;

	for (long i = 0; i < n && ok; i++)
		ok = v[i].type == INSN_NOP || v[i].type == INSN_TRAP;
	free(v);
	return ok;
}

/*
 * The bytes from the start of baseline function s that the package
 * replaces (the MANIFEST size: hpapply checks their hash, writes the
 * redirect into them and restores them on revert): the function, or, when
 * it is shorter than the redirect jump after its landing pad (`lea
 * 1(%rdi), %eax; ret` is 4 bytes, the jump 5), the function and the part
 * of the fill after it that the jump needs, provided the fill up to the
 * next symbol or section end is only padding (nops, traps): no code runs
 * there, and nothing else starts there.  0 if the redirect does not fit.
 */
static uint64_t redirect_span(const struct packer *p, const struct bsym *s)
{
	uint64_t at = s->value - p->b->img.base, next, need;
	const uint8_t *bytes = hp_image_bytes(&p->b->img, at, s->size);

	if (!bytes)
		return 0;
	need = arch_landing_pad(bytes, s->size) + ARCH_JUMP_LEN;
	if (s->size >= need)
		return s->size;
	next = baseline_next_bound(p->b, s->value + s->size - 1);
	if (next < s->value + need || next - (s->value + s->size) > MAX_PADDING)
		return 0;
	bytes = hp_image_bytes(&p->b->img, at, next - s->value);
	if (!bytes || !only_padding(p->machine, bytes + s->size, next - s->value - s->size))
		return 0;
	return need;
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
	in->span = xcalloc(in->h->nfuncs + 1, sizeof(*in->span));
	if (!in->replaces || !in->span)
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
		in->span[i] = (uint32_t)redirect_span(p, s);
		if (!in->span[i]) {
			out = refuse(
				p,
				"%s: %s is %llu bytes in %s, too short for the redirect to its "
				"new code, and the bytes after it up to the next symbol are not "
				"padding the redirect could take",
				in->path, f->base_name, (unsigned long long)s->size, p->b->path);
			continue;
		}
		in->replaces[i] = s;
	}
	return out;
}

static int add_replaced(struct packer *p, const struct bsym *s, uint32_t span, uint32_t code,
			const char *name)
{
	struct hp_manifest_func *f;
	const uint8_t *bytes = hp_image_bytes(&p->b->img, s->value - p->b->img.base, span);

	f = xrealloc(p->funcs, (p->nfuncs + 1) * sizeof(*f));
	if (!f)
		return -1;
	p->funcs = f;
	p->func_code = xrealloc(p->func_code, (p->nfuncs + 1) * sizeof(*p->func_code));
	if (!p->func_code || !bytes)
		return -1;
	f = &p->funcs[p->nfuncs];
	f->offset = s->value - p->b->img.base;
	f->size = span;
	f->name = xstrdup(name);
	if (!f->name || hp_sha256(bytes, span, f->sha256) < 0)
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
		if (in->replaces[i] && add_replaced(p, in->replaces[i], in->span[i], in->code_of[i],
						    in->h->funcs[i].base_name) < 0)
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

/* The input whose function has payload code block `code`. */
static const struct input *owner(const struct packer *p, uint32_t code)
{
	for (size_t k = 0; k < p->nin; k++)
		for (uint32_t f = 0; f < p->in[k].h->nfuncs; f++)
			if (p->in[k].code_of[f] == code)
				return &p->in[k];
	return NULL; /* not reached: every replacement block is an input's */
}

/*
 * Replaced functions in address order (v[0, *n)), each once: a function
 * replaced again (the next at the same offset) by the same code is one
 * replacement (copy_of[] says which block the copy's is), by other code it
 * is refused naming both inputs; overlapping functions are refused.
 */
static enum outcome merge_replaced(struct packer *p, struct replaced *v, uint32_t *n,
				   uint32_t *copy_of)
{
	enum outcome out = OUTCOME_OK;
	uint32_t kept = 0;

	for (uint32_t i = 0; i < *n; i++) {
		struct replaced *k = kept ? &v[kept - 1] : NULL;

		if (k && k->f.offset == v[i].f.offset && k->f.size == v[i].f.size &&
		    same_replacement(p, k->code, v[i].code)) {
			copy_of[v[i].code] = k->code;
			free(v[i].f.name);
			continue;
		}
		if (k && k->f.offset == v[i].f.offset) {
			const struct input *a = owner(p, k->code), *b = owner(p, v[i].code);

			out = refuse(
				p,
				"%s is replaced by %s (%s) and by %s (%s) with different code: "
				"a function several objects share (a C++ inline function of a "
				"header) must be fixed the same way in each, from one header "
				"and the same flags",
				v[i].f.name, a->path, a->h->object, b->path, b->h->object);
		} else if (k && v[i].f.offset < k->f.offset + k->f.size) {
			out = refuse(p, "%s is replaced twice (by more than one .hpd)",
				     v[i].f.name);
		}
		v[kept++] = v[i];
	}
	*n = kept;
	return out;
}

/*
 * Order replaced functions by address, the manifest's order, each once;
 * no overlaps.
 */
static enum outcome order_replaced(struct packer *p)
{
	struct replaced *v = xcalloc(p->nfuncs + 1, sizeof(*v));
	uint32_t *copy_of = xcalloc(p->pl.ncode + 1, sizeof(*copy_of)), n = p->nfuncs;
	enum outcome out = OUTCOME_OK;
	bool copies = false;

	if (!v || !copy_of) {
		free(v);
		free(copy_of);
		return OUTCOME_TROUBLE;
	}
	for (uint32_t i = 0; i < p->pl.ncode; i++)
		copy_of[i] = i;
	for (uint32_t i = 0; i < p->nfuncs; i++)
		v[i] = (struct replaced){.f = p->funcs[i], .code = p->func_code[i], .order = i};
	sort(v, p->nfuncs, sizeof(*v), cmp_replaced);
	out = merge_replaced(p, v, &n, copy_of);
	p->nfuncs = n;
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		p->funcs[i] = v[i].f;
		p->func_code[i] = v[i].code;
	}
	free(v);
	for (uint32_t i = 0; i < p->pl.ncode; i++)
		copies = copies || copy_of[i] != i;
	if (copies && drop_copies(p, copy_of) < 0)
		out = OUTCOME_TROUBLE;
	free(copy_of);
	if (out == OUTCOME_TROUBLE)
		return out;
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
