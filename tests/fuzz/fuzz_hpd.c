/*
 * Fuzz the .hpd reader.  Whatever it accepts must re-encode to the very
 * same bytes: the format has exactly one encoding of each model.
 */
#include <stdlib.h>
#include <string.h>

#include "hpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_hpd *h = NULL;
	struct hp_error e;
	uint8_t *buf = NULL;
	size_t len;

	if (hp_hpd_decode(data, size, &h, &e) != 0)
		return 0;
	if (hp_hpd_encode(h, &buf, &len, &e) != 0 || len != size || memcmp(buf, data, size))
		abort();
	free(buf);
	hp_hpd_free(h);
	return 0;
}
