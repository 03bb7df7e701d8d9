/*
 * Fuzz the .hpd reader.  Whatever it accepts must re-encode to the very
 * same bytes: the format has exactly one encoding of each model.  A 1.0
 * file is the one exception, and an exact one: the writer speaks 1.1, so it
 * comes back with minor 1 and an empty alias table before the trailer.  Half of
 * the inputs get their checksum trailer recomputed first, so mutations
 * reach the field parser instead of stopping at the checksum.
 */
#include <stdlib.h>
#include <string.h>

#include "format/hpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_hpd *h = NULL;
	struct hp_error e;
	uint8_t *buf = NULL;
	size_t len;

	uint8_t *in = malloc(size ? size : 1);

	memcpy(in, data, size);
	if (size > 40 && (data[size - 1] & 1))
		hp_sha256(in, size - 32, in + size - 32);
	if (hp_hpd_decode(in, size, &h, &e) == 0) {
		if (hp_hpd_encode(h, &buf, &len, &e) != 0)
			abort();
		if (h->minor == 0) {
			/* what a 1.1 writer makes of it: version 1.1, count 0, re-sealed */
			uint8_t *want = malloc(size + 4);

			memcpy(want, in, size - 32);
			want[10] = 1;
			memset(want + size - 32, 0, 4);
			hp_sha256(want, size - 28, want + size - 28);
			if (len != size + 4 || memcmp(buf, want, len))
				abort();
			free(want);
		} else if (len != size || memcmp(buf, in, size)) {
			abort();
		}
		free(buf);
		hp_hpd_free(h);
	}
	free(in);
	return 0;
}
