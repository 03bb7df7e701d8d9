/*
 * frame.c - decode the framing of the telemetry protocol:
 *
 *	+------+-------+--------+---------+
 *	| type | flags | len:16 | payload |
 *	+------+-------+--------+---------+
 *
 * Malformed frames are rare and logged out of line.
 */
#include <stdio.h>
#include "api.h"

#define unlikely(x)	__builtin_expect(!!(x), 0)

#define FRAME_TYPE_MAX	7
#define FRAME_HDR	4

unsigned long frame_errors;

static __attribute__((cold, noinline)) void frame_reject(const char *why, size_t n)
{
	frame_errors++;
	fprintf(stderr, "frame: rejected (%s, %zu bytes)\n", why, n);
}

/* Returns the number of bytes consumed, 0 if more input is needed, -1 on error. */
int frame_decode(const uint8_t *buf, size_t n, struct frame *f)
{
	if (n < FRAME_HDR)
		return 0;
	f->type = buf[0];
	f->flags = buf[1];
	f->len = (uint16_t)(buf[2] << 8 | buf[3]);
	if (unlikely(f->type > FRAME_TYPE_MAX)) {
		frame_reject("bad type", n);
		return -1;
	}
	if (unlikely(f->flags & 0xf0)) {
		frame_reject("reserved flags", n);
		return -1;
	}
	if (n - FRAME_HDR < f->len)
		return 0;
	/* type 0 (keepalive) frames carry no payload */
	if (f->type == 0 && f->len != 0) {
		frame_reject("keepalive with payload", n);
		return -1;
	}
	f->payload = buf + FRAME_HDR;
	return FRAME_HDR + f->len;
}

/* 8-bit additive checksum over the payload; the last byte is the check. */
int frame_checksum(const struct frame *f)
{
	uint8_t sum = 0;
	uint16_t i;

	if (unlikely(f->len == 0)) {
		frame_reject("empty payload", 0);
		return -1;
	}
	for (i = 0; i + 1 < f->len; i++)
		sum = (uint8_t)(sum + f->payload[i]);
	return sum == f->payload[f->len - 1] ? 0 : -1;
}
