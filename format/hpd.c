/*
 * .hpd encoding and strict decoding.  The layout is specified field by field
 * in docs/format.md ("The .hpd file"); keep the two in step.
 *
 * Decoding runs in two passes over the model: the byte parser checks what
 * only the bytes can tell (bounds, counts, strings, reserved fields, the
 * checksum); hp_hpd_validate() then checks what relates fields to each
 * other (indices, relocation fields inside their code, ordering).  The
 * encoder runs the same validation first, so hpdiff cannot write a file
 * hppack would refuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "format/buf.h"
#include "format/hpd.h"

static const uint8_t hpd_magic[8] = {0x89, 'H', 'P', 'D', '\r', '\n', 0x1a, '\n'};

#define RELOC_BYTES 24u

/* ---- encoding ---------------------------------------------------------- */

static void put_relocs(struct hp_wbuf *wb, const struct hp_reloc *r, uint32_t n)
{
	hp_put_u32(wb, n);
	for (uint32_t i = 0; i < n; i++) {
		hp_put_u32(wb, r[i].offset);
		hp_put_u32(wb, r[i].type);
		hp_put_u8(wb, r[i].target_kind);
		hp_put_zeros(wb, 3);
		hp_put_u32(wb, r[i].target);
		hp_put_i64(wb, r[i].addend);
	}
}

static void put_func(struct hp_wbuf *wb, const struct hp_func *f)
{
	hp_put_u8(wb, f->status);
	hp_put_u8(wb, f->bind);
	hp_put_u16(wb, 0);
	hp_put_u32(wb, f->align);
	hp_put_str(wb, f->name);
	hp_put_str(wb, f->base_name ? f->base_name : "");
	hp_put_str(wb, f->section ? f->section : "");
	hp_put_str(wb, f->source ? f->source : "");
	hp_put_u32(wb, f->size);
	hp_put_bytes(wb, f->code, f->size);
	put_relocs(wb, f->relocs, f->nrelocs);
	if (f->status == HP_FUNC_CHANGED) {
		hp_put_u32(wb, f->old_size);
		hp_put_bytes(wb, f->old_code, f->old_size);
		put_relocs(wb, f->old_relocs, f->nold_relocs);
	}
}

static void put_data(struct hp_wbuf *wb, const struct hp_data *d)
{
	hp_put_u8(wb, d->kind);
	hp_put_u8(wb, d->bind);
	hp_put_u16(wb, 0);
	hp_put_u32(wb, d->align);
	hp_put_str(wb, d->name);
	hp_put_u64(wb, d->size);
	if (d->kind != HP_DATA_BSS)
		hp_put_bytes(wb, d->init, (size_t)d->size);
	put_relocs(wb, d->relocs, d->nrelocs);
}

int hp_hpd_encode(const struct hp_hpd *h, uint8_t **out, size_t *len, struct hp_error *e)
{
	struct hp_wbuf wb;
	uint8_t digest[32];

	*out = NULL;
	*len = 0;
	if (hp_hpd_validate(h, e) < 0)
		return -1;
	hp_wbuf_init(&wb);
	hp_put_bytes(&wb, hpd_magic, sizeof(hpd_magic));
	hp_put_u16(&wb, HP_HPD_MAJOR);
	hp_put_u16(&wb, HP_HPD_MINOR);
	hp_put_u32(&wb, h->flags);
	hp_put_u16(&wb, h->machine);
	hp_put_u16(&wb, 0);
	hp_put_u32(&wb, 0);
	hp_put_str(&wb, h->tool);
	hp_put_str(&wb, h->object);
	hp_put_str(&wb, h->source ? h->source : "");
	hp_put_bytes(&wb, h->old_sha256, 32);
	hp_put_bytes(&wb, h->new_sha256, 32);

	hp_put_u32(&wb, h->nsyms);
	for (uint32_t i = 0; i < h->nsyms; i++) {
		hp_put_u8(&wb, h->syms[i].kind);
		hp_put_u8(&wb, h->syms[i].bind);
		hp_put_u8(&wb, h->syms[i].type);
		hp_put_u8(&wb, 0);
		hp_put_str(&wb, h->syms[i].name);
	}
	hp_put_u32(&wb, h->nfuncs);
	for (uint32_t i = 0; i < h->nfuncs; i++)
		put_func(&wb, &h->funcs[i]);
	hp_put_u32(&wb, h->ndata);
	for (uint32_t i = 0; i < h->ndata; i++)
		put_data(&wb, &h->data[i]);
	hp_put_u32(&wb, h->nnotes);
	for (uint32_t i = 0; i < h->nnotes; i++) {
		hp_put_u8(&wb, h->notes[i].subject);
		hp_put_u8(&wb, h->notes[i].status);
		hp_put_u8(&wb, h->notes[i].patchable ? 1 : 0);
		hp_put_u8(&wb, 0);
		hp_put_str(&wb, h->notes[i].name);
		hp_put_str(&wb, h->notes[i].reason ? h->notes[i].reason : "");
	}
	hp_put_u32(&wb, h->naliases);
	for (uint32_t i = 0; i < h->naliases; i++) {
		hp_put_u8(&wb, h->aliases[i].kind);
		hp_put_u8(&wb, h->aliases[i].bind);
		hp_put_u16(&wb, 0);
		hp_put_u32(&wb, h->aliases[i].index);
		hp_put_str(&wb, h->aliases[i].name);
	}
	if (wb.failed || wb.len > HP_HPD_MAX_FILE - 32) {
		hp_fail(e, wb.failed ? HP_ENOMEM : HP_ELIMIT, HP_NO_OFFSET, "encoding .hpd");
		hp_wbuf_free(&wb);
		return -1;
	}
	if (hp_sha256(wb.data, wb.len, digest) < 0) {
		hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "checksum");
		hp_wbuf_free(&wb);
		return -1;
	}
	hp_put_bytes(&wb, digest, 32);
	if (wb.failed) {
		hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "encoding .hpd");
		hp_wbuf_free(&wb);
		return -1;
	}
	*out = hp_wbuf_take(&wb, len);
	return 0;
}

/* ---- validation -------------------------------------------------------- */

static bool valid_bind(uint8_t b)
{
	return b == HP_BIND_LOCAL || b == HP_BIND_GLOBAL || b == HP_BIND_WEAK;
}

static bool valid_align(uint32_t a)
{
	return a && a <= HP_HPD_MAX_ALIGN && !(a & (a - 1));
}

static int fail_at(struct hp_error *e, int code, const char *fmt, const char *kind, uint32_t i,
		   uint32_t j)
{
	char what[96];

	snprintf(what, sizeof(what), fmt, kind, i, j);
	return hp_fail(e, code, HP_NO_OFFSET, what);
}

/*
 * A string the reader accepts (hp_get_str()): present, non-empty unless
 * allowed, at most `max` bytes.  A longer one is HP_ELIMIT, as the reader
 * says; an empty one HP_ESTRING.  NULL stands for "" where empty is allowed.
 */
static bool str_ok(const char *s, size_t max, bool allow_empty, int *code)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	*code = HP_OK;
	if (n > max)
		*code = HP_ELIMIT;
	else if (!n && !allow_empty)
		*code = HP_ESTRING;
	return *code == HP_OK;
}

/* str_ok() for field `field` of item i of `kind`; 0, or -1 with *e filled. */
static int check_str(struct hp_error *e, const char *s, size_t max, bool allow_empty,
		     const char *kind, uint32_t i, const char *field)
{
	char what[96];
	int code;

	if (str_ok(s, max, allow_empty, &code))
		return 0;
	snprintf(what, sizeof(what), "%s %u %s", kind, i, field);
	return hp_fail(e, code, HP_NO_OFFSET, what);
}

/*
 * Relocations of one code or data item: known type, field inside the item,
 * sorted by offset with no overlapping fields, target index in range.
 */
static int validate_relocs(const struct hp_hpd *h, const struct hp_reloc *r, uint32_t n,
			   uint64_t size, bool syms_only, const char *kind, uint32_t item,
			   struct hp_error *e)
{
	uint64_t end_prev = 0;

	if (n > HP_HPD_MAX_COUNT)
		return fail_at(e, HP_ELIMIT, "%s %u relocation count", kind, item, 0);
	for (uint32_t j = 0; j < n; j++) {
		const struct hp_reloc_desc *d = hp_reloc_describe(h->machine, r[j].type);
		uint32_t count;

		if (!d)
			return fail_at(e, HP_EVALUE, "%s %u relocation %u type", kind, item, j);
		if ((uint64_t)r[j].offset + d->size > size)
			return fail_at(e, HP_ERANGE, "%s %u relocation %u offset", kind, item, j);
		if (r[j].offset < end_prev)
			return fail_at(e, HP_EORDER, "%s %u relocation %u offset", kind, item, j);
		end_prev = (uint64_t)r[j].offset + d->size;
		switch (r[j].target_kind) {
		case HP_TGT_SYM:
			count = h->nsyms;
			break;
		case HP_TGT_FUNC:
			count = syms_only ? 0 : h->nfuncs;
			break;
		case HP_TGT_DATA:
			count = syms_only ? 0 : h->ndata;
			break;
		default:
			return fail_at(e, HP_EVALUE, "%s %u relocation %u target kind", kind, item,
				       j);
		}
		if (r[j].target >= count)
			return fail_at(e, HP_ERANGE, "%s %u relocation %u target", kind, item, j);
	}
	return 0;
}

static int validate_func(const struct hp_hpd *h, uint32_t i, struct hp_error *e)
{
	const struct hp_func *f = &h->funcs[i];
	bool changed = f->status == HP_FUNC_CHANGED;

	if (f->status != HP_FUNC_CHANGED && f->status != HP_FUNC_NEW)
		return fail_at(e, HP_EVALUE, "%s %u status", "function", i, 0);
	if (!valid_bind(f->bind))
		return fail_at(e, HP_EVALUE, "%s %u binding", "function", i, 0);
	if (!valid_align(f->align))
		return fail_at(e, HP_EVALUE, "%s %u alignment", "function", i, 0);
	if (check_str(e, f->name, HP_HPD_MAX_NAME, false, "function", i, "name") < 0 ||
	    check_str(e, f->base_name, HP_HPD_MAX_NAME, true, "function", i, "baseline name") < 0 ||
	    check_str(e, f->section, HP_HPD_MAX_NAME, true, "function", i, "section") < 0 ||
	    check_str(e, f->source, HP_HPD_MAX_TEXT, true, "function", i, "source") < 0)
		return -1;
	if (changed != (f->base_name && f->base_name[0]))
		return fail_at(e, HP_EVALUE, "%s %u baseline name", "function", i, 0);
	if (!f->size || f->size > HP_HPD_MAX_CODE || (f->size && !f->code))
		return fail_at(e, HP_ELIMIT, "%s %u code size", "function", i, 0);
	if (validate_relocs(h, f->relocs, f->nrelocs, f->size, false, "function", i, e) < 0)
		return -1;
	if (!changed) {
		if (f->old_size || f->nold_relocs)
			return fail_at(e, HP_EVALUE, "%s %u baseline code", "function", i, 0);
		return 0;
	}
	if (!f->old_size || f->old_size > HP_HPD_MAX_CODE || !f->old_code)
		return fail_at(e, HP_ELIMIT, "%s %u baseline code size", "function", i, 0);
	return validate_relocs(h, f->old_relocs, f->nold_relocs, f->old_size, true,
			       "baseline function", i, e);
}

static int validate_data(const struct hp_hpd *h, uint32_t i, struct hp_error *e)
{
	const struct hp_data *d = &h->data[i];

	if (d->kind != HP_DATA_VAR && d->kind != HP_DATA_BSS && d->kind != HP_DATA_RODATA)
		return fail_at(e, HP_EVALUE, "%s %u kind", "data", i, 0);
	if (!valid_bind(d->bind))
		return fail_at(e, HP_EVALUE, "%s %u binding", "data", i, 0);
	if (!valid_align(d->align))
		return fail_at(e, HP_EVALUE, "%s %u alignment", "data", i, 0);
	if (check_str(e, d->name, HP_HPD_MAX_NAME, false, "data", i, "name") < 0)
		return -1;
	if (!d->size || d->size > (d->kind == HP_DATA_BSS ? HP_HPD_MAX_BSS : HP_HPD_MAX_CODE))
		return fail_at(e, HP_ELIMIT, "%s %u size", "data", i, 0);
	if (d->kind == HP_DATA_BSS ? (d->init || d->nrelocs) : !d->init)
		return fail_at(e, HP_EVALUE, "%s %u contents", "data", i, 0);
	return validate_relocs(h, d->relocs, d->nrelocs, d->size, false, "data", i, e);
}

int hp_hpd_validate(const struct hp_hpd *h, struct hp_error *e)
{
	bool unpatchable = false;

	if (h->flags & ~HP_HPD_F_KNOWN)
		return hp_fail(e, HP_ERESERVED, HP_NO_OFFSET, "header flags");
	if (!arch_supported(h->machine))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "machine");
	if (!h->tool || !h->tool[0] || !h->object || !h->object[0])
		return hp_fail(e, HP_ESTRING, HP_NO_OFFSET, "header strings");
	if (strnlen(h->tool, HP_HPD_MAX_TEXT + 1) > HP_HPD_MAX_TEXT ||
	    strnlen(h->object, HP_HPD_MAX_NAME + 1) > HP_HPD_MAX_NAME ||
	    (h->source && strnlen(h->source, HP_HPD_MAX_NAME + 1) > HP_HPD_MAX_NAME))
		return hp_fail(e, HP_ELIMIT, HP_NO_OFFSET, "header strings");
	if (h->nsyms > HP_HPD_MAX_COUNT || h->nfuncs > HP_HPD_MAX_COUNT ||
	    h->ndata > HP_HPD_MAX_COUNT || h->nnotes > HP_HPD_MAX_COUNT ||
	    h->naliases > HP_HPD_MAX_COUNT)
		return hp_fail(e, HP_ELIMIT, HP_NO_OFFSET, "table size");
	for (uint32_t i = 0; i < h->nsyms; i++) {
		const struct hp_sym *s = &h->syms[i];

		if (s->kind != HP_SYM_BASE && s->kind != HP_SYM_UNDEF)
			return fail_at(e, HP_EVALUE, "%s %u kind", "symbol", i, 0);
		if (!valid_bind(s->bind) || s->type > HP_STYPE_TLS)
			return fail_at(e, HP_EVALUE, "%s %u binding or type", "symbol", i, 0);
		if (check_str(e, s->name, HP_HPD_MAX_NAME, false, "symbol", i, "name") < 0)
			return -1;
	}
	for (uint32_t i = 0; i < h->nfuncs; i++)
		if (validate_func(h, i, e) < 0)
			return -1;
	for (uint32_t i = 0; i < h->ndata; i++)
		if (validate_data(h, i, e) < 0)
			return -1;
	for (uint32_t i = 0; i < h->nnotes; i++) {
		const struct hp_note *n = &h->notes[i];

		if (n->subject < HP_NOTE_FUNC || n->subject > HP_NOTE_OBJECT ||
		    n->status < HP_NOTE_CHANGED || n->status > HP_NOTE_REMOVED)
			return fail_at(e, HP_EVALUE, "%s %u subject or status", "note", i, 0);
		if (check_str(e, n->name, HP_HPD_MAX_NAME, false, "note", i, "name") < 0 ||
		    check_str(e, n->reason, HP_HPD_MAX_TEXT, true, "note", i, "reason") < 0)
			return -1;
		unpatchable |= !n->patchable;
	}
	for (uint32_t i = 0; i < h->naliases; i++) {
		const struct hp_alias *a = &h->aliases[i];

		if (a->kind != HP_TGT_FUNC && a->kind != HP_TGT_DATA)
			return fail_at(e, HP_EVALUE, "%s %u kind", "alias", i, 0);
		if (a->bind != HP_BIND_GLOBAL && a->bind != HP_BIND_WEAK)
			return fail_at(e, HP_EVALUE, "%s %u binding", "alias", i, 0);
		if (a->index >= (a->kind == HP_TGT_FUNC ? h->nfuncs : h->ndata))
			return fail_at(e, HP_ERANGE, "%s %u item", "alias", i, 0);
		if (check_str(e, a->name, HP_HPD_MAX_NAME, false, "alias", i, "name") < 0)
			return -1;
	}
	if (unpatchable != !!(h->flags & HP_HPD_F_UNPATCHABLE))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET,
			       "unpatchable flag disagrees with the findings");
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

static struct hp_reloc *get_relocs(struct hp_rbuf *rb, uint32_t *n, const char *what)
{
	struct hp_reloc *r;

	r = hp_get_table(rb, n, HP_HPD_MAX_COUNT, RELOC_BYTES, sizeof(*r), what);
	if (!r)
		return NULL;
	for (uint32_t i = 0; i < *n; i++) {
		r[i].offset = hp_get_u32(rb, "relocation offset");
		r[i].type = hp_get_u32(rb, "relocation type");
		r[i].target_kind = hp_get_u8(rb, "relocation target kind");
		hp_get_reserved(rb, 3, "relocation reserved");
		r[i].target = hp_get_u32(rb, "relocation target");
		r[i].addend = hp_get_i64(rb, "relocation addend");
	}
	return r;
}

static void get_func(struct hp_rbuf *rb, struct hp_func *f)
{
	f->status = hp_get_u8(rb, "function status");
	f->bind = hp_get_u8(rb, "function binding");
	hp_get_reserved(rb, 2, "function reserved");
	f->align = hp_get_u32(rb, "function alignment");
	f->name = hp_get_str(rb, HP_HPD_MAX_NAME, false, "function name");
	f->base_name = hp_get_str(rb, HP_HPD_MAX_NAME, true, "function baseline name");
	f->section = hp_get_str(rb, HP_HPD_MAX_NAME, true, "function section");
	f->source = hp_get_str(rb, HP_HPD_MAX_TEXT, true, "function source");
	f->size = hp_get_u32(rb, "function code size");
	f->code = hp_get_copy(rb, f->size, HP_HPD_MAX_CODE, "function code");
	f->relocs = get_relocs(rb, &f->nrelocs, "function relocations");
	if (rb->failed || f->status != HP_FUNC_CHANGED)
		return;
	f->old_size = hp_get_u32(rb, "baseline code size");
	f->old_code = hp_get_copy(rb, f->old_size, HP_HPD_MAX_CODE, "baseline code");
	f->old_relocs = get_relocs(rb, &f->nold_relocs, "baseline relocations");
}

static void get_data(struct hp_rbuf *rb, struct hp_data *d)
{
	d->kind = hp_get_u8(rb, "data kind");
	d->bind = hp_get_u8(rb, "data binding");
	hp_get_reserved(rb, 2, "data reserved");
	d->align = hp_get_u32(rb, "data alignment");
	d->name = hp_get_str(rb, HP_HPD_MAX_NAME, false, "data name");
	d->size = hp_get_u64(rb, "data size");
	if (rb->failed)
		return;
	if (d->size > (d->kind == HP_DATA_BSS ? HP_HPD_MAX_BSS : HP_HPD_MAX_CODE)) {
		hp_rbuf_fail(rb, HP_ELIMIT, "data size");
		return;
	}
	if (d->kind != HP_DATA_BSS)
		d->init = hp_get_copy(rb, d->size, HP_HPD_MAX_CODE, "data contents");
	d->relocs = get_relocs(rb, &d->nrelocs, "data relocations");
}

static void get_header(struct hp_rbuf *rb, struct hp_hpd *h)
{
	const uint8_t *magic = hp_get_bytes(rb, sizeof(hpd_magic), "magic");

	if (magic && memcmp(magic, hpd_magic, sizeof(hpd_magic))) {
		rb->pos = 0;
		hp_rbuf_fail(rb, HP_EMAGIC, "magic");
		return;
	}
	h->major = hp_get_u16(rb, "version");
	h->minor = hp_get_u16(rb, "version");
	/* A newer minor may add fields this reader would misparse. */
	if (!rb->failed && (h->major != HP_HPD_MAJOR || h->minor > HP_HPD_MINOR)) {
		rb->pos -= 4;
		hp_rbuf_fail(rb, HP_EVERSION, "version");
		return;
	}
	h->flags = hp_get_u32(rb, "flags");
	if (!rb->failed && (h->flags & ~HP_HPD_F_KNOWN_IN(h->minor))) {
		rb->pos -= 4;
		hp_rbuf_fail(rb, HP_ERESERVED, "flags");
		return;
	}
	h->machine = hp_get_u16(rb, "machine");
	hp_get_reserved(rb, 6, "header reserved");
	h->tool = hp_get_str(rb, HP_HPD_MAX_TEXT, false, "tool");
	h->object = hp_get_str(rb, HP_HPD_MAX_NAME, false, "object name");
	h->source = hp_get_str(rb, HP_HPD_MAX_NAME, true, "source name");
	const uint8_t *oh = hp_get_bytes(rb, 32, "baseline object hash");
	const uint8_t *nh = hp_get_bytes(rb, 32, "fixed object hash");
	if (oh && nh) {
		memcpy(h->old_sha256, oh, 32);
		memcpy(h->new_sha256, nh, 32);
	}
}

static void get_body(struct hp_rbuf *rb, struct hp_hpd *h)
{
	h->syms =
		hp_get_table(rb, &h->nsyms, HP_HPD_MAX_COUNT, 8, sizeof(*h->syms), "symbol count");
	for (uint32_t i = 0; i < h->nsyms && !rb->failed; i++) {
		struct hp_sym *s = &h->syms[i];

		s->kind = hp_get_u8(rb, "symbol kind");
		s->bind = hp_get_u8(rb, "symbol binding");
		s->type = hp_get_u8(rb, "symbol type");
		hp_get_reserved(rb, 1, "symbol reserved");
		s->name = hp_get_str(rb, HP_HPD_MAX_NAME, false, "symbol name");
	}
	h->funcs = hp_get_table(rb, &h->nfuncs, HP_HPD_MAX_COUNT, 32, sizeof(*h->funcs),
				"function count");
	for (uint32_t i = 0; i < h->nfuncs && !rb->failed; i++)
		get_func(rb, &h->funcs[i]);
	h->data = hp_get_table(rb, &h->ndata, HP_HPD_MAX_COUNT, 24, sizeof(*h->data), "data count");
	for (uint32_t i = 0; i < h->ndata && !rb->failed; i++)
		get_data(rb, &h->data[i]);
	h->notes =
		hp_get_table(rb, &h->nnotes, HP_HPD_MAX_COUNT, 12, sizeof(*h->notes), "note count");
	for (uint32_t i = 0; i < h->nnotes && !rb->failed; i++) {
		struct hp_note *n = &h->notes[i];
		uint8_t patchable;

		n->subject = hp_get_u8(rb, "note subject");
		n->status = hp_get_u8(rb, "note status");
		patchable = hp_get_u8(rb, "note patchable");
		if (!rb->failed && patchable > 1) {
			rb->pos--;
			hp_rbuf_fail(rb, HP_EVALUE, "note patchable");
		}
		n->patchable = patchable == 1;
		hp_get_reserved(rb, 1, "note reserved");
		n->name = hp_get_str(rb, HP_HPD_MAX_NAME, false, "note name");
		n->reason = hp_get_str(rb, HP_HPD_MAX_TEXT, true, "note reason");
	}
	if (rb->failed || h->minor < 1)
		return;
	h->aliases = hp_get_table(rb, &h->naliases, HP_HPD_MAX_COUNT, 12, sizeof(*h->aliases),
				  "alias count");
	for (uint32_t i = 0; i < h->naliases && !rb->failed; i++) {
		struct hp_alias *a = &h->aliases[i];

		a->kind = hp_get_u8(rb, "alias kind");
		a->bind = hp_get_u8(rb, "alias binding");
		hp_get_reserved(rb, 2, "alias reserved");
		a->index = hp_get_u32(rb, "alias item");
		a->name = hp_get_str(rb, HP_HPD_MAX_NAME, false, "alias name");
	}
}

int hp_hpd_decode(const uint8_t *buf, size_t len, struct hp_hpd **out, struct hp_error *e)
{
	struct hp_rbuf rb;
	struct hp_hpd *h;
	uint8_t digest[32];

	*out = NULL;
	if (len > HP_HPD_MAX_FILE)
		return hp_fail(e, HP_ELIMIT, 0, "file size");
	if (len < sizeof(hpd_magic) || memcmp(buf, hpd_magic, sizeof(hpd_magic)))
		return hp_fail(e, len < sizeof(hpd_magic) ? HP_ETRUNC : HP_EMAGIC, 0, "magic");
	if (len < 32 + sizeof(hpd_magic))
		return hp_fail(e, HP_ETRUNC, len, "checksum");
	/* A damaged file says so, rather than failing on whatever field it hit. */
	if (hp_sha256(buf, len - 32, digest) < 0 || memcmp(digest, buf + len - 32, 32))
		return hp_fail(e, HP_ECHECKSUM, len - 32, "checksum (damaged or truncated file)");
	h = calloc(1, sizeof(*h));
	if (!h)
		return hp_fail(e, HP_ENOMEM, 0, "decoding .hpd");
	/* The body is everything before the 32-byte checksum trailer. */
	hp_rbuf_init(&rb, buf, len - 32, e);
	get_header(&rb, h);
	if (!rb.failed)
		get_body(&rb, h);
	if (rb.failed)
		goto fail;
	if (hp_rbuf_left(&rb)) {
		hp_fail(e, HP_ETRAILING, rb.pos,
			h->minor < 1 ? "after the last note" : "after the last alias");
		goto fail;
	}
	if (hp_hpd_validate(h, e) < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	hp_hpd_free(h);
	return -1;
}

void hp_hpd_drop_code(struct hp_hpd *h)
{
	for (uint32_t i = 0; i < h->nsyms; i++)
		free(h->syms[i].name);
	free(h->syms);
	for (uint32_t i = 0; i < h->nfuncs; i++) {
		struct hp_func *f = &h->funcs[i];

		free(f->name);
		free(f->base_name);
		free(f->section);
		free(f->source);
		free(f->code);
		free(f->relocs);
		free(f->old_code);
		free(f->old_relocs);
	}
	free(h->funcs);
	for (uint32_t i = 0; i < h->ndata; i++) {
		free(h->data[i].name);
		free(h->data[i].init);
		free(h->data[i].relocs);
	}
	free(h->data);
	for (uint32_t i = 0; i < h->naliases; i++)
		free(h->aliases[i].name);
	free(h->aliases);
	h->syms = NULL;
	h->funcs = NULL;
	h->data = NULL;
	h->aliases = NULL;
	h->nsyms = h->nfuncs = h->ndata = h->naliases = 0;
}

void hp_hpd_free(struct hp_hpd *h)
{
	if (!h)
		return;
	free(h->tool);
	free(h->object);
	free(h->source);
	hp_hpd_drop_code(h);
	for (uint32_t i = 0; i < h->nnotes; i++) {
		free(h->notes[i].name);
		free(h->notes[i].reason);
	}
	free(h->notes);
	free(h);
}
