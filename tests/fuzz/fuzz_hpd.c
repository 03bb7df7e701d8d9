/*
 * Fuzz the .hpd reader.  Whatever it accepts must re-encode to the very
 * same bytes: the format has exactly one encoding of each model, but the
 * writer speaks the newest minor (HP_HPD_MINOR): a 1.1 file comes back with
 * that minor, a 1.0 file with that minor and an empty alias table before
 * the trailer.  Half of
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
		if (h->minor < HP_HPD_MINOR) {
			/* what the writer makes of it: its version, an alias count for 1.0,
			 * re-sealed */
			size_t extra = h->minor == 0 ? 4 : 0;
			uint8_t *want = malloc(size + extra);

			memcpy(want, in, size - 32);
			want[10] = HP_HPD_MINOR;
			memset(want + size - 32, 0, extra);
			hp_sha256(want, size - 32 + extra, want + size - 32 + extra);
			if (len != size + extra || memcmp(buf, want, len))
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
