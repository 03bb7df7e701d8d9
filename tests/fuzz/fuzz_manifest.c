/*
 * Fuzz the MANIFEST parser.  Whatever it accepts must be written back as the
 * very same text (one canonical spelling of each manifest), and must pass
 * the writer's own model checks.
 */
#include <stdlib.h>
#include <string.h>

#include "format/hpk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_manifest *m;
	struct hp_error e;
	char *out;
	size_t len;

	if (hp_manifest_parse(data, size, &m, &e) < 0)
		return 0;
	if (hp_manifest_write(m, &out, &len, &e) != 0 || len != size || memcmp(out, data, size))
		abort();
	free(out);
	hp_manifest_free(m);
	return 0;
}
