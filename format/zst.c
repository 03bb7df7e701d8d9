/*
 * Payload compression with zstd: the one place libhpformat touches libzstd.
 *
 * A package's payload is one frame that declares its content size.  When it
 * is smaller, the frame is compressed against the baseline's bytes of the
 * replaced functions, referenced as a raw prefix (what `zstd --patch-from`
 * does): new code is mostly old code, and the loader has the old code and
 * has checked its hashes before it decompresses.
 */
#include <stdlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "buf.h"
#include "hpk.h"

/* Bound the decoder's window: payloads are far smaller than 256 MiB. */
#define WINDOW_LOG_MAX 28

int hp_zstd_compress(const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len,
		     int level, uint8_t **out, size_t *out_len, struct hp_error *e)
{
	size_t cap = ZSTD_compressBound(len), n;
	ZSTD_CCtx *c = ZSTD_createCCtx();
	uint8_t *buf = malloc(cap ? cap : 1);
	int window = 10;

	*out = NULL;
	if (!c || !buf) {
		ZSTD_freeCCtx(c);
		free(buf);
		return hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "compressing the payload");
	}
	/* The window must reach back over the whole prefix. */
	while (window < WINDOW_LOG_MAX && (1ull << window) < prefix_len + len)
		window++;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window)) ||
	    (prefix && ZSTD_isError(ZSTD_CCtx_refPrefix(c, prefix, prefix_len)))) {
		ZSTD_freeCCtx(c);
		free(buf);
		return hp_fail(e, HP_EVALUE, HP_NO_OFFSET, "compression parameters");
	}
	n = ZSTD_compress2(c, buf, cap, src, len);
	ZSTD_freeCCtx(c);
	if (ZSTD_isError(n)) {
		free(buf);
		return hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, ZSTD_getErrorName(n));
	}
	*out = buf;
	*out_len = n;
	return 0;
}

int hp_zstd_decompress(const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len,
		       size_t raw_size, uint8_t **out, struct hp_error *e)
{
	unsigned long long declared = ZSTD_getFrameContentSize(src, len);
	size_t frame = ZSTD_findFrameCompressedSize(src, len), n;
	ZSTD_DCtx *d;
	uint8_t *buf;

	*out = NULL;
	/* a data frame: a skippable frame "declares" 0 bytes and holds anything */
	if (len < 4 || src[0] != 0x28 || src[1] != 0xb5 || src[2] != 0x2f || src[3] != 0xfd ||
	    declared == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(frame))
		return hp_fail(e, HP_EMAGIC, 0, "payload.zst is not a zstd frame");
	if (declared == ZSTD_CONTENTSIZE_UNKNOWN)
		return hp_fail(e, HP_EVALUE, 0, "payload.zst does not declare its size");
	if (declared != raw_size)
		return hp_fail(e, HP_ELIMIT, 0, "payload.zst declares another size than MANIFEST");
	if (frame != len)
		return hp_fail(e, HP_ETRAILING, frame, "after the zstd frame");
	d = ZSTD_createDCtx();
	buf = hp_alloc_large(raw_size);
	if (!d || !buf) {
		ZSTD_freeDCtx(d);
		free(buf);
		return hp_fail(e, HP_ENOMEM, 0, "decompressing the payload");
	}
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
	if (prefix && ZSTD_isError(ZSTD_DCtx_refPrefix(d, prefix, prefix_len))) {
		ZSTD_freeDCtx(d);
		free(buf);
		return hp_fail(e, HP_ENOMEM, 0, "decompressing the payload");
	}
	/* Output capacity is the declared size: a frame producing more fails here. */
	n = ZSTD_decompressDCtx(d, buf, raw_size, src, len);
	ZSTD_freeDCtx(d);
	if (ZSTD_isError(n) || n != raw_size) {
		free(buf);
		if (ZSTD_isError(n) && ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
			return hp_fail(e, HP_ELIMIT, 0, "payload decompresses beyond its declared size");
		return hp_fail(e, HP_EVALUE, 0, ZSTD_isError(n) ? ZSTD_getErrorName(n)
							      : "payload shorter than declared");
	}
	*out = buf;
	return 0;
}
