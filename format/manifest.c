/*
 * MANIFEST: the signed text of a package.  UTF-8 "key: value" lines, every
 * key in a fixed order, each once (the optional ones at most once), one
 * "replace:" line per replaced function.  There is exactly one way to write
 * a given manifest: the reader re-writes what it parsed and requires the
 * very same bytes, so no two verifiers can read one signed text two ways.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/buf.h"
#include "format/hpk.h"

#define MAX_LINE 4096
#define MAX_TEXT 1024

int hp_time_format(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || !gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999)
		return -1;
	return strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) ? 0 : -1;
}

int hp_time_parse(const char *s, int64_t *t)
{
	struct tm tm;
	char back[32];
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*t = (int64_t)timegm(&tm);
	/* Reject what strptime normalises (Feb 30, hour 24, missing zeros). */
	if (hp_time_format(*t, back, sizeof(back)) < 0 || strcmp(back, s))
		return -1;
	return 0;
}

/* ---- values ------------------------------------------------------------------- */

/* Printable UTF-8 without control characters, no edge spaces. */
static bool valid_text(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (!n || n > max || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	while (*p) {
		int extra;
		uint32_t cp;

		if (*p < 0x80) {
			if (*p < 0x20 || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			extra = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			extra = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			extra = 3;
			cp = *p & 0x07;
		} else {
			return false;
		}
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3f);
		}
		/* no overlong forms, surrogates or C1 controls */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
	}
	return true;
}

/* Identifiers used in file names and listings: [A-Za-z0-9._+-]. */
static bool valid_ident(const char *s)
{
	if (!*s || strlen(s) > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-",
			    *s))
			return false;
	return true;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	*v = 0;
	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || *v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return true;
}

static bool parse_hex(const char *s, uint8_t *out, size_t min, size_t max, size_t *n)
{
	size_t len = strlen(s);

	if (len % 2 || len / 2 < min || len / 2 > max)
		return false;
	for (size_t i = 0; i < len; i += 2) {
		int v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[i + k];

			if (c >= '0' && c <= '9')
				v = v * 16 + (c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (c - 'a' + 10);
			else
				return false;
		}
		out[i / 2] = (uint8_t)v;
	}
	if (n)
		*n = len / 2;
	return true;
}

/* ---- writing ---------------------------------------------------------------------- */

static void add(struct hp_wbuf *t, const char *key, const char *value)
{
	hp_put_bytes(t, key, strlen(key));
	hp_put_bytes(t, ": ", 2);
	hp_put_bytes(t, value, strlen(value));
	hp_put_u8(t, '\n');
}

static void add_u64(struct hp_wbuf *t, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	add(t, key, b);
}

static void add_hex(struct hp_wbuf *t, const char *key, const uint8_t *p, size_t n)
{
	char b[2 * 64 + 1];

	hp_hex(p, n, b);
	add(t, key, b);
}

static void add_time(struct hp_wbuf *t, const char *key, int64_t v)
{
	char b[32];

	if (hp_time_format(v, b, sizeof(b)) < 0)
		t->failed = true;
	else
		add(t, key, b);
}

static int check_model(const struct hp_manifest *m, struct hp_error *e)
{
	if (!m->package_id || !valid_ident(m->package_id))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "package-id");
	if (!m->arch || strcmp(m->arch, HP_FORMAT_ARCH))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "arch");
	if (!m->target_name || !valid_ident(m->target_name))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "target-name");
	if (m->build_id_len < 1 || m->build_id_len > sizeof(m->build_id))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "target-build-id");
	if (m->min_sequence > m->sequence || !m->sequence)
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "sequence");
	if (m->created < 0 || (m->has_expires && m->expires <= m->created))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "created or expires");
	if (!m->tools || !valid_text(m->tools, MAX_TEXT))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "tools");
	if (m->fixes && !valid_text(m->fixes, MAX_LINE - 16))
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "fixes");
	if (m->compression != HP_COMP_ZSTD && m->compression != HP_COMP_ZSTD_BASELINE)
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "payload-compression");
	if (m->payload_size > HP_HPK_MAX_PAYLOAD || m->payload_raw_size > HP_PAYLOAD_MAX_RAW)
		return hp_fail(e, HP_ELIMIT, HP_NO_OFFSET, "payload size");
	if (m->nfuncs > HP_MANIFEST_MAX_FUNCS)
		return hp_fail(e, HP_ELIMIT, HP_NO_OFFSET, "functions");
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		if (!m->funcs[i].name || !valid_text(m->funcs[i].name, MAX_TEXT) ||
		    strchr(m->funcs[i].name, ' ') || !m->funcs[i].size)
			return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "replace");
		/* replaced functions are listed by address and never overlap */
		if (m->funcs[i].offset > UINT64_MAX - m->funcs[i].size)
			return hp_fail(e, HP_ERANGE, HP_NO_OFFSET, "replace");
		if (i && m->funcs[i].offset < m->funcs[i - 1].offset + m->funcs[i - 1].size)
			return hp_fail(e, HP_EORDER, HP_NO_OFFSET, "replace");
	}
	return 0;
}

int hp_manifest_write(const struct hp_manifest *m, char **out, size_t *len, struct hp_error *e)
{
	struct hp_wbuf t;
	char b[MAX_LINE];

	*out = NULL;
	if (check_model(m, e) < 0)
		return -1;
	hp_wbuf_init(&t);
	snprintf(b, sizeof(b), "hpk %d", HP_MANIFEST_FORMAT);
	add(&t, "format", b);
	add(&t, "package-id", m->package_id);
	add(&t, "arch", m->arch);
	add(&t, "target-name", m->target_name);
	add_hex(&t, "target-build-id", m->build_id, m->build_id_len);
	add_hex(&t, "target-sha256", m->target_sha256, 32);
	add_u64(&t, "sequence", m->sequence);
	add_u64(&t, "min-sequence", m->min_sequence);
	add(&t, "cumulative", m->cumulative ? "yes" : "no");
	add_time(&t, "created", m->created);
	if (m->has_expires)
		add_time(&t, "expires", m->expires);
	add(&t, "tools", m->tools);
	if (m->fixes)
		add(&t, "fixes", m->fixes);
	add(&t, "payload-compression",
	    m->compression == HP_COMP_ZSTD_BASELINE ? "zstd+baseline" : "zstd");
	add_u64(&t, "payload-size", m->payload_size);
	add_hex(&t, "payload-sha256", m->payload_sha256, 32);
	add_u64(&t, "payload-raw-size", m->payload_raw_size);
	add_hex(&t, "payload-raw-sha256", m->payload_raw_sha256, 32);
	add_u64(&t, "functions", m->nfuncs);
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		char h[65];

		hp_hex(m->funcs[i].sha256, 32, h);
		snprintf(b, sizeof(b), "0x%llx %u %s %s", (unsigned long long)m->funcs[i].offset,
			 m->funcs[i].size, h, m->funcs[i].name);
		add(&t, "replace", b);
	}
	hp_put_u8(&t, 0); /* a C string for callers that print it; not counted in *len */
	if (t.failed || t.len - 1 > HP_HPK_MAX_MANIFEST) {
		bool failed = t.failed;

		hp_wbuf_free(&t);
		return hp_fail(e, failed ? HP_ENOMEM : HP_ELIMIT, HP_NO_OFFSET, "manifest");
	}
	*out = (char *)hp_wbuf_take(&t, len);
	(*len)--;
	return 0;
}

/* ---- parsing ------------------------------------------------------------------------ */

struct lines {
	const char *p, *end;
	char key[64];
	char value[MAX_LINE];
};

/* Next "key: value" line; false at the end.  Sets *bad on malformed lines. */
static bool next_line(struct lines *l, bool *bad)
{
	const char *nl, *colon;
	size_t n;

	if (l->p == l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (!nl || (size_t)(nl - l->p) >= MAX_LINE) {
		*bad = true;
		return false;
	}
	colon = memchr(l->p, ':', (size_t)(nl - l->p));
	if (!colon || colon[1] != ' ' || (size_t)(colon - l->p) >= sizeof(l->key)) {
		*bad = true;
		return false;
	}
	n = (size_t)(colon - l->p);
	memcpy(l->key, l->p, n);
	l->key[n] = 0;
	n = (size_t)(nl - colon - 2);
	memcpy(l->value, colon + 2, n);
	l->value[n] = 0;
	if (memchr(l->p, 0, (size_t)(nl - l->p))) {
		*bad = true;
		return false;
	}
	l->p = nl + 1;
	return true;
}

/* Read the line that must come next; optional keys may be absent. */
static bool expect(struct lines *l, const char *key, bool optional, bool *have, bool *bad)
{
	struct lines save = *l;

	*have = false;
	if (!next_line(l, bad)) {
		if (!*bad && optional) {
			*l = save;
			return true;
		}
		return false;
	}
	if (strcmp(l->key, key)) {
		*l = save;
		return optional;
	}
	*have = true;
	return true;
}

static int parse_replace(const char *v, struct hp_manifest_func *f)
{
	char off[32], size[16], hash[80];
	const char *name;
	int n = 0;

	if (sscanf(v, "%31s %15s %79s %n", off, size, hash, &n) != 3 || !n)
		return -1;
	name = v + n;
	uint64_t o, s;
	if (strncmp(off, "0x", 2) || !off[2] || (off[2] == '0' && off[3]))
		return -1;
	char *end;
	o = strtoull(off + 2, &end, 16);
	if (*end || !parse_u64(size, &s) || s > UINT32_MAX ||
	    !parse_hex(hash, f->sha256, 32, 32, NULL))
		return -1;
	f->offset = o;
	f->size = (uint32_t)s;
	f->name = strdup(name);
	return f->name ? 0 : -1;
}

#define NEED(key, optional)                                                                        \
	do {                                                                                       \
		if (!expect(&l, key, optional, &have, &bad))                                       \
			goto malformed;                                                            \
	} while (0)

static int parse_fields(struct lines *l_, struct hp_manifest *m, const char **field)
{
	struct lines l = *l_;
	bool have, bad = false;
	uint64_t u;

	*field = "format";
	NEED("format", false);
	if (strcmp(l.value, "hpk 1"))
		goto malformed;
#define TEXT(key, dst, check)                                                                      \
	*field = key;                                                                              \
	NEED(key, false);                                                                          \
	if (!(check) || !((dst) = strdup(l.value)))                                                \
		goto malformed;
	TEXT("package-id", m->package_id, valid_ident(l.value));
	TEXT("arch", m->arch, !strcmp(l.value, HP_FORMAT_ARCH));
	TEXT("target-name", m->target_name, valid_ident(l.value));
	*field = "target-build-id";
	NEED("target-build-id", false);
	if (!parse_hex(l.value, m->build_id, 1, sizeof(m->build_id), &m->build_id_len))
		goto malformed;
	*field = "target-sha256";
	NEED("target-sha256", false);
	if (!parse_hex(l.value, m->target_sha256, 32, 32, NULL))
		goto malformed;
	*field = "sequence";
	NEED("sequence", false);
	if (!parse_u64(l.value, &m->sequence))
		goto malformed;
	*field = "min-sequence";
	NEED("min-sequence", false);
	if (!parse_u64(l.value, &m->min_sequence))
		goto malformed;
	*field = "cumulative";
	NEED("cumulative", false);
	if (strcmp(l.value, "yes") && strcmp(l.value, "no"))
		goto malformed;
	m->cumulative = !strcmp(l.value, "yes");
	*field = "created";
	NEED("created", false);
	if (hp_time_parse(l.value, &m->created) < 0)
		goto malformed;
	*field = "expires";
	NEED("expires", true);
	if (have && hp_time_parse(l.value, &m->expires) < 0)
		goto malformed;
	m->has_expires = have;
	TEXT("tools", m->tools, valid_text(l.value, MAX_TEXT));
	*field = "fixes";
	NEED("fixes", true);
	if (have && !(m->fixes = strdup(l.value)))
		goto malformed;
	*field = "payload-compression";
	NEED("payload-compression", false);
	if (!strcmp(l.value, "zstd"))
		m->compression = HP_COMP_ZSTD;
	else if (!strcmp(l.value, "zstd+baseline"))
		m->compression = HP_COMP_ZSTD_BASELINE;
	else
		goto malformed;
	*field = "payload-size";
	NEED("payload-size", false);
	if (!parse_u64(l.value, &m->payload_size))
		goto malformed;
	*field = "payload-sha256";
	NEED("payload-sha256", false);
	if (!parse_hex(l.value, m->payload_sha256, 32, 32, NULL))
		goto malformed;
	*field = "payload-raw-size";
	NEED("payload-raw-size", false);
	if (!parse_u64(l.value, &m->payload_raw_size))
		goto malformed;
	*field = "payload-raw-sha256";
	NEED("payload-raw-sha256", false);
	if (!parse_hex(l.value, m->payload_raw_sha256, 32, 32, NULL))
		goto malformed;
	*field = "functions";
	NEED("functions", false);
	/* each replace line takes more than 64 bytes: no table larger than the text */
	if (!parse_u64(l.value, &u) || u > HP_MANIFEST_MAX_FUNCS || u > (size_t)(l.end - l.p) / 64)
		goto malformed;
	m->funcs = calloc(u ? u : 1, sizeof(*m->funcs));
	if (!m->funcs)
		goto malformed;
	for (m->nfuncs = 0; m->nfuncs < u; m->nfuncs++) {
		*field = "replace";
		NEED("replace", false);
		if (parse_replace(l.value, &m->funcs[m->nfuncs]) < 0)
			goto malformed;
	}
	*field = "end of manifest";
	if (l.p != l.end)
		goto malformed;
	*l_ = l;
	return 0;
malformed:
	*l_ = l;
	return -1;
#undef TEXT
}

int hp_manifest_parse(const uint8_t *text, size_t len, struct hp_manifest **out, struct hp_error *e)
{
	struct lines *l = calloc(1, sizeof(*l));
	struct hp_manifest *m = calloc(1, sizeof(*m));
	const char *field = "manifest";
	char *canon = NULL;
	size_t clen;
	char what[96];

	*out = NULL;
	if (!l || !m) {
		free(l);
		free(m);
		return hp_fail(e, HP_ENOMEM, 0, "manifest");
	}
	if (len > HP_HPK_MAX_MANIFEST) {
		hp_fail(e, HP_ELIMIT, 0, "manifest size");
		goto fail;
	}
	l->p = (const char *)text;
	l->end = l->p + len;
	if (parse_fields(l, m, &field) < 0) {
		snprintf(what, sizeof(what), "manifest line '%s'", field);
		hp_fail(e, HP_EVALUE, (uint64_t)(l->p - (const char *)text), what);
		goto fail;
	}
	/*
	 * The one canonical spelling: what we would write must be what we read.
	 * Writing checks the model first (check_model), with the same failures.
	 */
	if (hp_manifest_write(m, &canon, &clen, e) < 0)
		goto fail;
	if (clen != len || memcmp(canon, text, len)) {
		hp_fail(e, HP_EVALUE, 0, "manifest is not in canonical form");
		goto fail;
	}
	free(canon);
	free(l);
	*out = m;
	return 0;
fail:
	free(canon);
	free(l);
	hp_manifest_free(m);
	return -1;
}

void hp_manifest_free(struct hp_manifest *m)
{
	if (!m)
		return;
	free(m->package_id);
	free(m->arch);
	free(m->target_name);
	free(m->tools);
	free(m->fixes);
	for (uint32_t i = 0; i < m->nfuncs; i++)
		free(m->funcs[i].name);
	free(m->funcs);
	free(m);
}
