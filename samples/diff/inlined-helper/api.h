/* pktbuf: cursor over a received datagram */
#ifndef PKTBUF_API_H
#define PKTBUF_API_H
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void cur_init(struct cursor *c, const void *p, size_t len);
int cur_u16(struct cursor *c, uint16_t *v);
int cur_u32(struct cursor *c, uint32_t *v);
int cur_bytes(struct cursor *c, void *dst, size_t n);
size_t cur_left(const struct cursor *c);
#endif
