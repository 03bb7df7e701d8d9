/*
 * The .hpd codec: round trips, and the strict reader refusing every kind of
 * malformed input with the right error class.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "format/buf.h"
#include "format/hpd.h"

static const uint8_t code_new[] = {0xe8, 0, 0, 0, 0, 0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xc3};
static const uint8_t code_old[] = {0xe8, 0, 0, 0, 0, 0xc3};

/* A small but complete model: one changed and one new function, data, notes. */
static struct hp_hpd *sample(void)
{
	struct hp_hpd *h = calloc(1, sizeof(*h));

	h->machine = arch_machine("x86_64");
	h->tool = strdup("hpdiff test");
	h->object = strdup("parse.o");
	h->source = strdup("parse.c");
	memset(h->old_sha256, 0x11, 32);
	memset(h->new_sha256, 0x22, 32);
	h->nsyms = 2;
	h->syms = calloc(2, sizeof(*h->syms));
	h->syms[0] =
		(struct hp_sym){HP_SYM_BASE, HP_BIND_LOCAL, HP_STYPE_OBJECT, strdup("counter.0")};
	h->syms[1] =
		(struct hp_sym){HP_SYM_UNDEF, HP_BIND_GLOBAL, HP_STYPE_NOTYPE, strdup("memcpy")};
	h->nfuncs = 2;
	h->funcs = calloc(2, sizeof(*h->funcs));
	struct hp_func *f = &h->funcs[0];
	f->status = HP_FUNC_CHANGED;
	f->bind = HP_BIND_GLOBAL;
	f->align = 16;
	f->name = strdup("parse");
	f->base_name = strdup("parse");
	f->section = strdup(".text");
	f->source = strdup("parse.c:12");
	f->size = sizeof(code_new);
	f->code = malloc(f->size);
	memcpy(f->code, code_new, f->size);
	f->nrelocs = 2;
	f->relocs = calloc(2, sizeof(*f->relocs));
	f->relocs[0] = (struct hp_reloc){1, R_X86_64_PLT32, HP_TGT_FUNC, 1, -4};
	f->relocs[1] = (struct hp_reloc){8, R_X86_64_PC32, HP_TGT_DATA, 0, -4};
	f->old_size = sizeof(code_old);
	f->old_code = malloc(f->old_size);
	memcpy(f->old_code, code_old, f->old_size);
	f->nold_relocs = 1;
	f->old_relocs = calloc(1, sizeof(*f->old_relocs));
	f->old_relocs[0] = (struct hp_reloc){1, R_X86_64_PLT32, HP_TGT_SYM, 1, -4};
	f = &h->funcs[1];
	f->status = HP_FUNC_NEW;
	f->bind = HP_BIND_LOCAL;
	f->align = 1;
	f->name = strdup("check_len");
	f->base_name = strdup("");
	f->section = strdup(".text");
	f->source = strdup("");
	f->size = 1;
	f->code = malloc(1);
	f->code[0] = 0xc3;
	h->ndata = 1;
	h->data = calloc(1, sizeof(*h->data));
	h->data[0] = (struct hp_data){
		HP_DATA_RODATA,		  HP_BIND_LOCAL, 1, strdup("string literal"), 4,
		(uint8_t *)strdup("bad"), NULL,		 0};
	h->nnotes = 1;
	h->notes = calloc(1, sizeof(*h->notes));
	h->notes[0] = (struct hp_note){HP_NOTE_FUNC, HP_NOTE_CHANGED, true, strdup("parse"),
				       strdup("at +0x0 ...")};
	h->naliases = 1;
	h->aliases = calloc(1, sizeof(*h->aliases));
	h->aliases[0] = (struct hp_alias){HP_TGT_FUNC, HP_BIND_WEAK, 0, strdup("__parse")};
	return h;
}

static uint8_t *encode(const struct hp_hpd *h, size_t *len)
{
	uint8_t *buf;
	struct hp_error e;

	cr_assert(hp_hpd_encode(h, &buf, len, &e) == 0, "encode failed: %d %s", e.code, e.what);
	return buf;
}

/* Re-seal the checksum after editing the body, so the edit itself is tested. */
static void reseal(uint8_t *buf, size_t len)
{
	hp_sha256(buf, len - 32, buf + len - 32);
}

static int decode_code(const uint8_t *buf, size_t len)
{
	struct hp_hpd *h = NULL;
	struct hp_error e = {0};

	if (hp_hpd_decode(buf, len, &h, &e) == 0) {
		hp_hpd_free(h);
		return HP_OK;
	}
	cr_assert(h == NULL);
	return e.code;
}

Test(hpd, round_trip_is_exact)
{
	struct hp_hpd *h = sample(), *back;
	struct hp_error e;
	size_t len, len2;
	uint8_t *buf = encode(h, &len), *buf2;

	cr_assert(hp_hpd_decode(buf, len, &back, &e) == 0);
	cr_assert_str_eq(back->object, "parse.o");
	cr_assert_eq(back->nfuncs, 2);
	cr_assert_eq(back->funcs[0].relocs[1].target_kind, HP_TGT_DATA);
	cr_assert_eq(back->funcs[0].relocs[0].addend, -4);
	cr_assert_arr_eq(back->funcs[0].code, code_new, sizeof(code_new));
	cr_assert_str_eq(back->syms[0].name, "counter.0");
	cr_assert_str_eq((char *)back->data[0].init, "bad");
	cr_assert_eq(back->minor, 2);
	cr_assert_eq(back->naliases, 1);
	cr_assert_eq(back->aliases[0].kind, HP_TGT_FUNC);
	cr_assert_eq(back->aliases[0].bind, HP_BIND_WEAK);
	cr_assert_eq(back->aliases[0].index, 0);
	cr_assert_str_eq(back->aliases[0].name, "__parse");
	buf2 = encode(back, &len2);
	cr_assert_eq(len, len2);
	cr_assert_arr_eq(buf, buf2, len);
	free(buf);
	free(buf2);
	hp_hpd_free(h);
	hp_hpd_free(back);
}

Test(hpd, every_truncation_is_refused)
{
	struct hp_hpd *h = sample();
	size_t len;
	uint8_t *buf = encode(h, &len);

	for (size_t n = 0; n < len; n++) {
		int c = decode_code(buf, n);

		cr_assert(c != HP_OK, "a %zu-byte prefix of %zu was accepted", n, len);
	}
	free(buf);
	hp_hpd_free(h);
}

Test(hpd, every_byte_flip_is_refused)
{
	struct hp_hpd *h = sample();
	size_t len;
	uint8_t *buf = encode(h, &len);

	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x01;
		cr_assert(decode_code(buf, len) != HP_OK, "flip at %zu accepted", i);
		buf[i] ^= 0x01;
	}
	free(buf);
	hp_hpd_free(h);
}

Test(hpd, classes_of_malformation)
{
	struct hp_hpd *h = sample();
	size_t len;
	uint8_t *buf = encode(h, &len), *big;

	cr_assert_eq(decode_code(buf, len), HP_OK);
	/* magic */
	buf[1] = 'X';
	cr_assert_eq(decode_code(buf, len), HP_EMAGIC);
	buf[1] = 'H';
	/* version */
	buf[8] = 2;
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_EVERSION);
	buf[8] = 1;
	/* unknown flag */
	buf[12] = 0x80;
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ERESERVED);
	buf[12] = 0;
	/* reserved header bytes */
	buf[19] = 1;
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ERESERVED);
	buf[19] = 0;
	/* checksum */
	reseal(buf, len);
	buf[len - 1] ^= 0xff;
	cr_assert_eq(decode_code(buf, len), HP_ECHECKSUM);
	reseal(buf, len);
	/* trailing bytes after the notes (inside the checksummed part) */
	big = malloc(len + 1);
	memcpy(big, buf, len - 32);
	big[len - 32] = 0;
	reseal(big, len + 1);
	cr_assert_eq(decode_code(big, len + 1), HP_ETRAILING);
	free(big);
	free(buf);
	hp_hpd_free(h);
}

static int encode_code(struct hp_hpd *h)
{
	uint8_t *buf = NULL;
	size_t len;
	struct hp_error e = {0};

	if (hp_hpd_encode(h, &buf, &len, &e) == 0) {
		free(buf);
		return HP_OK;
	}
	return e.code;
}

/* The writer refuses what the reader would refuse: same validation. */
Test(hpd, semantic_checks)
{
	struct hp_hpd *h = sample();
	struct hp_reloc keep = h->funcs[0].relocs[1];

	h->funcs[0].relocs[1].offset = sizeof(code_new) - 2; /* field past the end */
	cr_assert_eq(encode_code(h), HP_ERANGE);
	h->funcs[0].relocs[1] = keep;
	h->funcs[0].relocs[1].type = 250; /* unknown relocation type */
	cr_assert_eq(encode_code(h), HP_EVALUE);
	h->funcs[0].relocs[1] = keep;
	h->funcs[0].relocs[1].target = 7; /* no such data item */
	cr_assert_eq(encode_code(h), HP_ERANGE);
	h->funcs[0].relocs[1] = keep;
	h->funcs[0].relocs[1].offset = 2; /* overlaps the first field */
	cr_assert_eq(encode_code(h), HP_EORDER);
	h->funcs[0].relocs[1] = keep;
	h->funcs[0].old_relocs[0].target_kind = HP_TGT_FUNC; /* baseline code names symbols only */
	cr_assert_eq(encode_code(h), HP_ERANGE);
	h->funcs[0].old_relocs[0].target_kind = HP_TGT_SYM;
	h->funcs[1].align = 3;
	cr_assert_eq(encode_code(h), HP_EVALUE);
	h->funcs[1].align = 1;
	h->notes[0].patchable = false; /* flag must agree with the findings */
	cr_assert_eq(encode_code(h), HP_EVALUE);
	h->flags = HP_HPD_F_UNPATCHABLE;
	cr_assert_eq(encode_code(h), HP_OK);
	h->flags = 0;
	h->notes[0].patchable = true;
	/* aliases: an item of the table, global or weak, named */
	h->aliases[0].index = 2; /* there are two functions */
	cr_assert_eq(encode_code(h), HP_ERANGE);
	h->aliases[0].index = 0;
	h->aliases[0].kind = HP_TGT_SYM;
	cr_assert_eq(encode_code(h), HP_EVALUE);
	h->aliases[0].kind = HP_TGT_DATA;
	cr_assert_eq(encode_code(h), HP_OK);
	h->aliases[0].bind = HP_BIND_LOCAL;
	cr_assert_eq(encode_code(h), HP_EVALUE);
	h->aliases[0].bind = HP_BIND_GLOBAL;
	h->aliases[0].name[0] = 0;
	cr_assert_eq(encode_code(h), HP_ESTRING);
	hp_hpd_free(h);
}

/* A 1.0 file (no alias table after the notes) is still read, with no aliases. */
Test(hpd, version_1_0_files_are_read)
{
	struct hp_hpd *h = sample(), *back;
	struct hp_error e;
	size_t len;
	uint8_t *buf;

	free(h->aliases[0].name);
	free(h->aliases);
	h->aliases = NULL;
	h->naliases = 0;
	buf = encode(h, &len);
	/* 1.2 with an empty alias table is 1.0 plus a zero count: drop it, re-seal */
	cr_assert_eq(buf[10], 2);
	buf[10] = 0;
	memmove(buf + len - 36, buf + len - 32, 32);
	len -= 4;
	reseal(buf, len);
	cr_assert(hp_hpd_decode(buf, len, &back, &e) == 0, "%d %s", e.code, e.what);
	cr_assert_eq(back->minor, 0);
	cr_assert_eq(back->naliases, 0);
	cr_assert_eq(back->nfuncs, 2);
	hp_hpd_free(back);
	/* a 1.0 file with bytes where 1.1 has its alias table: trailing bytes */
	buf = realloc(buf, len + 4);
	memmove(buf + len - 28, buf + len - 32, 32);
	memset(buf + len - 32, 0, 4);
	len += 4;
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ETRAILING);
	free(buf);
	hp_hpd_free(h);
}

/*
 * The LTO flag (1.2) is kept; a 1.1 or 1.0 file has it reserved: a file
 * claiming 1.1 with it set is refused, so an older reader's refusal and this
 * one's agree.
 */
Test(hpd, the_lto_flag_is_a_1_2_flag)
{
	struct hp_hpd *h = sample(), *back;
	struct hp_error e;
	size_t len;
	uint8_t *buf;

	h->flags = HP_HPD_F_LTO;
	buf = encode(h, &len);
	cr_assert(hp_hpd_decode(buf, len, &back, &e) == 0, "%d %s", e.code, e.what);
	cr_assert_eq(back->flags, HP_HPD_F_LTO);
	hp_hpd_free(back);
	buf[10] = 1; /* the same file claiming 1.1 */
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ERESERVED);
	buf[12] = 0x4; /* an unknown flag */
	buf[10] = 2;
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ERESERVED);
	free(buf);
	hp_hpd_free(h);
}

Test(hpd, counts_beyond_the_input_are_refused_before_allocating)
{
	struct hp_hpd *h = sample();
	size_t len;
	uint8_t *buf = encode(h, &len);
	struct hp_rbuf rb;
	size_t pos;

	/* Find the symbol count: header (24), three strings, two hashes. */
	hp_rbuf_init(&rb, buf, len, NULL);
	hp_get_bytes(&rb, 24, "");
	for (int i = 0; i < 3; i++)
		hp_get_bytes(&rb, hp_get_u32(&rb, ""), "");
	hp_get_bytes(&rb, 64, "");
	pos = rb.pos;
	cr_assert_eq(buf[pos], 2);
	buf[pos] = 0xff;
	buf[pos + 1] = 0xff;
	buf[pos + 2] = 0x0f; /* ~1M symbols in a few hundred bytes */
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ETRUNC);
	buf[pos + 3] = 0x10; /* above the format's limit */
	reseal(buf, len);
	cr_assert_eq(decode_code(buf, len), HP_ELIMIT);
	free(buf);
	hp_hpd_free(h);
}

Test(hpd, error_text_names_field_and_offset)
{
	struct hp_error e;
	char msg[200];

	hp_fail(&e, HP_ETRUNC, 812, "function code");
	cr_assert_str_eq(hp_error_text(&e, msg, sizeof(msg)),
			 "function code: input is truncated (at offset 812)");
	hp_fail(&e, HP_ERANGE, HP_NO_OFFSET, "function 2 relocation 0 offset");
	cr_assert_str_eq(hp_error_text(&e, msg, sizeof(msg)),
			 "function 2 relocation 0 offset: offset or index out of range");
}

/* A string of n 'x' bytes. */
static char *long_str(size_t n)
{
	char *s = malloc(n + 1);

	cr_assert(s);
	memset(s, 'x', n);
	s[n] = 0;
	return s;
}

/* The string field `k` of the sample model (NULL past the last). */
static char **string_field(struct hp_hpd *h, int k, size_t *max, const char **what)
{
	struct {
		char **p;
		size_t max;
		const char *what;
	} f[] = {
		{&h->tool, HP_HPD_MAX_TEXT, "header strings"},
		{&h->object, HP_HPD_MAX_NAME, "header strings"},
		{&h->source, HP_HPD_MAX_NAME, "header strings"},
		{&h->syms[1].name, HP_HPD_MAX_NAME, "symbol 1 name"},
		{&h->funcs[0].name, HP_HPD_MAX_NAME, "function 0 name"},
		{&h->funcs[0].base_name, HP_HPD_MAX_NAME, "function 0 baseline name"},
		{&h->funcs[1].section, HP_HPD_MAX_NAME, "function 1 section"},
		{&h->funcs[0].source, HP_HPD_MAX_TEXT, "function 0 source"},
		{&h->data[0].name, HP_HPD_MAX_NAME, "data 0 name"},
		{&h->notes[0].name, HP_HPD_MAX_NAME, "note 0 name"},
		{&h->notes[0].reason, HP_HPD_MAX_TEXT, "note 0 reason"},
		{&h->aliases[0].name, HP_HPD_MAX_NAME, "alias 0 name"},
	};

	if (k >= (int)(sizeof(f) / sizeof(f[0])))
		return NULL;
	*max = f[k].max;
	*what = f[k].what;
	return f[k].p;
}

/*
 * The writer checks every string limit the reader checks: a string at its
 * limit is written and read back; one byte more and nothing is written
 * (HP_ELIMIT, naming the field), so hpdiff never writes a file that hppack
 * would refuse to read.
 */
Test(hpd, the_writer_keeps_the_readers_string_limits)
{
	size_t max;
	const char *what;
	char **p;

	for (int k = 0;; k++) {
		struct hp_hpd *h = sample(), *back = NULL;
		struct hp_error e = {0};
		uint8_t *buf = NULL;
		size_t len = 0;

		p = string_field(h, k, &max, &what);
		if (!p) {
			hp_hpd_free(h);
			break;
		}
		free(*p);
		*p = long_str(max);
		buf = encode(h, &len);
		cr_assert(hp_hpd_decode(buf, len, &back, &e) == 0, "%s at the limit: %s", what,
			  e.what);
		hp_hpd_free(back);
		free(buf);
		buf = NULL;
		free(*p);
		*p = long_str(max + 1);
		cr_expect(hp_hpd_encode(h, &buf, &len, &e) < 0, "%s past the limit was written",
			  what);
		cr_expect(buf == NULL && len == 0);
		cr_expect_eq(e.code, HP_ELIMIT, "%s: code %d", what, e.code);
		cr_expect_str_eq(e.what, what);
		free(buf);
		hp_hpd_free(h);
	}
}

/* A relocation table longer than a reader takes is not written either. */
Test(hpd, the_writer_keeps_the_readers_relocation_count)
{
	struct hp_hpd *h = sample();
	struct hp_error e = {0};
	uint8_t *buf = NULL;
	size_t len = 0;

	h->funcs[0].nrelocs = HP_HPD_MAX_COUNT + 1; /* checked before the entries are read */
	cr_assert(hp_hpd_encode(h, &buf, &len, &e) < 0);
	cr_assert_eq(e.code, HP_ELIMIT);
	cr_assert_str_eq(e.what, "function 0 relocation count");
	h->funcs[0].nrelocs = 2;
	hp_hpd_free(h);
}
