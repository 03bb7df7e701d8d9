/*
 * From .hpd files to a payload, against the baseline binary.
 *
 *   load      every .hpd decoded; any marked not hotpatchable refuses the package
 *   place     one code block per changed or new function, one data block per item
 *   find      each replaced function found in the baseline by name and source file,
 *             and proven to be the OLD object's code (provenance.c)
 *   resolve   every reference: a baseline symbol becomes an image offset; an
 *             import the binary already reaches becomes its PLT entry or GOT
 *             slot; thread-locals of the executable become constant offsets;
 *             what is left is an import the loader resolves
 */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hppack/pack.h"
#include "hppack/provenance.h"
#include "common/cli.h"
#include "common/mem.h"

#define MAX_HPD (1ull << 30)
#define MAX_CANDIDATES 16

static enum hp_reloc_calc calc_of(uint16_t machine, uint32_t type)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	return d ? d->calc : HP_CALC_NONE;
}

/*
 * A 4-byte S + A - P field: a direct call or jump, or a PC-relative
 * address.  It can point at the binary's PLT entry for a symbol instead.
 */
static bool pcrel32(uint16_t machine, uint32_t type)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	return d && d->calc == HP_CALC_PCREL && d->size == 4;
}

static size_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)h;
}

/* Where msg is in the set of refusals said, else the free entry it would take. */
static char **said_at(char **set, size_t cap, const char *msg)
{
	size_t i = hash_str(msg) & (cap - 1);

	while (set[i] && strcmp(set[i], msg))
		i = (i + 1) & (cap - 1);
	return &set[i];
}

/* Remember msg as said; on failure it may only be said again. */
static void remember_said(struct packer *p, const char *msg)
{
	char *copy;

	if ((p->nsaid + 1) * 2 > p->cap_said) {
		size_t cap = p->cap_said ? p->cap_said * 2 : 64;
		char **set = xcalloc(cap, sizeof(*set));

		if (!set)
			return;
		for (size_t i = 0; i < p->cap_said; i++)
			if (p->said[i])
				*said_at(set, cap, p->said[i]) = p->said[i];
		free(p->said);
		p->said = set;
		p->cap_said = cap;
	}
	if ((copy = xstrdup(msg))) {
		*said_at(p->said, p->cap_said, msg) = copy;
		p->nsaid++;
	}
}

static __attribute__((format(printf, 2, 3))) void refuse(struct packer *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->status < PACK_REFUSED)
		p->status = PACK_REFUSED;
	if (p->nsaid && *said_at(p->said, p->cap_said, msg))
		return;
	error("%s", msg);
	remember_said(p, msg);
}

/* ---- loading -------------------------------------------------------------------- */

static int cmp_input(const void *a, const void *b)
{
	const struct input *x = a, *y = b;
	int c = strcmp(x->h->object, y->h->object);

	/* by content, not by the paths given: objects of the same name in different directories */
	if (!c)
		c = strcmp(x->h->source, y->h->source);
	if (!c)
		c = memcmp(x->h->old_sha256, y->h->old_sha256, sizeof(x->h->old_sha256));
	return c ? c : memcmp(x->h->new_sha256, y->h->new_sha256, sizeof(x->h->new_sha256));
}

static void print_refusals(const struct input *in)
{
	for (uint32_t i = 0; i < in->h->nnotes; i++) {
		const struct hp_note *n = &in->h->notes[i];

		if (!n->patchable)
			error("%s: %s: not hotpatchable: %s", in->path, n->name, n->reason);
	}
}

/*
 * The STT_FILE name under which the linked baseline lists the object's
 * locals: its source file; for an object without STT_FILE symbols (glibc's
 * libc.a, assembly without .file) GNU ld files them under the object's own
 * name, the archive member's for a library: "libc.a(malloc.o)" -> "malloc.o".
 */
static char *local_scope(const struct hp_hpd *h)
{
	const char *o = h->object, *open = strrchr(o, '('), *slash;
	size_t n = strlen(o);

	if (h->source[0])
		return xstrdup(h->source);
	if (open && n > 2 && o[n - 1] == ')' && open[1] != ')')
		return xasprintf("%.*s", (int)(o + n - 1 - (open + 1)), open + 1);
	slash = strrchr(o, '/');
	return xstrdup(slash ? slash + 1 : o);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "hpdiff 0.1.0, hppack 0.1.0": every tool that made the inputs, once, sorted. */
static int collect_tools(struct packer *p)
{
	const char **v = xcalloc(p->nin + 1, sizeof(*v));
	size_t n = 0, len = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < p->nin; i++) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen |= !strcmp(v[k], p->in[i].h->tool);
		if (!seen)
			v[n++] = p->in[i].h->tool;
	}
	v[n++] = "hppack " HP_VERSION;
	sort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 2;
	p->tools = xcalloc(len + 1, 1);
	if (!p->tools) {
		free(v);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(p->tools, ", ");
		strcat(p->tools, v[i]);
	}
	free(v);
	return 0;
}

int pack_load_inputs(struct packer *p, char **paths, int n)
{
	p->in = xcalloc((size_t)n, sizeof(*p->in));
	if (!p->in)
		return PACK_TROUBLE;
	for (int i = 0; i < n; i++) {
		struct input *in = &p->in[p->nin];
		struct hp_error e;
		char msg[200];
		uint8_t *buf;
		size_t len;

		if (hp_read_file(paths[i], MAX_HPD, &buf, &len, &e) < 0) {
			error("%s: %s", paths[i], hp_error_text(&e, msg, sizeof(msg)));
			return PACK_TROUBLE;
		}
		if (hp_hpd_decode(buf, len, &in->h, &e) < 0) {
			free(buf);
			error("%s: not a valid .hpd file: %s", paths[i],
			      hp_error_text(&e, msg, sizeof(msg)));
			return PACK_TROUBLE;
		}
		free(buf);
		in->path = paths[i];
		p->nin++;
		in->scope = local_scope(in->h);
		if (!in->scope)
			return PACK_TROUBLE;
		if (in->h->flags & HP_HPD_F_UNPATCHABLE) {
			print_refusals(in);
			refuse(p, "%s: %s has changes that cannot be hotpatched", paths[i],
			       in->h->object);
		}
	}
	for (size_t i = 0; i < p->nin; i++)
		for (size_t k = i + 1; k < p->nin; k++)
			/*
			 * The same baseline object twice (two fixes of it, or one .hpd
			 * given twice).  Objects that only share a name, such as
			 * src/a/util.o and src/b/util.o, are different objects.
			 */
			if (!memcmp(p->in[i].h->old_sha256, p->in[k].h->old_sha256,
				    sizeof(p->in[i].h->old_sha256)))
				refuse(p, "%s and %s describe the same object (%s)", p->in[i].path,
				       p->in[k].path, p->in[i].h->object);
	/* The package does not depend on the order of the arguments. */
	sort(p->in, p->nin, sizeof(*p->in), cmp_input);
	if (collect_tools(p) < 0)
		return PACK_TROUBLE;
	return p->status;
}

/* ---- names of the items ------------------------------------------------------------ */

/* The baseline lookup of one .hpd symbol (struct input's lookup). */
struct sym_lookup {
	const struct bsym *s;
	size_t n;
	bool done;
};

/* An item an input defines under a name (its own or an alias). */
struct named {
	const char *name;
	uint32_t in;	/* into p->in */
	uint32_t kind;	/* HP_TGT_FUNC or HP_TGT_DATA */
	uint32_t index; /* into the input's funcs or data */
};

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
static int index_names(struct packer *p)
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

/* The first of the new globals named so, in order of precedence, or NULL. */
static const struct named *find_named(const struct packer *p, const char *name)
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

/* ---- placing code and data ------------------------------------------------------ */

#define NO_ITEM UINT32_MAX

/*
 * A "new" global variable the baseline already defines under that name (or
 * an alias) was moved from another object by the fix: it is the same
 * variable, and the running process holds its value.  The package binds to
 * the baseline's instance instead of making a second one (true); a size
 * that differs is refused.
 */
/*
 * Name k of an item: 0 is its own name, then its aliases (list[at[item]]
 * up to at[item + 1], see struct input); NULL past the last.
 */
static const char *nth_name(const struct hp_hpd *h, const char *name, const uint32_t *at,
			    const uint32_t *list, uint32_t item, uint32_t k)
{
	if (k == 0)
		return name;
	return at[item] + k - 1 < at[item + 1] ? h->aliases[list[at[item] + k - 1]].name : NULL;
}

static bool bind_existing(struct packer *p, struct input *in, uint32_t d)
{
	const struct hp_hpd *h = in->h;
	const struct hp_data *hd = &h->data[d];
	const struct bsym *cand[MAX_CANDIDATES];
	const char *name;

	in->bound_of[d] = -1;
	if (hd->kind == HP_DATA_RODATA || hd->bind == HP_BIND_LOCAL)
		return false;
	for (uint32_t k = 0; (name = nth_name(h, hd->name, in->dalias_at, in->dalias, d, k)); k++) {
		size_t n = baseline_find(p->b, name, NULL, cand, MAX_CANDIDATES);
		const struct bsym *s = n ? cand[0] : NULL;

		if (!s || (s->type != STT_OBJECT && s->type != STT_NOTYPE))
			continue;
		if (s->size != hd->size) {
			refuse(p, "%s: %s moves into %s with %llu bytes, but %s has it with %llu "
				  "bytes: a running process cannot change its size",
			       in->path, name, h->object, (unsigned long long)hd->size,
			       p->b->path, (unsigned long long)s->size);
			return false;
		}
		in->bound_of[d] = (int64_t)(s->value - p->b->img.base);
		return true;
	}
	return false;
}

static const char *scope_of(const struct input *in, uint8_t bind)
{
	return bind == HP_BIND_LOCAL ? in->scope : NULL;
}

static const struct bsym *pick_local(const struct input *in, const struct bsym **cand, size_t n);

/*
 * The baseline symbol the input's hs (one of in->h->syms) names: a local by
 * the input's source file, else the first of the name.  *n is how many the
 * baseline has of that name (in that file); NULL when none, or a local is
 * ambiguous.  Looked up once per symbol, when in->group is known.
 */
static const struct bsym *baseline_sym(const struct packer *p, const struct input *in,
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

/* Where the baseline itself has hs (a symbol, else its PLT entry): an image offset. */
static bool baseline_target(const struct packer *p, const struct input *in,
			    const struct hp_sym *hs, int64_t *off)
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
 * the baseline's function (true, and references go there); moved and
 * changed, the old copy would go on serving every caller the package does
 * not replace, so the package is refused.
 */
static bool moved_function(struct packer *p, struct input *in, uint32_t fi)
{
	const struct hp_hpd *h = in->h;
	const struct hp_func *f = &h->funcs[fi];
	const struct bsym *cand[MAX_CANDIDATES];
	const char *name;

	in->fbound_of[fi] = -1;
	if (f->status != HP_FUNC_NEW || f->bind == HP_BIND_LOCAL)
		return false;
	for (uint32_t k = 0; (name = nth_name(h, f->name, in->falias_at, in->falias, fi, k));
	     k++) {
		size_t n = baseline_find(p->b, name, NULL, cand, MAX_CANDIDATES);

		if (!n || cand[0]->type != STT_FUNC)
			continue;
		if (same_code(p, in, f, cand[0])) {
			in->fbound_of[fi] = (int64_t)(cand[0]->value - p->b->img.base);
			return true;
		}
		refuse(p, "%s: %s is new in %s, but %s already has a function %s with other "
			  "code: moved between objects and changed, which a package cannot "
			  "replace (every caller of the old copy would keep it)",
		       in->path, f->name, h->object, p->b->path, name);
		return false;
	}
	return false;
}

static int place(struct packer *p)
{
	for (size_t i = 0; i < p->nin; i++) {
		struct input *in = &p->in[i];
		struct hp_hpd *h = in->h;

		in->code_of = xcalloc(h->nfuncs + 1, sizeof(*in->code_of));
		in->data_of = xcalloc(h->ndata + 1, sizeof(*in->data_of));
		in->bound_of = xcalloc(h->ndata + 1, sizeof(*in->bound_of));
		in->fbound_of = xcalloc(h->nfuncs + 1, sizeof(*in->fbound_of));
		if (!in->code_of || !in->data_of || !in->bound_of || !in->fbound_of)
			return -1;
		for (uint32_t f = 0; f < h->nfuncs; f++) {
			struct hp_pcode *c;

			if (moved_function(p, in, f)) {
				in->code_of[f] = NO_ITEM;
				continue;
			}
			if (grow_array(&p->pl.code, &p->cap_code, p->pl.ncode, sizeof(*c), 16) < 0)
				return -1;
			in->code_of[f] = p->pl.ncode;
			c = &p->pl.code[p->pl.ncode++];
			c->kind = h->funcs[f].status == HP_FUNC_CHANGED ? HP_PCODE_REPLACEMENT
									: HP_PCODE_NEW;
			c->align = h->funcs[f].align;
			c->name = xstrdup(h->funcs[f].name);
			c->size = h->funcs[f].size;
			c->code = xmalloc(c->size);
			if (!c->name || !c->code)
				return -1;
			memcpy(c->code, h->funcs[f].code, c->size);
		}
		for (uint32_t d = 0; d < h->ndata; d++) {
			const struct hp_data *hd = &h->data[d];
			struct hp_pdata *pd;

			if (bind_existing(p, in, d)) {
				in->data_of[d] = NO_ITEM;
				continue;
			}
			if (grow_array(&p->pl.data, &p->cap_data, p->pl.ndata, sizeof(*pd), 16) < 0)
				return -1;
			in->data_of[d] = p->pl.ndata;
			pd = &p->pl.data[p->pl.ndata++];
			pd->kind = hd->kind == HP_DATA_VAR   ? HP_PDATA_DATA
				   : hd->kind == HP_DATA_BSS ? HP_PDATA_BSS
							     : HP_PDATA_RODATA;
			pd->align = hd->align;
			pd->name = xstrdup(hd->name);
			pd->size = hd->size;
			if (!pd->name)
				return -1;
			if (hd->init) {
				pd->init = xmalloc(hd->size);
				if (!pd->init)
					return -1;
				memcpy(pd->init, hd->init, hd->size);
			}
		}
	}
	return 0;
}

/* ---- finding and proving replaced functions ---------------------------------------- */

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

/* Which of the candidates has f's baseline code?  NULL if none or several do. */
static const struct bsym *prove(struct packer *p, const struct hp_func *f,
				const struct bsym **cand, size_t n, uint32_t *bad)
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

/*
 * Find and prove the baseline function each changed function replaces, and
 * with it the input's source file group: before place(), whose test of a
 * moved function resolves the input's file-local symbols by that group.
 */
static int find_replaced(struct packer *p, struct input *in)
{
	in->replaces = xcalloc(in->h->nfuncs + 1, sizeof(*in->replaces));
	if (!in->replaces)
		return -1;
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
			refuse(p, "%s: %s%s%s is not in %s: the package is for another baseline",
			       in->path, f->base_name, scope ? " of " : "", scope ? scope : "",
			       p->b->path);
			continue;
		}
		s = prove(p, f, cand, n < MAX_CANDIDATES ? n : MAX_CANDIDATES, &bad);
		if (!s) {
			if (n > 1 && !bad)
				refuse(p, "%s: %s: %zu functions of that name in %s have its code",
				       in->path, f->base_name, n, p->b->path);
			else if (bad == UINT32_MAX)
				refuse(p, "%s: %s has %u bytes in the object but %llu in %s: the "
					  "objects were not built into this baseline",
				       in->path, f->base_name, f->old_size,
				       (unsigned long long)cand[0]->size, p->b->path);
			else
				refuse(p, "%s: %s differs from %s's at +0x%x: the objects were not "
					  "built into this baseline",
				       in->path, f->base_name, p->b->path, bad - 1);
			continue;
		}
		/* a hidden global the linker made local has no source file group */
		if (f->bind == HP_BIND_LOCAL)
			in->group = s->group;
		in->replaces[i] = s;
	}
	return 0;
}

/* The replaced functions of an input with their placed code (after place()). */
static int add_input_replaced(struct packer *p, const struct input *in)
{
	for (uint32_t i = 0; i < in->h->nfuncs; i++)
		if (in->replaces[i] &&
		    add_replaced(p, in->replaces[i], in->code_of[i], in->h->funcs[i].base_name) < 0)
			return -1;
	return 0;
}

/* ---- resolving references ------------------------------------------------------------ */

static long import_index(struct packer *p, const char *name, bool weak)
{
	struct hp_pimport *im;

	for (uint32_t i = 0; i < p->pl.nimports; i++)
		if (!strcmp(p->pl.imports[i].name, name))
			return i;
	if (grow_array(&p->pl.imports, &p->cap_imports, p->pl.nimports, sizeof(*im), 16) < 0)
		return -1;
	im = &p->pl.imports[p->pl.nimports];
	im->weak = weak;
	im->name = xstrdup(name);
	if (!im->name)
		return -1;
	return p->pl.nimports++;
}

/* Point r at data item d of input in: its placed copy, or the baseline's instance. */
static void to_data(const struct input *in, uint32_t d, struct hp_preloc *r)
{
	if (in->data_of[d] == NO_ITEM) {
		r->target = HP_PT_IMAGE;
		r->target_off = in->bound_of[d];
	} else {
		r->target = HP_PT_DATA;
		r->index = in->data_of[d];
	}
}

/* Point r at function f of input in: its placed code, or the baseline's copy. */
static void to_code(const struct input *in, uint32_t f, struct hp_preloc *r)
{
	if (in->code_of[f] == NO_ITEM) {
		r->target = HP_PT_IMAGE;
		r->target_off = in->fbound_of[f];
	} else {
		r->target = HP_PT_CODE;
		r->index = in->code_of[f];
	}
}

/* A global another .hpd defines anew, by its name or an alias. */
static bool new_global(const struct packer *p, const char *name, struct hp_preloc *r)
{
	const struct named *n = find_named(p, name);

	if (!n)
		return false;
	if (n->kind == HP_TGT_FUNC)
		to_code(&p->in[n->in], n->index, r);
	else
		to_data(&p->in[n->in], n->index, r);
	return true;
}

/*
 * A load through a slot (G + A - P, G the slot's address) that the binary
 * already has: the same field is S + A - P with S the slot, a plain
 * PC-relative reference into the image.
 */
static void through_slot(const struct packer *p, uint64_t slot, struct hp_preloc *r)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(p->machine, r->type);

	r->type = arch_reloc_pcrel_type(p->machine, d->size);
	r->target = HP_PT_IMAGE;
	r->target_off = (int64_t)(slot - p->b->img.base);
}

/* A thread-local of the baseline. */
static int resolve_tls(struct packer *p, const struct input *in, const struct bsym *s,
		       struct hp_preloc *r)
{
	enum hp_reloc_calc calc = calc_of(p->machine, r->type);
	uint64_t slot;

	if (!hp_image_is_program(&p->b->img) &&
	    (calc == HP_CALC_TPOFF || (calc == HP_CALC_GOTTPOFF && !baseline_tls_slot(p->b, s)))) {
		refuse(p, "%s: thread-local %s: %s is a shared library, whose thread-local "
			  "offsets are only known when it is loaded",
		       in->path, s->name, p->b->path);
		return 1;
	}
	switch (calc) {
	case HP_CALC_TPOFF:
		r->target = HP_PT_CONST;
		r->target_off = baseline_tpoff(p->b, s);
		return 0;
	case HP_CALC_GOTTPOFF:
		/* the slot the binary already has, else one the loader fills */
		slot = baseline_tls_slot(p->b, s);
		if (slot) {
			through_slot(p, slot, r);
		} else {
			r->target = HP_PT_CONST;
			r->target_off = baseline_tpoff(p->b, s);
		}
		return 0;
	default:
		refuse(p, "%s: thread-local %s is accessed with the general or local dynamic model "
			  "(code built with -fPIC); only executables' local and initial exec "
			  "accesses can be hotpatched",
		       in->path, s->name);
		return 1;
	}
}

/*
 * An IFUNC the binary defines (a static program's string functions): its
 * symbol is the resolver, so calls go through the binary's own PLT entry
 * and loads through its IRELATIVE slot, which hold the implementation.
 */
static int resolve_ifunc(struct packer *p, const struct input *in, const struct bsym *s,
			 struct hp_preloc *r)
{
	uint64_t v = 0;

	if (pcrel32(p->machine, r->type) && (v = baseline_ifunc_plt(p->b, s))) {
		r->target = HP_PT_IMAGE;
		r->target_off = (int64_t)(v - p->b->img.base);
		return 0;
	}
	if (arch_reloc_got_load(p->machine, r->type) && (v = baseline_ifunc_slot(p->b, s))) {
		through_slot(p, v, r);
		return 0;
	}
	refuse(p, "%s: %s is an IFUNC in %s, and the binary has no PLT entry or slot "
		  "for it that new code could use",
	       in->path, s->name, p->b->path);
	return 1;
}

/* A symbol the binary does not define: through its PLT or GOT, or an import. */
static int resolve_import(struct packer *p, const struct hp_sym *hs, struct hp_preloc *r)
{
	uint64_t v;
	long idx;

	if (pcrel32(p->machine, r->type) && (v = baseline_plt(p->b, hs->name))) {
		r->target = HP_PT_IMAGE;
		r->target_off = (int64_t)(v - p->b->img.base);
		return 0;
	}
	if (arch_reloc_got_load(p->machine, r->type) && (v = baseline_got(p->b, hs->name))) {
		through_slot(p, v, r);
		return 0;
	}
	/* a static program has nothing to import from (a weak symbol is just null) */
	if (!hp_image_links_libraries(&p->b->img) && hs->bind != HP_BIND_WEAK) {
		refuse(p, "%s is not defined in %s, a static program that loads no library",
		       hs->name, p->b->path);
		return 1;
	}
	idx = import_index(p, hs->name, hs->bind == HP_BIND_WEAK);
	if (idx < 0)
		return -1;
	r->target = HP_PT_IMPORT;
	r->index = (uint32_t)idx;
	return 0;
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

static int resolve_sym(struct packer *p, const struct input *in, const struct hp_sym *hs,
		       struct hp_preloc *r)
{
	const char *scope = scope_of(in, hs->bind);
	size_t n;
	const struct bsym *s = baseline_sym(p, in, hs, &n);

	if (!n && scope) {
		refuse(p, "%s: %s of %s is not in %s", in->path, hs->name, scope, p->b->path);
		return 1;
	}
	if (!n && new_global(p, hs->name, r))
		return 0;
	/*
	 * Defined by the OLD object, yet not in the binary (discarded by
	 * --gc-sections, or another build): importing it instead would bind the
	 * new code to whatever other module exports that name.
	 */
	if (!n && hs->kind == HP_SYM_BASE) {
		refuse(p, "%s: %s is defined by %s but not in %s: the objects were not built "
			  "into this baseline, or the linker discarded it",
		       in->path, hs->name, in->h->object, p->b->path);
		return 1;
	}
	if (!n)
		return resolve_import(p, hs, r);
	if (!s) {
		refuse(p, "%s: %s of %s is ambiguous in %s: %zu source files of that name", in->path,
		       hs->name, scope, p->b->path, n);
		return 1;
	}
	if ((hs->type == HP_STYPE_TLS) != (s->type == STT_TLS)) {
		if (hs->type == HP_STYPE_TLS)
			refuse(p, "%s: %s is thread-local in the object but not in %s", in->path,
			       hs->name, p->b->path);
		else
			refuse(p, "%s: %s is thread-local in %s but not in the object", in->path,
			       hs->name, p->b->path);
		return 1;
	}
	if (s->type == STT_TLS)
		return resolve_tls(p, in, s, r);
	if (s->type == STT_GNU_IFUNC)
		return resolve_ifunc(p, in, s, r);
	r->target = HP_PT_IMAGE;
	r->target_off = (int64_t)(s->value - p->b->img.base);
	return 0;
}

static int resolve_relocs(struct packer *p, const struct input *in, const struct hp_reloc *src,
			  uint32_t n, struct hp_preloc **out, uint32_t *nout)
{
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (!n)
		return 0;
	*out = xcalloc(n, sizeof(**out));
	if (!*out)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		struct hp_preloc *r = &(*out)[i];
		int ret = 0;

		r->offset = src[i].offset;
		r->type = src[i].type;
		r->addend = src[i].addend;
		switch (src[i].target_kind) {
		case HP_TGT_FUNC:
			to_code(in, src[i].target, r);
			break;
		case HP_TGT_DATA:
			to_data(in, src[i].target, r);
			break;
		default:
			ret = resolve_sym(p, in, &in->h->syms[src[i].target], r);
			break;
		}
		if (ret < 0)
			return -1;
		if (!ret && !hp_payload_reloc_ok(p->machine, r->type, r->target)) {
			char name[32];

			refuse(p, "%s: %s to %s cannot be applied by the loader", in->path,
			       hp_reloc_name(p->machine, r->type, name, sizeof(name)),
			       src[i].target_kind == HP_TGT_SYM ? in->h->syms[src[i].target].name
								: "new code or data");
			ret = 1;
		}
		bad |= ret;
	}
	*nout = n;
	return bad;
}

static int resolve_input(struct packer *p, struct input *in)
{
	const struct hp_hpd *h = in->h;

	for (uint32_t f = 0; f < h->nfuncs; f++) {
		struct hp_pcode *c;

		if (in->code_of[f] == NO_ITEM) /* the baseline's own copy: nothing to place */
			continue;
		c = &p->pl.code[in->code_of[f]];
		if (resolve_relocs(p, in, h->funcs[f].relocs, h->funcs[f].nrelocs, &c->relocs,
				   &c->nrelocs) < 0)
			return -1;
	}
	for (uint32_t d = 0; d < h->ndata; d++) {
		struct hp_pdata *pd;

		if (in->data_of[d] == NO_ITEM) /* the baseline's instance: nothing to fill */
			continue;
		pd = &p->pl.data[in->data_of[d]];
		if (resolve_relocs(p, in, h->data[d].relocs, h->data[d].nrelocs, &pd->relocs,
				   &pd->nrelocs) < 0)
			return -1;
	}
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
static int order_replaced(struct packer *p)
{
	struct replaced *v = xcalloc(p->nfuncs + 1, sizeof(*v));

	if (!v)
		return -1;
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
			refuse(p, "%s is replaced twice (by more than one .hpd)", p->funcs[i].name);
	p->pl.replaced = xcalloc(p->nfuncs + 1, sizeof(*p->pl.replaced));
	if (!p->pl.replaced)
		return -1;
	if (p->nfuncs) /* func_code is NULL when nothing is replaced */
		memcpy(p->pl.replaced, p->func_code, p->nfuncs * sizeof(*p->func_code));
	p->pl.nreplaced = p->nfuncs;
	return 0;
}

/* The machine the baseline and every .hpd are for. */
static int check_machine(struct packer *p)
{
	p->machine = p->b->img.machine;
	for (size_t i = 0; i < p->nin; i++)
		if (p->in[i].h->machine != p->machine)
			return error("%s is for %s, but %s is a binary for %s", p->in[i].path,
				     arch_name(p->in[i].h->machine), p->b->path,
				     arch_name(p->machine));
	return 0;
}

int pack_resolve(struct packer *p)
{
	if (check_machine(p) < 0 || index_names(p) < 0)
		return PACK_TROUBLE;
	for (size_t i = 0; i < p->nin; i++)
		if (find_replaced(p, &p->in[i]) < 0)
			return PACK_TROUBLE;
	if (place(p) < 0)
		return PACK_TROUBLE;
	for (size_t i = 0; i < p->nin; i++)
		if (add_input_replaced(p, &p->in[i]) < 0)
			return PACK_TROUBLE;
	for (size_t i = 0; i < p->nin; i++)
		if (resolve_input(p, &p->in[i]) < 0)
			return PACK_TROUBLE;
	if (order_replaced(p) < 0)
		return PACK_TROUBLE;
	if (p->status == PACK_OK && !p->nfuncs)
		refuse(p, "nothing to replace: the .hpd files hold no changed function");
	return p->status;
}

void pack_free(struct packer *p)
{
	for (size_t i = 0; i < p->nin; i++) {
		hp_hpd_free(p->in[i].h);
		free(p->in[i].scope);
		free(p->in[i].code_of);
		free(p->in[i].data_of);
		free(p->in[i].bound_of);
		free(p->in[i].fbound_of);
		free(p->in[i].replaces);
		free(p->in[i].falias_at);
		free(p->in[i].falias);
		free(p->in[i].dalias_at);
		free(p->in[i].dalias);
		free(p->in[i].lookup);
	}
	free(p->in);
	for (uint32_t i = 0; i < p->pl.ncode; i++) {
		free(p->pl.code[i].name);
		free(p->pl.code[i].code);
		free(p->pl.code[i].relocs);
	}
	free(p->pl.code);
	for (uint32_t i = 0; i < p->pl.ndata; i++) {
		free(p->pl.data[i].name);
		free(p->pl.data[i].init);
		free(p->pl.data[i].relocs);
	}
	free(p->pl.data);
	for (uint32_t i = 0; i < p->pl.nimports; i++)
		free(p->pl.imports[i].name);
	free(p->pl.imports);
	free(p->pl.replaced);
	for (uint32_t i = 0; i < p->nfuncs; i++)
		free(p->funcs[i].name);
	free(p->funcs);
	free(p->func_code);
	free(p->tools);
	free(p->named);
	for (size_t i = 0; i < p->cap_said; i++)
		free(p->said[i]);
	free(p->said);
	memset(p, 0, sizeof(*p));
}
