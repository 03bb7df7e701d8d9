#include <stdio.h>
#include <stdint.h>
#include "api.h"

void probe(void)
{
	static const uint8_t pkt[] = {
		0x00, 0x2a, 0xde, 0xad, 0xbe, 0xef, 'h', 'e', 'l', 'l', 'o', 0x01
	};
	static uint8_t big[3000];
	static uint8_t dst[2048];
	struct cursor c;
	uint16_t h = 0;
	uint32_t w = 0;
	char out[8] = "";
	int r;

	cur_init(&c, pkt, sizeof pkt);
	r = cur_u16(&c, &h);
	printf("u16 = %d %u\n", r, h);
	r = cur_u32(&c, &w);
	printf("u32 = %d %08x\n", r, (unsigned)w);
	r = cur_bytes(&c, out, 5);
	printf("bytes(5) = %d %.5s\n", r, out);
	printf("left = %zu\n", cur_left(&c));
	printf("u16(short) = %d\n", cur_u16(&c, &h));
	printf("u32(short) = %d\n", cur_u32(&c, &w));

	/* a 2000-byte field: fits the datagram but exceeds the field limit */
	cur_init(&c, big, sizeof big);
	printf("bytes(2000) = %d\n", cur_bytes(&c, dst, 2000));
	printf("left = %zu\n", cur_left(&c));
}
