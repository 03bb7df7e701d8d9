/*
 * Twin matching: which function, data object and section of the fixed
 * object is which of the baseline.
 *
 * A funnel, narrowest rule first:
 *   1. the same name (one source file per object, so file-local names
 *      are already scoped);
 *   2. the same name up to compiler numbering: clones ("parse.isra.0" vs
 *      "parse.isra.1", ".constprop", ".part", ".cold", ".lto_priv") and
 *      function-scope statics ("counter.0" vs "counter.1");
 *   3. when several candidates share a key: identical bytes for functions,
 *      the twins of the functions that use them for data;
 *   4. otherwise, order of appearance.
 */
#include <stdlib.h>
#include <string.h>

#include "hpdiff/diff.h"
#include "common/cli.h"
#include "common/mem.h"

static void match_sections(struct diff *d)
{
	struct elf *o = &d->old.elf, *n = &d->new.elf;

	/* Sections of the same name usually keep their order: try the same index first. */
	for_each_sec(o, s)
	{
		if (!s->index)
			continue;
		if (s->index < n->nsecs && !n->secs[s->index].twin &&
		    !strcmp(n->secs[s->index].name, s->name)) {
			s->twin = &n->secs[s->index];
			s->twin->twin = s;
		}
	}
	for_each_sec(o, s)
	{
		if (!s->index || s->twin)
			continue;
		for_each_sec(n, t)
		{
			if (t->index && !t->twin && t->type == s->type &&
			    !strcmp(t->name, s->name)) {
				s->twin = t;
				t->twin = s;
				break;
			}
		}
	}
}

static void twin_funcs(struct func *a, struct func *b)
{
	a->twin = b;
	b->twin = a;
	a->sym->twin = b->sym;
	b->sym->twin = a->sym;
}

static void twin_data(struct dobj *a, struct dobj *b)
{
	a->twin = b;
	b->twin = a;
	a->sym->twin = b->sym;
	b->sym->twin = a->sym;
}

/* Candidates of one side for key matching: unmatched items, sorted by key. */
struct cand {
	const char *key;
	size_t order;
	void *item;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool same_bytes(const struct func *a, const struct func *b)
{
	return a->size == b->size && !memcmp(a->code, b->code, a->size);
}

/* Does some user of old data `a` have a twin among the users of new data `b`? */
static bool shared_user(const struct dobj *a, const struct dobj *b)
{
	for (size_t i = 0; i < a->nusers; i++)
		for (size_t j = 0; j < b->nusers; j++)
			if (a->users[i]->twin == b->users[j])
				return true;
	return false;
}

/*
 * Data of one name pairs by name, unless the name carries a number the
 * compiler chose: function-scope statics are "counter.0", "counter.1" in
 * the order the source defines them, so "counter.0" of one function must
 * not pair with another's.  Such a name pairs only if a function using
 * one is the twin of a function using the other, or if either has no user
 * to tell.
 */
static bool may_pair_by_name(const struct dobj *x, const struct dobj *y)
{
	return strcmp(x->key, x->sym->name) == 0 || x->nusers == 0 || y->nusers == 0 ||
	       shared_user(x, y);
}

static bool is_matched(void *item, bool funcs)
{
	return funcs ? ((struct func *)item)->twin != NULL : ((struct dobj *)item)->twin != NULL;
}

/*
 * Which of several candidates sharing a key are one item (step 3): a
 * function with identical bytes, data used by twinned functions.
 */
static bool similar(void *a, void *b, bool funcs)
{
	return funcs ? same_bytes(a, b) : shared_user(a, b);
}

static void pair(void *a, void *b, bool funcs)
{
	if (funcs)
		twin_funcs(a, b);
	else
		twin_data(a, b);
}

/* Match one group of old and new candidates sharing a key. */
static void match_group(struct cand *o, size_t no, struct cand *n, size_t nn, bool funcs)
{
	if (no == 1 && nn == 1) {
		pair(o[0].item, n[0].item, funcs);
		return;
	}
	for (size_t i = 0; i < no; i++)
		for (size_t j = 0; j < nn; j++)
			if (!is_matched(n[j].item, funcs) && !is_matched(o[i].item, funcs) &&
			    similar(o[i].item, n[j].item, funcs))
				pair(o[i].item, n[j].item, funcs);
	for (size_t i = 0, j = 0; i < no; i++) {
		if (is_matched(o[i].item, funcs))
			continue;
		while (j < nn && is_matched(n[j].item, funcs))
			j++;
		if (j == nn)
			break;
		pair(o[i].item, n[j].item, funcs);
	}
}

static int match_by_key(struct cand *o, size_t no, struct cand *n, size_t nn, bool funcs)
{
	size_t i = 0, j = 0;

	sort(o, no, sizeof(*o), cmp_cand);
	sort(n, nn, sizeof(*n), cmp_cand);
	while (i < no && j < nn) {
		int c = strcmp(o[i].key, n[j].key);
		size_t ie = i, je = j;

		if (c < 0) {
			i++;
			continue;
		}
		if (c > 0) {
			j++;
			continue;
		}
		while (ie < no && !strcmp(o[ie].key, o[i].key))
			ie++;
		while (je < nn && !strcmp(n[je].key, n[j].key))
			je++;
		match_group(o + i, ie - i, n + j, je - j, funcs);
		i = ie;
		j = je;
	}
	return 0;
}

static int match_funcs(struct diff *d)
{
	struct object *o = &d->old, *n = &d->new;
	struct cand *co, *cn;
	size_t no = 0, nn = 0;

	for_each_func(o, f)
	{
		struct symbol *s = find_symbol_by_name(&n->elf, f->sym->name);
		struct func *g = s ? func_of(s) : NULL;

		if (g && !g->twin)
			twin_funcs(f, g);
	}
	co = xcalloc(o->nfuncs, sizeof(*co));
	cn = xcalloc(n->nfuncs, sizeof(*cn));
	if (!co || !cn) {
		free(co);
		free(cn);
		return -1;
	}
	for_each_func(o, f) if (!f->twin) co[no++] =
		(struct cand){f->key, (size_t)(f - o->funcs), f};
	for_each_func(n, f) if (!f->twin) cn[nn++] =
		(struct cand){f->key, (size_t)(f - n->funcs), f};
	match_by_key(co, no, cn, nn, true);
	free(co);
	free(cn);
	return 0;
}

static int match_data(struct diff *d)
{
	struct object *o = &d->old, *n = &d->new;
	struct cand *co, *cn;
	size_t no = 0, nn = 0;

	for_each_data(o, x)
	{
		struct symbol *s = find_symbol_by_name(&n->elf, x->sym->name);
		struct dobj *y = s ? dobj_of(s) : NULL;

		if (y && !y->twin && may_pair_by_name(x, y))
			twin_data(x, y);
	}
	co = xcalloc(o->ndata, sizeof(*co));
	cn = xcalloc(n->ndata, sizeof(*cn));
	if (!co || !cn) {
		free(co);
		free(cn);
		return -1;
	}
	for_each_data(o, x) if (!x->twin) co[no++] =
		(struct cand){x->key, (size_t)(x - o->data), x};
	for_each_data(n, x) if (!x->twin) cn[nn++] =
		(struct cand){x->key, (size_t)(x - n->data), x};
	match_by_key(co, no, cn, nn, false);
	free(co);
	free(cn);
	return 0;
}

int correlate(struct diff *d)
{
	match_sections(d);
	/* Functions first: data disambiguation looks at the twins of users. */
	if (match_funcs(d) < 0 || match_data(d) < 0)
		return -1;
	return 0;
}
