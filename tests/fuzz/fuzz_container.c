/*
 * Fuzz the .hpk container reader.  Whatever it accepts must be written back
 * as the very same bytes: the archive has one canonical form, so tar and
 * the verifier cannot see two different packages in one file.
 */
#include <stdlib.h>
#include <string.h>

#include "format/hpk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_error e;
	struct hp_hpk k;
	uint8_t *out;
	size_t len;

	if (hp_hpk_read(data, size, &k, &e) < 0)
		return 0;
	if (k.manifest < data || k.payload + k.payload_len > data + size)
		abort();
	if (hp_hpk_write(&k, &out, &len, &e) != 0 || len != size || memcmp(out, data, size))
		abort();
	free(out);
	return 0;
}
