/*
 * Fuzz the reader of linked images (format/image.c): hppack reads the
 * baseline with it, hpsign --verify the target, and hpapply every file
 * mapped into the process it patches.  Whatever it accepts must keep the
 * promises its users rely on: every loadable segment's file bytes lie in
 * the file, segments are in address order, the image base is at or below
 * the first of them, and hp_image_bytes() never hands out a range outside
 * the file.
 */
#include <stdlib.h>
#include <string.h>

#include "format/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_range(const struct hp_image *img, uint64_t off, uint64_t n, const uint8_t *data,
			size_t size)
{
	const uint8_t *p = hp_image_bytes(img, off, n);

	if (p && (p < data || (size_t)(p - data) > size || n > size - (size_t)(p - data)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_image img;
	struct hp_error e;

	if (hp_image_parse(data, size, &img, &e) < 0)
		return 0;
	if (!img.nsegs || img.nsegs > HP_IMAGE_MAX_SEGMENTS || img.build_id_len > 64 ||
	    img.base > img.segs[0].vaddr)
		abort();
	for (size_t i = 0; i < img.nsegs; i++) {
		const struct hp_segment *s = &img.segs[i];

		if (s->offset > size || s->filesz > size - s->offset || s->filesz > s->memsz)
			abort();
		if (i && s->vaddr < img.segs[i - 1].vaddr)
			abort();
		/* the whole segment, its last byte, and one byte past its file part */
		check_range(&img, s->vaddr - img.base, s->filesz, data, size);
		if (s->filesz)
			check_range(&img, s->vaddr - img.base + s->filesz - 1, 1, data, size);
		check_range(&img, s->vaddr - img.base + s->filesz, 1, data, size);
	}
	/* offsets taken from the input, as a package's manifest would give them */
	if (size >= 16) {
		uint64_t off, n;

		memcpy(&off, data + size - 16, 8);
		memcpy(&n, data + size - 8, 8);
		check_range(&img, off, n, data, size);
		check_range(&img, off, n & 0xffff, data, size);
	}
	return 0;
}
