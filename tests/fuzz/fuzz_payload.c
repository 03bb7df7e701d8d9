/*
 * Fuzz the payload decoder, and the zstd framing in front of it.  A raw
 * payload the decoder accepts must re-encode to the same bytes.  An input
 * that starts with the zstd magic is decompressed first, with its last three
 * bytes (little-endian) the raw size MANIFEST would declare.
 */
#include <stdlib.h>
#include <string.h>

#include "format/hpk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *raw, size_t size)
{
	struct hp_payload *p;
	struct hp_error e;
	uint8_t *out;
	size_t len;

	if (hp_payload_decode(raw, size, &p, &e) < 0)
		return;
	if (hp_payload_encode(p, &out, &len, &e) != 0 || len != size || memcmp(out, raw, size))
		abort();
	free(out);
	hp_payload_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	struct hp_error e;
	uint8_t *raw;

	if (size > 7 && !memcmp(data, zstd_magic, 4)) {
		const uint8_t *t = data + size - 3;
		size_t raw_size = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16;

		if (hp_zstd_decompress(data, size - 3, NULL, 0, raw_size, &raw, &e) == 0) {
			round_trip(raw, raw_size);
			free(raw);
		}
		return 0;
	}
	round_trip(data, size);
	return 0;
}
