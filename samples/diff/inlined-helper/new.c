/*
 * pktbuf.c - bounds-checked big-endian reads from a received datagram.
 * Every reader goes through cur_need(); a failed read leaves the cursor
 * where it was.
 */
#include <string.h>
#include "api.h"

#define CUR_MAX_FIELD 1024	/* no protocol field is longer */

void cur_init(struct cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
}

/* Are n more bytes available? */
static inline int cur_need(const struct cursor *c, size_t n)
{
	/* off + n could wrap around for a hostile length field */
	return n <= CUR_MAX_FIELD && n <= c->len - c->off;
}

int cur_u16(struct cursor *c, uint16_t *v)
{
	if (!cur_need(c, 2))
		return -1;
	*v = (uint16_t)(c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return 0;
}

int cur_u32(struct cursor *c, uint32_t *v)
{
	const uint8_t *b;

	if (!cur_need(c, 4))
		return -1;
	b = c->p + c->off;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	c->off += 4;
	return 0;
}

/* Copy n bytes out; n comes from a length field in the packet. */
int cur_bytes(struct cursor *c, void *dst, size_t n)
{
	if (!cur_need(c, n))
		return -1;
	memcpy(dst, c->p + c->off, n);
	c->off += n;
	return 0;
}

size_t cur_left(const struct cursor *c)
{
	return c->len - c->off;
}
