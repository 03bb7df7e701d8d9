/*
 * Names: the globals the inputs define anew, by name and alias, and the
 * baseline symbol each .hpd symbol names (a file-local one by the input's
 * source file).
 */
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/mem.h"

/* By name, then in new_global's order of precedence: input, functions before data, index. */
static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->in != y->in)
		return x->in < y->in ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Per item of that kind, the aliases naming it, in the alias table's order. */
static int alias_lists(const struct hp_hpd *h, uint8_t kind, uint32_t nitems, uint32_t **at,
		       uint32_t **list)
{
	uint32_t *a = xcalloc((size_t)nitems + 2, sizeof(*a));
	uint32_t *l = xcalloc((size_t)h->naliases + 1, sizeof(*l));

	*at = a;
	*list = l;
	if (!a || !l)
		return -1;
	for (uint32_t i = 0; i < h->naliases; i++)
		if (h->aliases[i].kind == kind)
			a[h->aliases[i].index + 2]++;
	for (uint32_t i = 2; i < nitems + 2; i++)
		a[i] += a[i - 1];
	for (uint32_t i = 0; i < h->naliases; i++)
		if (h->aliases[i].kind == kind)
			l[a[h->aliases[i].index + 1]++] = i;
	return 0;
}

static void add_named(struct packer *p, const char *name, uint32_t in, uint32_t kind,
		      uint32_t index)
{
	p->named[p->nnamed++] = (struct named){name, in, kind, index};
}

/*
 * Once, after loading: every input's per-item alias lists and (empty)
 * symbol lookups, and one table by name of the globals the inputs define
 * anew (new global functions, and global data), each under its name and
 * its aliases.
 */
int pack_index_names(struct packer *p)
{
	size_t max = 0;

	for (size_t i = 0; i < p->nin; i++) {
		struct input *in = &p->in[i];
		const struct hp_hpd *h = in->h;

		in->lookup = xcalloc((size_t)h->nsyms + 1, sizeof(*in->lookup));
		if (!in->lookup ||
		    alias_lists(h, HP_TGT_FUNC, h->nfuncs, &in->falias_at, &in->falias) < 0 ||
		    alias_lists(h, HP_TGT_DATA, h->ndata, &in->dalias_at, &in->dalias) < 0)
			return -1;
		max += (size_t)h->nfuncs + h->ndata + h->naliases;
	}
	p->named = xcalloc(max + 1, sizeof(*p->named));
	if (!p->named)
		return -1;
	for (uint32_t i = 0; i < p->nin; i++) {
		const struct input *in = &p->in[i];
		const struct hp_hpd *h = in->h;

		for (uint32_t f = 0; f < h->nfuncs; f++) {
			if (h->funcs[f].status != HP_FUNC_NEW || h->funcs[f].bind == HP_BIND_LOCAL)
				continue;
			add_named(p, h->funcs[f].name, i, HP_TGT_FUNC, f);
			for (uint32_t k = in->falias_at[f]; k < in->falias_at[f + 1]; k++)
				add_named(p, h->aliases[in->falias[k]].name, i, HP_TGT_FUNC, f);
		}
		for (uint32_t d = 0; d < h->ndata; d++) {
			if (h->data[d].bind == HP_BIND_LOCAL)
				continue;
			add_named(p, h->data[d].name, i, HP_TGT_DATA, d);
			for (uint32_t k = in->dalias_at[d]; k < in->dalias_at[d + 1]; k++)
				add_named(p, h->aliases[in->dalias[k]].name, i, HP_TGT_DATA, d);
		}
	}
	sort(p->named, p->nnamed, sizeof(*p->named), cmp_named);
	return 0;
}

const struct named *find_named(const struct packer *p, const char *name)
{
	size_t lo = 0, hi = p->nnamed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(p->named[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nnamed && !strcmp(p->named[lo].name, name) ? &p->named[lo] : NULL;
}

const char *nth_name(const struct hp_hpd *h, const char *name, const uint32_t *at,
		     const uint32_t *list, uint32_t item, uint32_t k)
{
	if (k == 0)
		return name;
	return at[item] + k - 1 < at[item + 1] ? h->aliases[list[at[item] + k - 1]].name : NULL;
}

const char *scope_of(const struct input *in, uint8_t bind)
{
	return bind == HP_BIND_LOCAL ? in->scope : NULL;
}

/* Pick the candidate of the input's own source file among same-named files. */
static const struct bsym *pick_local(const struct input *in, const struct bsym **cand, size_t n)
{
	const struct bsym *hit = NULL;

	if (n == 1)
		return cand[0];
	for (size_t i = 0; i < n && i < MAX_CANDIDATES; i++) {
		if (in->group && cand[i]->group == in->group) {
			if (hit)
				return NULL;
			hit = cand[i];
		}
	}
	return hit;
}

const struct bsym *baseline_sym(const struct packer *p, const struct input *in,
				const struct hp_sym *hs, size_t *n)
{
	const struct bsym *cand[MAX_CANDIDATES];
	const char *scope = scope_of(in, hs->bind);
	struct sym_lookup *l = &in->lookup[hs - in->h->syms];

	if (!l->done) {
		l->n = baseline_find(p->b, hs->name, scope, cand, MAX_CANDIDATES);
		l->s = !l->n ? NULL : scope ? pick_local(in, cand, l->n) : cand[0];
		l->done = true;
	}
	*n = l->n;
	return l->s;
}
