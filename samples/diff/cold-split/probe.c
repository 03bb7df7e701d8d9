#include <stdio.h>
#include "api.h"

static void dec(const char *what, const uint8_t *b, size_t n)
{
	struct frame f = { 0, 0, 0, NULL };
	int r = frame_decode(b, n, &f);

	if (r > 0)
		printf("decode(%s) = %d type=%u len=%u csum=%d\n", what, r,
		       f.type, f.len, frame_checksum(&f));
	else
		printf("decode(%s) = %d\n", what, r);
}

void probe(void)
{
	static const uint8_t data[] = { 3, 0, 0, 4, 1, 2, 3, 6 };
	static const uint8_t keepalive[] = { 0, 0, 0, 0 };
	static const uint8_t bad_keepalive[] = { 0, 0, 0, 2, 7, 7 };
	static const uint8_t bad_type[] = { 9, 0, 0, 0 };
	static const uint8_t bad_flags[] = { 1, 0x80, 0, 0 };
	static const uint8_t partial[] = { 2, 0, 0, 9, 1 };
	unsigned long base = frame_errors;

	dec("data", data, sizeof data);
	dec("keepalive", keepalive, sizeof keepalive);
	dec("keepalive+payload", bad_keepalive, sizeof bad_keepalive);
	dec("bad type", bad_type, sizeof bad_type);
	dec("bad flags", bad_flags, sizeof bad_flags);
	dec("partial", partial, sizeof partial);
	printf("errors+ = %lu\n", frame_errors - base);
}
