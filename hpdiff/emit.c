/*
 * Building the .hpd of a diff: the changed and new functions' code, the
 * data and read-only pieces that code needs, the reference map, and the
 * findings.
 *
 * Where a reference goes is the core of hotpatch correctness:
 *  - a call or jump to a function that is emitted goes to the new code;
 *  - taking the address of a changed function names the baseline symbol,
 *    so function pointers keep comparing equal (its entry is redirected);
 *  - existing writable data is always the running instance in the
 *    baseline, never a copy, so the process keeps its state;
 *  - literals, constants and jump tables are copied with the code.
 * Each is one predicate below: goes_to_new_code(), refers_to_running_instance()
 * and goes_to_copy().
 */
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpdiff/diff.h"
#include "hpdiff/emit.h"
#include "common/cli.h"
#include "common/mem.h"

struct emitter {
	struct diff *d;
	struct hp_hpd *h;
	size_t cap_syms, cap_funcs, cap_data, cap_notes;
	int depth;
	const char *why; /* why a piece cannot be carried (emit_piece returned UNEXPRESSIBLE) */
};

/* emit_piece(): the piece refers to something a package cannot express. */
#define UNEXPRESSIBLE (-2)

/* Anonymous read-only data chained deeper than this is not carried (a crafted chain). */
#define MAX_PIECE_DEPTH 64

static uint8_t hp_bind_of(const struct symbol *s)
{
	if (s->bind == STB_LOCAL)
		return HP_BIND_LOCAL;
	return s->bind == STB_WEAK ? HP_BIND_WEAK : HP_BIND_GLOBAL;
}

static uint8_t hp_type_of(const struct symbol *s)
{
	switch (s->type) {
	case STT_FUNC:
		return HP_STYPE_FUNC;
	case STT_OBJECT:
		return HP_STYPE_OBJECT;
	case STT_TLS:
		return HP_STYPE_TLS;
	default:
		return HP_STYPE_NOTYPE;
	}
}

/* Index of the named symbol in the table, adding it once. */
static long sym_index(struct emitter *e, uint8_t kind, uint8_t bind, uint8_t type, const char *name)
{
	struct hp_hpd *h = e->h;

	for (uint32_t i = 0; i < h->nsyms; i++)
		if (h->syms[i].kind == kind && h->syms[i].bind == bind &&
		    !strcmp(h->syms[i].name, name))
			return i;
	if (grow_array(&h->syms, &e->cap_syms, h->nsyms, sizeof(*h->syms), 16) < 0)
		return -1;
	h->syms[h->nsyms] = (struct hp_sym){kind, bind, type, xstrdup(name)};
	if (!h->syms[h->nsyms].name)
		return -1;
	return h->nsyms++;
}

static long base_sym(struct emitter *e, const struct symbol *old)
{
	return sym_index(e, HP_SYM_BASE, hp_bind_of(old), hp_type_of(old), old->name);
}

/*
 * A target named rather than located (T_UNDEF): a symbol the object
 * imports, or an IFUNC the object defines (object.c keeps those by name),
 * which is the baseline object's own.
 */
static long named_sym(struct emitter *e, const struct symbol *s)
{
	return sym_index(e, s->sec ? HP_SYM_BASE : HP_SYM_UNDEF, hp_bind_of(s), hp_type_of(s),
			 s->name);
}

/*
 * An IFUNC the fixed object defines that the baseline object does not:
 * its resolver never ran in the process, and a package cannot run it.
 */
static bool is_new_ifunc(const struct emitter *e, const struct symbol *s)
{
	const struct symbol *old;

	if (!s->sec || s->type != STT_GNU_IFUNC)
		return false;
	old = find_symbol_by_name(&e->d->old.elf, s->name);
	return !old || !old->sec || old->type != STT_GNU_IFUNC;
}

static int note(struct emitter *e, uint8_t subject, uint8_t status, bool patchable,
		const char *name, const char *reason)
{
	struct hp_hpd *h = e->h;
	struct hp_note *n;

	if (grow_array(&h->notes, &e->cap_notes, h->nnotes, sizeof(*h->notes), 16) < 0)
		return -1;
	n = &h->notes[h->nnotes++];
	n->subject = subject;
	n->status = status;
	n->patchable = patchable;
	n->name = xstrdup(name);
	n->reason = xstrdup(reason ? reason : "");
	if (!patchable)
		h->flags |= HP_HPD_F_UNPATCHABLE;
	return n->name && n->reason ? 0 : -1;
}

static uint32_t clamp_align(uint64_t a)
{
	uint32_t v = 1;

	while (v < a && v < HP_HPD_MAX_ALIGN)
		v <<= 1;
	return v;
}

static long emit_piece(struct emitter *e, struct piece *p);
static long emit_dobj(struct emitter *e, struct dobj *x);

/* Mark a function unpatchable, keeping what changed and adding why (once). */
static void refuse(struct func *f, const char *why)
{
	char *r;

	if (f->unpatchable)
		return;
	f->unpatchable = true;
	r = f->reason ? xasprintf("%s; %s", f->reason, why) : xstrdup(why);
	free(f->reason);
	f->reason = r;
}

/*
 * A call, a jump or a label inside a function reaches its new code when
 * the function is emitted: new, or changed (the old code is left behind).
 * Taking a changed function's address (a pointer to its entry) names the
 * baseline symbol instead: its entry is redirected to the new code, and
 * function pointers the process already holds keep comparing equal.
 */
static bool goes_to_new_code(const struct ref *r)
{
	const struct func *f = r->t.func;

	return f->status == ST_NEW || (f->status == ST_CHANGED && (r->branch || r->t.off != 0));
}

/*
 * The running-instance rule: a reference from emitted code to a variable
 * the baseline already has (writable, common or thread-local data:
 * is_writable_data()) resolves to the RUNNING instance, its symbol in the
 * baseline, never to a copy: the process keeps its state, and the code
 * that is not replaced goes on using that same instance.  This holds
 * whether or not the variable changed, and compare.c's rule agrees:
 * is_replaceable_data() never lets a changed variable be replaced, it
 * makes it unpatchable, so a .hpd never carries a copy of one.
 */
static bool refers_to_running_instance(const struct dobj *x)
{
	return x->twin && is_writable_data(x);
}

/*
 * Data the .hpd carries a copy of: a new variable or constant (the
 * baseline has none), and a changed constant compare.c replaces
 * (is_replaced_data()).  Everything else, unchanged constants included,
 * is the baseline's.
 */
static bool goes_to_copy(const struct dobj *x)
{
	if (refers_to_running_instance(x))
		return false;
	return x->status == ST_NEW || is_replaced_data(x);
}

/*
 * Why a reference to a section offset no symbol or literal covers cannot
 * be carried: a package names what it refers to.
 */
static const char *unnamed_target_reason(const struct section *sec)
{
	if (is_exec_sec(sec))
		return "refers to code outside any function symbol";
	if (is_writable_sec(sec))
		return "refers to writable data that has no symbol, so the running instance cannot "
		       "be found in the baseline";
	return "refers to bytes no symbol or literal covers";
}

/*
 * Turn a reference of emitted code or data into an .hpd relocation.
 * `self` is the emitted function holding it (NULL inside data).
 * Returns 0, 1 if the target cannot be expressed (*why set), -1 on error.
 */
static int make_reloc(struct emitter *e, const struct ref *r, struct func *self,
		      struct hp_reloc *out, const char **why)
{
	const struct target *t = &r->t;
	uint16_t machine = e->d->machine;
	int64_t off = t->off;
	long idx;

	/* a decoded field of a width no relocation type has (object.c): nothing can carry it */
	if (!hp_reloc_describe(machine, r->type)) {
		*why = "a PC-relative field has a width no relocation type has";
		return 1;
	}
	out->type = r->type;
	out->target_kind = HP_TGT_SYM;
	switch (t->kind) {
	case T_SELF:
		out->target_kind = HP_TGT_FUNC;
		idx = self->emit;
		off = emitted_offset(self, off);
		break;
	case T_FUNC:
		if (goes_to_new_code(r)) {
			out->target_kind = HP_TGT_FUNC;
			idx = t->func->emit;
			off = emitted_offset(t->func, off);
		} else if (t->func->twin->unnamed) {
			/* code no symbol names (object.c): the baseline has no name for it */
			*why = unnamed_target_reason(t->func->sym->sec);
			return 1;
		} else {
			idx = base_sym(e, t->func->twin->sym);
		}
		break;
	case T_DATA:
		if (goes_to_copy(t->data)) {
			out->target_kind = HP_TGT_DATA;
			idx = emit_dobj(e, t->data);
			if (idx == UNEXPRESSIBLE) {
				*why = "refers to a new variable that cannot be carried";
				return 1;
			}
		} else {
			idx = base_sym(e, t->data->twin->sym);
		}
		break;
	case T_UNDEF:
		if (is_new_ifunc(e, t->sym)) {
			*why = "refers to an IFUNC that is new in the fixed object: its resolver "
			       "never ran in the process";
			return 1;
		}
		idx = named_sym(e, t->sym);
		break;
	case T_PIECE:
		out->target_kind = HP_TGT_DATA;
		idx = emit_piece(e, t->piece);
		if (idx == UNEXPRESSIBLE) {
			*why = e->why;
			return 1;
		}
		break;
	default:
		*why = unnamed_target_reason(t->sec);
		return 1;
	}
	if (idx < 0)
		return -1;
	out->target = (uint32_t)idx;
	out->addend = wadd(off, r->adj);
	if (r->size == 1 && self && self->wmap) {
		/* widened (widen.c): the field is the last INSN_WIDE_REL_SIZE bytes of the branch
		 */
		out->type = arch_reloc_pcrel_type(machine, INSN_WIDE_REL_SIZE);
		out->addend = wsub(off, INSN_WIDE_REL_SIZE);
	}
	return 0;
}

/* Relocations of refs (sorted); offsets mapped through self's widening. */
static int make_relocs(struct emitter *e, const struct ref *refs, size_t n, struct func *self,
		       struct hp_reloc **out, uint32_t *nout, const char **why)
{
	int ret;

	*out = NULL;
	*nout = 0;
	if (!n)
		return 0;
	*out = xcalloc(n, sizeof(**out));
	if (!*out)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ret = make_reloc(e, &refs[i], self, &(*out)[i], why);
		if (ret)
			return ret;
		(*out)[i].offset =
			(uint32_t)(self ? emitted_offset(self, refs[i].off) : refs[i].off);
	}
	*nout = (uint32_t)n;
	return 0;
}

static const char *piece_desc(const struct piece *p)
{
	if (p->sec->flags & SHF_STRINGS)
		return "string literal";
	return p->nrefs ? "table" : "constant";
}

static long emit_piece(struct emitter *e, struct piece *p)
{
	struct hp_hpd *h = e->h;
	struct hp_reloc *relocs;
	const char *why = NULL;
	uint32_t idx, nrelocs;
	int ret;

	if (p->emit >= 0)
		return p->emit;
	if (e->depth >= MAX_PIECE_DEPTH) {
		e->why = "refers to read-only data nested more than 64 levels deep";
		return UNEXPRESSIBLE;
	}
	if (piece_refs(p->obj, p) < 0 ||
	    grow_array(&h->data, &e->cap_data, h->ndata, sizeof(*h->data), 16) < 0)
		return -1;
	idx = h->ndata++;
	p->emit = (int)idx;
	h->data[idx].kind = HP_DATA_RODATA;
	h->data[idx].bind = HP_BIND_LOCAL;
	h->data[idx].align = clamp_align(p->sec->align);
	h->data[idx].size = p->size;
	h->data[idx].name = xasprintf("%s in %s+0x%llx", piece_desc(p), p->sec->name,
				      (unsigned long long)p->off);
	h->data[idx].init = xmalloc(p->size ? p->size : 1);
	if (!h->data[idx].name || !h->data[idx].init)
		return -1;
	memcpy(h->data[idx].init, p->sec->data + p->off, p->size);
	/* h->data may move while nested pieces are emitted: index it, hold no pointer. */
	e->depth++;
	ret = make_relocs(e, p->refs, p->nrefs, NULL, &relocs, &nrelocs, &why);
	e->depth--;
	h->data[idx].relocs = relocs;
	h->data[idx].nrelocs = nrelocs;
	if (ret > 0) {
		e->why = why;
		return UNEXPRESSIBLE;
	}
	return ret < 0 ? -1 : (long)idx;
}

/*
 * A package carries at most HP_HPD_MAX_CODE bytes of initial value (as
 * much as of code) and HP_HPD_MAX_BSS bytes of zeroed storage per item.
 */
static bool data_fits_package(const struct dobj *d)
{
	return d->size <= (d->sec && d->sec->data ? HP_HPD_MAX_CODE : HP_HPD_MAX_BSS);
}

/* The new code, and the baseline code it keeps for provenance, fit a package. */
static bool func_fits_package(const struct func *f)
{
	return (f->wmap ? f->wsize : f->size) <= HP_HPD_MAX_CODE &&
	       !(f->twin && f->twin->size > HP_HPD_MAX_CODE);
}

static long emit_dobj(struct emitter *e, struct dobj *d)
{
	struct hp_hpd *h = e->h;
	const char *why = NULL;
	struct hp_reloc *relocs;
	uint32_t idx, nrelocs;
	int ret;

	if (d->emit >= 0)
		return d->emit;
	if (!data_fits_package(d)) {
		d->unpatchable = true;
		free(d->reason);
		d->reason = xasprintf("new variable of %llu bytes is larger than a package carries",
				      (unsigned long long)d->size);
		return UNEXPRESSIBLE;
	}
	if (grow_array(&h->data, &e->cap_data, h->ndata, sizeof(*h->data), 16) < 0)
		return -1;
	idx = h->ndata++;
	d->emit = (int)idx;
	h->data[idx].bind = hp_bind_of(d->sym);
	h->data[idx].align = clamp_align(d->sec ? d->sec->align : d->sym->value);
	h->data[idx].size = d->size ? d->size : 1;
	h->data[idx].name = xstrdup(d->sym->name);
	if (!h->data[idx].name)
		return -1;
	if (d->sec && d->sec->data) {
		h->data[idx].kind = is_writable_sec(d->sec) ? HP_DATA_VAR : HP_DATA_RODATA;
		h->data[idx].init = xcalloc(h->data[idx].size, 1);
		if (!h->data[idx].init)
			return -1;
		memcpy(h->data[idx].init, d->sec->data + d->off, d->size);
	} else {
		h->data[idx].kind = HP_DATA_BSS;
	}
	ret = make_relocs(e, d->refs, d->nrefs, NULL, &relocs, &nrelocs, &why);
	h->data[idx].relocs = relocs;
	h->data[idx].nrelocs = nrelocs;
	if (ret > 0) {
		d->unpatchable = true;
		free(d->reason);
		d->reason = xasprintf("initial value %s", why);
		return idx;
	}
	return ret < 0 ? -1 : (long)idx;
}

/* The baseline object's relocations of a replaced function, for provenance. */
static int old_relocs(struct emitter *e, const struct func *a, struct hp_func *hf)
{
	size_t n = 0;

	for_each_ref(a, r) n += !r->implicit;
	if (!n)
		return 0;
	hf->old_relocs = xcalloc(n, sizeof(*hf->old_relocs));
	if (!hf->old_relocs)
		return -1;
	for_each_ref(a, r)
	{
		struct hp_reloc *o;
		long idx;

		if (r->implicit)
			continue;
		o = &hf->old_relocs[hf->nold_relocs++];
		o->offset = r->off;
		o->type = r->type;
		o->target_kind = HP_TGT_SYM;
		o->addend = wadd(r->t.off, r->adj);
		switch (r->t.kind) {
		case T_SELF:
			idx = base_sym(e, a->sym);
			break;
		case T_FUNC:
			idx = base_sym(e, r->t.func->sym);
			break;
		case T_DATA:
			idx = base_sym(e, r->t.data->sym);
			break;
		case T_UNDEF:
			idx = named_sym(e, r->t.sym);
			break;
		default: /* anonymous bytes: named by section, checked as a masked field */
			idx = sym_index(e, HP_SYM_BASE, HP_BIND_LOCAL, HP_STYPE_NOTYPE,
					r->t.kind == T_PIECE ? r->t.piece->sec->name
							     : r->t.sec->name);
			o->addend = wadd(wadd(r->t.off, r->adj),
					 r->t.kind == T_PIECE ? (int64_t)r->t.piece->off : 0);
			break;
		}
		if (idx < 0)
			return -1;
		o->target = (uint32_t)idx;
	}
	return 0;
}

/*
 * Does f leave itself through an 8-bit field (a short jump to a nearby
 * function)?  Copied elsewhere, no 8-bit displacement reaches the target.
 */
static bool has_short_ref(const struct func *f)
{
	for_each_ref(f, r) if (r->size == 1) return true;
	return false;
}

/* Widen short branches leaving f before any relocation uses its layout. */
static int widen_func(struct func *f)
{
	const char *why = NULL;
	int ret;

	if (!has_short_ref(f))
		return 0;
	ret = widen_branches(f, &why);
	if (ret > 0)
		refuse(f, why);
	return ret < 0 ? -1 : 0;
}

/*
 * Is f the resolver of an IFUNC of its object (the IFUNC symbol's value)?
 * The resolver ran when the program was loaded and its choice stays in
 * the PLT slots: replacing it changes nothing.
 */
static bool is_ifunc_resolver(const struct func *f)
{
	for_each_sym(&f->obj->elf, s) if (s->type == STT_GNU_IFUNC && s->sec == f->sym->sec &&
					  s->value == f->sym->value) return true;
	return false;
}

static int emit_func(struct emitter *e, struct func *f)
{
	struct hp_func *hf = &e->h->funcs[f->emit];
	const char *why = NULL;
	int ret;

	if (f->unpatchable)
		return 0;
	if (!func_fits_package(f)) {
		refuse(f, "the function is larger than a package carries (64 MiB of code)");
		return 0;
	}
	if (f->status == ST_CHANGED && is_ifunc_resolver(f)) {
		refuse(f, "it is an IFUNC resolver, which ran when the program was loaded: the "
			  "implementation it chose then stays");
		return 0;
	}
	hf->status = f->status == ST_NEW ? HP_FUNC_NEW : HP_FUNC_CHANGED;
	hf->bind = hp_bind_of(f->sym);
	hf->align = clamp_align(f->sym->sec->align);
	hf->name = xstrdup(f->sym->name);
	hf->base_name = xstrdup(f->twin ? f->twin->sym->name : "");
	hf->section = xstrdup(f->sym->sec->name);
	hf->source = xstrdup(f->source ? f->source : "");
	hf->size = (uint32_t)(f->wmap ? f->wsize : f->size);
	hf->code = xmalloc(hf->size);
	if (!hf->name || !hf->base_name || !hf->section || !hf->source || !hf->code)
		return -1;
	memcpy(hf->code, f->wmap ? f->wcode : f->code, hf->size);
	ret = make_relocs(e, f->refs, f->nrefs, f, &hf->relocs, &hf->nrelocs, &why);
	if (ret > 0) {
		refuse(f, why);
		return 0;
	}
	if (ret < 0)
		return -1;
	if (f->twin) {
		hf->old_size = (uint32_t)f->twin->size;
		hf->old_code = xmalloc(hf->old_size);
		if (!hf->old_code)
			return -1;
		memcpy(hf->old_code, f->twin->code, hf->old_size);
		return old_relocs(e, f->twin, hf);
	}
	return 0;
}

static uint8_t note_status(enum status s)
{
	return s == ST_NEW ? HP_NOTE_NEW : s == ST_REMOVED ? HP_NOTE_REMOVED : HP_NOTE_CHANGED;
}

static int emit_notes(struct emitter *e)
{
	struct diff *d = e->d;

	for_each_finding(d, fd) if (note(e, HP_NOTE_OBJECT, HP_NOTE_CHANGED, !fd->unpatchable,
					 fd->name, fd->reason) < 0) return -1;
	for_each_func(&d->new, f) if (f->status != ST_SAME &&
				      note(e, HP_NOTE_FUNC, note_status(f->status), !f->unpatchable,
					   f->sym->name, f->reason) < 0) return -1;
	for_each_func(&d->old,
		      f) if (f->status == ST_REMOVED && note(e, HP_NOTE_FUNC, HP_NOTE_REMOVED, true,
							     f->sym->name, NULL) < 0) return -1;
	for_each_data(&d->new, x) if (x->status != ST_SAME &&
				      note(e, HP_NOTE_DATA, note_status(x->status), !x->unpatchable,
					   x->sym->name, x->reason) < 0) return -1;
	for_each_data(&d->old,
		      x) if (x->status == ST_REMOVED && note(e, HP_NOTE_DATA, HP_NOTE_REMOVED, true,
							     x->sym->name, NULL) < 0) return -1;
	return 0;
}

/*
 * A global or weak alias of a defined function or variable: other objects
 * may call or use it by that name, so the replacement carries it too.
 */
static bool is_exported_alias(const struct symbol *s)
{
	return s->alias_of && s->sec && (s->bind == STB_GLOBAL || s->bind == STB_WEAK);
}

/* The exported aliases of what was emitted. */
static int emit_aliases(struct emitter *e)
{
	struct hp_hpd *h = e->h;

	for_each_sym(&e->d->new.elf, s)
	{
		const struct func *f;
		const struct dobj *x;
		struct hp_alias *a;
		uint8_t kind;
		int idx;

		if (!is_exported_alias(s))
			continue;
		if ((f = func_of(s))) {
			kind = HP_TGT_FUNC;
			idx = f->unpatchable ? -1 : f->emit;
		} else if ((x = dobj_of(s))) {
			kind = HP_TGT_DATA;
			idx = x->unpatchable ? -1 : x->emit;
		} else {
			continue;
		}
		if (idx < 0)
			continue;
		a = xrealloc(h->aliases, (h->naliases + 1) * sizeof(*a));
		if (!a)
			return -1;
		h->aliases = a;
		a = &a[h->naliases];
		a->kind = kind;
		a->bind = hp_bind_of(s);
		a->index = (uint32_t)idx;
		a->name = xstrdup(s->name);
		if (!a->name)
			return -1;
		h->naliases++;
	}
	return 0;
}

struct hp_hpd *emit_hpd(struct diff *d)
{
	struct emitter e = {.d = d};
	struct hp_hpd *h = xcalloc(1, sizeof(*h));
	uint32_t n = 0;

	if (!h)
		return NULL;
	e.h = h;
	h->major = HP_HPD_MAJOR;
	h->minor = HP_HPD_MINOR;
	h->machine = d->machine;
	/* hppack needs to know: a baseline linked with LTO does not hold this code */
	if (d->old.elf.fat_lto || d->new.elf.fat_lto)
		h->flags |= HP_HPD_F_LTO;
	h->tool = xstrdup("hpdiff " HP_VERSION);
	h->object = xstrdup(d->name);
	h->source = xstrdup(d->old.elf.srcfile ? d->old.elf.srcfile : "");
	if (!h->tool || !h->object || !h->source)
		goto fail;
	memcpy(h->old_sha256, d->old.sha256, 32);
	memcpy(h->new_sha256, d->new.sha256, 32);
	for_each_func(&d->new, f) if (is_replaced_or_new(f)) f->emit = (int)n++;
	h->funcs = xcalloc(n, sizeof(*h->funcs));
	if (!h->funcs)
		goto fail;
	h->nfuncs = n;
	e.cap_funcs = n;
	for_each_func(&d->new, f) if (f->emit >= 0 && widen_func(f) < 0) goto fail;
	for_each_func(&d->new, f) if (f->emit >= 0 && emit_func(&e, f) < 0) goto fail;
	/* New variables are carried even if no emitted code uses them yet. */
	for_each_data(&d->new, x) if (x->status == ST_NEW && !x->unpatchable &&
				      emit_dobj(&e, x) == -1) goto fail;
	if (emit_aliases(&e) < 0)
		goto fail;
	for_each_func(&d->new, f) d->unpatchable |= f->unpatchable;
	for_each_data(&d->new, x) d->unpatchable |= x->unpatchable;
	/*
	 * A .hpd that cannot be packaged carries the findings only: its code
	 * would be refused anyway, and a refused function has no complete record.
	 */
	for_each_finding(d, fd) d->unpatchable |= fd->unpatchable;
	if (d->unpatchable)
		hp_hpd_drop_code(h);
	if (emit_notes(&e) < 0)
		goto fail;
	return h;
fail:
	hp_hpd_free(h);
	return NULL;
}
