/*
 * Fuzz the hpapply state record reader: the record sits in the target's
 * memory, where anyone allowed to ptrace the process can change it.
 * Whatever state_decode accepts must re-encode to the same record: the
 * encoding is deterministic, so the bytes up to the record's length match,
 * except the committed byte (the encoder always writes 0; the commit stub
 * sets it).  What follows the length is the page's padding, which the
 * reader does not look at.
 */
#include <stdlib.h>
#include <string.h>

#include "hpapply/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s;
	uint8_t *buf;
	size_t len, body;

	if (state_decode(data, size, &s) < 0)
		return 0;
	if (state_encode(&s, &buf, &len) < 0)
		abort();
	body = (size_t)data[12] | (size_t)data[13] << 8 | (size_t)data[14] << 16 |
	       (size_t)data[15] << 24;
	if (len % 4096 || len < body || memcmp(buf, data, 8) || buf[8] != 0 ||
	    memcmp(buf + 9, data + 9, body - 9))
		abort();
	for (size_t i = body; i < len; i++)
		if (buf[i])
			abort();
	free(buf);
	state_free(&s);
	return 0;
}
