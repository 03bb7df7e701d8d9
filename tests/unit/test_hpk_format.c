/*
 * The package formats of libhpformat (hpk.h): container, MANIFEST, payload
 * and zstd framing.  Each reader: what it writes it reads back to the same
 * bytes, and each rule it enforces has an input that breaks only that rule.
 */
#include "tests/testutil.h"
#include "tests/hpkutil.h"

TestSuite(container);
TestSuite(manifest);
TestSuite(payload);
TestSuite(zstd);

/* ---- container ------------------------------------------------------------------------ */

static uint8_t *sample_archive(bool with_sig, size_t *len)
{
	static const char m[] = "MANIFEST text\n";
	static const uint8_t sig[700] = {0x30, 1, 2, 3};
	static const uint8_t z[1024] = {0x28, 0xb5, 0x2f, 0xfd};

	return hk_container(m, sizeof(m) - 1, with_sig ? sig : NULL, sizeof(sig), z, sizeof(z),
			    len);
}

/* A ustar header as tar(1) would write it, with the checksum filled in. */
static void tar_header(uint8_t h[512], const char *name, size_t size, char type, const char *magic,
		       const char *uname)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	memcpy(h, name, strlen(name));
	sprintf((char *)h + 100, "%07o", 0644);
	sprintf((char *)h + 108, "%07o", 0);
	sprintf((char *)h + 116, "%07o", 0);
	sprintf((char *)h + 124, "%011zo", size);
	sprintf((char *)h + 136, "%011o", 1700000000);
	memset(h + 148, ' ', 8);
	h[156] = (uint8_t)type;
	memcpy(h + 257, magic, 8);
	memcpy(h + 265, uname, strlen(uname));
	memcpy(h + 297, "root", 4);
	sprintf((char *)h + 329, "%07o", 0);
	sprintf((char *)h + 337, "%07o", 0);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	sprintf((char *)h + 148, "%06o", sum);
	h[155] = ' ';
}

struct tar {
	uint8_t buf[16 * 512];
	size_t len;
};

static void tar_add(struct tar *t, const char *name, size_t size, char type, const char *uname)
{
	tar_header(t->buf + t->len, name, size, type,
		   "ustar\0"
		   "00",
		   uname);
	t->len += 512;
	memset(t->buf + t->len, 'x', size);
	t->len += (size + 511) / 512 * 512;
}

static void tar_end(struct tar *t)
{
	t->len += 1024;
}

static int read_code(const uint8_t *buf, size_t len)
{
	struct hp_hpk k;
	struct hp_error e = {0};

	if (hp_hpk_read(buf, len, &k, &e) == 0)
		return HP_OK;
	return e.code;
}

Test(container, canonical_round_trip)
{
	for (int s = 0; s < 2; s++) {
		struct hp_hpk k;
		struct hp_error e;
		uint8_t *a, *b;
		size_t la, lb;

		a = sample_archive(s, &la);
		cr_assert_eq(la % 512, 0);
		cr_assert_eq(hp_hpk_read(a, la, &k, &e), 0, "%s", e.what);
		cr_expect_eq(k.manifest_len, 14);
		cr_expect_eq(!!k.sig, s);
		cr_expect_eq(k.payload_len, 1024);
		cr_expect_eq(k.mtime, 1700000000);
		cr_assert_eq(hp_hpk_write(&k, &b, &lb, &e), 0);
		cr_expect(la == lb && !memcmp(a, b, la));
		free(a);
		free(b);
	}
}

Test(container, what_tar_writes_is_what_we_read)
{
	struct tar t = {0};

	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 600, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_OK);
}

Test(container, members_missing_extra_reordered_duplicated)
{
	struct tar t;

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "missing payload.zst");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_add(&t, "extra", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "extra member");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "reordered");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "duplicate");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "MANIFEST.sig", 10, '0', "root");
	tar_add(&t, "MANIFEST.sig", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "duplicate signature");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "../MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "../");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "./MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "./");

	memset(&t, 0, sizeof(t));
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EORDER, "empty archive");
}

Test(container, only_plain_regular_files)
{
	struct tar t;

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 0, '2', "root"); /* symlink */
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EVALUE, "symlink");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "././@LongLink", 9, 'L', "root"); /* GNU long name */
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EVALUE, "long name");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, 'x', "root"); /* pax extended header */
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EVALUE, "pax header");

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, '0', "user"); /* tar accepts it, the canonical form does not */
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EVALUE, "owner name");

	memset(&t, 0, sizeof(t));
	tar_header(t.buf, "MANIFEST", 10, '0', "ustar  \0", "root"); /* old GNU magic */
	t.len = 1024;
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	cr_expect_eq(read_code(t.buf, t.len), HP_EMAGIC, "GNU magic");
}

Test(container, sizes_padding_checksums_and_end)
{
	struct tar t;
	uint8_t *a;
	size_t la;

	/* a member above its limit (the size field alone decides) */
	memset(&t, 0, sizeof(t));
	tar_header(t.buf, "MANIFEST", HP_HPK_MAX_MANIFEST + 1, '0',
		   "ustar\0"
		   "00",
		   "root");
	t.len = 512 * 4;
	cr_expect_eq(read_code(t.buf, t.len), HP_ELIMIT, "oversized member");
	/* a member larger than the archive */
	memset(&t, 0, sizeof(t));
	tar_header(t.buf, "MANIFEST", 5000, '0',
		   "ustar\0"
		   "00",
		   "root");
	t.len = 512 * 4;
	cr_expect_eq(read_code(t.buf, t.len), HP_ETRUNC, "member beyond the end");

	a = sample_archive(true, &la);
	cr_expect_eq(read_code(a, la - 1), HP_ETRUNC, "not whole blocks");
	cr_expect_eq(read_code(a, la - 512), HP_ETRUNC, "one end block");
	a = realloc(a, la + 512);
	memset(a + la, 0, 512);
	cr_expect_eq(read_code(a, la + 512), HP_ETRAILING, "bytes after the end");
	a[la - 1] = 1;
	/*
	 * The reader says HP_ETRUNC ("archive end blocks"), as for a missing end
	 * block, though nothing is missing: a non-zero byte where zeros belong
	 * is HP_EVALUE elsewhere (member padding).  Pinned as it is.
	 */
	cr_expect_eq(read_code(a, la), HP_ETRUNC, "non-zero end block");
	a[la - 1] = 0;
	a[512 + 14] = 'x'; /* MANIFEST's padding */
	cr_expect_eq(read_code(a, la), HP_EVALUE, "non-zero padding");
	a[512 + 14] = 0;
	a[100] ^= 1; /* mode digit: checksum no longer matches */
	cr_expect_eq(read_code(a, la), HP_ECHECKSUM);
	a[100] ^= 1;
	a[154] = ' '; /* the checksum's NUL as a space: tar accepts it */
	cr_expect_eq(read_code(a, la), HP_EVALUE, "non-canonical checksum field");
	a[154] = 0;
	cr_expect_eq(read_code(a, la), HP_OK);
	free(a);
}

Test(container, members_share_one_time)
{
	struct tar t;

	memset(&t, 0, sizeof(t));
	tar_add(&t, "MANIFEST", 10, '0', "root");
	tar_add(&t, "payload.zst", 10, '0', "root");
	tar_end(&t);
	/* rewrite payload.zst's header with another time */
	{
		uint8_t *h = t.buf + 1024;
		unsigned sum = 0;

		sprintf((char *)h + 136, "%011o", 1700000001);
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		sprintf((char *)h + 148, "%06o", sum);
		h[155] = ' ';
	}
	cr_expect_eq(read_code(t.buf, t.len), HP_EVALUE);
}

/* ---- manifest ------------------------------------------------------------------------------ */

static char *canonical_manifest(size_t *len)
{
	struct hk_spec s;
	char *m;
	uint8_t *z;
	size_t zlen;

	hk_spec_default(&s);
	s.m.fixes = "CVE-2027-0001: bounds check in latwin_sum (\xc3\xa9t\xc3\xa9)";
	s.m.has_expires = true;
	s.m.expires = s.m.created + 86400 * 90;
	s.m.nfuncs = 2;
	s.funcs[1] = s.funcs[0];
	s.funcs[1].offset = 0x13c0;
	snprintf(s.names[1], sizeof(s.names[1]), "latwin_avg");
	hk_members(&s, &m, len, &z, &zlen);
	free(z);
	return m;
}

/* Parse text with `from` replaced by `to` (first occurrence): must fail with `code`. */
static void expect_refused(const char *from, const char *to, int code)
{
	struct hp_manifest *m;
	struct hp_error e;
	size_t len;
	char *text = canonical_manifest(&len), *at = strstr(text, from), *bad;

	cr_assert(at, "no '%s' in the manifest", from);
	bad = malloc(len + strlen(to) + 1);
	memcpy(bad, text, (size_t)(at - text));
	strcpy(bad + (at - text), to);
	strcat(bad, at + strlen(from));
	cr_expect_eq(hp_manifest_parse((uint8_t *)bad, strlen(bad), &m, &e), -1,
		     "'%s' -> '%s' accepted", from, to);
	cr_expect_eq(e.code, code, "'%s' -> '%s': error %d (%s), want %d", from, to, e.code, e.what,
		     code);
	free(bad);
	free(text);
}

Test(manifest, canonical_round_trip)
{
	struct hp_manifest *m;
	struct hp_error e;
	char *again;
	size_t len, alen;
	char *text = canonical_manifest(&len);

	cr_assert_eq(hp_manifest_parse((uint8_t *)text, len, &m, &e), 0, "%s", e.what);
	cr_expect_str_eq(m->package_id, "test-1");
	cr_expect_eq(m->nfuncs, 2);
	cr_expect_eq(m->funcs[1].offset, 0x13c0);
	cr_expect_str_eq(m->funcs[1].name, "latwin_avg");
	cr_expect(m->has_expires && m->cumulative);
	cr_expect_eq(m->compression, HP_COMP_ZSTD);
	cr_assert_eq(hp_manifest_write(m, &again, &alen, &e), 0);
	cr_expect(alen == len && !memcmp(again, text, len));
	cr_expect(strstr(text, "format: hpk 1\npackage-id: test-1\narch: x86_64\n") == text);
	hp_manifest_free(m);
	free(again);
	free(text);
}

Test(manifest, canonical_form_violations)
{
	expect_refused("sequence: 2", "sequence:  2", HP_EVALUE); /* extra space */
	expect_refused("sequence: 2", "sequence: 2 ", HP_EVALUE); /* trailing space */
	expect_refused("sequence: 2", "sequence:2", HP_EVALUE);	  /* missing space */
	expect_refused("sequence: 2", "sequence: 02", HP_EVALUE); /* leading zero */
	expect_refused("sequence: 2", "sequence: +2", HP_EVALUE);
	/* uppercase hex */
	expect_refused("target-build-id: abab", "target-build-id: ABab", HP_EVALUE);
	expect_refused("replace: 0x1370", "replace: 0x01370", HP_EVALUE); /* leading zero */
	expect_refused("replace: 0x1370", "replace: 0X1370", HP_EVALUE);
	expect_refused("replace: 0x13c0", "replace: 0x13C0", HP_EVALUE);
	expect_refused("replace: 0x1370 70", "replace: 0x1370  70", HP_EVALUE);
	expect_refused("cumulative: yes\n", "cumulative: yes\r\n", HP_EVALUE); /* CRLF */
	expect_refused("cumulative: yes\n", "", HP_EVALUE);		       /* missing key */
	/*
	 * A duplicated or misplaced key: the fixed line order makes it "an
	 * undefined value" at the line where another key was due, not HP_EORDER
	 * (which replace lines out of order get).
	 */
	expect_refused("cumulative: yes\n", "cumulative: yes\ncumulative: yes\n", HP_EVALUE);
	expect_refused("sequence: 2\nmin-sequence: 1\n", "min-sequence: 1\nsequence: 2\n",
		       HP_EVALUE);
	expect_refused("sequence: 2", "Sequence: 2", HP_EVALUE);
	/* HP_EVALUE, though the .hpd and payload readers say HP_EVERSION for a version */
	expect_refused("format: hpk 1", "format: hpk 2", HP_EVALUE);
	expect_refused("arch: x86_64", "arch: aarch64", HP_EVALUE);
	expect_refused("functions: 2", "functions: 3", HP_EVALUE);
	expect_refused("functions: 2", "functions: 1", HP_EVALUE);
	expect_refused("payload-compression: zstd", "payload-compression: gzip", HP_EVALUE);
	expect_refused("created: 2023-11-14T22:13:20Z", "created: 2023-11-14T22:13:20+00:00",
		       HP_EVALUE);
	expect_refused("created: 2023-11-14T22:13:20Z", "created: 2023-11-14 22:13:20Z", HP_EVALUE);
	expect_refused("created: 2023-11-14T22:13:20Z", "created: 2023-02-30T22:13:20Z", HP_EVALUE);
	expect_refused("\xc3\xa9t", "\xc3\x28t", HP_EVALUE);		     /* bad UTF-8 */
	expect_refused("\xc3\xa9t", "\xc0\xa9t", HP_EVALUE);		     /* overlong */
	expect_refused("\xc3\xa9t", "\xed\xa0\x80t", HP_EVALUE);	     /* surrogate */
	expect_refused("(", "\x01", HP_EVALUE);				     /* control character */
	expect_refused("package-id: test-1", "package-id: ../x", HP_EVALUE); /* not an identifier */
	expect_refused("yes\n", "yes\n\n", HP_EVALUE);			     /* blank line */
}

Test(manifest, missing_final_newline_and_trailing_bytes)
{
	struct hp_manifest *m;
	struct hp_error e;
	size_t len;
	char *text = canonical_manifest(&len);

	cr_expect_eq(hp_manifest_parse((uint8_t *)text, len - 1, &m, &e), -1);
	text = realloc(text, len + 2);
	memcpy(text + len, "x", 2);
	cr_expect_eq(hp_manifest_parse((uint8_t *)text, len + 1, &m, &e), -1);
	text[len] = 0;
	cr_expect_eq(hp_manifest_parse((uint8_t *)text, len + 1, &m, &e), -1, "NUL byte");
	free(text);
}

Test(manifest, functions_in_address_order_without_overlap)
{
	expect_refused("replace: 0x13c0", "replace: 0x1300", HP_EORDER); /* before the first */
	/* inside the first (70 bytes) */
	expect_refused("replace: 0x13c0", "replace: 0x1371", HP_EORDER);
	/* an offset near the top: offset + size wraps around */
	expect_refused("replace: 0x1370 70", "replace: 0xfffffffffffffffe 70", HP_ERANGE);
}

Test(manifest, writer_refuses_bad_models)
{
	struct hk_spec s;
	struct hp_error e;
	char *out;
	size_t len;

	hk_spec_default(&s);
	s.m.funcs = s.funcs;
	s.funcs[0].name = s.names[0];
	s.m.sequence = 0;
	cr_expect_eq(hp_manifest_write(&s.m, &out, &len, &e), -1);
	s.m.sequence = 1;
	s.m.min_sequence = 2;
	cr_expect_eq(hp_manifest_write(&s.m, &out, &len, &e), -1);
	s.m.min_sequence = 0;
	s.m.has_expires = true;
	s.m.expires = s.m.created;
	cr_expect_eq(hp_manifest_write(&s.m, &out, &len, &e), -1);
	s.m.has_expires = false;
	s.funcs[0].name = "two words";
	cr_expect_eq(hp_manifest_write(&s.m, &out, &len, &e), -1);
}

/* ---- payload ----------------------------------------------------------------------------------
 */

Test(payload, round_trip)
{
	struct hp_payload *p;
	struct hp_error e;
	uint8_t *a, *b;
	size_t la, lb;

	a = hk_payload_bytes(3, &la);
	cr_assert_eq(hp_payload_decode(a, la, &p, &e), 0, "%s", e.what);
	cr_expect_eq(p->nreplaced, 3);
	cr_expect_eq(p->ncode, 4);
	cr_expect_eq(p->code[3].kind, HP_PCODE_NEW);
	cr_expect_eq(p->code[0].nrelocs, 3);
	cr_expect_str_eq(p->imports[0].name, "puts");
	cr_assert_eq(hp_payload_encode(p, &b, &lb, &e), 0);
	cr_expect(la == lb && !memcmp(a, b, la));
	hp_payload_free(p);
	free(a);
	free(b);
}

Test(payload, every_truncation_fails)
{
	struct hp_payload *p;
	struct hp_error e;
	size_t len;
	uint8_t *a = hk_payload_bytes(2, &len);

	for (size_t n = 0; n < len; n++)
		cr_assert_eq(hp_payload_decode(a, n, &p, &e), -1, "prefix of %zu bytes", n);
	free(a);
}

static int decode_code(const uint8_t *buf, size_t len)
{
	struct hp_payload *p;
	struct hp_error e = {0};

	if (hp_payload_decode(buf, len, &p, &e) == 0) {
		hp_payload_free(p);
		return HP_OK;
	}
	return e.code;
}

Test(payload, header_rules)
{
	size_t len;
	uint8_t *a = hk_payload_bytes(1, &len);

	a[0] ^= 1;
	cr_expect_eq(decode_code(a, len), HP_EMAGIC);
	a[0] ^= 1;
	a[8] = 2; /* major */
	cr_expect_eq(decode_code(a, len), HP_EVERSION);
	a[8] = 1;
	a[10] = 1; /* a newer minor */
	cr_expect_eq(decode_code(a, len), HP_EVERSION);
	a[10] = 0;
	a[12] = 1; /* reserved flags */
	cr_expect_eq(decode_code(a, len), HP_ERESERVED);
	a[12] = 0;
	a = realloc(a, len + 1);
	a[len] = 0;
	cr_expect_eq(decode_code(a, len + 1), HP_ETRAILING);
	cr_expect_eq(decode_code(a, len), HP_OK);
	a[len - 12] = 2; /* the import's binding, 0 or 1: then reserved, length, "puts" */
	cr_expect_eq(decode_code(a, len), HP_EVALUE);
	free(a);
}

/* Encoding validates: each broken model is refused with the given code. */
static void expect_invalid(void (*breakit)(struct hp_payload *), int code)
{
	struct hp_payload *p = hk_payload_model(2);
	struct hp_error e = {0};
	uint8_t *out;
	size_t len;

	breakit(p);
	cr_expect_eq(hp_payload_encode(p, &out, &len, &e), -1);
	cr_expect_eq(e.code, code, "%s: code %d", e.what, e.code);
	hp_payload_free(p);
}

static void bad_kind(struct hp_payload *p)
{
	p->code[0].kind = 3;
}
static void bad_align(struct hp_payload *p)
{
	p->code[0].align = 24;
}
static void big_align(struct hp_payload *p)
{
	p->data[0].align = 8192;
}
static void empty_name(struct hp_payload *p)
{
	p->code[1].name[0] = 0;
}
static void reloc_type(struct hp_payload *p)
{
	p->code[0].relocs[0].type = 0x7f;
}
static void reloc_outside(struct hp_payload *p)
{
	p->code[0].relocs[2].offset = 17;
}
static void reloc_overlap(struct hp_payload *p)
{
	p->code[0].relocs[1].offset = 6;
}
static void reloc_code_index(struct hp_payload *p)
{
	p->code[0].relocs[1].index = 3;
}
static void reloc_data_index(struct hp_payload *p)
{
	p->code[0].relocs[0].index = 1;
}
static void reloc_import_index(struct hp_payload *p)
{
	p->code[2].relocs[0].index = 1;
}
static void image_index(struct hp_payload *p)
{
	p->code[0].relocs[2].index = 1;
}
static void image_negative(struct hp_payload *p)
{
	p->code[0].relocs[2].target_off = -8;
}
static void tpoff_address(struct hp_payload *p)
{
	p->code[0].relocs[0].type = R_X86_64_TPOFF32;
}
static void pc32_const(struct hp_payload *p)
{
	p->code[0].relocs[0].target = HP_PT_CONST;
}
static void bad_target(struct hp_payload *p)
{
	p->code[0].relocs[0].target = 9;
}
static void bss_with_init(struct hp_payload *p)
{
	p->data[0].kind = HP_PDATA_BSS;
}
static void data_no_init(struct hp_payload *p)
{
	free(p->data[0].init);
	p->data[0].init = NULL;
}
static void data_kind(struct hp_payload *p)
{
	p->data[0].kind = 4;
}
static void import_name(struct hp_payload *p)
{
	p->imports[0].name[0] = 0;
}
static void repl_index(struct hp_payload *p)
{
	p->replaced[1] = 7;
}
static void repl_of_new(struct hp_payload *p)
{
	p->replaced[1] = 2;
}
static void repl_twice(struct hp_payload *p)
{
	p->replaced[1] = 0;
}
static void repl_unused(struct hp_payload *p)
{
	p->nreplaced = 1;
}
static void zero_size(struct hp_payload *p)
{
	p->code[2].size = 0;
}

Test(payload, validation_rules)
{
	expect_invalid(bad_kind, HP_EVALUE);
	expect_invalid(bad_align, HP_EVALUE);
	expect_invalid(big_align, HP_EVALUE);
	expect_invalid(empty_name, HP_ESTRING);
	expect_invalid(reloc_type, HP_EVALUE);
	expect_invalid(reloc_outside, HP_ERANGE);
	expect_invalid(reloc_overlap, HP_EORDER);
	expect_invalid(reloc_code_index, HP_ERANGE);
	expect_invalid(reloc_data_index, HP_ERANGE);
	expect_invalid(reloc_import_index, HP_ERANGE);
	expect_invalid(image_index, HP_ERANGE);
	expect_invalid(image_negative, HP_ERANGE);
	expect_invalid(tpoff_address, HP_EVALUE);
	expect_invalid(pc32_const, HP_EVALUE);
	expect_invalid(bad_target, HP_EVALUE);
	expect_invalid(bss_with_init, HP_EVALUE);
	expect_invalid(data_no_init, HP_EVALUE);
	expect_invalid(data_kind, HP_EVALUE);
	expect_invalid(import_name, HP_ESTRING);
	expect_invalid(repl_index, HP_ERANGE);
	expect_invalid(repl_of_new, HP_ERANGE);
	expect_invalid(repl_twice, HP_ERANGE);
	expect_invalid(repl_unused, HP_EVALUE);
	expect_invalid(zero_size, HP_ELIMIT);
}

Test(payload, counts_are_checked_before_allocating)
{
	size_t len;
	uint8_t *a = hk_payload_bytes(1, &len);

	/* the replacement count (after magic, version, flags): 2^20 claimed, 4 bytes given */
	a[16] = 0;
	a[17] = 0;
	a[18] = 0x10;
	cr_expect_eq(decode_code(a, len), HP_ETRUNC);
	a[18] = 0x20; /* above the limit */
	cr_expect_eq(decode_code(a, len), HP_ELIMIT);
	free(a);
}

Test(payload, replacements_match_manifest_functions)
{
	struct hp_payload *p = hk_payload_model(2);
	struct hp_manifest m = {0};
	struct hp_error e;

	m.nfuncs = 2;
	cr_expect_eq(hp_payload_matches_manifest(p, &m, &e), 0);
	for (uint32_t n = 0; n < 4; n += 3) {
		m.nfuncs = n;
		cr_expect_eq(hp_payload_matches_manifest(p, &m, &e), -1);
		cr_expect_eq(e.code, HP_EVALUE);
	}
	hp_payload_free(p);
}

/* ---- zstd --------------------------------------------------------------------------------------
 */

Test(zstd, round_trip_with_and_without_prefix)
{
	static const char text[] = "the quick brown fox jumps over the lazy dog, again and again";
	struct hp_error e;
	uint8_t *z, *z2, *out;
	size_t zlen, z2len;
	uint8_t prefix[4096], copy[4096];

	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(prefix); i++) {
		x = x * 1103515245u + 12345u;
		prefix[i] = (uint8_t)(x >> 24);
	}
	cr_assert_eq(
		hp_zstd_compress((const uint8_t *)text, sizeof(text), NULL, 0, 19, &z, &zlen, &e),
		0);
	cr_assert_eq(hp_zstd_decompress(z, zlen, NULL, 0, sizeof(text), &out, &e), 0);
	cr_expect(!memcmp(out, text, sizeof(text)));
	free(out);
	free(z);
	/* the prefix makes a near copy of it tiny, and is needed to decompress */
	prefix[100] ^= 1;
	cr_assert_eq(hp_zstd_compress(prefix, sizeof(prefix), NULL, 0, 19, &z, &zlen, &e), 0);
	prefix[100] ^= 1;
	/* (a copy: zstd drops the part of a prefix that overlaps the input) */
	memcpy(copy, prefix, sizeof(prefix));
	copy[200] ^= 1;
	cr_assert_eq(
		hp_zstd_compress(copy, sizeof(copy), prefix, sizeof(prefix), 19, &z2, &z2len, &e),
		0);
	cr_expect_lt(z2len, zlen / 4);
	cr_assert_eq(
		hp_zstd_decompress(z2, z2len, prefix, sizeof(prefix), sizeof(prefix), &out, &e), 0);
	cr_expect(!memcmp(out, copy, sizeof(copy)));
	free(out);
	cr_expect_eq(hp_zstd_decompress(z2, z2len, NULL, 0, sizeof(prefix), &out, &e), -1);
	free(z);
	free(z2);
}

static int unzstd_code(const uint8_t *z, size_t len, size_t raw)
{
	struct hp_error e = {0};
	uint8_t *out;

	if (hp_zstd_decompress(z, len, NULL, 0, raw, &out, &e) == 0) {
		free(out);
		return HP_OK;
	}
	return e.code;
}

Test(zstd, frames_by_hand)
{
	/* magic, single segment with a 1-byte content size of 5, a last raw block of 5 */
	uint8_t ok[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 5, 0x29, 0, 0, 'h', 'e', 'l', 'l', 'o'};
	/* no content size: window descriptor, then the block */
	uint8_t unknown[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x29,
			     0,	   0,	 'h',  'e',  'l',  'l',	 'o'};
	/* a skippable frame of 4 bytes */
	uint8_t skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
	uint8_t two[sizeof(ok) * 2];

	cr_expect_eq(unzstd_code(ok, sizeof(ok), 5), HP_OK);
	cr_expect_eq(unzstd_code(ok, sizeof(ok), 6), HP_ELIMIT, "size other than MANIFEST's");
	cr_expect_eq(unzstd_code(unknown, sizeof(unknown), 5), HP_EVALUE, "undeclared size");
	cr_expect_eq(unzstd_code(skip, sizeof(skip), 0), HP_EMAGIC, "skippable frame");
	cr_expect_eq(unzstd_code(ok, 3, 5), HP_EMAGIC, "truncated magic");
	/* zstd cannot find the frame's end: "not a zstd frame" (not HP_ETRUNC) */
	cr_expect_eq(unzstd_code(ok, sizeof(ok) - 1, 5), HP_EMAGIC, "truncated block");
	memcpy(two, ok, sizeof(ok));
	memcpy(two + sizeof(ok), ok, sizeof(ok));
	cr_expect_eq(unzstd_code(two, sizeof(two), 5), HP_ETRAILING, "a second frame");
	/* a bomb: declares 2 bytes, holds 5 */
	ok[5] = 2;
	cr_expect_eq(unzstd_code(ok, sizeof(ok), 2), HP_ELIMIT, "bomb");
	/* declares 7, holds 5 */
	ok[5] = 7;
	cr_expect_eq(unzstd_code(ok, sizeof(ok), 7), HP_EVALUE, "short frame");
	/* a block type that does not exist */
	ok[5] = 5;
	ok[6] = 0x2f;
	/* as above, "not a zstd frame" (not HP_ERESERVED) */
	cr_expect_eq(unzstd_code(ok, sizeof(ok), 5), HP_EMAGIC, "reserved block type");
}

/* ---- zstd, in pieces ------------------------------------------------------------------------- */

/*
 * n bytes like a payload's: the first half incompressible, the rest 64-byte
 * words drawn from a small set (it compresses, with matches reaching back).
 */
static uint8_t *mixed_bytes(size_t n, uint32_t seed)
{
	uint8_t *b = malloc(n), words[32][64];
	uint32_t x = seed;

	cr_assert(b);
	for (size_t i = 0; i < sizeof(words); i++) {
		x = x * 1103515245u + 12345u;
		words[i / 64][i % 64] = (uint8_t)(x >> 24);
	}
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 24);
	}
	for (size_t i = n / 2; i + 64 <= n; i += 64) {
		x = x * 1103515245u + 12345u;
		memcpy(b + i, words[(x >> 16) % 32], 64);
	}
	return b;
}

/* What hp_zstd_decompress_into reported, checked against the bytes expected. */
struct progress {
	const uint8_t *out, *want;
	size_t want_len;
	size_t calls, last;
	bool grows, final; /* every report larger than the last; out[0..done) as wanted */
};

static void on_progress(void *arg, size_t done)
{
	struct progress *p = arg;

	p->grows = p->grows && done > p->last;
	p->final = p->final && done <= p->want_len && !memcmp(p->out, p->want, done);
	p->last = done;
	p->calls++;
}

/* Decompress z into a buffer of raw_size; the error code (HP_OK) and the reports in *p. */
static int unzstd_into(const uint8_t *z, size_t zlen, const uint8_t *prefix, size_t prefix_len,
		       size_t raw_size, const uint8_t *want, size_t want_len, struct progress *p)
{
	struct hp_error e = {0};
	uint8_t *out = malloc(raw_size ? raw_size : 1);
	int r;

	*p = (struct progress){
		.out = out, .want = want, .want_len = want_len, .grows = true, .final = true};
	r = hp_zstd_decompress_into(z, zlen, prefix, prefix_len, out, raw_size, on_progress, p, &e);
	if (r == 0)
		cr_expect(!memcmp(out, want, raw_size), "decompressed bytes differ");
	free(out);
	return r == 0 ? HP_OK : e.code;
}

/* Where the 4-byte content size field of a frame header is. */
static size_t fcs4_at(const uint8_t *z)
{
	static const size_t dict_id[] = {0, 1, 2, 4};
	uint8_t fhd = z[4];

	cr_assert_eq(fhd >> 6, 2, "expected a 4-byte content size field");
	return 5 + !(fhd & 0x20) + dict_id[fhd & 3];
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of the first block header at or after byte `from` of the frame (0: none). */
static size_t block_from(const uint8_t *z, size_t zlen, size_t from, int type)
{
	size_t at = fcs4_at(z) + 4;

	while (at + 3 <= zlen) {
		uint32_t h = z[at] | (z[at + 1] << 8) | ((uint32_t)z[at + 2] << 16);

		if (at >= from && (int)((h >> 1) & 3) == type)
			return at;
		if (h & 1)
			break;
		at += 3 + (((h >> 1) & 3) == 1 ? 1 : h >> 3);
	}
	return 0;
}

#define BIG (3u << 20)

Test(zstd, decompresses_a_large_frame_in_pieces)
{
	uint8_t *raw = mixed_bytes(BIG, 1), *prefix = mixed_bytes(BIG, 2), *z;
	struct progress p;
	struct hp_error e;
	size_t zlen;

	cr_assert_eq(hp_zstd_compress(raw, BIG, NULL, 0, 3, &z, &zlen, &e), 0);
	cr_assert_gt(zlen, 1u << 20, "a frame of several pieces");
	cr_expect_eq(unzstd_into(z, zlen, NULL, 0, BIG, raw, BIG, &p), HP_OK);
	cr_expect_gt(p.calls, 2);
	cr_expect(p.grows && p.final, "each report is of final bytes, and more of them");
	cr_expect_eq(p.last, BIG);
	free(z);
	/* against a prefix: a near copy of it */
	memcpy(raw, prefix, BIG);
	raw[BIG / 3] ^= 1;
	raw[BIG - 10] ^= 1;
	cr_assert_eq(hp_zstd_compress(raw, BIG, prefix, BIG, 3, &z, &zlen, &e), 0);
	cr_expect_lt(zlen, 1u << 16);
	cr_expect_eq(unzstd_into(z, zlen, prefix, BIG, BIG, raw, BIG, &p), HP_OK);
	cr_expect(p.grows && p.final && p.last == BIG);
	cr_expect_neq(unzstd_into(z, zlen, NULL, 0, BIG, raw, BIG, &p), HP_OK,
		      "without the prefix");
	free(z);
	free(raw);
	free(prefix);
}

Test(zstd, a_large_frame_failing_after_progress)
{
	uint8_t *raw = mixed_bytes(BIG, 3), *z, *out;
	struct progress p;
	struct hp_error e;
	size_t zlen, at, n;
	int code;

	cr_assert_eq(hp_zstd_compress(raw, BIG, NULL, 0, 3, &z, &zlen, &e), 0);
	/* declares (and MANIFEST says) 1 MiB less than it holds: a bomb */
	put_le32(z + fcs4_at(z), BIG - (1u << 20));
	cr_expect_eq(unzstd_into(z, zlen, NULL, 0, BIG - (1u << 20), raw, BIG, &p), HP_ELIMIT);
	cr_expect(p.calls > 0 && p.last <= BIG - (1u << 20) && p.grows && p.final);
	cr_expect_eq(hp_zstd_decompress(z, zlen, NULL, 0, BIG - (1u << 20), &out, &e), -1);
	cr_expect_eq(e.code, HP_ELIMIT);
	/* declares more than it holds */
	put_le32(z + fcs4_at(z), BIG + 1000);
	cr_expect_eq(unzstd_into(z, zlen, NULL, 0, BIG + 1000, raw, BIG, &p), HP_EVALUE);
	cr_expect(p.calls > 0 && p.last <= BIG && p.grows && p.final);
	cr_expect_eq(hp_zstd_decompress(z, zlen, NULL, 0, BIG + 1000, &out, &e), -1);
	cr_expect_eq(e.code, HP_EVALUE);
	put_le32(z + fcs4_at(z), BIG);
	/* a compressed block in the second half, damaged: an error after progress */
	at = block_from(z, zlen, zlen / 2, 2);
	cr_assert(at);
	n = (z[at] | (z[at + 1] << 8) | ((uint32_t)z[at + 2] << 16)) >> 3;
	for (size_t i = 0; i < n; i++)
		z[at + 3 + i] ^= 0x5a;
	code = unzstd_into(z, zlen, NULL, 0, BIG, raw, BIG, &p);
	cr_expect_neq(code, HP_OK);
	cr_expect(p.calls > 0 && p.last < BIG && p.grows && p.final);
	cr_expect_eq(hp_zstd_decompress(z, zlen, NULL, 0, BIG, &out, &e), -1);
	cr_expect_eq(e.code, code, "the same error in one piece");
	free(z);
	free(raw);
}

Test(zstd, a_large_frame_framing_is_checked_before_decoding)
{
	static const uint8_t skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
	static const uint8_t small[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 5,   0x29,
					0,    0,    'h',  'e',	'l',  'l', 'o'};
	uint8_t *raw = mixed_bytes(BIG, 4), *z, *two;
	struct progress p;
	struct hp_error e;
	size_t zlen, last;

	cr_assert_eq(hp_zstd_compress(raw, BIG, NULL, 0, 3, &z, &zlen, &e), 0);
	/* cut inside a block, and just before the last block */
	cr_expect_eq(unzstd_into(z, zlen / 2, NULL, 0, BIG, raw, BIG, &p), HP_EMAGIC);
	cr_expect_eq(p.calls, 0);
	for (size_t at = fcs4_at(z) + 4, h = 0; !(h & 1); at += 3 + (h >> 3)) {
		h = z[at] | (z[at + 1] << 8) | ((uint32_t)z[at + 2] << 16);
		last = at;
		cr_assert_neq((h >> 1) & 3, 1, "no RLE block expected");
	}
	cr_expect_eq(unzstd_into(z, last, NULL, 0, BIG, raw, BIG, &p), HP_EMAGIC);
	cr_expect_eq(p.calls, 0);
	/* another frame, or a skippable frame, after it; a skippable frame before it */
	two = malloc(zlen + sizeof(skip) + sizeof(small));
	memcpy(two, z, zlen);
	memcpy(two + zlen, small, sizeof(small));
	cr_expect_eq(unzstd_into(two, zlen + sizeof(small), NULL, 0, BIG, raw, BIG, &p),
		     HP_ETRAILING);
	cr_expect_eq(p.calls, 0);
	memcpy(two + zlen, skip, sizeof(skip));
	cr_expect_eq(unzstd_into(two, zlen + sizeof(skip), NULL, 0, BIG, raw, BIG, &p),
		     HP_ETRAILING);
	cr_expect_eq(p.calls, 0);
	memcpy(two, skip, sizeof(skip));
	memcpy(two + sizeof(skip), z, zlen);
	cr_expect_eq(unzstd_into(two, zlen + sizeof(skip), NULL, 0, BIG, raw, BIG, &p), HP_EMAGIC);
	cr_expect_eq(p.calls, 0);
	free(two);
	free(z);
	free(raw);
}

Test(zstd, window_of_at_most_2_28_bytes)
{
	/* magic, 4-byte content size, window descriptor (2^(10 + exponent)), a last raw block */
	uint8_t f[] = {0x28, 0xb5, 0x2f, 0xfd, 0x80, 18 << 3, 5,   0,	0,
		       0,    0x29, 0,	 0,    'h',  'e',     'l', 'l', 'o'};
	struct progress p;

	cr_expect_eq(unzstd_into(f, sizeof(f), NULL, 0, 5, (const uint8_t *)"hello", 5, &p), HP_OK);
	f[5] = 19 << 3;
	cr_expect_eq(unzstd_into(f, sizeof(f), NULL, 0, 5, (const uint8_t *)"hello", 5, &p),
		     HP_ELIMIT);
	cr_expect_eq(unzstd_code(f, sizeof(f), 5), HP_ELIMIT);
	/* single segment: the window is the content size, here 2^28 + 1 */
	f[4] = 0xa0;
	f[5] = 1;
	f[6] = 0;
	f[7] = 0;
	f[8] = 0x10;
	f[9] = 0x29; /* a last raw block of 5 */
	f[10] = 0;
	f[11] = 0;
	memcpy(f + 12, "hello", 5);
	cr_expect_eq(unzstd_code(f, sizeof(f) - 1, (1u << 28) + 1), HP_ELIMIT);
}

/* ---- image ---------------------------------------------------------------------------------- */

TestSuite(image);

#define TARGET HP_SAMPLEDIR "/gcc-O2/body-change/old"

Test(image, sample_program)
{
	struct hk_target t;
	struct hk_spec s;
	char cmd[512], line[256];
	FILE *p;

	hk_target_load(&t, TARGET);
	cr_expect_eq(t.img.machine, EM_X86_64);
	cr_expect_eq(t.img.type, ET_DYN); /* a PIE */
	cr_expect_eq(t.img.base, 0);
	cr_expect_eq(t.img.build_id_len, 20);
	cr_expect(t.img.nsegs >= 2);
	/* the build-id readelf shows */
	snprintf(cmd, sizeof(cmd), "readelf -n %s | awk '/Build ID/ { print $3 }'", TARGET);
	p = popen(cmd, "r");
	cr_assert(p && fgets(line, sizeof(line), p));
	pclose(p);
	{
		char hex[129];

		hp_hex(t.img.build_id, t.img.build_id_len, hex);
		cr_expect(!strncmp(line, hex, 40), "%s vs %s", line, hex);
	}
	/* a function's bytes by image offset are its bytes in the file */
	hk_spec_default(&s);
	hk_bind(&s, &t, TARGET, 0, "latwin_avg");
	{
		const uint8_t *b = hp_image_bytes(&t.img, s.funcs[0].offset, s.funcs[0].size);
		uint64_t va = t.img.base + s.funcs[0].offset;
		const struct hp_segment *seg = NULL;

		for (size_t i = 0; i < t.img.nsegs && !seg; i++)
			if (va >= t.img.segs[i].vaddr &&
			    va - t.img.segs[i].vaddr < t.img.segs[i].memsz)
				seg = &t.img.segs[i];
		cr_assert(b && seg);
		cr_expect(seg->flags & PF_X);
		cr_expect_eq(b,
			     t.file + seg->offset + (t.img.base + s.funcs[0].offset - seg->vaddr));
	}
	/* outside every segment, across a segment's end, beyond the file-backed part */
	cr_expect_null(hp_image_bytes(&t.img, t.img.size + 16, 1));
	cr_expect_null(hp_image_bytes(&t.img, UINT64_MAX - 2, 8));
	for (size_t i = 0; i < t.img.nsegs; i++) {
		const struct hp_segment *g = &t.img.segs[i];

		cr_expect_null(hp_image_bytes(&t.img, g->vaddr - t.img.base + g->filesz - 1, 2));
		cr_expect_not_null(hp_image_bytes(&t.img, g->vaddr - t.img.base, g->filesz));
	}
	free(t.file);
}

Test(image, baseline_prefix_is_the_functions_bytes_in_manifest_order)
{
	struct hk_target t;
	struct hk_spec s;
	struct hp_error e;
	uint8_t *p;
	size_t len = 0;

	hk_target_load(&t, TARGET);
	hk_spec_default(&s);
	hk_bind(&s, &t, TARGET, 0, "latwin_sum");
	hk_bind(&s, &t, TARGET, 1, "latwin_avg");
	p = hp_baseline_prefix(&t.img, s.funcs, 2, &len, &e);
	cr_assert_not_null(p);
	cr_expect_eq(len, (size_t)s.funcs[0].size + s.funcs[1].size);
	cr_expect(!memcmp(p, hp_image_bytes(&t.img, s.funcs[0].offset, s.funcs[0].size),
			  s.funcs[0].size));
	cr_expect(!memcmp(p + s.funcs[0].size,
			  hp_image_bytes(&t.img, s.funcs[1].offset, s.funcs[1].size),
			  s.funcs[1].size));
	free(p);
	p = hp_baseline_prefix(&t.img, s.funcs, 0, &len, &e);
	cr_expect(p && len == 0);
	free(p);
	/* a function outside the file-backed image */
	s.funcs[1].offset = t.img.size + 16;
	cr_expect_null(hp_baseline_prefix(&t.img, s.funcs, 2, &len, &e));
	cr_expect_eq(e.code, HP_ERANGE);
	free(t.file);
}

Test(image, refuses_what_is_not_a_linked_elf)
{
	struct hk_target t;
	struct hp_image img;
	struct hp_error e;
	uint8_t *copy;

	hk_target_load(&t, TARGET);
	cr_expect_eq(hp_image_parse(t.file, 63, &img, &e), -1);
	copy = malloc(t.len);
	memcpy(copy, t.file, t.len);
	copy[EI_CLASS] = ELFCLASS32;
	cr_expect_eq(hp_image_parse(copy, t.len, &img, &e), -1);
	copy[EI_CLASS] = ELFCLASS64;
	copy[16] = ET_REL; /* an object file */
	cr_expect_eq(hp_image_parse(copy, t.len, &img, &e), -1);
	copy[16] = ET_DYN;
	copy[32] = 0xff; /* e_phoff beyond the file */
	copy[33] = 0xff;
	copy[34] = 0xff;
	cr_expect_eq(hp_image_parse(copy, t.len, &img, &e), -1);
	cr_expect_eq(e.code, HP_ERANGE);
	/* cut inside the segments: a program header points past the end */
	cr_expect_eq(hp_image_parse(t.file, t.len / 4, &img, &e), -1);
	free(copy);
	free(t.file);
}

/* ---- whole files ------------------------------------------------------------------------- */

TestSuite(files);

static void expect_read_error(const char *path, size_t max, const char *text)
{
	struct hp_error e = {0};
	uint8_t *data;
	size_t len;
	char buf[200];

	cr_expect_eq(hp_read_file(path, max, &data, &len, &e), -1, "%s", path);
	cr_expect_null(data);
	cr_expect_str_eq(hp_error_text(&e, buf, sizeof(buf)), text);
}

Test(files, whole_file_problems_are_described_alone)
{
	char *dir = tu_tmpdir(), path[512];
	struct hp_error e = {0};
	char buf[200];

	expect_read_error(dir, 100, "is a directory");
	expect_read_error("/dev/null", 100, "not a regular file");
	snprintf(path, sizeof(path), "%s/f", dir);
	tu_write(path, "0123456789", 10);
	expect_read_error(path, 9, "file is larger than the limit of 9 bytes");
	/* the flag decides, not the words: a reader's error keeps its generic text */
	hp_fail(&e, HP_EVALUE, HP_NO_OFFSET, "is a directory");
	cr_expect_str_eq(hp_error_text(&e, buf, sizeof(buf)), "is a directory: undefined value");
	tu_rmtree(dir);
	free(dir);
}

Test(sha256, in_pieces_is_the_one_shot_digest)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t buf[3000], one[32], pieces[32];
	struct hp_sha256 *s;

	cr_assert_eq(hp_sha256("abc", 3, one), 0);
	cr_expect_arr_eq(one, abc, 32);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(hp_sha256(buf, sizeof(buf), one), 0);
	s = hp_sha256_new();
	cr_assert_not_null(s);
	for (size_t done = 0, n = 1; done < sizeof(buf); done += n, n = n * 2 + 1) {
		if (n > sizeof(buf) - done)
			n = sizeof(buf) - done;
		cr_assert_eq(hp_sha256_update(s, buf + done, n), 0);
	}
	cr_assert_eq(hp_sha256_update(s, buf, 0), 0);
	cr_assert_eq(hp_sha256_final(s, pieces), 0);
	hp_sha256_free(s);
	hp_sha256_free(NULL);
	cr_expect_arr_eq(pieces, one, 32);
}
