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
 * Anonymous read-only data is compared through its pointers (a table of
 * strings, a table of tables).  The walk is bounded in depth and in the
 * number of pieces visited, so a crafted object cannot make it run away; a
 * walk that hits a bound counts as a difference and says so.
 */
#define MAX_PIECE_DEPTH 64
#define MAX_PIECE_VISITS 100000

struct walk {
	int depth;
	long visits;
	bool gave_up; /* a bound was hit: "different" means "not shown equal" */
};

/* R_X86_64_PLT32 and PC32 mean the same for a direct call or jump. */
static uint32_t norm_type(uint32_t t)
{
	return t == R_X86_64_PLT32 ? R_X86_64_PC32 : t;
}

static bool target_equal(const struct target *a, const struct target *b, struct walk *w);

static bool ref_equal(const struct ref *a, const struct ref *b, struct walk *w)
{
	return a->size == b->size && norm_type(a->type) == norm_type(b->type) &&
	       a->adj == b->adj && target_equal(&a->t, &b->t, w);
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

static bool piece_equal(struct piece *a, struct piece *b, struct walk *w)
{
	bool eq = true;

	if (a == NULL || b == NULL || a->size != b->size)
		return false;
	if ((a->sec->data == NULL) != (b->sec->data == NULL))
		return false;
	if (!a->sec->data)
		return true;
	if (w->depth >= MAX_PIECE_DEPTH || ++w->visits > MAX_PIECE_VISITS) {
		w->gave_up = true;
		return false;
	}
	if (piece_refs(a->obj, a) < 0 || piece_refs(b->obj, b) < 0 || a->nrefs != b->nrefs)
		return false;
	if (!masked_equal(a->sec->data + a->off, b->sec->data + b->off, a->size, a->refs,
			  a->nrefs, 0))
		return false;
	w->depth++;
	for (size_t i = 0; i < a->nrefs && eq; i++)
		eq = a->refs[i].off == b->refs[i].off && ref_equal(&a->refs[i], &b->refs[i], w);
	w->depth--;
	return eq;
}

static bool target_equal(const struct target *a, const struct target *b, struct walk *w)
{
	if (a->kind != b->kind || a->off != b->off)
		return false;
	switch (a->kind) {
	case T_SELF:
		return true;
	case T_FUNC:
		return a->func->twin == b->func;
	case T_DATA:
		/* A replaced read-only object is a different object to its users. */
		return a->data->twin == b->data &&
		       !(b->data->status == ST_CHANGED && !b->data->unpatchable);
	case T_UNDEF:
		return !strcmp(a->sym->name, b->sym->name);
	case T_PIECE:
		return piece_equal(a->piece, b->piece, w);
	case T_SECTION:
		return a->sec->twin == b->sec;
	default:
		return false;
	}
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

/* NULL if equal, else a malloc'ed reason. */
static char *data_difference(const struct dobj *a, const struct dobj *b)
{
	char ta[128], tb[128];

	if (a->size != b->size)
		return xasprintf("size changed from %llu to %llu bytes",
				 (unsigned long long)a->size, (unsigned long long)b->size);
	if (strcmp(data_kind(a), data_kind(b)))
		return xasprintf("changed from %s to %s data", data_kind(a), data_kind(b));
	if (!a->sec || !a->sec->data)
		return NULL;
	for (size_t i = 0, j = 0; i < a->nrefs || j < b->nrefs; i++, j++) {
		if (i == a->nrefs || j == b->nrefs || a->refs[i].off != b->refs[j].off) {
			size_t off = i == a->nrefs ? b->refs[j].off
				     : j == b->nrefs ? a->refs[i].off
						     : (a->refs[i].off < b->refs[j].off ? a->refs[i].off
											: b->refs[j].off);
			return xasprintf("initial value changed: pointer at offset %zu added or "
					 "removed",
					 off);
		}
		struct walk w = {0};

		if (ref_equal(&a->refs[i], &b->refs[j], &w))
			continue;
		if (w.gave_up)
			return xasprintf("initial value: the read-only data the pointer at offset "
					 "%u refers to is nested too deeply to compare, so it "
					 "counts as changed",
					 a->refs[i].off);
		return xasprintf("initial value changed: pointer at offset %u now points "
					 "to %s (was %s)",
					 a->refs[i].off, target_name(&b->refs[j].t, tb, sizeof(tb)),
					 target_name(&a->refs[i].t, ta, sizeof(ta)));
	}
	if (!masked_equal(a->sec->data + a->off, b->sec->data + b->off, a->size, a->refs,
			  a->nrefs, 0)) {
		size_t k = 0;

		while (k < a->size && a->sec->data[a->off + k] == b->sec->data[b->off + k])
			k++;
		return xasprintf("initial value changed at offset %zu", k);
	}
	return NULL;
}

static int compare_data(struct diff *d)
{
	for (size_t i = 0; i < d->old.ndata; i++) {
		struct dobj *a = &d->old.data[i], *b = a->twin;

		if (!b) {
			a->status = ST_REMOVED;
			continue;
		}
		a->reason = data_difference(a, b);
		if (!a->reason)
			continue;
		a->status = b->status = ST_CHANGED;
		if (!is_writable_sec(a->sec) && a->sym->type != STT_TLS && a->sec &&
		    is_local_sym(a->sym) && is_local_sym(b->sym)) {
			/* A file-local constant: users get a new copy. */
			b->reason = a->reason;
			a->reason = NULL;
			continue;
		}
		b->unpatchable = true;
		if (a->sec && !is_writable_sec(a->sec) && a->sym->type != STT_TLS)
			b->reason = xasprintf("%s; a global constant may be read by other objects, "
					      "which keep the old value",
					      a->reason);
		else
			b->reason = xasprintf("%s; the running process keeps its current %s, "
					      "which a hotpatch cannot re-initialise or resize",
					      a->reason,
					      a->sym->type == STT_TLS ? "per-thread values" : "value");
		free(a->reason);
		a->reason = NULL;
	}
	for (size_t i = 0; i < d->new.ndata; i++) {
		struct dobj *b = &d->new.data[i];

		if (b->twin)
			continue;
		b->status = ST_NEW;
		if (b->sym->type == STT_TLS) {
			b->unpatchable = true;
			b->reason = xstrdup("new thread-local variable: running threads have no "
					    "storage for it");
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
	long ia, ib;	     /* instruction indexes, -1 if that side ended */
	const struct ref *ra, *rb; /* differing references, if that was the cause */
	bool too_deep;		   /* ... not shown equal: the data was nested too deeply */
};

const struct ref *func_branch_ref(const struct func *f, long i)
{
	const struct insn *in = &f->insns[i];
	uint32_t at = in->off + in->rel_off;
	size_t lo = 0, hi = f->nrefs;

	if ((in->type != INSN_CALL && in->type != INSN_JUMP && in->type != INSN_JUMP_COND) ||
	    !in->rel_size)
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

	insn_format(f->code + in->off, in->len, in->off, buf, size);
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
		return xasprintf("at +0x%x `%s`: the %s it refers to changed%s", b->insns[m->ib].off,
				 func_insn_text(b, m->ib, ib, sizeof(ib)),
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
			 func_insn_text(a, m->ia, ia, sizeof(ia)), func_insn_text(b, m->ib, ib, sizeof(ib)),
			 size);
}

/* Compare one instruction pair; fills m->ra/rb when references differ. */
static bool insn_equal(const struct func *a, const struct func *b, long i, long j, size_t *ca,
		       size_t *cb, struct mismatch *m)
{
	const struct insn *x = &a->insns[i], *y = &b->insns[j];
	size_t na, nb;

	if (x->len != y->len)
		return false;
	na = refs_in(a, ca, x->off, x->len);
	nb = refs_in(b, cb, y->off, y->len);
	for (size_t k = 0; k < na || k < nb; k++) {
		const struct ref *ra = k < na ? &a->refs[*ca + k] : NULL;
		const struct ref *rb = k < nb ? &b->refs[*cb + k] : NULL;

		if (!ra || !rb || ra->off - x->off != rb->off - y->off)
			return false;
		struct walk w = {0};

		if (!ref_equal(ra, rb, &w)) {
			m->ra = ra;
			m->rb = rb;
			m->too_deep = w.gave_up;
			return false;
		}
	}
	return masked_equal(a->code + x->off, b->code + y->off, x->len, a->refs + *ca, na, x->off);
}

/* Functions that did not decode: bytes with relocated fields masked. */
static bool raw_equal(const struct func *a, const struct func *b)
{
	if (a->size != b->size || a->nrefs != b->nrefs)
		return false;
	for (size_t k = 0; k < a->nrefs; k++) {
		struct walk w = {0};

		if (a->refs[k].off != b->refs[k].off || !ref_equal(&a->refs[k], &b->refs[k], &w))
			return false;
	}
	return masked_equal(a->code, b->code, a->size, a->refs, a->nrefs, 0);
}

static void compare_func(struct func *a, struct func *b)
{
	struct mismatch m = {-1, -1, NULL, NULL, false};
	size_t ca = 0, cb = 0;
	long i = 0, j = 0;

	if (a->ninsns < 0 || b->ninsns < 0) {
		if (raw_equal(a, b))
			return;
		b->diff_off = 0;
		goto changed;
	}
	for (; i < a->ninsns && j < b->ninsns; i++, j++) {
		if (!insn_equal(a, b, i, j, &ca, &cb, &m)) {
			m.ia = i;
			m.ib = j;
			b->diff_off = b->insns[j].off;
			goto changed;
		}
	}
	if (i == a->ninsns && j == b->ninsns)
		return;
	m.ia = i < a->ninsns ? i : -1;
	m.ib = j < b->ninsns ? j : -1;
	b->diff_off = j < b->ninsns ? b->insns[j].off : (long)b->size;
changed:
	a->status = b->status = ST_CHANGED;
	b->reason = describe(a, b, &m);
}

/*
 * A reference into the middle of a function (a .cold part jumping back
 * into its parent, a computed goto) names a label inside it.  When that
 * function changed, the label is another place: the referring function
 * must be replaced too.  Repeat until nothing more changes.
 */
static void propagate_labels(struct diff *d)
{
	bool again = true;
	char tn[128], it[96];

	while (again) {
		again = false;
		for (size_t i = 0; i < d->new.nfuncs; i++) {
			struct func *b = &d->new.funcs[i];

			if (b->status != ST_SAME)
				continue;
			for (size_t k = 0; k < b->nrefs; k++) {
				const struct target *t = &b->refs[k].t;

				if (t->kind != T_FUNC || !t->off || t->func->status == ST_SAME)
					continue;
				long in = func_insn_at(b, b->refs[k].off);

				b->status = b->twin->status = ST_CHANGED;
				b->diff_off = in >= 0 ? b->insns[in].off : b->refs[k].off;
				if (in >= 0)
					b->reason = xasprintf(
						"at +0x%x `%s` refers to %s, inside a function that "
						"changed",
						b->insns[in].off, func_insn_text(b, in, it, sizeof(it)),
						target_name(t, tn, sizeof(tn)));
				else
					b->reason = xasprintf("at +0x%x refers to %s, inside a "
							      "function that changed",
							      b->refs[k].off,
							      target_name(t, tn, sizeof(tn)));
				again = true;
				break;
			}
		}
	}
}

static int compare_funcs(struct diff *d)
{
	for (size_t i = 0; i < d->new.nfuncs; i++) {
		struct func *b = &d->new.funcs[i];

		if (!b->twin)
			b->status = ST_NEW;
		else
			compare_func(b->twin, b);
	}
	for (size_t i = 0; i < d->old.nfuncs; i++)
		if (!d->old.funcs[i].twin)
			d->old.funcs[i].status = ST_REMOVED;
	propagate_labels(d);
	return 0;
}

int compare(struct diff *d)
{
	if (compare_data(d) < 0 || compare_funcs(d) < 0)
		return -1;
	for (size_t i = 0; i < d->new.nfuncs; i++)
		d->differs |= d->new.funcs[i].status != ST_SAME;
	for (size_t i = 0; i < d->old.nfuncs; i++)
		d->differs |= d->old.funcs[i].status != ST_SAME;
	for (size_t i = 0; i < d->new.ndata; i++) {
		d->differs |= d->new.data[i].status != ST_SAME;
		d->unpatchable |= d->new.data[i].unpatchable;
	}
	for (size_t i = 0; i < d->old.ndata; i++)
		d->differs |= d->old.data[i].status != ST_SAME;
	return 0;
}
