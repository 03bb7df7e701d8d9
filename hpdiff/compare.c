/*
 * Deciding what changed, and saying why.
 *
 * Functions are compared instruction by instruction in lock step: lengths
 * and bytes must match outside reference fields, and references must match
 * by type, adjustment and target identity.  Branches inside a function are
 * relative and compare as bytes.  Data is compared by size, kind and
 * initial value (pointers by target identity).  Anonymous read-only pieces
 * (literals, constants, jump tables) compare by content wherever they sit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpdiff/diff.h"
#include "common/cli.h"
#include "common/mem.h"

/*
 * The answer of a comparison.  Comparing can need memory (the references
 * of a read-only piece are built on first use) and can meet a malformed
 * relocation there: that is trouble, neither answer.  Out of memory must
 * never make changed data look unchanged, nor invent a change.
 */
enum cmp {
	CMP_EQUAL,
	CMP_DIFFERENT,
	CMP_TROUBLE,
};

/*
 * Anonymous read-only data is compared through its pointers (a table of
 * strings, a table of tables).  The walk is bounded in depth and in the
 * number of pieces visited, so a crafted object cannot make it run away; a
 * walk that hits a bound counts as a difference and says so.
 */
#define MAX_PIECE_DEPTH	 64
#define MAX_PIECE_VISITS 100000

struct walk {
	uint16_t machine; /* the objects' (arch.h questions) */
	int depth;
	long visits;
	bool gave_up; /* a bound was hit: "different" means "not shown equal" */
};

static struct walk walk_start(const struct object *o)
{
	return (struct walk){.machine = o->elf.machine};
}

static enum cmp target_cmp(const struct target *a, const struct target *b, struct walk *w);

/*
 * Two fields refer alike: same width, same computation (types that compute
 * the same value for a direct call or jump count as one, PLT32 and PC32 on
 * x86-64), same position-dependent adjustment.  Their targets are compared
 * by identity, apart.
 */
static bool same_field(const struct ref *a, const struct ref *b, uint16_t machine)
{
	return a->size == b->size &&
	       arch_reloc_canonical(machine, a->type) == arch_reloc_canonical(machine, b->type) &&
	       a->adj == b->adj;
}

static enum cmp ref_cmp(const struct ref *a, const struct ref *b, struct walk *w)
{
	if (!same_field(a, b, w->machine))
		return CMP_DIFFERENT;
	return target_cmp(&a->t, &b->t, w);
}

/* Bytes equal outside the reference fields (refs sorted, inside [0, n)). */
static bool masked_equal(const uint8_t *a, const uint8_t *b, size_t n, const struct ref *refs,
			 size_t nrefs, size_t base)
{
	size_t pos = 0;

	for (size_t i = 0; i < nrefs; i++) {
		size_t start = refs[i].off - base, end = start + refs[i].size;

		if (start > pos && memcmp(a + pos, b + pos, start - pos))
			return false;
		if (end > pos)
			pos = end;
	}
	return pos >= n || !memcmp(a + pos, b + pos, n - pos);
}

static enum cmp piece_cmp(struct piece *a, struct piece *b, struct walk *w)
{
	enum cmp c = CMP_EQUAL;

	if (a == NULL || b == NULL || a->size != b->size)
		return CMP_DIFFERENT;
	if ((a->sec->data == NULL) != (b->sec->data == NULL))
		return CMP_DIFFERENT;
	if (!a->sec->data)
		return CMP_EQUAL;
	if (w->depth >= MAX_PIECE_DEPTH || ++w->visits > MAX_PIECE_VISITS) {
		w->gave_up = true;
		return CMP_DIFFERENT;
	}
	if (piece_refs(a->obj, a) < 0 || piece_refs(b->obj, b) < 0)
		return CMP_TROUBLE;
	if (a->nrefs != b->nrefs || !masked_equal(a->sec->data + a->off, b->sec->data + b->off,
						  a->size, a->refs, a->nrefs, 0))
		return CMP_DIFFERENT;
	w->depth++;
	for (size_t i = 0; i < a->nrefs && c == CMP_EQUAL; i++)
		c = a->refs[i].off != b->refs[i].off ? CMP_DIFFERENT
						     : ref_cmp(&a->refs[i], &b->refs[i], w);
	w->depth--;
	return c;
}

static enum cmp target_cmp(const struct target *a, const struct target *b, struct walk *w)
{
	bool eq;

	if (a->kind != b->kind || a->off != b->off)
		return CMP_DIFFERENT;
	switch (a->kind) {
	case T_SELF:
		eq = true;
		break;
	case T_FUNC:
		eq = a->func->twin == b->func;
		break;
	case T_DATA:
		/*
		 * A replaced constant is another object to its users: they are
		 * replaced too, to read the copy (is_replaceable_data()).
		 */
		eq = a->data->twin == b->data && !is_replaced_data(b->data);
		break;
	case T_UNDEF:
		eq = !strcmp(a->sym->name, b->sym->name);
		break;
	case T_PIECE:
		return piece_cmp(a->piece, b->piece, w);
	case T_SECTION:
		eq = a->sec->twin == b->sec;
		break;
	default:
		eq = false;
		break;
	}
	return eq ? CMP_EQUAL : CMP_DIFFERENT;
}

/* A comparison's "different" with its reason: 1, or -1 if the reason could not be made. */
static int differs(char **reason, char *text)
{
	*reason = text;
	return text ? 1 : -1;
}

/* ---- data ------------------------------------------------------------------ */

static const char *data_kind(const struct dobj *d)
{
	if (!d->sec)
		return "common";
	if (d->sym->type == STT_TLS)
		return d->sec->data ? "thread-local initialised" : "thread-local zeroed";
	if (!is_writable_sec(d->sec))
		return "read-only";
	return d->sec->data ? "initialised" : "zero-initialised";
}

/* The first offset where a's and b's pointers differ, walking both in step. */
static size_t pointer_mismatch(const struct dobj *a, size_t i, const struct dobj *b, size_t j)
{
	if (i == a->nrefs)
		return b->refs[j].off;
	if (j == b->nrefs)
		return a->refs[i].off;
	return a->refs[i].off < b->refs[j].off ? a->refs[i].off : b->refs[j].off;
}

/*
 * A C++ type's name string (typeinfo name, _ZTS<type>) holds that mangled
 * type, and nothing else: "Z5setupiE3$_0" for clang++'s _ZTSZ5setupiE3$_0,
 * "*Z5setupiEUliE0_" for g++'s _ZTSZ5setupiEUliE0_ (the "*" says: compare
 * such types by address, they are local).  correlate.c pairs a renumbered
 * lambda's _ZTS with its new number's; the bytes then differ by that
 * number only, which is no change of the value: the running process keeps
 * naming the closure as it did.
 */
static bool is_own_type_name(const struct dobj *x)
{
	const char *name = x->sym->name, *v;
	size_t len = strlen(name), star;

	if (strncmp(name, "_ZTS", 4) || !x->sec || !x->sec->data || x->nrefs || !x->size)
		return false;
	v = (const char *)x->sec->data + x->off;
	star = v[0] == '*';
	return x->size == star + len - 4 + 1 && !memcmp(v + star, name + 4, len - 4 + 1);
}

/* 0 if equal; 1 with a malloc'ed *reason if not; -1 on trouble. */
static int data_difference(const struct dobj *a, const struct dobj *b, char **reason)
{
	char ta[128], tb[128];

	*reason = NULL;
	if (is_own_type_name(a) && is_own_type_name(b))
		return 0;
	if (a->size != b->size)
		return differs(reason,
			       xasprintf("size changed from %llu to %llu bytes",
					 (unsigned long long)a->size, (unsigned long long)b->size));
	if (strcmp(data_kind(a), data_kind(b)))
		return differs(reason,
			       xasprintf("changed from %s to %s data", data_kind(a), data_kind(b)));
	if (!a->sec || !a->sec->data)
		return 0;
	for (size_t i = 0, j = 0; i < a->nrefs || j < b->nrefs; i++, j++) {
		if (i == a->nrefs || j == b->nrefs || a->refs[i].off != b->refs[j].off)
			return differs(reason, xasprintf("initial value changed: pointer at offset "
							 "%zu added or removed",
							 pointer_mismatch(a, i, b, j)));
		struct walk w = walk_start(a->obj);
		enum cmp c = ref_cmp(&a->refs[i], &b->refs[j], &w);

		if (c == CMP_TROUBLE)
			return -1;
		if (c == CMP_EQUAL)
			continue;
		if (w.gave_up)
			return differs(reason,
				       xasprintf("initial value: the read-only data the pointer at "
						 "offset %u refers to is nested too deeply to "
						 "compare, so it counts as changed",
						 a->refs[i].off));
		return differs(reason,
			       xasprintf("initial value changed: pointer at offset %u now "
					 "points to %s (was %s)",
					 a->refs[i].off, target_name(&b->refs[j].t, tb, sizeof(tb)),
					 target_name(&a->refs[i].t, ta, sizeof(ta))));
	}
	if (!masked_equal(a->sec->data + a->off, b->sec->data + b->off, a->size, a->refs, a->nrefs,
			  0)) {
		size_t k = 0;

		while (k < a->size && a->sec->data[a->off + k] == b->sec->data[b->off + k])
			k++;
		return differs(reason, xasprintf("initial value changed at offset %zu", k));
	}
	return 0;
}

/*
 * Why changed data that is_replaceable_data() refused cannot be patched:
 * what changed, then the rule.  NULL when out of memory.
 */
static char *unpatchable_reason(const struct dobj *a, const char *change)
{
	if (!is_writable_data(a))
		return xasprintf("%s; a global constant may be read by other objects, which keep "
				 "the old value",
				 change);
	return xasprintf("%s; the running process keeps its current %s, which a hotpatch cannot "
			 "re-initialise or resize",
			 change, a->sym->type == STT_TLS ? "per-thread values" : "value");
}

/*
 * Can a new variable be added?  Not a thread-local one: each running
 * thread's TLS block was allocated when it started, with no room for it.
 */
static bool can_add_data(const struct dobj *x)
{
	return x->sym->type != STT_TLS;
}

static int compare_data(struct diff *d)
{
	for_each_data(&d->old, a)
	{
		struct dobj *b = a->twin;
		char *change;
		int ret;

		if (!b) {
			a->status = ST_REMOVED;
			continue;
		}
		ret = data_difference(a, b, &change);
		if (ret <= 0) {
			if (ret < 0)
				return -1;
			continue;
		}
		a->status = b->status = ST_CHANGED;
		if (is_replaceable_data(a, b)) {
			b->reason = change; /* users get the new copy */
			continue;
		}
		b->unpatchable = true;
		b->reason = unpatchable_reason(a, change);
		free(change);
		if (!b->reason)
			return -1;
	}
	for_each_data(&d->new, b)
	{
		if (b->twin)
			continue;
		b->status = ST_NEW;
		if (!can_add_data(b)) {
			b->unpatchable = true;
			b->reason = xstrdup("new thread-local variable: running threads have no "
					    "storage for it");
			if (!b->reason)
				return -1;
		}
	}
	return 0;
}

/* ---- functions ---------------------------------------------------------- */

/* Refs of f whose fields start inside [off, off + len): [*first, *first + return). */
static size_t refs_in(const struct func *f, size_t *cursor, uint64_t off, uint64_t len)
{
	size_t n = 0;

	while (*cursor < f->nrefs && f->refs[*cursor].off < off)
		(*cursor)++;
	while (*cursor + n < f->nrefs && f->refs[*cursor + n].off < off + len)
		n++;
	return n;
}

struct mismatch {
	long ia, ib;		   /* instruction indexes, -1 if that side ended */
	const struct ref *ra, *rb; /* differing references, if that was the cause */
	bool too_deep;		   /* ... not shown equal: the data was nested too deeply */
};

const struct ref *func_branch_ref(const struct func *f, long i)
{
	const struct insn *in = &f->insns[i];
	uint32_t at = in->off + in->rel_off;
	size_t lo = 0, hi = f->nrefs;

	if (!is_direct_branch(in) || !in->rel_size)
		return NULL;
	while (lo < hi) { /* refs are sorted by offset */
		size_t mid = lo + (hi - lo) / 2;

		if (f->refs[mid].off < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nrefs && f->refs[lo].off == at ? &f->refs[lo] : NULL;
}

char *func_insn_text(const struct func *f, long i, char *buf, size_t size)
{
	return func_insn_text_ref(f, i, func_branch_ref(f, i), buf, size);
}

char *func_insn_text_ref(const struct func *f, long i, const struct ref *r, char *buf, size_t size)
{
	const struct insn *in = &f->insns[i];
	char *operand;

	insn_format(f->obj->elf.machine, f->code + in->off, in->len, in->off, buf, size);
	if (r && (operand = strrchr(buf, ' '))) {
		char tn[128];

		snprintf(operand + 1, size - (size_t)(operand + 1 - buf), "%s",
			 target_name(&r->t, tn, sizeof(tn)));
	}
	return buf;
}

static char *describe(const struct func *a, const struct func *b, const struct mismatch *m)
{
	char ia[96], ib[96], ta[128], tb[128], size[64] = "";

	if (a->size != b->size)
		snprintf(size, sizeof(size), " (size %llu -> %llu bytes)",
			 (unsigned long long)a->size, (unsigned long long)b->size);
	if (m->ia < 0 && m->ib < 0)
		return xasprintf("code differs%s", size);
	if (m->ia < 0)
		return xasprintf("code added at +0x%x: `%s`%s", b->insns[m->ib].off,
				 func_insn_text(b, m->ib, ib, sizeof(ib)), size);
	if (m->ib < 0)
		return xasprintf("code removed at +0x%x: `%s`%s", a->insns[m->ia].off,
				 func_insn_text(a, m->ia, ia, sizeof(ia)), size);
	if (m->ra && m->rb && m->too_deep)
		return xasprintf("at +0x%x `%s`: the read-only data it refers to is nested too "
				 "deeply to compare, so it counts as changed%s",
				 b->insns[m->ib].off, func_insn_text(b, m->ib, ib, sizeof(ib)),
				 size);
	if (m->ra && m->rb && m->ra->t.kind == T_PIECE && m->rb->t.kind == T_PIECE &&
	    !strcmp(target_name(&m->ra->t, ta, sizeof(ta)), target_name(&m->rb->t, tb, sizeof(tb))))
		return xasprintf("at +0x%x `%s`: the %s it refers to changed%s",
				 b->insns[m->ib].off, func_insn_text(b, m->ib, ib, sizeof(ib)),
				 m->rb->t.piece->nrefs ? "table" : "constant", size);
	if (m->ra && m->rb && m->rb->t.kind == T_DATA && m->ra->t.kind == T_DATA &&
	    m->ra->t.data->twin == m->rb->t.data && m->ra->t.off == m->rb->t.off)
		return xasprintf("at +0x%x `%s`: the value of %s changed%s", b->insns[m->ib].off,
				 func_insn_text(b, m->ib, ib, sizeof(ib)), m->rb->t.data->sym->name,
				 size);
	if (m->ra && m->rb)
		return xasprintf("at +0x%x `%s` refers to %s (was %s)%s", b->insns[m->ib].off,
				 func_insn_text(b, m->ib, ib, sizeof(ib)),
				 target_name(&m->rb->t, tb, sizeof(tb)),
				 target_name(&m->ra->t, ta, sizeof(ta)), size);
	return xasprintf("at +0x%x `%s` became `%s`%s", b->insns[m->ib].off,
			 func_insn_text(a, m->ia, ia, sizeof(ia)),
			 func_insn_text(b, m->ib, ib, sizeof(ib)), size);
}

/* Compare one instruction pair; fills m->ra/rb when references differ. */
static enum cmp insn_cmp(const struct func *a, const struct func *b, long i, long j, size_t *ca,
			 size_t *cb, struct mismatch *m)
{
	const struct insn *x = &a->insns[i], *y = &b->insns[j];
	size_t na, nb;

	if (x->len != y->len)
		return CMP_DIFFERENT;
	na = refs_in(a, ca, x->off, x->len);
	nb = refs_in(b, cb, y->off, y->len);
	for (size_t k = 0; k < na || k < nb; k++) {
		const struct ref *ra = k < na ? &a->refs[*ca + k] : NULL;
		const struct ref *rb = k < nb ? &b->refs[*cb + k] : NULL;

		if (!ra || !rb || ra->off - x->off != rb->off - y->off)
			return CMP_DIFFERENT;
		struct walk w = walk_start(a->obj);
		enum cmp c = ref_cmp(ra, rb, &w);

		if (c == CMP_DIFFERENT) {
			m->ra = ra;
			m->rb = rb;
			m->too_deep = w.gave_up;
		}
		if (c != CMP_EQUAL)
			return c;
	}
	return masked_equal(a->code + x->off, b->code + y->off, x->len, a->refs + *ca, na, x->off)
		       ? CMP_EQUAL
		       : CMP_DIFFERENT;
}

/* The first reference of f at or after offset off (refs are sorted). */
static size_t first_ref_at(const struct func *f, uint64_t off)
{
	size_t lo = 0, hi = f->nrefs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->refs[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int insn_equal(const struct func *a, long i, const struct func *b, long j)
{
	size_t ca = first_ref_at(a, a->insns[i].off), cb = first_ref_at(b, b->insns[j].off);
	struct mismatch m = {-1, -1, NULL, NULL, false};
	enum cmp c = insn_cmp(a, b, i, j, &ca, &cb, &m);

	return c == CMP_TROUBLE ? -1 : c == CMP_EQUAL;
}

/* Functions that did not decode: bytes with relocated fields masked. */
static enum cmp raw_cmp(const struct func *a, const struct func *b)
{
	if (a->size != b->size || a->nrefs != b->nrefs)
		return CMP_DIFFERENT;
	for (size_t k = 0; k < a->nrefs; k++) {
		struct walk w = walk_start(a->obj);
		enum cmp c = a->refs[k].off != b->refs[k].off
				     ? CMP_DIFFERENT
				     : ref_cmp(&a->refs[k], &b->refs[k], &w);

		if (c != CMP_EQUAL)
			return c;
	}
	return masked_equal(a->code, b->code, a->size, a->refs, a->nrefs, 0) ? CMP_EQUAL
									     : CMP_DIFFERENT;
}

/* Set the statuses of twins a and b, and b's reason.  Returns 0, or -1 on trouble. */
static int compare_func(struct func *a, struct func *b)
{
	struct mismatch m = {-1, -1, NULL, NULL, false};
	size_t ca = 0, cb = 0;
	long i = 0, j = 0;
	enum cmp c;

	if (a->ninsns < 0 || b->ninsns < 0) {
		c = raw_cmp(a, b);
		if (c != CMP_DIFFERENT)
			return c == CMP_EQUAL ? 0 : -1;
		b->diff_off = 0;
		goto changed;
	}
	for (; i < a->ninsns && j < b->ninsns; i++, j++) {
		c = insn_cmp(a, b, i, j, &ca, &cb, &m);
		if (c == CMP_TROUBLE)
			return -1;
		if (c == CMP_DIFFERENT) {
			m.ia = i;
			m.ib = j;
			b->diff_off = b->insns[j].off;
			goto changed;
		}
	}
	if (i == a->ninsns && j == b->ninsns)
		return 0;
	m.ia = i < a->ninsns ? i : -1;
	m.ib = j < b->ninsns ? j : -1;
	b->diff_off = j < b->ninsns ? b->insns[j].off : (long)b->size;
changed:
	a->status = b->status = ST_CHANGED;
	b->reason = describe(a, b, &m);
	return b->reason ? 0 : -1;
}

/*
 * A reference into the middle of a function (a .cold part jumping back
 * into its parent, a computed goto) names a label inside it.  When that
 * function changed, the label is another place: the referring function
 * must be replaced too.
 */
static bool refers_to_changed_label(const struct ref *r)
{
	return r->t.kind == T_FUNC && r->t.off && r->t.func->status != ST_SAME;
}

/* Mark unchanged b changed for its reference r to a changed label.  -1 on trouble. */
static int label_changed(struct func *b, const struct ref *r)
{
	long in = func_insn_at(b, r->off);
	char tn[128], it[96];

	b->status = b->twin->status = ST_CHANGED;
	b->diff_off = in >= 0 ? b->insns[in].off : r->off;
	if (in >= 0)
		b->reason = xasprintf("at +0x%x `%s` refers to %s, inside a function that changed",
				      b->insns[in].off, func_insn_text(b, in, it, sizeof(it)),
				      target_name(&r->t, tn, sizeof(tn)));
	else
		b->reason = xasprintf("at +0x%x refers to %s, inside a function that changed",
				      r->off, target_name(&r->t, tn, sizeof(tn)));
	return b->reason ? 0 : -1;
}

/* Apply refers_to_changed_label() until nothing more changes. */
static int propagate_labels(struct diff *d)
{
	bool again = true;

	while (again) {
		again = false;
		for_each_func(&d->new, b)
		{
			if (b->status != ST_SAME)
				continue;
			for_each_ref(b, r)
			{
				if (!refers_to_changed_label(r))
					continue;
				if (label_changed(b, r) < 0)
					return -1;
				again = true;
				break;
			}
		}
	}
	return 0;
}

static int compare_funcs(struct diff *d)
{
	for_each_func(&d->new, b)
	{
		if (!b->twin)
			b->status = ST_NEW;
		else if (compare_func(b->twin, b) < 0)
			return -1;
	}
	for_each_func(&d->old, a) if (!a->twin) a->status = ST_REMOVED;
	return propagate_labels(d);
}

int compare(struct diff *d)
{
	if (compare_data(d) < 0 || compare_funcs(d) < 0)
		return -1;
	for_each_func(&d->new, f) d->differs |= f->status != ST_SAME;
	for_each_func(&d->old, f) d->differs |= f->status != ST_SAME;
	for_each_data(&d->new, x)
	{
		d->differs |= x->status != ST_SAME;
		d->unpatchable |= x->unpatchable;
	}
	for_each_data(&d->old, x) d->differs |= x->status != ST_SAME;
	return 0;
}
