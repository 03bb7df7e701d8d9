/*
 * Building test packages with the format library: a small real payload
 * (replacement code with relocations, a new function, data, an import), the
 * MANIFEST that describes it, the container, and a target's facts (build-id,
 * SHA-256, a function's image offset and bytes found with nm).  Header-only,
 * like testutil.h.  Fails through hk_assert: Criterion's cr_assert in the
 * tests, or the includer's own (tests/tools/mkhpk.c).
 */
#ifndef HP_HPKUTIL_H
#define HP_HPKUTIL_H

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/hpk.h"
#include "format/image.h"

#ifndef hk_assert
#define hk_assert(cond, ...) cr_assert(cond, __VA_ARGS__)
#endif

/* A payload with n replacements (for MANIFEST functions 0..n-1) and one new function. */
static inline struct hp_payload *hk_payload_model(uint32_t n)
{
	/* push %rbp; lea 0(%rip),%rax; call new; call image+0x1000; pop %rbp; ret */
	static const uint8_t repl[] = {0x55, 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xe8, 0,
				       0,    0,	   0,	 0xe8, 0, 0, 0, 0, 0x5d, 0xc3};
	static const uint8_t newf[] = {0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3};
	struct hp_payload *p = calloc(1, sizeof(*p));

	p->nreplaced = n;
	p->replaced = calloc(n ? n : 1, sizeof(uint32_t));
	p->ncode = n + 1;
	p->code = calloc(n + 1, sizeof(*p->code));
	for (uint32_t i = 0; i <= n; i++) {
		struct hp_pcode *c = &p->code[i];
		char name[32];

		snprintf(name, sizeof(name), i < n ? "fixed_%u" : "helper_new", i);
		c->kind = i < n ? HP_PCODE_REPLACEMENT : HP_PCODE_NEW;
		c->align = 16;
		c->name = strdup(name);
		if (i < n) {
			p->replaced[i] = i;
			c->size = sizeof(repl);
			c->code = malloc(sizeof(repl));
			memcpy(c->code, repl, sizeof(repl));
			c->nrelocs = 3;
			c->relocs = calloc(3, sizeof(*c->relocs));
			c->relocs[0] = (struct hp_preloc){4, R_X86_64_PC32, HP_PT_DATA, 0, 0, -4};
			c->relocs[1] = (struct hp_preloc){9, R_X86_64_PLT32, HP_PT_CODE, n, 0, -4};
			c->relocs[2] =
				(struct hp_preloc){14, R_X86_64_PLT32, HP_PT_IMAGE, 0, 0x1000, -4};
		} else {
			c->size = sizeof(newf);
			c->code = malloc(sizeof(newf));
			memcpy(c->code, newf, sizeof(newf));
			c->nrelocs = 1;
			c->relocs = calloc(1, sizeof(*c->relocs));
			c->relocs[0] = (struct hp_preloc){
				3, R_X86_64_REX_GOTPCRELX, HP_PT_IMPORT, 0, 0, -4};
		}
	}
	p->ndata = 1;
	p->data = calloc(1, sizeof(*p->data));
	p->data[0].kind = HP_PDATA_DATA;
	p->data[0].align = 8;
	p->data[0].name = strdup("counter_new");
	p->data[0].size = 16;
	p->data[0].init = calloc(1, 16);
	p->data[0].nrelocs = 1;
	p->data[0].relocs = calloc(1, sizeof(*p->data[0].relocs));
	p->data[0].relocs[0] = (struct hp_preloc){8, R_X86_64_64, HP_PT_CODE, n, 0, 0};
	p->nimports = 1;
	p->imports = calloc(1, sizeof(*p->imports));
	p->imports[0].name = strdup("puts");
	return p;
}

static inline uint8_t *hk_payload_bytes(uint32_t n, size_t *len)
{
	struct hp_payload *p = hk_payload_model(n);
	struct hp_error e;
	uint8_t *out;

	hk_assert(hp_payload_encode(p, &out, len, &e) == 0, "%s", e.what);
	hp_payload_free(p);
	return out;
}

/* What a test package is made of; hk_spec_default() fills a target-less one. */
struct hk_spec {
	const uint8_t *raw; /* the raw payload; NULL: hk_payload_bytes(nfuncs) */
	size_t raw_len;
	uint8_t compression;   /* enum hp_compression */
	const uint8_t *prefix; /* zstd+baseline: the baseline bytes */
	size_t prefix_len;
	const uint8_t *zst; /* payload.zst as is (not compressed here) */
	size_t zst_len;
	int level;	      /* zstd level; 0: 19 */
	struct hp_manifest m; /* funcs point into funcs[] */
	struct hp_manifest_func funcs[4];
	char names[4][64];
};

static inline void hk_spec_default(struct hk_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->compression = HP_COMP_ZSTD;
	s->m.package_id = "test-1";
	s->m.arch = "x86_64";
	s->m.target_name = "prog";
	memset(s->m.build_id, 0xab, 20);
	s->m.build_id_len = 20;
	memset(s->m.target_sha256, 0xcd, 32);
	s->m.sequence = 2;
	s->m.min_sequence = 1;
	s->m.cumulative = true;
	s->m.created = 1700000000; /* 2023-11-14 */
	s->m.tools = "hpdiff 0.1.0, hppack 0.1.0";
	s->m.nfuncs = 1;
	s->funcs[0].offset = 0x1370;
	s->funcs[0].size = 70;
	memset(s->funcs[0].sha256, 0x11, 32);
	snprintf(s->names[0], sizeof(s->names[0]), "latwin_sum");
}

/* MANIFEST text and payload.zst for a spec; both malloc'ed. */
static inline void hk_members(struct hk_spec *s, char **manifest, size_t *mlen, uint8_t **zst,
			      size_t *zlen)
{
	struct hp_error e;
	uint8_t *raw = (uint8_t *)s->raw;
	size_t raw_len = s->raw_len;

	if (!raw)
		raw = hk_payload_bytes(s->m.nfuncs, &raw_len);
	if (s->zst) {
		*zst = malloc(s->zst_len);
		memcpy(*zst, s->zst, s->zst_len);
		*zlen = s->zst_len;
	} else {
		hk_assert(hp_zstd_compress(
				  raw, raw_len,
				  s->compression == HP_COMP_ZSTD_BASELINE ? s->prefix : NULL,
				  s->prefix_len, s->level ? s->level : 19, zst, zlen, &e) == 0,
			  "%s", e.what);
	}
	for (uint32_t i = 0; i < s->m.nfuncs; i++)
		s->funcs[i].name = s->names[i];
	s->m.funcs = s->funcs;
	s->m.compression = s->compression;
	s->m.payload_size = *zlen;
	hp_sha256(*zst, *zlen, s->m.payload_sha256);
	s->m.payload_raw_size = raw_len;
	hp_sha256(raw, raw_len, s->m.payload_raw_sha256);
	hk_assert(hp_manifest_write(&s->m, manifest, mlen, &e) == 0, "%s", e.what);
	if (raw != s->raw)
		free(raw);
}

/* The container of the given members (sig may be NULL); malloc'ed. */
static inline uint8_t *hk_container(const void *manifest, size_t mlen, const void *sig, size_t slen,
				    const void *zst, size_t zlen, size_t *len)
{
	struct hp_hpk k = {manifest, mlen, sig, slen, zst, zlen, 1700000000};
	struct hp_error e;
	uint8_t *out;

	hk_assert(hp_hpk_write(&k, &out, len, &e) == 0, "%s", e.what);
	return out;
}

/* An unsigned package of a spec. */
static inline uint8_t *hk_package(struct hk_spec *s, size_t *len)
{
	char *m;
	uint8_t *z, *pkg;
	size_t mlen, zlen;

	hk_members(s, &m, &mlen, &z, &zlen);
	pkg = hk_container(m, mlen, NULL, 0, z, zlen, len);
	free(m);
	free(z);
	return pkg;
}

/* A linked target in memory, for binding tests. */
struct hk_target {
	uint8_t *file;
	size_t len;
	struct hp_image img;
};

static inline void hk_target_load(struct hk_target *t, const char *path)
{
	struct hp_error e;

	t->file = (uint8_t *)tu_read(path, &t->len);
	hk_assert(t->file, "cannot read %s", path);
	hk_assert(hp_image_parse(t->file, t->len, &t->img, &e) == 0, "%s: %s", path, e.what);
}

/*
 * Bind spec function `slot` to function `func` of the target file at path
 * (image offset from nm, baseline bytes' hash), and the manifest to the
 * target (build-id, SHA-256).
 */
static inline void hk_bind(struct hk_spec *s, const struct hk_target *t, const char *path,
			   uint32_t slot, const char *func)
{
	char cmd[1024], line[512], name[256], type;
	unsigned long long addr = 0, size = 0;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s'", path);
	p = popen(cmd, "r");
	hk_assert(p, "cannot run %s", cmd);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%llx %llx %c %255s", &addr, &size, &type, name) == 4 &&
		    !strcmp(name, func) && (type == 'T' || type == 't')) {
			found = true;
			break;
		}
	pclose(p);
	hk_assert(found, "%s: no function %s", path, func);
	s->funcs[slot].offset = addr - t->img.base;
	s->funcs[slot].size = (uint32_t)size;
	hk_assert(hp_image_bytes(&t->img, s->funcs[slot].offset, size), "%s: %s not in the image",
		  path, func);
	hp_sha256(hp_image_bytes(&t->img, s->funcs[slot].offset, size), size,
		  s->funcs[slot].sha256);
	snprintf(s->names[slot], sizeof(s->names[slot]), "%s", func);
	memcpy(s->m.build_id, t->img.build_id, t->img.build_id_len);
	s->m.build_id_len = t->img.build_id_len;
	hp_sha256(t->file, t->len, s->m.target_sha256);
}

#endif
