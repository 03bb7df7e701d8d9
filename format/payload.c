/*
 * The package payload (the raw bytes inside payload.zst): what the loader
 * places in the target process, with every reference resolved against the
 * baseline image.  Layout in docs/format.md ("The payload").
 *
 * Like the .hpd codec: the byte parser checks bounds, counts, strings and
 * reserved fields; hp_payload_validate() checks indices, fields and which
 * relocation a loader can apply to which kind of target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "format/buf.h"
#include "format/hpk.h"

static const uint8_t payload_magic[8] = {0x89, 'H', 'P', 'P', '\r', '\n', 0x1a, '\n'};

#define RELOC_BYTES 32u
#define MAX_NAME    65536u

bool hp_payload_reloc_ok(uint16_t machine, uint32_t type, uint8_t target)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);
	bool addr = target == HP_PT_IMAGE || target == HP_PT_CODE || target == HP_PT_DATA ||
		    target == HP_PT_IMPORT;

	if (!d)
		return false;
	switch (d->calc) {
	case HP_CALC_ABS:
	case HP_CALC_GOTPCREL:
		return addr;
	case HP_CALC_PCREL:
		/* an 8-bit displacement reaches nothing outside its own function */
		return addr && d->size >= 4;
	case HP_CALC_TPOFF:
	case HP_CALC_GOTTPOFF:
		/* thread-pointer offsets: known at pack time for the baseline's own TLS */
		return target == HP_PT_CONST;
	default:
		return false;
	}
}

/* ---- encoding ---------------------------------------------------------------- */

static void put_relocs(struct hp_wbuf *wb, const struct hp_preloc *r, uint32_t n)
{
	hp_put_u32(wb, n);
	for (uint32_t i = 0; i < n; i++) {
		hp_put_u32(wb, r[i].offset);
		hp_put_u32(wb, r[i].type);
		hp_put_u8(wb, r[i].target);
		hp_put_zeros(wb, 3);
		hp_put_u32(wb, r[i].index);
		hp_put_i64(wb, r[i].target_off);
		hp_put_i64(wb, r[i].addend);
	}
}

int hp_payload_encode(const struct hp_payload *p, uint8_t **out, size_t *len, struct hp_error *e)
{
	struct hp_wbuf wb;

	*out = NULL;
	if (hp_payload_validate(p, e) < 0)
		return -1;
	hp_wbuf_init(&wb);
	hp_put_bytes(&wb, payload_magic, sizeof(payload_magic));
	hp_put_u16(&wb, HP_PAYLOAD_MAJOR);
	hp_put_u16(&wb, HP_PAYLOAD_MINOR);
	hp_put_u32(&wb, 0);
	hp_put_u32(&wb, p->nreplaced);
	for (uint32_t i = 0; i < p->nreplaced; i++)
		hp_put_u32(&wb, p->replaced[i]);
	hp_put_u32(&wb, p->ncode);
	for (uint32_t i = 0; i < p->ncode; i++) {
		const struct hp_pcode *c = &p->code[i];

		hp_put_u8(&wb, c->kind);
		hp_put_zeros(&wb, 3);
		hp_put_u32(&wb, c->align);
		hp_put_str(&wb, c->name);
		hp_put_u32(&wb, c->size);
		hp_put_bytes(&wb, c->code, c->size);
		put_relocs(&wb, c->relocs, c->nrelocs);
	}
	hp_put_u32(&wb, p->ndata);
	for (uint32_t i = 0; i < p->ndata; i++) {
		const struct hp_pdata *d = &p->data[i];

		hp_put_u8(&wb, d->kind);
		hp_put_zeros(&wb, 3);
		hp_put_u32(&wb, d->align);
		hp_put_str(&wb, d->name);
		hp_put_u64(&wb, d->size);
		if (d->kind != HP_PDATA_BSS)
			hp_put_bytes(&wb, d->init, (size_t)d->size);
		put_relocs(&wb, d->relocs, d->nrelocs);
	}
	hp_put_u32(&wb, p->nimports);
	for (uint32_t i = 0; i < p->nimports; i++) {
		hp_put_u8(&wb, p->imports[i].weak ? 1 : 0);
		hp_put_zeros(&wb, 3);
		hp_put_str(&wb, p->imports[i].name);
	}
	if (wb.failed) {
		hp_wbuf_free(&wb);
		return hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "encoding the payload");
	}
	*out = hp_wbuf_take(&wb, len);
	return 0;
}

/* ---- validation ---------------------------------------------------------------- */

static int fail_item(struct hp_error *e, int code, const char *kind, uint32_t i, uint32_t j,
		     const char *field)
{
	char what[96];

	if (j == UINT32_MAX)
		snprintf(what, sizeof(what), "%s %u %s", kind, i, field);
	else
		snprintf(what, sizeof(what), "%s %u relocation %u %s", kind, i, j, field);
	return hp_fail(e, code, HP_NO_OFFSET, what);
}

static bool valid_align(uint32_t a)
{
	return a && a <= HP_PAYLOAD_MAX_ALIGN && !(a & (a - 1));
}

static int check_relocs(const struct hp_payload *p, const struct hp_preloc *r, uint32_t n,
			uint64_t size, const char *kind, uint32_t item, struct hp_error *e)
{
	uint16_t machine = arch_machine(HP_FORMAT_ARCH);
	uint64_t end_prev = 0;

	for (uint32_t j = 0; j < n; j++) {
		const struct hp_reloc_desc *d = hp_reloc_describe(machine, r[j].type);
		uint32_t count = 0;

		if (!d || !hp_payload_reloc_ok(machine, r[j].type, r[j].target))
			return fail_item(e, HP_EVALUE, kind, item, j, "type");
		if ((uint64_t)r[j].offset + d->size > size)
			return fail_item(e, HP_ERANGE, kind, item, j, "offset");
		if (r[j].offset < end_prev)
			return fail_item(e, HP_EORDER, kind, item, j, "offset");
		end_prev = (uint64_t)r[j].offset + d->size;
		switch (r[j].target) {
		case HP_PT_CODE:
			count = p->ncode;
			break;
		case HP_PT_DATA:
			count = p->ndata;
			break;
		case HP_PT_IMPORT:
			count = p->nimports;
			break;
		default: /* IMAGE and CONST take no index */
			if (r[j].index)
				return fail_item(e, HP_ERANGE, kind, item, j, "target");
			if (r[j].target == HP_PT_IMAGE && r[j].target_off < 0)
				return fail_item(e, HP_ERANGE, kind, item, j, "image offset");
			continue;
		}
		if (r[j].index >= count)
			return fail_item(e, HP_ERANGE, kind, item, j, "target");
	}
	return 0;
}

static bool valid_name(const char *s)
{
	return s && s[0] && strlen(s) <= MAX_NAME;
}

int hp_payload_validate(const struct hp_payload *p, struct hp_error *e)
{
	uint8_t *used;

	if (p->nreplaced > HP_PAYLOAD_MAX_COUNT || p->ncode > HP_PAYLOAD_MAX_COUNT ||
	    p->ndata > HP_PAYLOAD_MAX_COUNT || p->nimports > HP_PAYLOAD_MAX_COUNT)
		return hp_fail(e, HP_ELIMIT, HP_NO_OFFSET, "table size");
	for (uint32_t i = 0; i < p->ncode; i++) {
		const struct hp_pcode *c = &p->code[i];

		if (c->kind != HP_PCODE_REPLACEMENT && c->kind != HP_PCODE_NEW)
			return fail_item(e, HP_EVALUE, "code", i, UINT32_MAX, "kind");
		if (!valid_align(c->align))
			return fail_item(e, HP_EVALUE, "code", i, UINT32_MAX, "alignment");
		if (!valid_name(c->name))
			return fail_item(e, HP_ESTRING, "code", i, UINT32_MAX, "name");
		if (!c->size || c->size > HP_PAYLOAD_MAX_ITEM || !c->code)
			return fail_item(e, HP_ELIMIT, "code", i, UINT32_MAX, "size");
		if (check_relocs(p, c->relocs, c->nrelocs, c->size, "code", i, e) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < p->ndata; i++) {
		const struct hp_pdata *d = &p->data[i];
		uint64_t max = d->kind == HP_PDATA_BSS ? HP_PAYLOAD_MAX_BSS : HP_PAYLOAD_MAX_ITEM;

		if (d->kind < HP_PDATA_DATA || d->kind > HP_PDATA_RODATA)
			return fail_item(e, HP_EVALUE, "data", i, UINT32_MAX, "kind");
		if (!valid_align(d->align))
			return fail_item(e, HP_EVALUE, "data", i, UINT32_MAX, "alignment");
		if (!valid_name(d->name))
			return fail_item(e, HP_ESTRING, "data", i, UINT32_MAX, "name");
		if (!d->size || d->size > max)
			return fail_item(e, HP_ELIMIT, "data", i, UINT32_MAX, "size");
		if ((d->kind == HP_PDATA_BSS) != !d->init ||
		    (d->kind == HP_PDATA_BSS && d->nrelocs))
			return fail_item(e, HP_EVALUE, "data", i, UINT32_MAX, "contents");
		if (check_relocs(p, d->relocs, d->nrelocs, d->size, "data", i, e) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < p->nimports; i++)
		if (!valid_name(p->imports[i].name))
			return fail_item(e, HP_ESTRING, "import", i, UINT32_MAX, "name");
	/* Every replacement replaces exactly one function; new code replaces none. */
	used = calloc(p->ncode ? p->ncode : 1, 1);
	if (!used)
		return hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "payload");
	for (uint32_t i = 0; i < p->nreplaced; i++) {
		uint32_t c = p->replaced[i];

		if (c >= p->ncode || p->code[c].kind != HP_PCODE_REPLACEMENT || used[c]) {
			free(used);
			return fail_item(e, HP_ERANGE, "replacement", i, UINT32_MAX, "code index");
		}
		used[c] = 1;
	}
	for (uint32_t i = 0; i < p->ncode; i++) {
		if (p->code[i].kind == HP_PCODE_REPLACEMENT && !used[i]) {
			free(used);
			return fail_item(e, HP_EVALUE, "code", i, UINT32_MAX, "replaces nothing");
		}
	}
	free(used);
	return 0;
}

int hp_payload_matches_manifest(const struct hp_payload *p, const struct hp_manifest *m,
				struct hp_error *e)
{
	char what[96];

	if (p->nreplaced == m->nfuncs)
		return 0;
	snprintf(what, sizeof(what), "payload replaces %u functions, MANIFEST lists %u",
		 p->nreplaced, m->nfuncs);
	return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, what);
}

/* ---- decoding ---------------------------------------------------------------- */

static struct hp_preloc *get_relocs(struct hp_rbuf *rb, uint32_t *n)
{
	struct hp_preloc *r;

	*n = hp_get_count(rb, HP_PAYLOAD_MAX_COUNT, "relocation count");
	if (rb->failed || !*n)
		return NULL;
	if ((uint64_t)*n * RELOC_BYTES > hp_rbuf_left(rb)) {
		hp_rbuf_fail(rb, HP_ETRUNC, "relocations");
		*n = 0;
		return NULL;
	}
	r = calloc(*n, sizeof(*r));
	if (!r) {
		hp_rbuf_fail(rb, HP_ENOMEM, "relocations");
		*n = 0;
		return NULL;
	}
	for (uint32_t i = 0; i < *n; i++) {
		r[i].offset = hp_get_u32(rb, "relocation offset");
		r[i].type = hp_get_u32(rb, "relocation type");
		r[i].target = hp_get_u8(rb, "relocation target kind");
		hp_get_reserved(rb, 3, "relocation reserved");
		r[i].index = hp_get_u32(rb, "relocation target index");
		r[i].target_off = hp_get_i64(rb, "relocation target offset");
		r[i].addend = hp_get_i64(rb, "relocation addend");
	}
	return r;
}

static void get_body(struct hp_rbuf *rb, struct hp_payload *p)
{
	p->replaced = hp_get_table(rb, &p->nreplaced, HP_PAYLOAD_MAX_COUNT, 4, sizeof(*p->replaced),
				   "replacement count");
	for (uint32_t i = 0; i < p->nreplaced && !rb->failed; i++)
		p->replaced[i] = hp_get_u32(rb, "replacement code index");
	p->code = hp_get_table(rb, &p->ncode, HP_PAYLOAD_MAX_COUNT, 20, sizeof(*p->code),
			       "code count");
	for (uint32_t i = 0; i < p->ncode && !rb->failed; i++) {
		struct hp_pcode *c = &p->code[i];

		c->kind = hp_get_u8(rb, "code kind");
		hp_get_reserved(rb, 3, "code reserved");
		c->align = hp_get_u32(rb, "code alignment");
		c->name = hp_get_str(rb, MAX_NAME, false, "code name");
		c->size = hp_get_u32(rb, "code size");
		c->code = hp_get_copy(rb, c->size, HP_PAYLOAD_MAX_ITEM, "code bytes");
		c->relocs = get_relocs(rb, &c->nrelocs);
	}
	p->data = hp_get_table(rb, &p->ndata, HP_PAYLOAD_MAX_COUNT, 24, sizeof(*p->data),
			       "data count");
	for (uint32_t i = 0; i < p->ndata && !rb->failed; i++) {
		struct hp_pdata *d = &p->data[i];

		d->kind = hp_get_u8(rb, "data kind");
		hp_get_reserved(rb, 3, "data reserved");
		d->align = hp_get_u32(rb, "data alignment");
		d->name = hp_get_str(rb, MAX_NAME, false, "data name");
		d->size = hp_get_u64(rb, "data size");
		if (!rb->failed && d->kind != HP_PDATA_BSS)
			d->init = hp_get_copy(rb, d->size, HP_PAYLOAD_MAX_ITEM, "data bytes");
		d->relocs = get_relocs(rb, &d->nrelocs);
	}
	p->imports = hp_get_table(rb, &p->nimports, HP_PAYLOAD_MAX_COUNT, 8, sizeof(*p->imports),
				  "import count");
	for (uint32_t i = 0; i < p->nimports && !rb->failed; i++) {
		uint8_t weak = hp_get_u8(rb, "import binding");

		if (!rb->failed && weak > 1) {
			rb->pos--;
			hp_rbuf_fail(rb, HP_EVALUE, "import binding");
		}
		p->imports[i].weak = weak == 1;
		hp_get_reserved(rb, 3, "import reserved");
		p->imports[i].name = hp_get_str(rb, MAX_NAME, false, "import name");
	}
}

int hp_payload_decode(const uint8_t *buf, size_t len, struct hp_payload **out, struct hp_error *e)
{
	struct hp_payload *p;
	struct hp_rbuf rb;
	const uint8_t *magic;
	uint16_t major, minor;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return hp_fail(e, HP_ENOMEM, 0, "payload");
	hp_rbuf_init(&rb, buf, len, e);
	magic = hp_get_bytes(&rb, sizeof(payload_magic), "payload magic");
	if (magic && memcmp(magic, payload_magic, sizeof(payload_magic))) {
		hp_fail(e, HP_EMAGIC, 0, "payload magic");
		goto fail;
	}
	major = hp_get_u16(&rb, "payload version");
	minor = hp_get_u16(&rb, "payload version");
	if (!rb.failed && (major != HP_PAYLOAD_MAJOR || minor > HP_PAYLOAD_MINOR)) {
		hp_fail(e, HP_EVERSION, 8, "payload version");
		goto fail;
	}
	hp_get_reserved(&rb, 4, "payload flags");
	if (!rb.failed)
		get_body(&rb, p);
	if (rb.failed)
		goto fail;
	if (hp_rbuf_left(&rb)) {
		hp_fail(e, HP_ETRAILING, rb.pos, "after the last import");
		goto fail;
	}
	if (hp_payload_validate(p, e) < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	hp_payload_free(p);
	return -1;
}

void hp_payload_free(struct hp_payload *p)
{
	if (!p)
		return;
	free(p->replaced);
	for (uint32_t i = 0; i < p->ncode; i++) {
		free(p->code[i].name);
		free(p->code[i].code);
		free(p->code[i].relocs);
	}
	free(p->code);
	for (uint32_t i = 0; i < p->ndata; i++) {
		free(p->data[i].name);
		free(p->data[i].init);
		free(p->data[i].relocs);
	}
	free(p->data);
	for (uint32_t i = 0; i < p->nimports; i++)
		free(p->imports[i].name);
	free(p->imports);
	free(p);
}
