/*
 * Twin matching: which function, data object and section of the fixed
 * object is which of the baseline.
 *
 * A funnel, narrowest rule first:
 *   1. the same name (one source file per object, so file-local names
 *      are already scoped), for names that say what a thing is;
 *   2. closures (C++ lambdas, unnamed local types), whose numbers say only
 *      where they are: by the code of their functions, then by place;
 *   3. function-scope statics, numbered by place or by a file-wide
 *      counter ("n.0", "count_req.n.1", "_ZZ9count_reqiE1n_0"): by the
 *      instructions that use them, then by place or by the one function
 *      using them;
 *   4. the same name up to compiler numbering: clones ("parse.isra.0" vs
 *      "parse.isra.1", ".constprop", ".part", ".cold", ".lto_priv"), with
 *      identical bytes, then order, deciding between several.
 * Where 2 or 3 cannot tell which is which, the object pair is not
 * hotpatchable (a finding says why): a guess would bind running state --
 * a std::function holding a lambda, a counter -- to another's code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpdiff/cxxname.h"
#include "hpdiff/diff.h"
#include "common/cli.h"
#include "common/mem.h"

/* What correlation knows of one function's or data item's name. */
struct name_info {
	struct cxx_name cx;
	char *key;	/* every compiler number gone: clone numbers and C++ ones */
	bool numbered;	/* its name says where it is, not what it is (no exact-name pairing) */
	uint32_t place; /* its place among the items of its key, when numbered by place */
	bool by_place;	/* place is meaningful (C++ discriminators) */
};

struct corr {
	struct diff *d;
	struct name_info *funcs[2], *data[2]; /* index-aligned with each side's funcs, data */
};

static struct object *side_obj(struct corr *c, int side)
{
	return side ? &c->d->new : &c->d->old;
}

static struct name_info *finfo(struct corr *c, const struct func *f)
{
	int side = f->obj == &c->d->new;

	return &c->funcs[side][f - f->obj->funcs];
}

static struct name_info *dinfo(struct corr *c, const struct dobj *x)
{
	int side = x->obj == &c->d->new;

	return &c->data[side][x - x->obj->data];
}

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

/* ---- names ------------------------------------------------------------------------ */

/*
 * A C compiler's name for a function-scope static: gcc "counter.0" (one
 * counter over the file), clang "idgen_next.counter", "count_req.n.1" (the
 * function, the variable, its place among same-named ones).  No C
 * identifier has a dot, so a file-local data symbol with one is such a
 * name, and the number in it says nothing about which variable it is.
 */
static bool is_c_static_name(const struct dobj *x)
{
	return is_local_sym(x->sym) && strchr(x->sym->name, '.') != NULL &&
	       strncmp(x->sym->name, "_Z", 2) != 0;
}

static int fill_info(struct name_info *ni, const struct symbol *s, bool c_static)
{
	if (cxx_scan(s->name, &ni->cx) < 0)
		return -1;
	ni->key = clone_key(ni->cx.key);
	if (!ni->key)
		return -1;
	ni->numbered = ni->cx.numbered || c_static;
	ni->by_place = ni->cx.local;
	ni->place = ni->cx.disc;
	return 0;
}

static int load_names(struct corr *c)
{
	for (int side = 0; side < 2; side++) {
		struct object *o = side_obj(c, side);

		c->funcs[side] = xcalloc(o->nfuncs + 1, sizeof(struct name_info));
		c->data[side] = xcalloc(o->ndata + 1, sizeof(struct name_info));
		if (!c->funcs[side] || !c->data[side])
			return -1;
		for_each_func(o, f) if (fill_info(finfo(c, f), f->sym, false) < 0) return -1;
		for_each_data(o, x) if (fill_info(dinfo(c, x), x->sym, is_c_static_name(x)) <
					0) return -1;
	}
	return 0;
}

static void free_names(struct corr *c)
{
	for (int side = 0; side < 2; side++) {
		struct object *o = side_obj(c, side);

		for (size_t i = 0; c->funcs[side] && i < o->nfuncs; i++) {
			cxx_name_free(&c->funcs[side][i].cx);
			free(c->funcs[side][i].key);
		}
		for (size_t i = 0; c->data[side] && i < o->ndata; i++) {
			cxx_name_free(&c->data[side][i].cx);
			free(c->data[side][i].key);
		}
		free(c->funcs[side]);
		free(c->data[side]);
	}
}

/* ---- content ---------------------------------------------------------------------- */

/*
 * Loose identity of a reference's target, before twins are known: the
 * target's key (its name without compiler numbers), its content for a
 * literal.  Folded into *h (FNV-1a).
 */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

static uint64_t target_hash(struct corr *c, const struct target *t, uint64_t h)
{
	h = fnv(h, &t->kind, sizeof(t->kind));
	switch (t->kind) {
	case T_FUNC:
		h = fnv_str(h, finfo(c, t->func)->key);
		break;
	case T_DATA:
		h = fnv_str(h, dinfo(c, t->data)->key);
		break;
	case T_UNDEF:
		h = fnv_str(h, t->sym->name);
		break;
	case T_PIECE:
		h = fnv(h, &t->piece->size, sizeof(t->piece->size));
		if (t->piece->sec->data)
			h = fnv(h, t->piece->sec->data + t->piece->off, t->piece->size);
		break;
	case T_SECTION:
		h = fnv_str(h, t->sec->name);
		break;
	default:
		break;
	}
	return t->kind == T_SELF ? h : fnv(h, &t->off, sizeof(t->off));
}

/* The refs of f inside [off, off + len), from *k on (refs are sorted). */
static size_t refs_at(const struct func *f, size_t *k, uint64_t off, uint64_t len)
{
	size_t n = 0;

	while (*k < f->nrefs && f->refs[*k].off < off)
		(*k)++;
	while (*k + n < f->nrefs && f->refs[*k + n].off < off + len)
		n++;
	return n;
}

/*
 * Instruction i of f as a hash: its bytes outside reference fields, and
 * each reference by field and loose target; `self` (may be NULL) is
 * hashed as "the variable whose use this is", other items of `group` (a
 * key) as "another of its kind", so that a use site does not depend on
 * the compiler's numbering of the very variables being told apart.
 */
static uint64_t insn_hash(struct corr *c, const struct func *f, long i, const struct dobj *self,
			  const char *group, uint64_t h)
{
	const struct insn *in = &f->insns[i];
	size_t k = 0, n = refs_at(f, &k, in->off, in->len);
	uint8_t bytes[16];

	memcpy(bytes, f->code + in->off, in->len < sizeof(bytes) ? in->len : sizeof(bytes));
	for (size_t r = k; r < k + n; r++) {
		const struct ref *ref = &f->refs[r];
		uint32_t type = arch_reloc_canonical(f->obj->elf.machine, ref->type);

		for (uint32_t b = ref->off - in->off; b < ref->off - in->off + ref->size; b++)
			if (b < sizeof(bytes))
				bytes[b] = 0;
		h = fnv(h, &type, sizeof(type));
		h = fnv(h, &ref->adj, sizeof(ref->adj));
		if (group && ref->t.kind == T_DATA && !strcmp(dinfo(c, ref->t.data)->key, group))
			h = fnv_str(h, ref->t.data == self ? "<this variable>" : "<another>");
		else
			h = target_hash(c, &ref->t, h);
	}
	if (is_direct_branch(in) && in->rel_size) /* where it jumps moves with the code */
		for (uint32_t b = in->rel_off; b < (uint32_t)in->rel_off + in->rel_size; b++)
			if (b < sizeof(bytes))
				bytes[b] = 0;
	h = fnv(h, &in->len, sizeof(in->len));
	return fnv(h, bytes, in->len < sizeof(bytes) ? in->len : sizeof(bytes));
}

/* A hash of f's key and of what same_content() compares. */
static uint64_t content_hash(struct corr *c, const struct func *f)
{
	uint64_t h = fnv_str(0xcbf29ce484222325ull, finfo(c, f)->key);

	h = fnv(h, &f->size, sizeof(f->size));
	if (f->ninsns < 0)
		return fnv(h, f->code, f->size);
	for (long i = 0; i < f->ninsns; i++)
		h = insn_hash(c, f, i, NULL, NULL, h);
	return h;
}

/* Same code up to the numbering of what it refers to (no twins needed). */
static bool same_content(struct corr *c, const struct func *a, const struct func *b)
{
	if (a->size != b->size || a->ninsns != b->ninsns || a->nrefs != b->nrefs)
		return false;
	if (a->ninsns < 0)
		return !memcmp(a->code, b->code, a->size);
	for (long i = 0; i < a->ninsns; i++)
		if (a->insns[i].len != b->insns[i].len ||
		    insn_hash(c, a, i, NULL, NULL, 0) != insn_hash(c, b, i, NULL, NULL, 0))
			return false;
	return true;
}

/* ---- alignment by place -------------------------------------------------------------- */

/*
 * Items numbered by place (the lambdas of one function, the statics `n`
 * of one function), old and new in their order, and the pairs known to be
 * the same thing (anchors, in increasing order on both sides).  Between
 * two anchors, one old and one new item are the same one changed in
 * place; none on a side means added or removed; anything else cannot be
 * told apart.  Returns the number of such gaps (0: all decided), and pairs
 * the rest through pair().
 */
struct alignment {
	size_t no, nn;
	size_t *ai, *aj; /* anchors */
	size_t na;
	void (*pair)(void *ctx, size_t i, size_t j);
	void *ctx;
};

static size_t align_gaps(const struct alignment *al)
{
	size_t ambiguous = 0, pi = 0, pj = 0;

	for (size_t a = 0; a <= al->na; a++) {
		size_t ni = a < al->na ? al->ai[a] : al->no, nj = a < al->na ? al->aj[a] : al->nn;
		size_t k = ni - pi, m = nj - pj;

		if (k == 1 && m == 1)
			al->pair(al->ctx, pi, pj);
		else if (k && m)
			ambiguous++;
		pi = ni + 1;
		pj = nj + 1;
	}
	return ambiguous;
}

/* Anchors are in order on both sides (votes may cross when code moved). */
static bool monotone(const size_t *ai, const size_t *aj, size_t na)
{
	for (size_t a = 1; a < na; a++)
		if (ai[a] <= ai[a - 1] || aj[a] <= aj[a - 1])
			return false;
	return true;
}

/* ---- closures ------------------------------------------------------------------------- */

/* One closure of one side: its id and the items whose names mention it. */
struct closure {
	const struct cxx_closure *cx; /* of its first item */
	struct func **funcs;
	size_t nfuncs;
	uint64_t sig; /* its functions' keys and contents, in any order: equal if same_closure() */
	struct closure *twin;
};

struct closure_set {
	struct closure *v;
	size_t n;
};

struct mention {
	const struct cxx_closure *cx;
	struct func *f; /* NULL for data */
};

static int cmp_mention(const void *a, const void *b)
{
	const struct mention *x = a, *y = b;
	int r = strcmp(x->cx->id, y->cx->id);

	if (r)
		return r;
	return (x->f != NULL) - (y->f != NULL);
}

static int collect_closures(struct corr *c, int side, struct closure_set *cs)
{
	struct object *o = side_obj(c, side);
	struct mention *m = NULL;
	size_t nm = 0, cap = 0;
	int ret = -1;

	memset(cs, 0, sizeof(*cs));
	for (int kind = 0; kind < 2; kind++) {
		size_t n = kind ? o->ndata : o->nfuncs;

		for (size_t i = 0; i < n; i++) {
			struct name_info *ni = kind ? &c->data[side][i] : &c->funcs[side][i];

			for (size_t k = 0; k < ni->cx.nclosures; k++) {
				if (grow_array(&m, &cap, nm, sizeof(*m), 64) < 0)
					goto out;
				m[nm++] = (struct mention){&ni->cx.closures[k],
							   kind ? NULL : &o->funcs[i]};
			}
		}
	}
	sort(m, nm, sizeof(*m), cmp_mention);
	cs->v = xcalloc(nm + 1, sizeof(*cs->v));
	if (!cs->v)
		goto out;
	for (size_t i = 0, end; i < nm; i = end) {
		struct closure *cl = &cs->v[cs->n++];

		cl->cx = m[i].cx;
		for (end = i; end < nm && !strcmp(m[end].cx->id, m[i].cx->id); end++)
			;
		cl->funcs = xcalloc(end - i + 1, sizeof(*cl->funcs));
		if (!cl->funcs)
			goto out;
		for (size_t k = i; k < end; k++) {
			if (m[k].f && (!cl->nfuncs || cl->funcs[cl->nfuncs - 1] != m[k].f))
				cl->funcs[cl->nfuncs++] = m[k].f;
		}
		for (size_t k = 0; k < cl->nfuncs; k++)
			cl->sig += content_hash(c, cl->funcs[k]);
	}
	ret = 0;
out:
	free(m);
	return ret;
}

static void free_closures(struct closure_set *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i].funcs);
	free(cs->v);
}

/*
 * Two closures are the same lambda if each function of one has a function
 * of the same kind (key) and the same content in the other: an invoker and
 * a manager for a std::function, an operator() at -O0.
 */
static bool same_closure(struct corr *c, const struct closure *a, const struct closure *b)
{
	bool used[64] = {false};

	if (a->nfuncs != b->nfuncs || a->nfuncs > 64 || !a->nfuncs || a->sig != b->sig)
		return false;
	for (size_t i = 0; i < a->nfuncs; i++) {
		size_t j;

		for (j = 0; j < b->nfuncs; j++)
			if (!used[j] &&
			    !strcmp(finfo(c, a->funcs[i])->key, finfo(c, b->funcs[j])->key) &&
			    same_content(c, a->funcs[i], b->funcs[j]))
				break;
		if (j == b->nfuncs)
			return false;
		used[j] = true;
	}
	return true;
}

static int cmp_closure(const void *a, const void *b)
{
	const struct closure *x = *(struct closure *const *)a, *y = *(struct closure *const *)b;
	int r = strcmp(x->cx->cls, y->cx->cls);

	return r ? r : cxx_closure_order(x->cx, y->cx);
}

struct group_ctx {
	struct closure **o, **n;
};

static void pair_closures(void *ctx, size_t i, size_t j)
{
	struct group_ctx *g = ctx;

	g->o[i]->twin = g->n[j];
	g->n[j]->twin = g->o[i];
}

/*
 * The closures of one scope and kind, o[0, no) and n[0, nn) in order:
 * anchors where the content is the same (a longest common subsequence,
 * so that two identical lambdas pair in order), then align_gaps().
 */
static int match_closure_group(struct corr *c, struct closure **o, size_t no, struct closure **n,
			       size_t nn)
{
	struct group_ctx g = {o, n};
	size_t *len = NULL, *ai = NULL, *aj = NULL, na = 0, ambiguous;
	int ret = -1;

	if (no > 512 || nn > 512) { /* far more lambdas in one function than code has */
		ambiguous = 1;
		goto refuse;
	}
	len = xcalloc((no + 1) * (nn + 1), sizeof(*len));
	ai = xcalloc(no + nn + 1, sizeof(*ai));
	aj = xcalloc(no + nn + 1, sizeof(*aj));
	if (!len || !ai || !aj)
		goto out;
#define L(i, j) len[(i) * (nn + 1) + (j)]
	for (size_t i = no; i-- > 0;)
		for (size_t j = nn; j-- > 0;)
			L(i, j) = same_closure(c, o[i], n[j]) ? L(i + 1, j + 1) + 1
				  : L(i + 1, j) > L(i, j + 1) ? L(i + 1, j)
							      : L(i, j + 1);
	for (size_t i = 0, j = 0; i < no && j < nn;) {
		if (L(i, j) == L(i + 1, j + 1) + 1 && same_closure(c, o[i], n[j])) {
			ai[na] = i++;
			aj[na++] = j++;
		} else if (L(i + 1, j) >= L(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef L
	for (size_t a = 0; a < na; a++)
		pair_closures(&g, ai[a], aj[a]);
	ambiguous = align_gaps(&(struct alignment){no, nn, ai, aj, na, pair_closures, &g});
refuse:
	if (ambiguous) {
		char *scope = cxx_closure_scope(o[0]->cx);
		char *why = xasprintf(
			"lambdas renumbered: %zu in the baseline, %zu in the fix, and which is "
			"which cannot be told from their code (lambdas were added or removed "
			"next to lambdas whose code changed); a closure the running process "
			"holds (a std::function) would run another lambda's code",
			no, nn);

		if (!scope || diff_add_finding(c->d, scope, true, why) < 0) {
			free(scope);
			goto out;
		}
		free(scope);
		/* none of them is paired: each old one removed, each new one new */
		for (size_t i = 0; i < no; i++)
			o[i]->twin = NULL;
		for (size_t j = 0; j < nn; j++)
			n[j]->twin = NULL;
	}
	ret = 0;
out:
	free(len);
	free(ai);
	free(aj);
	return ret;
}

/* Closures of both sides grouped by scope and kind (cls), each group matched. */
static int match_closure_groups(struct corr *c, struct closure_set *os, struct closure_set *ns)
{
	struct closure **o = xcalloc(os->n + 1, sizeof(*o)), **n = xcalloc(ns->n + 1, sizeof(*n));
	size_t i = 0, j = 0;
	int ret = -1;

	if (!o || !n)
		goto out;
	for (size_t k = 0; k < os->n; k++)
		o[k] = &os->v[k];
	for (size_t k = 0; k < ns->n; k++)
		n[k] = &ns->v[k];
	sort(o, os->n, sizeof(*o), cmp_closure);
	sort(n, ns->n, sizeof(*n), cmp_closure);
	while (i < os->n || j < ns->n) {
		const char *cls =
			i < os->n && (j == ns->n || strcmp(o[i]->cx->cls, n[j]->cx->cls) <= 0)
				? o[i]->cx->cls
				: n[j]->cx->cls;
		size_t ie = i, je = j;

		while (ie < os->n && !strcmp(o[ie]->cx->cls, cls))
			ie++;
		while (je < ns->n && !strcmp(n[je]->cx->cls, cls))
			je++;
		if (ie > i && je > j && match_closure_group(c, o + i, ie - i, n + j, je - j) < 0)
			goto out;
		i = ie;
		j = je;
	}
	ret = 0;
out:
	free(o);
	free(n);
	return ret;
}

/* The closure of set cs with this id, or NULL (ids are sorted). */
static struct closure *find_closure(struct closure_set *cs, const char *id)
{
	size_t lo = 0, hi = cs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(cs->v[mid].cx->id, id);

		if (!r)
			return &cs->v[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * An item naming closures pairs with the item of the same key whose
 * closures are the twins of its own, in order.  *sig gets that signature
 * for an old item (through the twins) or a new one (as it is); NULL if an
 * old closure has no twin.
 */
static char *closure_signature(struct name_info *ni, struct closure_set *cs, bool through_twins)
{
	size_t len = strlen(ni->key) + 1;
	char *s;

	for (size_t k = 0; k < ni->cx.nclosures; k++) {
		struct closure *cl = find_closure(cs, ni->cx.closures[k].id);

		if (through_twins && (!cl || !cl->twin))
			return NULL;
		len += strlen(through_twins ? cl->twin->cx->id : ni->cx.closures[k].id) + 1;
	}
	s = xmalloc(len);
	if (!s)
		return NULL;
	strcpy(s, ni->key);
	for (size_t k = 0; k < ni->cx.nclosures; k++) {
		struct closure *cl = find_closure(cs, ni->cx.closures[k].id);

		strcat(s, "\n");
		strcat(s, through_twins ? cl->twin->cx->id : ni->cx.closures[k].id);
	}
	return s;
}

struct sig {
	char *s;
	size_t index;
};

static int cmp_sig(const void *a, const void *b)
{
	return strcmp(((const struct sig *)a)->s, ((const struct sig *)b)->s);
}

/* Pair the items (funcs or data) that name closures, by closure_signature(). */
static int pair_closure_items(struct corr *c, struct closure_set *os, struct closure_set *ns,
			      bool funcs)
{
	size_t nn = funcs ? c->d->new.nfuncs : c->d->new.ndata;
	size_t no = funcs ? c->d->old.nfuncs : c->d->old.ndata;
	struct name_info *oi = funcs ? c->funcs[0] : c->data[0];
	struct name_info *ni = funcs ? c->funcs[1] : c->data[1];
	struct sig *v = xcalloc(nn + 1, sizeof(*v));
	size_t n = 0;
	int ret = -1;

	if (!v)
		return -1;
	for (size_t j = 0; j < nn; j++) {
		if (!ni[j].cx.nclosures)
			continue;
		v[n].s = closure_signature(&ni[j], ns, false);
		v[n++].index = j;
		if (!v[n - 1].s)
			goto out;
	}
	sort(v, n, sizeof(*v), cmp_sig);
	for (size_t i = 0; i < no; i++) {
		struct sig key, *hit;

		if (!oi[i].cx.nclosures || !(key.s = closure_signature(&oi[i], os, true)))
			continue;
		hit = n ? bsearch(&key, v, n, sizeof(*v), cmp_sig) : NULL;
		free(key.s);
		if (!hit)
			continue;
		if (funcs && !c->d->new.funcs[hit->index].twin)
			twin_funcs(&c->d->old.funcs[i], &c->d->new.funcs[hit->index]);
		else if (!funcs && !c->d->new.data[hit->index].twin)
			twin_data(&c->d->old.data[i], &c->d->new.data[hit->index]);
	}
	ret = 0;
out:
	for (size_t k = 0; k < n; k++)
		free(v[k].s);
	free(v);
	return ret;
}

static int match_closures(struct corr *c)
{
	struct closure_set os, ns;
	int ret = -1;

	if (collect_closures(c, 0, &os) < 0)
		return -1;
	if (collect_closures(c, 1, &ns) < 0) {
		free_closures(&os);
		return -1;
	}
	if (match_closure_groups(c, &os, &ns) == 0 && pair_closure_items(c, &os, &ns, true) == 0 &&
	    pair_closure_items(c, &os, &ns, false) == 0)
		ret = 0;
	free_closures(&os);
	free_closures(&ns);
	return ret;
}

/* ---- function-scope statics ---------------------------------------------------------- */

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
 * A use of a static: a few instructions next to one that refers to it,
 * with the statics of the group hashed as "this one" or "another"
 * (insn_hash()), in a function known by its new twin.  Each use gives
 * three sites -- the instruction with the two after it, with the two
 * before it, and with one on each side -- because a use often sits at the
 * edge of a block whose neighbours the fix moved ("mov n(%rip),%eax; add
 * $1,%eax; mov %eax,n(%rip)" after a new block): one of them still finds
 * its twin.
 */
struct site {
	const struct func *where; /* the fixed object's function */
	uint64_t hash;
	size_t member; /* index in the group's old or new list */
	int side;
};

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->where != y->where)
		return x->where < y->where ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->side != y->side)
		return x->side - y->side;
	return x->member < y->member ? -1 : x->member > y->member;
}

#define SITE_SPAN 2 /* instructions on either side of a use */

static int add_sites(struct corr *c, struct dobj *x, size_t member, int side, const char *group,
		     struct site **v, size_t *n, size_t *cap)
{
	static const long from[] = {0, -SITE_SPAN, -1}, to[] = {SITE_SPAN, 0, 1};

	for (size_t u = 0; u < x->nusers; u++) {
		const struct func *f = x->users[u];
		const struct func *where = side ? f : f->twin;

		if (!where || f->ninsns <= 0)
			continue;
		for_each_ref(f, r)
		{
			long i = r->t.kind == T_DATA && r->t.data == x ? func_insn_at(f, r->off)
								       : -1;

			for (size_t w = 0; i >= 0 && w < ARRAY_SIZE(from); w++) {
				uint64_t h = fnv(0xcbf29ce484222325ull, &w, sizeof(w));

				for (long k = i + from[w]; k <= i + to[w]; k++)
					h = k >= 0 && k < f->ninsns
						    ? insn_hash(c, f, k, x, group, h)
						    : fnv(h, "|", 1);
				if (grow_array(v, cap, *n, sizeof(**v), 64) < 0)
					return -1;
				(*v)[(*n)++] = (struct site){where, h, member, side};
			}
		}
	}
	return 0;
}

/*
 * The same value: size, kind and initial bytes, pointers by loose target.
 * Two statics of different values are not one unchanged variable, so a
 * use site that looks alike cannot say they are.
 */
static bool same_value(struct corr *c, const struct dobj *a, const struct dobj *b)
{
	if (a->size != b->size || (a->sec == NULL) != (b->sec == NULL) ||
	    a->sym->type != b->sym->type || a->nrefs != b->nrefs)
		return false;
	if (!a->sec)
		return true;
	if (is_writable_sec(a->sec) != is_writable_sec(b->sec) ||
	    (a->sec->data == NULL) != (b->sec->data == NULL))
		return false;
	if (!a->sec->data)
		return true;
	for (size_t k = 0; k < a->nrefs; k++) {
		const struct ref *x = &a->refs[k], *y = &b->refs[k];

		if (x->off != y->off || x->size != y->size || x->adj != y->adj ||
		    target_hash(c, &x->t, 0) != target_hash(c, &y->t, 0))
			return false;
	}
	for (uint64_t k = 0, r = 0; k < a->size; k++) {
		while (r < a->nrefs && a->refs[r].off + a->refs[r].size <= k)
			r++;
		if (r < a->nrefs && a->refs[r].off <= k)
			continue; /* inside a pointer field: compared by target */
		if (a->sec->data[a->off + k] != b->sec->data[b->off + k])
			return false;
	}
	return true;
}

/*
 * Anchors of one group of statics: anchor[i] is the index + 1 of the new
 * static old static i is, or 0.
 *
 * A site found for exactly one old and one new static of the same value
 * is a vote that they are one variable.  Sites can vote wrong (the block
 * before a use may end like the block before another's), so an old static
 * is anchored to the new one at least two of its votes and most of them
 * name, if no other old static votes for that one as much.  Failing votes,
 * the value decides when it is the only one of its kind on both sides
 * (GET's counter starting at 1000, PUT's at 2000).  Groups too large for
 * a table get no anchors.
 */
#define MAX_VOTE_TABLE (1u << 20)
#define MIN_VOTES      2

static int vote(struct corr *c, struct dobj **o, size_t no, struct dobj **n, size_t nn,
		const char *group, size_t *anchor)
{
	struct site *v = NULL;
	size_t nv = 0, cap = 0;
	uint32_t *votes = NULL;
	uint8_t *same = NULL;
	int ret = -1;

	memset(anchor, 0, no * sizeof(*anchor));
	if (no * nn > MAX_VOTE_TABLE)
		return 0;
	votes = xcalloc(no * nn + 1, sizeof(*votes));
	same = xcalloc(no * nn + 1, 1);
	if (!votes || !same)
		goto out;
	for (size_t i = 0; i < no; i++)
		for (size_t j = 0; j < nn; j++)
			same[i * nn + j] = same_value(c, o[i], n[j]);
	for (size_t i = 0; i < no; i++)
		if (add_sites(c, o[i], i, 0, group, &v, &nv, &cap) < 0)
			goto out;
	for (size_t j = 0; j < nn; j++)
		if (add_sites(c, n[j], j, 1, group, &v, &nv, &cap) < 0)
			goto out;
	sort(v, nv, sizeof(*v), cmp_site);
	for (size_t s = 0, e; s < nv; s = e) {
		size_t oi = SIZE_MAX, nj = SIZE_MAX;
		bool one = true;

		for (e = s; e < nv && v[e].where == v[s].where && v[e].hash == v[s].hash; e++) {
			size_t *m = v[e].side ? &nj : &oi;

			one &= *m == SIZE_MAX || *m == v[e].member;
			*m = v[e].member;
		}
		if (oi != SIZE_MAX && nj != SIZE_MAX && one && same[oi * nn + nj])
			votes[oi * nn + nj]++;
	}
	for (size_t i = 0; i < no && nn; i++) {
		size_t best = 0, nsame = 0, last = 0, back = 0;
		bool clear = true;

		for (size_t j = 1; j < nn; j++)
			if (votes[i * nn + j] > votes[i * nn + best])
				best = j;
		for (size_t j = 0; j < nn; j++)
			clear &= j == best || votes[i * nn + j] < votes[i * nn + best];
		for (size_t k = 0; k < no; k++)
			clear &= k == i || votes[k * nn + best] < votes[i * nn + best];
		if (clear && votes[i * nn + best] >= MIN_VOTES) {
			anchor[i] = best + 1;
			continue;
		}
		for (size_t j = 0; j < nn; j++)
			if (same[i * nn + j]) {
				nsame++;
				last = j;
			}
		for (size_t k = 0; nsame == 1 && k < no; k++)
			back += same[k * nn + last];
		if (nsame == 1 && back == 1)
			anchor[i] = last + 1;
	}
	ret = 0;
out:
	free(v);
	free(votes);
	free(same);
	return ret;
}

struct statics_ctx {
	struct dobj **o, **n;
};

static void pair_statics(void *ctx, size_t i, size_t j)
{
	struct statics_ctx *s = ctx;

	if (!s->o[i]->twin && !s->n[j]->twin)
		twin_data(s->o[i], s->n[j]);
}

/*
 * Left after the votes, for statics numbered by a file-wide counter (gcc's
 * "n.0"): an old static pairs with the one unpaired new static of its key
 * that a twin function uses too (or either is used by no function), if
 * that one has no other such candidate.  Returns how many could not be
 * told apart.
 */
static size_t pair_by_users(struct dobj **o, size_t no, struct dobj **n, size_t nn)
{
	size_t ambiguous = 0;

	for (size_t i = 0; i < no; i++) {
		size_t cand = SIZE_MAX, count = 0, back = 0;

		if (o[i]->twin)
			continue;
		for (size_t j = 0; j < nn; j++) {
			if (n[j]->twin)
				continue;
			if (shared_user(o[i], n[j]) || !o[i]->nusers || !n[j]->nusers) {
				cand = j;
				count++;
			}
		}
		if (count == 0)
			continue;
		for (size_t k = 0; count == 1 && k < no; k++)
			if (!o[k]->twin &&
			    (shared_user(o[k], n[cand]) || !o[k]->nusers || !n[cand]->nusers))
				back++;
		if (count == 1 && back == 1)
			twin_data(o[i], n[cand]);
		else
			ambiguous++;
	}
	return ambiguous;
}

/*
 * One group of statics sharing a key (the statics `n` of count_req(int),
 * or gcc's statics `n` of the whole file): anchors by votes, then by place
 * (C++ discriminators follow the source order) or by the functions using
 * them.  What is left undecided makes the pair not hotpatchable.
 */
static int match_static_group(struct corr *c, struct dobj **o, size_t no, struct dobj **n,
			      size_t nn, bool by_place)
{
	size_t *anchor = xcalloc(no + 1, sizeof(*anchor));
	size_t *ai = xcalloc(no + 1, sizeof(*ai)), *aj = xcalloc(no + 1, sizeof(*aj)), na = 0;
	size_t ambiguous;
	struct statics_ctx sx = {o, n};
	int ret = -1;

	if (!anchor || !ai || !aj)
		goto out;
	if (vote(c, o, no, n, nn, dinfo(c, o[0])->key, anchor) < 0)
		goto out;
	for (size_t i = 0; i < no; i++) {
		if (!anchor[i])
			continue;
		ai[na] = i;
		aj[na++] = anchor[i] - 1;
	}
	if (by_place && monotone(ai, aj, na)) {
		for (size_t a = 0; a < na; a++)
			pair_statics(&sx, ai[a], aj[a]);
		ambiguous = align_gaps(&(struct alignment){no, nn, ai, aj, na, pair_statics, &sx});
	} else {
		for (size_t a = 0; a < na; a++)
			pair_statics(&sx, ai[a], aj[a]);
		ambiguous = pair_by_users(o, no, n, nn);
	}
	if (ambiguous) {
		size_t changed = 0;
		char *why;

		for (size_t i = 0; i < no; i++)
			changed += !o[i]->twin;
		why = xasprintf("function-scope statics renumbered: %zu in the baseline, %zu in "
				"the fix, and which is which cannot be told (statics were added "
				"or removed next to %zu whose uses changed); the new code could "
				"use another variable's running value",
				no, nn, changed);
		if (diff_add_finding(c->d, dinfo(c, o[0])->key, true, why) < 0)
			goto out;
		/* the undecided ones stay unpaired: removed, and new */
	}
	ret = 0;
out:
	free(anchor);
	free(ai);
	free(aj);
	return ret;
}

/*
 * A guard variable (_ZGVZ...) belongs to the static it guards (_ZZ...):
 * it pairs as that static does.
 */
static bool is_guard(const struct dobj *x)
{
	return !strncmp(x->sym->name, "_ZGV", 4);
}

static int pair_guards(struct corr *c)
{
	for_each_data(&c->d->old, g)
	{
		struct symbol *v = NULL, *t = NULL;
		struct dobj *var, *ng;
		char *name;

		if (g->twin || !is_guard(g))
			continue;
		if (!(name = cxx_guarded_by(g->sym->name)))
			return -1;
		v = find_symbol_by_name(&c->d->old.elf, name);
		free(name);
		var = v ? dobj_of(v) : NULL;
		if (!var || !var->twin)
			continue;
		name = cxx_guard_of(var->twin->sym->name);
		if (name)
			t = find_symbol_by_name(&c->d->new.elf, name);
		free(name);
		ng = t ? dobj_of(t) : NULL;
		if (ng && !ng->twin)
			twin_data(g, ng);
	}
	return 0;
}

/* An unpaired numbered static, with what sorts it: its key, then its place. */
struct static_item {
	struct dobj *x;
	const char *key;
	uint32_t place;
};

static int cmp_static_item(const void *a, const void *b)
{
	const struct static_item *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r)
		return r;
	if (x->place != y->place)
		return x->place < y->place ? -1 : 1;
	return x->x < y->x ? -1 : x->x > y->x;
}

/* Unpaired numbered statics of side `side` (not closures'), guards only or none. */
static size_t list_statics(struct corr *c, int side, bool guards, struct static_item *out)
{
	struct object *o = side_obj(c, side);
	size_t n = 0;

	for_each_data(o, x)
	{
		struct name_info *ni = dinfo(c, x);

		if (!x->twin && ni->numbered && !ni->cx.nclosures && is_guard(x) == guards)
			out[n++] = (struct static_item){x, ni->key, ni->by_place ? ni->place : 0};
	}
	sort(out, n, sizeof(*out), cmp_static_item);
	return n;
}

/* The statics of each key (in place order), matched group by group. */
static int match_statics_pass(struct corr *c, bool guards)
{
	size_t cap = (c->d->old.ndata > c->d->new.ndata ? c->d->old.ndata : c->d->new.ndata) + 1;
	struct static_item *o = xcalloc(c->d->old.ndata + 1, sizeof(*o));
	struct static_item *n = xcalloc(c->d->new.ndata + 1, sizeof(*n));
	struct dobj **go = xcalloc(cap, sizeof(*go)), **gn = xcalloc(cap, sizeof(*gn));
	size_t no, nn, i = 0, j = 0;
	int ret = -1;

	if (!o || !n || !go || !gn)
		goto out;
	no = list_statics(c, 0, guards, o);
	nn = list_statics(c, 1, guards, n);
	while (i < no && j < nn) {
		int r = strcmp(o[i].key, n[j].key);
		size_t ie = i, je = j;

		if (r < 0) {
			i++;
			continue;
		}
		if (r > 0) {
			j++;
			continue;
		}
		for (; ie < no && !strcmp(o[ie].key, o[i].key); ie++)
			go[ie - i] = o[ie].x;
		for (; je < nn && !strcmp(n[je].key, o[i].key); je++)
			gn[je - j] = n[je].x;
		if (match_static_group(c, go, ie - i, gn, je - j, dinfo(c, o[i].x)->by_place) < 0)
			goto out;
		i = ie;
		j = je;
	}
	ret = 0;
out:
	free(o);
	free(n);
	free(go);
	free(gn);
	return ret;
}

static int match_statics(struct corr *c)
{
	if (match_statics_pass(c, false) < 0 || pair_guards(c) < 0)
		return -1;
	return match_statics_pass(c, true);
}

/* ---- everything else: by name, then by key ------------------------------------------- */

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

static bool is_matched(void *item, bool funcs)
{
	return funcs ? ((struct func *)item)->twin != NULL : ((struct dobj *)item)->twin != NULL;
}

/*
 * Which of several candidates sharing a key are one item: a function with
 * identical bytes, data used by twinned functions.
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

static void match_by_key(struct cand *o, size_t no, struct cand *n, size_t nn, bool funcs)
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
}

/*
 * Pairs the one function of each name; then, by key, what no rule above
 * decided and that does not name a closure (those pair only as closures).
 */
static int match_funcs_by_name(struct corr *c)
{
	struct object *o = &c->d->old, *n = &c->d->new;

	for_each_func(o, f)
	{
		struct symbol *s;
		struct func *g;

		if (finfo(c, f)->numbered)
			continue;
		s = find_symbol_by_name(&n->elf, f->sym->name);
		g = s ? func_of(s) : NULL;
		if (g && !g->twin && !finfo(c, g)->numbered)
			twin_funcs(f, g);
	}
	return 0;
}

static int match_data_by_name(struct corr *c)
{
	struct object *o = &c->d->old, *n = &c->d->new;

	for_each_data(o, x)
	{
		struct symbol *s;
		struct dobj *y;

		if (dinfo(c, x)->numbered)
			continue;
		s = find_symbol_by_name(&n->elf, x->sym->name);
		y = s ? dobj_of(s) : NULL;
		if (y && !y->twin && !dinfo(c, y)->numbered)
			twin_data(x, y);
	}
	return 0;
}

static int match_rest_by_key(struct corr *c, bool funcs)
{
	struct object *o = &c->d->old, *n = &c->d->new;
	size_t cap_o = funcs ? o->nfuncs : o->ndata, cap_n = funcs ? n->nfuncs : n->ndata;
	struct cand *co = xcalloc(cap_o + 1, sizeof(*co)), *cn = xcalloc(cap_n + 1, sizeof(*cn));
	size_t no = 0, nn = 0;

	if (!co || !cn) {
		free(co);
		free(cn);
		return -1;
	}
	for (int side = 0; side < 2; side++) {
		struct object *ob = side_obj(c, side);
		struct cand *v = side ? cn : co;
		size_t *k = side ? &nn : &no;

		if (funcs) {
			for_each_func(ob, f) if (!f->twin && !finfo(c, f)->cx.nclosures) v[(*k)++] =
				(struct cand){finfo(c, f)->key, (size_t)(f - ob->funcs), f};
		} else {
			for_each_data(ob, x) if (!x->twin && !dinfo(c, x)->cx.nclosures &&
						 !dinfo(c, x)->numbered) v[(*k)++] =
				(struct cand){dinfo(c, x)->key, (size_t)(x - ob->data), x};
		}
	}
	match_by_key(co, no, cn, nn, funcs);
	free(co);
	free(cn);
	return 0;
}

int correlate(struct diff *d)
{
	struct corr c = {.d = d};
	int ret = -1;

	match_sections(d);
	if (load_names(&c) < 0)
		goto out;
	/*
	 * Functions first: closures are told apart by their functions' code,
	 * statics by the twins of the functions using them.
	 */
	if (match_funcs_by_name(&c) < 0 || match_closures(&c) < 0 ||
	    match_rest_by_key(&c, true) < 0 || match_data_by_name(&c) < 0 ||
	    match_statics(&c) < 0 || match_rest_by_key(&c, false) < 0)
		goto out;
	ret = 0;
out:
	free_names(&c);
	return ret;
}
