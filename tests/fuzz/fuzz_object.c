/*
 * Fuzz the object reading path end to end: parse, DWARF, decode, resolve,
 * correlate, compare, emit, encode, decode.  The input is diffed against a
 * copy with its last byte changed, so both sides get analysed and whatever
 * differs goes through the emitter.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "emit.h"
#include "hpd.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	struct diff d;

	set_quiet(1);
	if (size < 2)
		return 0;
	copy = malloc(size);
	memcpy(copy, data, size);
	copy[size - 1] ^= 0x5a;
	if (diff_objects(&d, "fuzz.o", "old.o", data, size, "new.o", copy, size) == 0) {
		struct hp_hpd *h = emit_hpd(&d), *back = NULL;
		struct hp_error e;
		uint8_t *buf = NULL;
		size_t len;

		if (h && hp_hpd_encode(h, &buf, &len, &e) == 0) {
			/* What the differ writes, the reader must accept. */
			if (hp_hpd_decode(buf, len, &back, &e) != 0)
				abort();
			hp_hpd_free(back);
		}
		free(buf);
		hp_hpd_free(h);
	}
	diff_free(&d);
	free(copy);
	return 0;
}
