/*
 * Field-by-field encoding and decoding of little-endian binary records.
 *
 * Writers append to a growable hp_wbuf; an allocation failure is sticky
 * (wb->failed), so a writer can emit a whole record and check once.
 * Readers consume an hp_rbuf; the first failure (truncation, limit) is
 * recorded with the field name and offset and every later get returns 0,
 * so a decoder reads a record and checks rb->failed at the end of it.
 * Nothing here ever copies a C struct to or from the wire.
 */
#ifndef HP_BUF_H
#define HP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/hp.h"

struct hp_wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed; contents are incomplete */
};

void hp_wbuf_init(struct hp_wbuf *wb);
void hp_wbuf_free(struct hp_wbuf *wb);
/* Hand the buffer to the caller (who frees it); wb is reset. */
uint8_t *hp_wbuf_take(struct hp_wbuf *wb, size_t *len);

void hp_put_u8(struct hp_wbuf *wb, uint8_t v);
void hp_put_u16(struct hp_wbuf *wb, uint16_t v);
void hp_put_u32(struct hp_wbuf *wb, uint32_t v);
void hp_put_u64(struct hp_wbuf *wb, uint64_t v);
void hp_put_i64(struct hp_wbuf *wb, int64_t v);
void hp_put_bytes(struct hp_wbuf *wb, const void *p, size_t n);
void hp_put_zeros(struct hp_wbuf *wb, size_t n);
/* u32 length followed by the bytes, no terminator. */
void hp_put_str(struct hp_wbuf *wb, const char *s);
/* Overwrite 4 bytes at an earlier position (for back-patched lengths). */
void hp_patch_u32(struct hp_wbuf *wb, size_t pos, uint32_t v);

struct hp_rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool failed;
	struct hp_error *err; /* may be NULL */
};

void hp_rbuf_init(struct hp_rbuf *rb, const void *data, size_t len, struct hp_error *err);
/* Record a failure at the current position (first failure wins). */
void hp_rbuf_fail(struct hp_rbuf *rb, int code, const char *what);

uint8_t hp_get_u8(struct hp_rbuf *rb, const char *what);
uint16_t hp_get_u16(struct hp_rbuf *rb, const char *what);
uint32_t hp_get_u32(struct hp_rbuf *rb, const char *what);
uint64_t hp_get_u64(struct hp_rbuf *rb, const char *what);
int64_t hp_get_i64(struct hp_rbuf *rb, const char *what);
/* Pointer to the next n bytes inside the input (not copied), or NULL. */
const uint8_t *hp_get_bytes(struct hp_rbuf *rb, size_t n, const char *what);
/* A u32 count that must not exceed max (HP_ELIMIT otherwise). */
uint32_t hp_get_count(struct hp_rbuf *rb, uint32_t max, const char *what);
/*
 * A length-prefixed string, copied into a NUL-terminated malloc'ed string.
 * Rejects length 0 unless allow_empty, lengths above max_len, and embedded
 * NUL bytes (HP_ESTRING).
 */
char *hp_get_str(struct hp_rbuf *rb, size_t max_len, bool allow_empty, const char *what);
/* A reserved field of n bytes that must be zero (HP_ERESERVED otherwise). */
void hp_get_reserved(struct hp_rbuf *rb, size_t n, const char *what);
/*
 * A u32 count (at most max) and a zeroed array of that many items of
 * item_size bytes, refusing counts the remaining input cannot hold at
 * min_bytes each (HP_ETRUNC).  NULL with *n = 0 on failure or a count of 0.
 */
void *hp_get_table(struct hp_rbuf *rb, uint32_t *n, uint32_t max, size_t min_bytes,
		   size_t item_size, const char *what);
/*
 * A copy of the next n bytes (at most max, HP_ELIMIT otherwise) in a buffer
 * from hp_alloc_large(), released with free(); NULL on failure or n of 0.
 */
uint8_t *hp_get_copy(struct hp_rbuf *rb, uint64_t n, uint64_t max, const char *what);

/*
 * A buffer for a large input or output (a package, a payload): at least
 * 4 MiB, it is aligned and marked for transparent huge pages, which saves
 * most of the page faults filling it costs.  Released with free().
 */
void *hp_alloc_large(size_t n);
/*
 * Take the page faults of p[0..n) now, writing a zero to each page: on a
 * second thread while the first is busy, so that whoever fills the buffer
 * later does not stop for them.
 */
void hp_prefault(void *p, size_t n);

static inline size_t hp_rbuf_left(const struct hp_rbuf *rb)
{
	return rb->len - rb->pos;
}

#endif
