/*
 * One side of a diff: the object's functions, data and anonymous read-only
 * pieces, and the references of each, resolved to identities.
 *
 * Resolution is where ordinary compiler output gets interesting.  gas turns
 * references to local symbols into "section + offset" (a static variable
 * becomes .bss+0x40, a string literal .rodata.str1.1+0x12), and resolves
 * calls, jumps and RIP-relative loads inside one section itself, leaving no
 * relocation at all.  Both are mapped back here to "which function, object
 * or literal, at which offset", so that moving code around does not look
 * like a change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpdiff/diff.h"
#include "format/hp.h"
#include "common/cli.h"
#include "common/mem.h"

/* A label in code (no type, or a function of size 0): where unsized code may start. */
static bool is_code_label(const struct symbol *s)
{
	return is_exec_sec(s->sec) && (s->type == STT_NOTYPE || (s->type == STT_FUNC && !s->size));
}

struct func *func_of(const struct symbol *s)
{
	if (s->alias_of)
		s = s->alias_of;
	return is_func_sym(s) || is_code_label(s) ? s->priv : NULL;
}

struct dobj *dobj_of(const struct symbol *s)
{
	if (s->alias_of)
		s = s->alias_of;
	return is_data_sym(s) ? s->priv : NULL;
}

size_t clone_origin_len(const char *name)
{
	const char *dot = name[0] ? strchr(name + 1, '.') : NULL;

	return dot ? (size_t)(dot - name) : strlen(name);
}

char *clone_key(const char *name)
{
	char *key = xstrdup(name), *w = key;

	if (!key)
		return NULL;
	/* Drop every ".<digits>" component: foo.constprop.0.isra.1 -> foo.constprop.isra */
	for (const char *r = name; *r;) {
		if (*r == '.' && r != name && r[1] >= '0' && r[1] <= '9') {
			const char *e = r + 1;

			while (*e >= '0' && *e <= '9')
				e++;
			if (*e == '.' || *e == 0) {
				r = e;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = 0;
	return key;
}

/* ---- pieces ----------------------------------------------------------- */

static size_t piece_slot(const struct object *o, const struct section *sec, uint64_t off)
{
	uint64_t h = (sec->index * 0x9e3779b97f4a7c15ull) ^ (off * 0xff51afd7ed558ccdull);

	return (size_t)(h >> 17) & (o->piece_cap - 1);
}

/*
 * The piece of `size` bytes at `off` in `sec`, made on first use, in *out
 * (NULL if off is outside the section).  Returns 0, or -1 when out of
 * memory: a piece that could not be made is not "no piece", which would
 * compare two literals by section offset.
 */
static int get_piece(struct object *o, struct section *sec, uint64_t off, uint64_t size,
		     struct piece **out)
{
	struct piece *p;
	size_t i;

	*out = NULL;
	/* Every piece lies inside its section, whatever sh_entsize claims. */
	if (off >= sec->size)
		return 0;
	if (size > sec->size - off)
		size = sec->size - off;
	if (!o->piece_cap) {
		o->pieces = xcalloc(256, sizeof(*o->pieces));
		if (!o->pieces)
			return -1;
		o->piece_cap = 256;
	}
	i = piece_slot(o, sec, off);
	for (p = o->pieces[i]; p; p = p->next) {
		if (p->sec == sec && p->off == off) {
			*out = p;
			return 0;
		}
	}
	p = xcalloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->obj = o;
	p->sec = sec;
	p->off = off;
	p->size = size;
	p->emit = -1;
	p->next = o->pieces[i];
	o->pieces[i] = p;
	o->npieces++;
	*out = p;
	return 0;
}

/* The NUL-terminated string (of entsize-wide characters) holding `off`; as get_piece(). */
static int string_piece(struct object *o, struct section *sec, uint64_t off, struct piece **out)
{
	uint64_t w = sec->entsize ? sec->entsize : 1, start, end;

	*out = NULL;
	if (off % w)
		return 0;
	for (start = off; start >= w; start -= w) {
		const uint8_t *c = sec->data + start - w;
		bool zero = true;

		for (uint64_t k = 0; k < w; k++)
			zero &= c[k] == 0;
		if (zero)
			break;
	}
	for (end = off; end + w <= sec->size; end += w) {
		bool zero = true;

		for (uint64_t k = 0; k < w; k++)
			zero &= sec->data[end + k] == 0;
		if (zero) {
			end += w;
			break;
		}
	}
	if (end > sec->size)
		end = sec->size;
	return get_piece(o, sec, start, end - start, out);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Where a relocation (with its field's usual PC bias) points, as a section offset. */
static int64_t reloc_guess(const struct object *o, const struct reloc *r)
{
	int64_t base = r->sym->type == STT_SECTION ? 0 : (int64_t)r->sym->value;

	return wadd(wadd(base, r->addend), arch_reloc_pc_bias(o->elf.machine, r->type));
}

/*
 * Boundaries of anonymous pieces in a plain read-only section: every
 * offset something refers to, and every symbol's start and end.  A jump
 * table is then the bytes from the offset its function loads to the next
 * offset anything loads.
 */
static int build_bounds(struct object *o, struct section *sec)
{
	struct bounds *b = &o->bounds[sec->index];
	size_t n = 2, cap = 2 + 2 * sec->nsyms;

	for_each_sec(&o->elf, s) cap += s->nrelocs;
	b->v = xmalloc(cap * sizeof(*b->v));
	if (!b->v)
		return -1;
	b->v[0] = 0;
	b->v[1] = sec->size;
	for (size_t i = 0; i < sec->nsyms; i++) {
		b->v[n++] = sec->syms[i]->value;
		b->v[n++] = sec->syms[i]->value + sec->syms[i]->size;
	}
	for_each_sec(&o->elf, s)
	{
		for (size_t i = 0; i < s->nrelocs; i++) {
			const struct reloc *r = &s->relocs[i];
			int64_t t;

			if (r->sym->sec != sec)
				continue;
			t = reloc_guess(o, r);
			if (t >= 0 && (uint64_t)t <= sec->size)
				b->v[n++] = (uint64_t)t;
		}
	}
	sort(b->v, n, sizeof(*b->v), cmp_u64);
	b->n = 0;
	for (size_t i = 0; i < n; i++)
		if (!b->n || b->v[b->n - 1] != b->v[i])
			b->v[b->n++] = b->v[i];
	b->built = true;
	return 0;
}

/* The piece between the boundaries around `off`; as get_piece(). */
static int bounded_piece(struct object *o, struct section *sec, uint64_t off, struct piece **out)
{
	struct bounds *b = &o->bounds[sec->index];
	size_t lo = 0, hi;

	*out = NULL;
	if (!b->built && build_bounds(o, sec) < 0)
		return -1;
	/* The piece runs from the last boundary <= off to the next boundary. */
	hi = b->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (b->v[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || lo >= b->n)
		return 0;
	return get_piece(o, sec, b->v[lo - 1], b->v[lo] - b->v[lo - 1], out);
}

/* ---- executable bytes outside sized functions ------------------------------ */

/*
 * Hand-written assembly without `.type NAME, @function` and `.size NAME,
 * . - NAME`, and top-level asm() blocks in C, put code where no sized
 * function symbol covers it: a label (a symbol of no type, or a function
 * of size 0) marks it at most.  It is code all the same, and a change to
 * it must never pass as "no change".  Each stretch of it becomes an
 * unsized function: from a label to the next symbol or the section's end,
 * or, starting at no label, from the end of what precedes it (then named
 * "(code after NAME)", or "(code at SECTION+0x0)" at a section's start).
 * The padding assemblers put between functions (nops, int3) is not code:
 * it is trimmed off such a stretch, and padding alone is no stretch.
 */
struct range {
	struct section *sec;
	uint64_t off, size;
	struct symbol *label;	    /* where it starts; NULL: unnamed */
	const struct symbol *after; /* unnamed: the symbol whose extent it follows, if any */
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

/* Does a label at `s` give code its name?  Not the assembler's private .L labels. */
static bool is_naming_label(const struct symbol *s)
{
	return is_code_label(s) && s->name[0] && strncmp(s->name, ".L", 2);
}

/* Labels by section, then address; at one address a global names the place first. */
static int cmp_label(const void *a, const void *b)
{
	const struct symbol *x = *(struct symbol *const *)a, *y = *(struct symbol *const *)b;

	if (x->sec != y->sec)
		return x->sec->index < y->sec->index ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if ((x->bind == STB_LOCAL) != (y->bind == STB_LOCAL))
		return x->bind == STB_LOCAL ? 1 : -1; /* a global names the place first */
	return x->index < y->index ? -1 : (int)(x->index > y->index);
}

/*
 * Trim padding off [*off, *off + *size) of sec: at the end always, at the
 * start of unnamed code (a label is an entry, nops after it included).
 * Returns false when nothing but padding is left.  Bytes that do not
 * decode are kept whole: they may be anything.
 */
static bool trim_padding(const struct object *o, const struct section *sec, bool named,
			 uint64_t *off, uint64_t *size)
{
	struct insn *in = NULL;
	size_t bad = 0;
	long n = insn_decode_all(o->elf.machine, sec->data + *off, *size, &in, &bad), first = 0,
	     last;

	if (n < 0)
		return true;
	last = n - 1;
	while (!named && first < n && insn_is_padding(o->elf.machine, &in[first]))
		first++;
	while (last >= first && insn_is_padding(o->elf.machine, &in[last]))
		last--;
	if (last >= first) {
		uint64_t start = in[first].off, end = (uint64_t)in[last].off + in[last].len;

		*off += start;
		*size = end - start;
	}
	free(in);
	return last >= first;
}

static int add_range(const struct object *o, struct ranges *r, struct section *sec, uint64_t off,
		     uint64_t end, struct symbol *label, const struct symbol *after)
{
	uint64_t size = end - off;

	if (off >= end || !trim_padding(o, sec, label != NULL, &off, &size))
		return 0;
	if (grow_array(&r->v, &r->cap, r->n, sizeof(*r->v), 16) < 0)
		return -1;
	r->v[r->n++] = (struct range){sec, off, size, label, label ? NULL : after};
	return 0;
}

/*
 * The gap [a, b) of sec that no sized symbol covers, split at the labels in
 * it (labels[*li...], sorted): the unsized code ranges it holds.
 */
static int split_gap(const struct object *o, struct ranges *r, struct section *sec, uint64_t a,
		     uint64_t b, struct symbol **labels, size_t nlabels, size_t *li,
		     const struct symbol *after)
{
	struct symbol *label = NULL;

	while (*li < nlabels && labels[*li]->value < a)
		(*li)++;
	for (; *li < nlabels && labels[*li]->value < b; (*li)++) {
		struct symbol *l = labels[*li]->alias_of ? labels[*li]->alias_of : labels[*li];

		if (label && l->value == label->value)
			continue; /* another name of the same place */
		if (add_range(o, r, sec, label ? label->value : a, l->value, label, after) < 0)
			return -1;
		label = l;
	}
	return add_range(o, r, sec, label ? label->value : a, b, label, after);
}

/* The unsized code of one executable section with contents, whose labels are given. */
static int section_ranges(const struct object *o, struct ranges *r, struct section *sec,
			  struct symbol **labels, size_t nlabels)
{
	const struct symbol *after = NULL;
	size_t li = 0;
	uint64_t pos = 0;
	int ret = 0;

	/* sec->syms: sorted by address; the sized ones cover, possibly nested */
	for (size_t i = 0; i < sec->nsyms && ret == 0; i++) {
		struct symbol *c = sec->syms[i];

		if (!c->size)
			continue;
		if (c->value > pos)
			ret = split_gap(o, r, sec, pos, c->value, labels, nlabels, &li, after);
		if (c->value + c->size > pos) {
			pos = c->value + c->size;
			after = c->alias_of ? c->alias_of : c;
		}
	}
	if (ret == 0 && pos < sec->size)
		ret = split_gap(o, r, sec, pos, sec->size, labels, nlabels, &li, after);
	return ret;
}

static int find_ranges(const struct object *o, struct ranges *r)
{
	struct symbol **labels = NULL;
	size_t nlabels = 0, li = 0;
	int ret = 0;

	for_each_sym(&o->elf, s) nlabels += is_naming_label(s);
	if (nlabels && !(labels = xcalloc(nlabels, sizeof(*labels))))
		return -1;
	nlabels = 0;
	for_each_sym(&o->elf, s) if (is_naming_label(s)) labels[nlabels++] = s;
	sort(labels, nlabels, sizeof(*labels), cmp_label);
	for_each_sec(&o->elf, sec)
	{
		size_t n = 0;

		while (li < nlabels && labels[li]->sec->index < sec->index)
			li++;
		while (li + n < nlabels && labels[li + n]->sec == sec)
			n++;
		/* labels is NULL when there are none: no pointer arithmetic on it */
		if (is_exec_sec(sec) && sec->data && sec->size &&
		    section_ranges(o, r, sec, n ? labels + li : NULL, n) < 0) {
			ret = -1;
			break;
		}
		li += n;
	}
	free(labels);
	return ret;
}

/* The unsized function holding `off` in `sec`, or NULL. */
static struct func *range_at(const struct object *o, const struct section *sec, uint64_t off)
{
	size_t lo = o->ranges, hi = o->nfuncs;

	while (lo < hi) { /* the last range starting at or before (sec, off) */
		size_t mid = lo + (hi - lo) / 2;
		const struct func *f = &o->funcs[mid];

		if (f->sym->sec->index < sec->index || (f->sym->sec == sec && f->off <= off))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == o->ranges)
		return NULL;
	if (o->funcs[lo - 1].sym->sec != sec || off >= o->funcs[lo - 1].off + o->funcs[lo - 1].size)
		return NULL;
	return &o->funcs[lo - 1];
}

int refuse_unsized_code(struct diff *d)
{
	static const char why[] =
		"executable bytes no sized function symbol covers (assembly without .type and "
		".size, or a top-level asm block): a hotpatch replaces whole functions, and only a "
		"function symbol's size says where one ends; give the code `.type NAME, @function` "
		"and `.size NAME, . - NAME`";

	for_each_func(&d->new, f)
	{
		char *r;

		if (!is_unsized_change(f))
			continue;
		r = f->status == ST_NEW
			    ? xasprintf("new %s", why)
			    : xasprintf("%s; %s", f->reason ? f->reason : "changed", why);
		if (!r)
			return -1;
		free(f->reason);
		f->reason = r;
		f->unpatchable = true;
		d->unpatchable = true;
	}
	return 0;
}

/* ---- resolution --------------------------------------------------------- */

/*
 * The anonymous read-only piece holding `off` (inside sec's bytes): a
 * string of a mergeable string section, an entry of a section of mergeable
 * constants, else the bytes between the offsets anything refers to.
 */
static int piece_at(struct object *o, struct section *sec, uint64_t off, struct piece **out)
{
	if ((sec->flags & SHF_MERGE) && (sec->flags & SHF_STRINGS))
		return string_piece(o, sec, off, out);
	if ((sec->flags & SHF_MERGE) && sec->entsize)
		return get_piece(o, sec, off - off % sec->entsize, sec->entsize, out);
	return bounded_piece(o, sec, off, out);
}

/*
 * What lives at `off` in `sec`, seen from function `self` (may be NULL).
 * Returns 0, or -1 when out of memory.
 */
static int resolve_at(struct object *o, struct func *self, struct section *sec, int64_t off,
		      struct target *t)
{
	struct symbol *s;

	memset(t, 0, sizeof(*t));
	t->kind = T_SECTION;
	t->sec = sec;
	t->off = off;
	if (off < 0 || (uint64_t)off > sec->size)
		return 0;
	if (is_exec_sec(sec)) {
		struct func *f;

		s = find_symbol_containing(sec, (uint64_t)off);
		f = s ? func_of(s) : NULL;
		/* not inside a function (at most one past its end): unsized code there? */
		if (!f || (uint64_t)off >= f->off + f->size) {
			struct func *r = range_at(o, sec, (uint64_t)off);

			if (r)
				f = r;
		}
		if (!f)
			return 0;
		t->kind = f == self ? T_SELF : T_FUNC;
		t->func = f;
		t->off = off - (int64_t)f->off;
		return 0;
	}
	s = find_symbol_containing(sec, (uint64_t)off);
	if (s && dobj_of(s)) {
		t->kind = T_DATA;
		t->data = dobj_of(s);
		t->off = off - (int64_t)s->value;
		return 0;
	}
	/* Writable bytes no symbol covers have no identity: they stay a section offset. */
	if (is_writable_sec(sec) || !sec->data || (uint64_t)off == sec->size)
		return 0;
	if (piece_at(o, sec, (uint64_t)off, &t->piece) < 0)
		return -1;
	if (t->piece) {
		t->kind = T_PIECE;
		t->off = off - (int64_t)t->piece->off;
	}
	return 0;
}

/*
 * Resolve relocation r, whose field is `bias` bytes before the end of its
 * instruction (for PC-relative types), into a target and the adjustment.
 * Returns 0, or -1 when out of memory.
 */
static int resolve_reloc(struct object *o, struct func *self, const struct reloc *r, int64_t bias,
			 struct ref *ref)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(o->elf.machine, r->type);
	struct symbol *s = r->sym->alias_of ? r->sym->alias_of : r->sym;
	int64_t toff;

	switch (d ? d->calc : HP_CALC_ABS) {
	case HP_CALC_PCREL:
		toff = wadd(r->addend, bias);
		break;
	case HP_CALC_GOTPCREL:
	case HP_CALC_GOTTPOFF:
	case HP_CALC_TLSGD:
		toff = 0; /* the field points at a slot; the addend is slot-relative */
		break;
	default:
		toff = r->addend;
		break;
	}
	ref->adj = wsub(r->addend, toff);
	memset(&ref->t, 0, sizeof(ref->t));
	if (s->type == STT_SECTION && s->sec)
		return resolve_at(o, self, s->sec, toff, &ref->t);
	if (s->type == STT_GNU_IFUNC && s->sec) {
		/*
		 * An IFUNC's value is its resolver's address, yet a call or an
		 * address taken through the symbol means the implementation the
		 * resolver picks at load: the reference stays named (hppack
		 * reaches the implementation through the binary's PLT entry).
		 */
		ref->t.kind = T_UNDEF;
		ref->t.sym = s;
		ref->t.off = toff;
	} else if (func_of(s)) {
		ref->t.func = func_of(s);
		ref->t.kind = ref->t.func == self ? T_SELF : T_FUNC;
		ref->t.off = toff;
	} else if (dobj_of(s)) {
		ref->t.kind = T_DATA;
		ref->t.data = dobj_of(s);
		ref->t.off = toff;
	} else if (s->sec && s->type != STT_FILE) {
		/* a label or a zero-size symbol inside some section */
		return resolve_at(o, self, s->sec, wadd((int64_t)s->value, toff), &ref->t);
	} else {
		ref->t.kind = T_UNDEF;
		ref->t.sym = s;
		ref->t.off = toff;
	}
	return 0;
}

/* `where` names the function or section; `base` is its start in the section. */
static int check_reloc_type(struct object *o, const struct reloc *r, const char *where,
			    uint64_t base)
{
	char buf[32];

	if (hp_reloc_describe(o->elf.machine, r->type))
		return 0;
	return error("%s: %s+0x%llx: unsupported relocation %s%s", o->name, where,
		     (unsigned long long)(r->offset - base),
		     hp_reloc_name(o->elf.machine, r->type, buf, sizeof(buf)),
		     hp_reloc_hint(o->elf.machine, r->type));
}

long func_insn_at(const struct func *f, uint64_t off)
{
	long lo = 0, hi = f->ninsns;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;

		if (f->insns[mid].off + f->insns[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->ninsns && f->insns[lo].off <= off ? lo : -1;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * A decoded PC-relative field whose target is inside its own function (a
 * loop, an if) is not a reference: it compares as plain bytes, and moves
 * with the code.  One past the end is outside: the next function.
 */
static bool is_internal_target(const struct func *f, int64_t target)
{
	return target >= 0 && (uint64_t)target < f->size;
}

/* References of a function: its relocations, then decoded PC-relative fields. */
static int func_refs(struct object *o, struct func *f)
{
	struct section *sec = f->sym->sec;
	struct reloc *first = find_reloc(sec, f->off, f->size);
	size_t nrel = 0, cap;

	while (first && first + nrel < sec->relocs + sec->nrelocs &&
	       first[nrel].offset < f->off + f->size)
		nrel++;
	cap = nrel + (f->ninsns > 0 ? (size_t)f->ninsns : 0);
	f->refs = xcalloc(cap ? cap : 1, sizeof(*f->refs));
	if (!f->refs)
		return -1;
	for (size_t i = 0; i < nrel; i++) {
		const struct reloc *r = &first[i];
		uint64_t foff = r->offset - f->off;
		long at = func_insn_at(f, foff);
		const struct insn *in = at >= 0 ? &f->insns[at] : NULL;
		const struct hp_reloc_desc *d = hp_reloc_describe(o->elf.machine, r->type);
		struct ref *ref = &f->refs[f->nrefs++];
		int64_t bias;

		if (check_reloc_type(o, r, f->sym->name, f->off) < 0)
			return -1;
		if (foff + d->size > f->size)
			return error("%s: %s: relocation at 0x%llx crosses the end of the function",
				     o->name, f->sym->name, (unsigned long long)r->offset);
		bias = in ? (int64_t)(in->off + in->len - foff) : d->size;
		ref->off = (uint32_t)foff;
		ref->size = d->size;
		ref->type = r->type;
		ref->branch =
			in && in->rel_size && in->off + in->rel_off == foff && is_direct_branch(in);
		if (resolve_reloc(o, f, r, bias, ref) < 0)
			return -1;
	}
	for (long i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];
		int64_t target = insn_rel_target(in);
		uint64_t field = in->off + in->rel_off;
		struct ref *ref;

		if (!in->rel_size || find_reloc(sec, f->off + field, in->rel_size) ||
		    is_internal_target(f, target))
			continue;
		ref = &f->refs[f->nrefs++];
		ref->off = (uint32_t)field;
		ref->size = in->rel_size;
		/* 0 if no type has this width: emit.c refuses to carry the field */
		ref->type = arch_reloc_pcrel_type(o->elf.machine, in->rel_size);
		ref->implicit = true;
		ref->branch = is_direct_branch(in);
		ref->adj = -(int64_t)(in->len - in->rel_off);
		if (resolve_at(o, f, sec, (int64_t)f->off + target, &ref->t) < 0)
			return -1;
	}
	sort(f->refs, f->nrefs, sizeof(*f->refs), cmp_ref);
	return 0;
}

/*
 * References inside data: pointers in an initial value, entries of a jump
 * table.  A PC-relative entry of a jump table is relative to the table's
 * start (".long .L5-.L4"), so its position in the table is the adjustment.
 * Returns 0, or -1 (message said, nothing left in *out).
 */
static int data_refs(struct object *o, struct section *sec, uint64_t start, uint64_t size,
		     bool table_relative, struct ref **out, size_t *nout)
{
	struct reloc *first = find_reloc(sec, start, size);
	struct ref *refs;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	while (first && first + n < sec->relocs + sec->nrelocs && first[n].offset < start + size)
		n++;
	if (!n)
		return 0;
	refs = xcalloc(n, sizeof(*refs));
	if (!refs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct reloc *r = &first[i];
		const struct hp_reloc_desc *d = hp_reloc_describe(o->elf.machine, r->type);
		struct ref *ref = &refs[i];
		uint64_t foff = r->offset - start;

		if (check_reloc_type(o, r, sec->name, 0) < 0)
			goto fail;
		if (foff + d->size > size) {
			error("%s: %s: relocation at 0x%llx crosses the end of a data item",
			      o->name, sec->name, (unsigned long long)r->offset);
			goto fail;
		}
		ref->off = (uint32_t)foff;
		ref->size = d->size;
		ref->type = r->type;
		if (resolve_reloc(o, NULL, r, table_relative ? -(int64_t)foff : 0, ref) < 0)
			goto fail;
	}
	*out = refs;
	*nout = n;
	return 0;
fail:
	free(refs);
	return -1;
}

int piece_refs(struct object *o, struct piece *p)
{
	if (p->refs_built)
		return 0;
	if (data_refs(o, p->sec, p->off, p->size, true, &p->refs, &p->nrefs) < 0)
		return -1;
	p->refs_built = true;
	return 0;
}

static int add_user(struct dobj *d, struct func *f)
{
	struct func **v;

	if (d->nusers && d->users[d->nusers - 1] == f)
		return 0;
	v = xrealloc(d->users, (d->nusers + 1) * sizeof(*v));
	if (!v)
		return -1;
	v[d->nusers++] = f;
	d->users = v;
	return 0;
}

int object_analyse(struct object *o)
{
	for_each_func(o, f)
	{
		size_t bad = 0;

		f->ninsns = insn_decode_all(o->elf.machine, f->code, f->size, &f->insns, &bad);
		if (f->ninsns < 0)
			warn("%s: %s: bytes at +0x%zx do not decode; comparing it as raw bytes",
			     o->name, f->sym->name, bad);
	}
	for_each_func(o, f) if (func_refs(o, f) < 0) return -1;
	for_each_data(o, x) if (x->sec && x->sec->data &&
				data_refs(o, x->sec, x->off, x->size, false, &x->refs, &x->nrefs) <
					0) return -1;
	for_each_func(o, f)
		for_each_ref(f, r) if (r->t.kind == T_DATA && add_user(r->t.data, f) < 0) return -1;
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

/*
 * Compiler-private data symbols are literals, not variables: clang keeps
 * ".L.str.3" and ".L__const.main.buf" in the symbol table, and anything in
 * a mergeable section is a literal the linker may fold.  They are compared
 * by content like gcc's unnamed ".LC0", never by their numbered names.
 */
static bool is_anonymous(const struct symbol *s)
{
	return !strncmp(s->name, ".L", 2) || (s->sec && (s->sec->flags & SHF_MERGE));
}

/*
 * A function of the model: a function symbol with an extent, under its
 * canonical name (aliases resolve to it).  A zero-size function symbol
 * marks a place in hand-written assembly, not code to compare.
 */
static bool is_model_func(const struct symbol *s)
{
	return !s->alias_of && is_func_sym(s) && s->size;
}

/* A named data item of the model: canonical, and not a literal (is_anonymous()). */
static bool is_model_data(const struct symbol *s)
{
	return !s->alias_of && is_data_sym(s) && !is_anonymous(s);
}

static int init_func(struct func *f, struct object *o, struct symbol *s, uint64_t off,
		     uint64_t size)
{
	f->sym = s;
	f->obj = o;
	f->off = off;
	f->size = size;
	f->code = s->sec->data + off;
	f->diff_off = -1;
	f->emit = -1;
	f->key = clone_key(s->name);
	s->priv = f;
	return f->key ? 0 : -1;
}

/* The made-up symbol of unnamed unsized code, named for reports. */
static struct symbol *unnamed_sym(struct object *o, const struct range *r)
{
	struct symbol *s = &o->made_syms[o->nmade_syms];
	char *name = r->after ? xasprintf("(code after %s)", r->after->name)
			      : xasprintf("(code at %s+0x%llx)", r->sec->name,
					  (unsigned long long)r->off);

	if (!name)
		return NULL;
	o->nmade_syms++;
	*s = (struct symbol){.name = name,
			     .type = STT_NOTYPE,
			     .bind = STB_LOCAL,
			     .shndx = (uint16_t)r->sec->index,
			     .sec = r->sec,
			     .value = r->off,
			     .size = r->size};
	return s;
}

static int add_symbols(struct object *o)
{
	struct ranges r = {0};
	size_t nf = 0, nd = 0, unnamed = 0;
	int ret = -1;

	for_each_sym(&o->elf, s)
	{
		nf += is_model_func(s);
		nd += is_model_data(s);
	}
	if (find_ranges(o, &r) < 0)
		goto out;
	for (size_t i = 0; i < r.n; i++)
		unnamed += !r.v[i].label;
	o->funcs = xcalloc(nf + r.n, sizeof(*o->funcs));
	o->data = xcalloc(nd, sizeof(*o->data));
	o->made_syms = xcalloc(unnamed + 1, sizeof(*o->made_syms));
	if (!o->funcs || !o->data || !o->made_syms)
		goto out;
	for_each_sym(&o->elf, s)
	{
		if (is_model_func(s)) {
			if (init_func(&o->funcs[o->nfuncs++], o, s, s->value, s->size) < 0)
				goto out;
		} else if (is_model_data(s)) {
			struct dobj *d = &o->data[o->ndata++];

			d->sym = s;
			d->obj = o;
			d->sec = s->sec;
			d->off = s->sec ? s->value : 0;
			d->size = s->size;
			d->emit = -1;
			d->key = clone_key(s->name);
			if (!d->key)
				goto out;
			s->priv = d;
		}
	}
	/* funcs[ranges...]: in section and offset order, which range_at() searches */
	o->ranges = o->nfuncs;
	for (size_t i = 0; i < r.n; i++) {
		struct symbol *s = r.v[i].label ? r.v[i].label : unnamed_sym(o, &r.v[i]);
		struct func *f = &o->funcs[o->nfuncs++];

		if (!s || init_func(f, o, s, r.v[i].off, r.v[i].size) < 0)
			goto out;
		f->unsized = true;
		f->unnamed = !r.v[i].label;
	}
	ret = 0;
out:
	free(r.v);
	return ret;
}

int object_load(struct object *o, const char *name, const uint8_t *image, size_t size)
{
	memset(o, 0, sizeof(*o));
	o->name = name;
	if (hp_sha256(image, size, o->sha256) < 0)
		return error("%s: cannot hash", name);
	if (elf_open(&o->elf, name, image, size) < 0)
		return -1;
	o->bounds = xcalloc(o->elf.nsecs, sizeof(*o->bounds));
	if (!o->bounds || add_symbols(o) < 0) {
		object_free(o);
		return -1;
	}
	return 0;
}

void object_free(struct object *o)
{
	for_each_func(o, f)
	{
		free(f->insns);
		free(f->refs);
		free(f->key);
		free(f->reason);
		free(f->source);
		free(f->wcode);
		free(f->wmap);
	}
	free(o->funcs);
	for_each_data(o, x)
	{
		free(x->refs);
		free(x->key);
		free(x->reason);
		free(x->users);
	}
	free(o->data);
	for (size_t i = 0; i < o->nmade_syms; i++)
		free((char *)o->made_syms[i].name);
	free(o->made_syms);
	for (size_t i = 0; i < o->piece_cap; i++) {
		for (struct piece *p = o->pieces[i], *n; p; p = n) {
			n = p->next;
			free(p->refs);
			free(p);
		}
	}
	free(o->pieces);
	if (o->bounds)
		for (size_t i = 0; i < o->elf.nsecs; i++)
			free(o->bounds[i].v);
	free(o->bounds);
	elf_close(&o->elf);
	memset(o, 0, sizeof(*o));
}

/* ---- naming --------------------------------------------------------------- */

static void quote_string(const uint8_t *s, size_t n, char *buf, size_t size)
{
	size_t w = 0;

	if (size < 8)
		return;
	buf[w++] = '"';
	for (size_t i = 0; i < n && s[i] && w + 6 < size; i++) {
		if (i >= 40) {
			memcpy(buf + w, "...", 3);
			w += 3;
			break;
		}
		if (s[i] == '"' || s[i] == '\\') {
			buf[w++] = '\\';
			buf[w++] = (char)s[i];
		} else if (s[i] == '\n') {
			buf[w++] = '\\';
			buf[w++] = 'n';
		} else if (s[i] < 0x20 || s[i] >= 0x7f) {
			buf[w++] = '?';
		} else {
			buf[w++] = (char)s[i];
		}
	}
	buf[w++] = '"';
	buf[w] = 0;
}

const char *target_name(const struct target *t, char *buf, size_t size)
{
	char q[64];
	const char *base;

	switch (t->kind) {
	case T_SELF:
		snprintf(buf, size, "+0x%llx in itself", (unsigned long long)t->off);
		return buf;
	case T_FUNC:
		base = t->func->sym->name;
		break;
	case T_DATA:
		base = t->data->sym->name;
		break;
	case T_UNDEF:
		base = t->sym->name;
		break;
	case T_PIECE:
		if ((t->piece->sec->flags & SHF_STRINGS) && t->piece->sec->entsize <= 1) {
			quote_string(t->piece->sec->data + t->piece->off, t->piece->size, q,
				     sizeof(q));
			snprintf(buf, size, "string %s%s", q, t->off ? " (inside)" : "");
			return buf;
		}
		snprintf(buf, size, "%s bytes in %s", t->piece->nrefs ? "table" : "constant",
			 t->piece->sec->name);
		return buf;
	case T_SECTION:
		base = t->sec->name;
		break;
	default:
		snprintf(buf, size, "?");
		return buf;
	}
	if (t->off > 0)
		snprintf(buf, size, "%s+0x%llx", base, (unsigned long long)t->off);
	else if (t->off < 0)
		snprintf(buf, size, "%s-0x%llx", base, (unsigned long long)-t->off);
	else
		snprintf(buf, size, "%s", base);
	return buf;
}
