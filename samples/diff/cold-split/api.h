/* frame: length-prefixed frame decoder */
#ifndef FRAME_API_H
#define FRAME_API_H
#include <stddef.h>
#include <stdint.h>

struct frame {
	uint8_t type;
	uint8_t flags;
	uint16_t len;
	const uint8_t *payload;
};

/* error counters, for the stats endpoint */
extern unsigned long frame_errors;

int frame_decode(const uint8_t *buf, size_t n, struct frame *f);
int frame_checksum(const struct frame *f);
#endif
