/*
 * strbuf.c - growable, always NUL-terminated string buffer used to build
 * JSON responses.  Errors are sticky: after a failed allocation all further
 * appends fail and the buffer keeps its old contents.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"


void sb_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof *sb);
}

void sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

/* Make room for `need` more bytes plus the NUL. */
static int sb_grow(struct strbuf *sb, size_t need)
{
	size_t cap;
	char *p;

	if (sb->len + need < sb->cap)
		return 0;
	if (sb->failed)
		return -1;
	cap = sb->cap ? sb->cap : 64;
	while (cap <= sb->len + need) {
		if (cap > ((size_t)-1) / 2)
			goto fail;
		cap *= 2;
	}
	p = realloc(sb->buf, cap);
	if (p == NULL)
		goto fail;
	sb->buf = p;
	sb->cap = cap;
	return 0;
fail:
	sb->failed = 1;
	return -1;
}

int sb_add(struct strbuf *sb, const char *s, size_t n)
{
	if (sb_grow(sb, n) < 0)
		return -1;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int sb_adds(struct strbuf *sb, const char *s)
{
	return sb_add(sb, s, strlen(s));
}

int sb_addch(struct strbuf *sb, int c)
{
	if (sb_grow(sb, 1) < 0)
		return -1;
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
	return 0;
}

/*
 * Append s between quote characters q, escaping q, backslash and control
 * characters the JSON way.
 */
static int sb_add_quoted(struct strbuf *sb, const char *s, int q)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	if (sb_addch(sb, q) < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == q || c == '\\') {
			esc[1] = (char)c;
			if (sb_add(sb, esc, 2) < 0)
				return -1;
			esc[1] = 'u';
		} else if (c < 0x20) {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			if (sb_add(sb, esc, 6) < 0)
				return -1;
		} else if (sb_addch(sb, c) < 0) {
			return -1;
		}
	}
	return sb_addch(sb, q);
}

int sb_add_json(struct strbuf *sb, const char *s)
{
	return sb_add_quoted(sb, s, '"');
}

/*
 * Bare words (identifiers, numbers) may be emitted without quotes in the
 * relaxed output format.
 */
static int is_bareword(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	if (s[0] == '-')	/* "-1" or "--x" would be read back as a number/flag */
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* Append `key: value` in the relaxed format; quoting only when needed. */
int sb_add_field(struct strbuf *sb, const char *key, const char *value)
{
	int r;

	if (is_bareword(key, strlen(key)))
		r = sb_adds(sb, key);
	else
		r = sb_add_quoted(sb, key, '"');
	if (r < 0 || sb_add(sb, ": ", 2) < 0)
		return -1;
	if (is_bareword(value, strlen(value)))
		return sb_adds(sb, value);
	return sb_add_quoted(sb, value, '"');
}

int sb_add_uint(struct strbuf *sb, unsigned long v)
{
	char tmp[24];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return sb_add(sb, tmp + i, sizeof tmp - i);
}
