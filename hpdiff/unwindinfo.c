/*
 * Unwind information of the emitted code.
 *
 * A C++ exception, or any unwind (_Unwind_RaiseException, backtrace(3),
 * pthread_cancel through C++ frames), needs an FDE for every frame it
 * passes: the unwinder finds it by the frame's return address.  The new
 * code of a package lives outside every loaded object, and a package does
 * not carry unwind information yet (docs/format.md), so in the patched
 * process the unwinder finds no FDE for a frame of new code and the
 * exception ends in std::terminate().  The fixed build would have caught
 * or passed it: a silent wrong result.  Until packages carry .eh_frame and
 * .gcc_except_table and hpapply registers them, an emitted (changed or new)
 * function is NOT HOTPATCHABLE when
 *
 *   - it has an LSDA (its FDE points into .gcc_except_table): it catches
 *     exceptions, runs destructors on the way out or is noexcept, so its
 *     own code depends on the unwinder; or
 *   - an exception can pass through it: the object uses C++ or exceptions
 *     (a personality routine, an exception table, a mangled C++ name) and
 *     the function calls something.  Whether the callee is noexcept is not
 *     in the object, so any call counts.
 *
 * C objects without exception handling are accepted: no exception can be
 * raised in C, and a C frame that an exception from a C++ callback would
 * pass, or a backtrace, is a limit documented in hpapply(1).
 */
#include <stdlib.h>
#include <string.h>

#include "hpdiff/diff.h"
#include "common/mem.h"

/* DWARF exception-header pointer encodings (the LSB "DW_EH_PE_*"). */
#define EH_PE_OMIT   0xff
#define EH_PE_FORMAT 0x0f

#define EH_MAX_CIES 4096

struct cie {
	uint64_t off;	  /* of the record in the section */
	bool aug_z;	  /* augmentation data present (a 'z' string) */
	uint8_t fde_enc;  /* 'R': encoding of pc_begin and pc_range */
	uint8_t lsda_enc; /* 'L': encoding of the LSDA pointer, or EH_PE_OMIT */
	bool personality; /* 'P': a personality routine */
};

struct reader {
	const uint8_t *p, *end;
};

static bool get_u8(struct reader *r, uint8_t *v)
{
	if (r->p >= r->end)
		return false;
	*v = *r->p++;
	return true;
}

static bool get_leb(struct reader *r, uint64_t *v)
{
	unsigned shift = 0;
	uint8_t b;

	*v = 0;
	do {
		if (!get_u8(r, &b) || shift > 63)
			return false;
		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return true;
}

/* Bytes of a fixed-size encoded pointer; 0 for the LEB128 forms, -1 if unknown. */
static int enc_size(uint8_t enc)
{
	switch (enc & EH_PE_FORMAT) {
	case 0x00: /* absptr */
	case 0x04: /* udata8 */
	case 0x0c: /* sdata8 */
		return 8;
	case 0x02: /* udata2 */
	case 0x0a: /* sdata2 */
		return 2;
	case 0x03: /* udata4 */
	case 0x0b: /* sdata4 */
		return 4;
	case 0x01: /* uleb128 */
	case 0x09: /* sleb128 */
		return 0;
	default:
		return -1;
	}
}

/* Step over one encoded pointer; its field starts at *field. */
static bool skip_ptr(struct reader *r, uint8_t enc, const uint8_t **field, size_t *len)
{
	int n = enc_size(enc);
	uint64_t v;

	*field = r->p;
	if (n < 0)
		return false;
	if (n == 0) {
		if (!get_leb(r, &v))
			return false;
	} else {
		if ((size_t)(r->end - r->p) < (size_t)n)
			return false;
		r->p += n;
	}
	*len = (size_t)(r->p - *field);
	return true;
}

static bool parse_cie(struct reader *r, struct cie *c)
{
	const char *aug = (const char *)r->p;
	const uint8_t *field;
	uint8_t version, b;
	uint64_t v;
	size_t len;

	c->fde_enc = 0;
	c->lsda_enc = EH_PE_OMIT;
	c->personality = false;
	if (!get_u8(r, &version) || (version != 1 && version != 3))
		return false;
	aug = (const char *)r->p;
	len = strnlen(aug, (size_t)(r->end - r->p));
	if (len == (size_t)(r->end - r->p))
		return false;
	r->p += len + 1;
	c->aug_z = aug[0] == 'z';
	if (strstr(aug, "eh"))
		return false;			/* the pre-GCC-3 form: never in our inputs */
	if (!get_leb(r, &v) || !get_leb(r, &v)) /* code and data alignment */
		return false;
	if (version == 1 ? !get_u8(r, &b) : !get_leb(r, &v)) /* return address column */
		return false;
	if (!c->aug_z)
		return true;
	if (!get_leb(r, &v)) /* augmentation data length */
		return false;
	for (const char *a = aug + 1; *a; a++) {
		switch (*a) {
		case 'P':
			c->personality = true;
			if (!get_u8(r, &b) || !skip_ptr(r, b, &field, &len))
				return false;
			break;
		case 'L':
			if (!get_u8(r, &c->lsda_enc))
				return false;
			break;
		case 'R':
			if (!get_u8(r, &c->fde_enc))
				return false;
			break;
		case 'S':
		case 'B':
			break;
		default:
			return false;
		}
	}
	return true;
}

/* The emitted function whose code starts where the relocation at `off` points. */
static struct func *func_at_reloc(const struct section *sec, uint64_t off, size_t len)
{
	const struct reloc *rl = find_reloc(sec, off, len);
	struct symbol *s;
	struct func *f;

	if (!rl || !rl->sym || !rl->sym->sec || !is_exec_sec(rl->sym->sec))
		return NULL;
	s = find_symbol_containing(rl->sym->sec, rl->sym->value + (uint64_t)rl->addend);
	if (!s || !is_func_sym(s))
		return NULL;
	f = func_of(s);
	return f;
}

/* Has the FDE field [p, p + len) of section sec a relocation or a non-zero value? */
static bool field_set(const struct section *sec, const uint8_t *p, size_t len)
{
	uint64_t off = (uint64_t)(p - sec->data);

	if (find_reloc(sec, off, len))
		return true;
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return true;
	return false;
}

/* Mark f unpatchable, keeping what changed and adding why (once). */
static int refuse_func(struct func *f, const char *why)
{
	char *r;

	if (f->unpatchable)
		return 0;
	r = f->reason ? xasprintf("%s; %s", f->reason, why) : xstrdup(why);
	if (!r)
		return -1;
	f->unpatchable = true;
	free(f->reason);
	f->reason = r;
	return 0;
}

/*
 * Walk one .eh_frame section: note in `lsda` (indexed like o->funcs) the
 * functions whose FDE has an LSDA, and whether any CIE names a
 * personality routine.  Returns false if the section cannot be parsed.
 */
static bool scan_eh_frame(struct object *o, const struct section *sec, bool *lsda,
			  bool *personality)
{
	struct cie *cies = NULL;
	size_t ncies = 0;
	uint64_t off = 0;
	bool ok = true;

	cies = xcalloc(EH_MAX_CIES, sizeof(*cies));
	if (!cies)
		return false;
	while (ok && off + 4 <= sec->size) {
		struct reader r;
		uint32_t len, id;
		uint64_t end;

		memcpy(&len, sec->data + off, 4);
		if (len == 0)
			break; /* terminator */
		end = off + 4 + (uint64_t)len;
		if (len == 0xffffffffu || len < 4 || end > sec->size) {
			ok = false;
			break;
		}
		memcpy(&id, sec->data + off + 4, 4);
		r.p = sec->data + off + 8;
		r.end = sec->data + end;
		if (id == 0) {
			if (ncies == EH_MAX_CIES) {
				ok = false;
				break;
			}
			cies[ncies].off = off;
			ok = parse_cie(&r, &cies[ncies]);
			*personality |= cies[ncies].personality;
			ncies++;
		} else {
			uint64_t cie_off = off + 4 - id;
			const struct cie *c = NULL;
			const uint8_t *field;
			struct func *f;
			uint64_t v;
			size_t flen;

			for (size_t i = 0; i < ncies; i++)
				if (cies[i].off == cie_off)
					c = &cies[i];
			if (!c || !skip_ptr(&r, c->fde_enc, &field, &flen)) {
				ok = false;
				break;
			}
			f = func_at_reloc(sec, (uint64_t)(field - sec->data), flen);
			if (!skip_ptr(&r, c->fde_enc & EH_PE_FORMAT, &field,
				      &flen)) { /* pc_range */
				ok = false;
				break;
			}
			if (c->aug_z && c->lsda_enc != EH_PE_OMIT) {
				if (!get_leb(&r, &v) || !skip_ptr(&r, c->lsda_enc, &field, &flen)) {
					ok = false;
					break;
				}
				if (f && field_set(sec, field, flen))
					lsda[f - o->funcs] = true;
			}
		}
		off = end;
	}
	free(cies);
	return ok;
}

static bool is_cxx_name(const char *name)
{
	return name[0] == '_' && name[1] == 'Z';
}

/* Does f call anything (an exception raised there comes back through f)? */
static bool makes_calls(const struct func *f)
{
	if (f->ninsns < 0)
		return true; /* bytes that do not decode: assume the worst */
	for (long i = 0; i < f->ninsns; i++)
		if (f->insns[i].type == INSN_CALL || f->insns[i].type == INSN_CALL_INDIRECT)
			return true;
	return false;
}

int check_unwind(struct diff *d)
{
	struct object *o = &d->new;
	bool personality = false, readable = true, exceptions = false;
	bool *lsda;
	int ret = 0;

	if (!o->nfuncs)
		return 0;
	lsda = xcalloc(o->nfuncs, sizeof(*lsda));
	if (!lsda)
		return -1;
	for (size_t i = 0; i < o->elf.nsecs; i++) {
		const struct section *s = &o->elf.secs[i];

		if (!strncmp(s->name, ".gcc_except_table", 17))
			exceptions = true;
		else if (!strcmp(s->name, ".eh_frame") && s->data)
			readable &= scan_eh_frame(o, s, lsda, &personality);
	}
	for (size_t i = 0; i < o->elf.nsyms && !exceptions; i++)
		exceptions = o->elf.syms[i].name && is_cxx_name(o->elf.syms[i].name);
	exceptions |= personality;
	for_each_func(o, f)
	{
		const char *why = NULL;

		if (!is_replaced_or_new(f) || f->unpatchable)
			continue;
		if (lsda[f - o->funcs])
			why = "it handles exceptions (it has an LSDA in .gcc_except_table) and a "
			      "package cannot carry the unwind information its new code needs";
		else if (!readable && makes_calls(f))
			why = "the object's unwind information (.eh_frame) cannot be read, so "
			      "whether an exception can pass through the new code is unknown";
		else if (exceptions && makes_calls(f))
			why = "an exception can pass through its calls and a package cannot carry "
			      "the unwind information its new code needs";
		if (why && refuse_func(f, why) < 0) {
			ret = -1;
			break;
		}
	}
	free(lsda);
	return ret;
}
