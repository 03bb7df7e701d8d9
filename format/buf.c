/*
 * Little-endian field encoding and bounded decoding; see buf.h.
 */
#include <stdlib.h>
#include <string.h>

#include "format/buf.h"

void hp_wbuf_init(struct hp_wbuf *wb)
{
	memset(wb, 0, sizeof(*wb));
}

void hp_wbuf_free(struct hp_wbuf *wb)
{
	free(wb->data);
	memset(wb, 0, sizeof(*wb));
}

uint8_t *hp_wbuf_take(struct hp_wbuf *wb, size_t *len)
{
	uint8_t *p = wb->data;

	*len = wb->len;
	memset(wb, 0, sizeof(*wb));
	return p;
}

/* Make room for n more bytes; returns the write position or NULL. */
static uint8_t *reserve(struct hp_wbuf *wb, size_t n)
{
	if (wb->failed)
		return NULL;
	if (n > SIZE_MAX - wb->len) {
		wb->failed = true;
		return NULL;
	}
	if (wb->len + n > wb->cap) {
		size_t cap = wb->cap ? wb->cap : 256;
		uint8_t *p;

		while (cap < wb->len + n) {
			if (cap > SIZE_MAX / 2) {
				wb->failed = true;
				return NULL;
			}
			cap *= 2;
		}
		p = realloc(wb->data, cap);
		if (!p) {
			wb->failed = true;
			return NULL;
		}
		wb->data = p;
		wb->cap = cap;
	}
	wb->len += n;
	return wb->data + wb->len - n;
}

void hp_put_u8(struct hp_wbuf *wb, uint8_t v)
{
	uint8_t *p = reserve(wb, 1);

	if (p)
		p[0] = v;
}

void hp_put_u16(struct hp_wbuf *wb, uint16_t v)
{
	uint8_t *p = reserve(wb, 2);

	if (p) {
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	}
}

static void store_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void hp_put_u32(struct hp_wbuf *wb, uint32_t v)
{
	uint8_t *p = reserve(wb, 4);

	if (p)
		store_u32(p, v);
}

void hp_put_u64(struct hp_wbuf *wb, uint64_t v)
{
	uint8_t *p = reserve(wb, 8);

	if (p)
		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(v >> (8 * i));
}

void hp_put_i64(struct hp_wbuf *wb, int64_t v)
{
	hp_put_u64(wb, (uint64_t)v);
}

void hp_put_bytes(struct hp_wbuf *wb, const void *src, size_t n)
{
	uint8_t *p = reserve(wb, n);

	if (p && n)
		memcpy(p, src, n);
}

void hp_put_zeros(struct hp_wbuf *wb, size_t n)
{
	uint8_t *p = reserve(wb, n);

	if (p && n)
		memset(p, 0, n);
}

void hp_put_str(struct hp_wbuf *wb, const char *s)
{
	size_t n = strlen(s);

	if (n > UINT32_MAX) {
		wb->failed = true;
		return;
	}
	hp_put_u32(wb, (uint32_t)n);
	hp_put_bytes(wb, s, n);
}

void hp_patch_u32(struct hp_wbuf *wb, size_t pos, uint32_t v)
{
	if (!wb->failed && pos + 4 <= wb->len)
		store_u32(wb->data + pos, v);
}

void hp_rbuf_init(struct hp_rbuf *rb, const void *data, size_t len, struct hp_error *err)
{
	rb->data = data;
	rb->len = len;
	rb->pos = 0;
	rb->failed = false;
	rb->err = err;
}

void hp_rbuf_fail(struct hp_rbuf *rb, int code, const char *what)
{
	if (rb->failed)
		return;
	rb->failed = true;
	hp_fail(rb->err, code, rb->pos, what);
}

/* Bounds-checked access to the next n bytes; advances on success. */
static const uint8_t *take(struct hp_rbuf *rb, size_t n, const char *what)
{
	const uint8_t *p;

	if (rb->failed)
		return NULL;
	if (n > rb->len - rb->pos) {
		hp_rbuf_fail(rb, HP_ETRUNC, what);
		return NULL;
	}
	p = rb->data + rb->pos;
	rb->pos += n;
	return p;
}

uint8_t hp_get_u8(struct hp_rbuf *rb, const char *what)
{
	const uint8_t *p = take(rb, 1, what);

	return p ? p[0] : 0;
}

uint16_t hp_get_u16(struct hp_rbuf *rb, const char *what)
{
	const uint8_t *p = take(rb, 2, what);

	return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

uint32_t hp_get_u32(struct hp_rbuf *rb, const char *what)
{
	const uint8_t *p = take(rb, 4, what);
	uint32_t v = 0;

	if (p)
		for (int i = 3; i >= 0; i--)
			v = (v << 8) | p[i];
	return v;
}

uint64_t hp_get_u64(struct hp_rbuf *rb, const char *what)
{
	const uint8_t *p = take(rb, 8, what);
	uint64_t v = 0;

	if (p)
		for (int i = 7; i >= 0; i--)
			v = (v << 8) | p[i];
	return v;
}

int64_t hp_get_i64(struct hp_rbuf *rb, const char *what)
{
	return (int64_t)hp_get_u64(rb, what);
}

const uint8_t *hp_get_bytes(struct hp_rbuf *rb, size_t n, const char *what)
{
	return take(rb, n, what);
}

uint32_t hp_get_count(struct hp_rbuf *rb, uint32_t max, const char *what)
{
	size_t start = rb->pos;
	uint32_t n = hp_get_u32(rb, what);

	if (!rb->failed && n > max) {
		rb->pos = start;
		hp_rbuf_fail(rb, HP_ELIMIT, what);
		return 0;
	}
	return n;
}

char *hp_get_str(struct hp_rbuf *rb, size_t max_len, bool allow_empty, const char *what)
{
	size_t start = rb->pos;
	uint32_t n = hp_get_u32(rb, what);
	const uint8_t *p;
	char *s;

	if (rb->failed)
		return NULL;
	if ((n == 0 && !allow_empty) || n > max_len) {
		rb->pos = start;
		hp_rbuf_fail(rb, n ? HP_ELIMIT : HP_ESTRING, what);
		return NULL;
	}
	p = take(rb, n, what);
	if (!p)
		return NULL;
	if (memchr(p, 0, n)) {
		rb->pos = start;
		hp_rbuf_fail(rb, HP_ESTRING, what);
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s) {
		hp_rbuf_fail(rb, HP_ENOMEM, what);
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

void hp_get_reserved(struct hp_rbuf *rb, size_t n, const char *what)
{
	size_t start = rb->pos;
	const uint8_t *p = take(rb, n, what);

	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		if (p[i]) {
			rb->pos = start;
			hp_rbuf_fail(rb, HP_ERESERVED, what);
			return;
		}
	}
}

void *hp_get_table(struct hp_rbuf *rb, uint32_t *n, uint32_t max, size_t min_bytes,
		   size_t item_size, const char *what)
{
	void *t;

	*n = hp_get_count(rb, max, what);
	if (rb->failed || !*n)
		return NULL;
	/* Bound the allocation by the bytes actually present. */
	if ((uint64_t)*n * min_bytes > hp_rbuf_left(rb)) {
		hp_rbuf_fail(rb, HP_ETRUNC, what);
		*n = 0;
		return NULL;
	}
	t = calloc(*n, item_size);
	if (!t) {
		hp_rbuf_fail(rb, HP_ENOMEM, what);
		*n = 0;
	}
	return t;
}

uint8_t *hp_get_copy(struct hp_rbuf *rb, uint64_t n, uint64_t max, const char *what)
{
	const uint8_t *src;
	uint8_t *c;

	if (n > max) {
		hp_rbuf_fail(rb, HP_ELIMIT, what);
		return NULL;
	}
	src = hp_get_bytes(rb, (size_t)n, what);
	if (!src || !n)
		return NULL;
	c = hp_alloc_large((size_t)n);
	if (!c) {
		hp_rbuf_fail(rb, HP_ENOMEM, what);
		return NULL;
	}
	memcpy(c, src, (size_t)n);
	return c;
}

void hp_prefault(void *p, size_t n)
{
	volatile uint8_t *b = p;

	/* the smallest page size: with huge pages most of these faults are none */
	for (size_t i = 0; i < n; i += 4096)
		b[i] = 0;
	if (n)
		b[n - 1] = 0;
}
