/*
 * Resolving every reference of the placed code and data: a baseline
 * symbol becomes an image offset; an import the binary already reaches
 * becomes its PLT entry or GOT slot; thread-locals of the executable
 * become constant offsets; what is left is an import the loader resolves.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/mem.h"

/* The placed code or data block whose references are being resolved. */
struct item {
	const char *name;
	uint8_t *code; /* its code, which may be rewritten; NULL for data */
	uint32_t size;
};

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

static enum hp_reloc_calc calc_of(uint16_t machine, uint32_t type)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	return d ? d->calc : HP_CALC_NONE;
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
static enum outcome resolve_tls(struct packer *p, const struct input *in, const struct bsym *s,
				struct hp_preloc *r)
{
	enum hp_reloc_calc calc = calc_of(p->machine, r->type);
	uint64_t slot;

	if (!hp_image_is_program(&p->b->img) &&
	    (calc == HP_CALC_TPOFF || (calc == HP_CALC_GOTTPOFF && !baseline_tls_slot(p->b, s))))
		return refuse(p,
			      "%s: thread-local %s: %s is a shared library, whose thread-local "
			      "offsets are only known when it is loaded",
			      in->path, s->name, p->b->path);
	switch (calc) {
	case HP_CALC_TPOFF:
		r->target = HP_PT_CONST;
		r->target_off = baseline_tpoff(p->b, s);
		return OUTCOME_OK;
	case HP_CALC_GOTTPOFF:
		/* the slot the binary already has, else one the loader fills */
		slot = baseline_tls_slot(p->b, s);
		if (slot) {
			through_slot(p, slot, r);
		} else {
			r->target = HP_PT_CONST;
			r->target_off = baseline_tpoff(p->b, s);
		}
		return OUTCOME_OK;
	default:
		return refuse(p,
			      "%s: thread-local %s is accessed with the general or local dynamic "
			      "model (code built with -fPIC); only executables' local and initial "
			      "exec accesses can be hotpatched",
			      in->path, s->name);
	}
}

/*
 * An IFUNC the binary defines (a static program's string functions, an
 * `__attribute__((ifunc))` of the program): its symbol's value is the
 * resolver, which returns the implementation.  Calls and addresses go to
 * the binary's own PLT entry (the address the binary's code takes too), and
 * loads through its IRELATIVE slot, which hold the implementation.  A
 * binary that never called it has neither: only the resolver could tell.
 */
static enum outcome resolve_ifunc(struct packer *p, const struct input *in, const struct bsym *s,
				  struct hp_preloc *r)
{
	enum hp_reloc_calc calc = calc_of(p->machine, r->type);
	uint64_t v = 0;

	if ((pcrel32(p->machine, r->type) || calc == HP_CALC_ABS) &&
	    (v = baseline_ifunc_plt(p->b, s))) {
		r->target = HP_PT_IMAGE;
		r->target_off = (int64_t)(v - p->b->img.base);
		return OUTCOME_OK;
	}
	if (arch_reloc_got_load(p->machine, r->type) && (v = baseline_ifunc_slot(p->b, s))) {
		through_slot(p, v, r);
		return OUTCOME_OK;
	}
	return refuse(p,
		      "%s: %s is an IFUNC in %s, and the binary has no PLT entry or slot for it "
		      "that new code could use (its own code never calls it): only its resolver "
		      "knows the implementation",
		      in->path, s->name, p->b->path);
}

/*
 * Does a field of this type reach an import wherever its module is (any
 * distance from the package)?  A call does, through a far jump the loader
 * builds; a load through a slot the loader fills does; an 8-byte address
 * does.  A 4-byte address or PC-relative field does not.
 */
static bool reaches_anywhere(uint16_t machine, uint32_t type)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	return arch_reloc_plt_call(machine, type) || arch_reloc_got_load(machine, type) ||
	       (d && d->size == 8);
}

/*
 * A 4-byte PC-relative reference from new code to another module's symbol
 * that the binary neither defines nor reaches: code built with -fPIE does
 * that for a library's variable (`stderr`, a C++ typeinfo), expecting the
 * program to hold a copy (a copy relocation), which a baseline that never
 * used it does not have.  An instruction that only takes the address is
 * made to load it from a slot instead (the binary's GOT slot, else one
 * the loader fills from the process's symbol); one that reads or writes
 * the variable in place cannot be served by a slot, and is refused.
 */
static enum outcome address_from_slot(struct packer *p, const struct input *in,
				      const struct item *it, const struct hp_sym *hs,
				      struct hp_preloc *r)
{
	int64_t bias = 0, off;
	long idx;
	uint32_t type =
		it->code && pcrel32(p->machine, r->type)
			? insn_address_from_slot(p->machine, it->code, it->size, r->offset, &bias)
			: 0;
	uint64_t v;

	if (!type && it->code && pcrel32(p->machine, r->type))
		return refuse(p,
			      "%s: %s reads or writes %s in place at +0x%x, PC-relatively: code "
			      "built with -fPIE expects the program to hold a copy of another "
			      "module's variable, and %s has none (it never used it), so new code "
			      "cannot reach the running instance; reach it through a function "
			      "call, or ship the fix in a release",
			      in->path, it->name, hs->name, r->offset, p->b->path);
	if (!type)
		return refuse(p,
			      "%s: %s: the %u-byte field at +0x%x cannot hold the address of %s, "
			      "which another module defines (%s has no copy of it): only a call, a "
			      "load through a GOT slot or an 8-byte address reaches another module",
			      in->path, it->name, hp_reloc_describe(p->machine, r->type)->size,
			      r->offset, hs->name, p->b->path);
	off = wadd(r->addend, bias); /* the offset inside the symbol */
	r->type = type;
	r->addend = -bias;
	if (!off && (v = baseline_got(p->b, hs->name))) {
		through_slot(p, v, r);
		return OUTCOME_OK;
	}
	idx = import_index(p, hs->name, hs->bind == HP_BIND_WEAK);
	if (idx < 0)
		return OUTCOME_TROUBLE;
	r->target = HP_PT_IMPORT;
	r->index = (uint32_t)idx;
	r->target_off = off;
	return OUTCOME_OK;
}

/*
 * A symbol the binary does not define under that name in its symbol table:
 * its own exported definition (a copy of a library variable), through its
 * PLT or GOT, or an import.
 */
static enum outcome resolve_import(struct packer *p, const struct input *in, const struct item *it,
				   const struct hp_sym *hs, struct hp_preloc *r)
{
	uint64_t v;
	long idx;

	if ((v = baseline_export(p->b, hs->name))) {
		r->target = HP_PT_IMAGE;
		r->target_off = (int64_t)(v - p->b->img.base);
		return OUTCOME_OK;
	}
	if (pcrel32(p->machine, r->type) && (v = baseline_plt(p->b, hs->name))) {
		r->target = HP_PT_IMAGE;
		r->target_off = (int64_t)(v - p->b->img.base);
		return OUTCOME_OK;
	}
	if (arch_reloc_got_load(p->machine, r->type) && (v = baseline_got(p->b, hs->name))) {
		through_slot(p, v, r);
		return OUTCOME_OK;
	}
	/* a static program has nothing to import from (a weak symbol is just null) */
	if (!hp_image_links_libraries(&p->b->img) && hs->bind != HP_BIND_WEAK)
		return refuse(p, "%s is not defined in %s, a static program that loads no library",
			      hs->name, p->b->path);
	if (!reaches_anywhere(p->machine, r->type))
		return address_from_slot(p, in, it, hs, r);
	idx = import_index(p, hs->name, hs->bind == HP_BIND_WEAK);
	if (idx < 0)
		return OUTCOME_TROUBLE;
	r->target = HP_PT_IMPORT;
	r->index = (uint32_t)idx;
	return OUTCOME_OK;
}

static enum outcome resolve_sym(struct packer *p, const struct input *in, const struct item *it,
				const struct hp_sym *hs, struct hp_preloc *r)
{
	const char *scope = scope_of(in, hs->bind);
	size_t n;
	const struct bsym *s = baseline_sym(p, in, hs, &n);

	if (!n && scope)
		return refuse(p, "%s: %s of %s is not in %s", in->path, hs->name, scope,
			      p->b->path);
	if (!n && new_global(p, hs->name, r))
		return OUTCOME_OK;
	/*
	 * Defined by the OLD object, yet not in the binary (discarded by
	 * --gc-sections, or another build): importing it instead would bind the
	 * new code to whatever other module exports that name.
	 */
	if (!n && hs->kind == HP_SYM_BASE)
		return refuse(p,
			      "%s: %s is defined by %s but not in %s: the objects were not "
			      "built into this baseline, or the linker discarded it",
			      in->path, hs->name, in->h->object, p->b->path);
	if (!n)
		return resolve_import(p, in, it, hs, r);
	if (!s)
		return refuse(p, "%s: %s of %s is ambiguous in %s: %zu source files of that name",
			      in->path, hs->name, scope, p->b->path, n);
	if (hs->type == HP_STYPE_TLS && s->type != STT_TLS)
		return refuse(p, "%s: %s is thread-local in the object but not in %s", in->path,
			      hs->name, p->b->path);
	if (hs->type != HP_STYPE_TLS && s->type == STT_TLS)
		return refuse(p, "%s: %s is thread-local in %s but not in the object", in->path,
			      hs->name, p->b->path);
	if (s->type == STT_TLS)
		return resolve_tls(p, in, s, r);
	if (s->type == STT_GNU_IFUNC)
		return resolve_ifunc(p, in, s, r);
	r->target = HP_PT_IMAGE;
	r->target_off = (int64_t)(s->value - p->b->img.base);
	return OUTCOME_OK;
}

/* src[0, n) of it into *out: every reference resolved, or each reason it cannot be said. */
static enum outcome resolve_relocs(struct packer *p, const struct input *in, const struct item *it,
				   const struct hp_reloc *src, uint32_t n, struct hp_preloc **out,
				   uint32_t *nout)
{
	enum outcome all = OUTCOME_OK;

	*out = NULL;
	*nout = 0;
	if (!n)
		return OUTCOME_OK;
	*out = xcalloc(n, sizeof(**out));
	if (!*out)
		return OUTCOME_TROUBLE;
	for (uint32_t i = 0; i < n; i++) {
		struct hp_preloc *r = &(*out)[i];
		enum outcome one = OUTCOME_OK;

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
			one = resolve_sym(p, in, it, &in->h->syms[src[i].target], r);
			break;
		}
		if (one == OUTCOME_TROUBLE)
			return OUTCOME_TROUBLE;
		if (one == OUTCOME_OK && !hp_payload_reloc_ok(p->machine, r->type, r->target)) {
			char name[32];

			one = refuse(p, "%s: %s to %s cannot be applied by the loader", in->path,
				     hp_reloc_name(p->machine, r->type, name, sizeof(name)),
				     src[i].target_kind == HP_TGT_SYM
					     ? in->h->syms[src[i].target].name
					     : "new code or data");
		}
		all = outcome_worst(all, one);
	}
	*nout = n;
	return all;
}

static enum outcome resolve_input(struct packer *p, struct input *in)
{
	const struct hp_hpd *h = in->h;
	enum outcome out = OUTCOME_OK;

	struct item it;

	for (uint32_t f = 0; f < h->nfuncs && out != OUTCOME_TROUBLE; f++) {
		struct hp_pcode *c;

		if (in->code_of[f] == NO_ITEM) /* the baseline's own copy: nothing to place */
			continue;
		c = &p->pl.code[in->code_of[f]];
		it = (struct item){c->name, c->code, c->size};
		out = outcome_worst(out,
				    resolve_relocs(p, in, &it, h->funcs[f].relocs,
						   h->funcs[f].nrelocs, &c->relocs, &c->nrelocs));
	}
	for (uint32_t d = 0; d < h->ndata && out != OUTCOME_TROUBLE; d++) {
		struct hp_pdata *pd;

		/* the baseline's instance, or an earlier input's block: nothing to fill */
		if (in->data_of[d] == NO_ITEM || in->shared[d])
			continue;
		pd = &p->pl.data[in->data_of[d]];
		it = (struct item){pd->name, NULL, 0};
		out = outcome_worst(out,
				    resolve_relocs(p, in, &it, h->data[d].relocs,
						   h->data[d].nrelocs, &pd->relocs, &pd->nrelocs));
	}
	return out;
}

enum outcome pack_resolve(struct packer *p)
{
	enum outcome out = OUTCOME_OK;

	for (size_t i = 0; i < p->nin && out != OUTCOME_TROUBLE; i++)
		out = outcome_worst(out, resolve_input(p, &p->in[i]));
	return out;
}
