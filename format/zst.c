/*
 * Payload compression with zstd: the one place libhpformat touches libzstd.
 *
 * A package's payload is one frame that declares its content size.  When it
 * is smaller, the frame is compressed against the baseline's bytes of the
 * replaced functions, referenced as a raw prefix (what `zstd --patch-from`
 * does): new code is mostly old code, and the loader has the old code and
 * has checked its hashes before it decompresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "format/buf.h"
#include "format/hpk.h"
#include "format/image.h"

/* Bound the decoder's window (docs/format.md): payloads are far smaller than 256 MiB. */
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

/*
 * ZSTD_d_stableOutBuffer: zstd decodes straight into the caller's buffer,
 * which holds the whole output, instead of into a window buffer of its own
 * that it copies out of.  It is in zstd.h's experimental section, with the
 * same value since zstd 1.4.4; a library that refuses it decodes through
 * its window buffer, slower, to the same result.
 */
#define STABLE_OUT_BUFFER ZSTD_d_experimentalParam2

/* Compressed bytes handed to the decoder per call: the grain of progress. */
#define CHUNK ((size_t)256 << 10)

/*
 * The window a frame header asks for (RFC 8878, 3.1.1.1): the content size
 * for a single-segment frame, else what its Window_Descriptor byte says.
 */
static unsigned long long frame_window(const uint8_t *src, unsigned long long declared)
{
	unsigned exponent = src[5] >> 3, mantissa = src[5] & 7;
	unsigned long long base = 1ull << (10 + exponent);

	return src[4] & 0x20 ? declared : base + base / 8 * mantissa;
}

/* The frame's framing, checked before any of its blocks is decoded. */
static int check_frame(const uint8_t *src, size_t len, size_t raw_size, struct hp_error *e)
{
	unsigned long long declared = ZSTD_getFrameContentSize(src, len);
	size_t frame = ZSTD_findFrameCompressedSize(src, len);

	/* a data frame: a skippable frame "declares" 0 bytes and holds anything */
	if (len < 6 || src[0] != 0x28 || src[1] != 0xb5 || src[2] != 0x2f || src[3] != 0xfd ||
	    declared == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(frame))
		return hp_fail(e, HP_EMAGIC, 0, "payload.zst is not a zstd frame");
	if (declared == ZSTD_CONTENTSIZE_UNKNOWN)
		return hp_fail(e, HP_EVALUE, 0, "payload.zst does not declare its size");
	if (declared != raw_size)
		return hp_fail(e, HP_ELIMIT, 0, "payload.zst declares another size than MANIFEST");
	/* (zstd checks it too, but not when it decodes a frame in one pass) */
	if (frame_window(src, declared) > 1ull << WINDOW_LOG_MAX)
		return hp_fail(e, HP_ELIMIT, 5, "payload.zst's window is larger than 2^28 bytes");
	if (frame != len)
		return hp_fail(e, HP_ETRAILING, frame, "after the zstd frame");
	return 0;
}

/* A decoder error as the format's error. */
static int decode_error(size_t r, struct hp_error *e)
{
	switch (ZSTD_getErrorCode(r)) {
	case ZSTD_error_dstSize_tooSmall:
	case ZSTD_error_noForwardProgress_destFull:
		return hp_fail(e, HP_ELIMIT, 0, "payload decompresses beyond its declared size");
	case ZSTD_error_frameParameter_windowTooLarge:
		return hp_fail(e, HP_ELIMIT, 0, "payload.zst's window is larger than 2^28 bytes");
	case ZSTD_error_memory_allocation:
		return hp_fail(e, HP_ENOMEM, 0, "decompressing the payload");
	default:
		return hp_fail(e, HP_EVALUE, 0, ZSTD_getErrorName(r));
	}
}

/*
 * Hand the frame to the decoder CHUNK bytes at a time: after each call,
 * out[0..pos) is final (zstd writes each block it completes at out[pos..)
 * and afterwards only reads matches from it).  Handed the whole frame at
 * once, zstd would decode it in one pass, with no progress to report.
 */
static int decode_chunks(ZSTD_DCtx *d, const uint8_t *src, size_t len, uint8_t *out,
			 size_t raw_size, hp_zstd_progress_fn *progress, void *arg,
			 struct hp_error *e)
{
	ZSTD_outBuffer ob = {out, raw_size, 0};
	ZSTD_inBuffer ib = {src, 0, 0};
	size_t r = 1;

	while (r) {
		size_t pos = ob.pos;

		if (ib.pos == ib.size) {
			if (ib.size == len)
				break; /* the frame ends inside a block */
			ib.size += len - ib.size > CHUNK ? CHUNK : len - ib.size;
		}
		/* 0 once the frame is complete; zstd fails when it cannot progress */
		r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r))
			return decode_error(r, e);
		if (ob.pos > pos && progress)
			progress(arg, ob.pos);
	}
	if (r || ob.pos != raw_size)
		return hp_fail(e, HP_EVALUE, 0, "payload shorter than declared");
	return 0;
}

int hp_zstd_decompress_into(const uint8_t *src, size_t len, const uint8_t *prefix,
			    size_t prefix_len, uint8_t *out, size_t raw_size,
			    hp_zstd_progress_fn *progress, void *arg, struct hp_error *e)
{
	ZSTD_DCtx *d;
	int ret;

	if (check_frame(src, len, raw_size, e) < 0)
		return -1;
	d = ZSTD_createDCtx();
	if (!d)
		return hp_fail(e, HP_ENOMEM, 0, "decompressing the payload");
	if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, WINDOW_LOG_MAX)) ||
	    (prefix && ZSTD_isError(ZSTD_DCtx_refPrefix(d, prefix, prefix_len)))) {
		ZSTD_freeDCtx(d);
		return hp_fail(e, HP_ENOMEM, 0, "decompressing the payload");
	}
	ZSTD_DCtx_setParameter(d, STABLE_OUT_BUFFER, 1);
	/* Output capacity is the declared size: a frame producing more fails. */
	ret = decode_chunks(d, src, len, out, raw_size, progress, arg, e);
	ZSTD_freeDCtx(d);
	return ret;
}

int hp_zstd_decompress(const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len,
		       size_t raw_size, uint8_t **out, struct hp_error *e)
{
	uint8_t *buf;

	*out = NULL;
	/* the framing first: no buffer of raw_size bytes for what is no frame */
	if (check_frame(src, len, raw_size, e) < 0)
		return -1;
	buf = hp_alloc_large(raw_size);
	if (!buf)
		return hp_fail(e, HP_ENOMEM, 0, "decompressing the payload");
	if (hp_zstd_decompress_into(src, len, prefix, prefix_len, buf, raw_size, NULL, NULL, e) <
	    0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

uint8_t *hp_baseline_prefix(const struct hp_image *img, const struct hp_manifest_func *f,
			    uint32_t n, size_t *len, struct hp_error *e)
{
	uint8_t *p;
	size_t total = 0;
	char what[96];

	for (uint32_t i = 0; i < n; i++) {
		if (!hp_image_bytes(img, f[i].offset, f[i].size)) {
			snprintf(what, sizeof(what), "baseline bytes of replaced function %u (%s)",
				 i, f[i].name ? f[i].name : "");
			hp_fail(e, HP_ERANGE, HP_NO_OFFSET, what);
			return NULL;
		}
		total += f[i].size;
	}
	p = malloc(total ? total : 1);
	if (!p) {
		hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "baseline bytes of the replaced functions");
		return NULL;
	}
	*len = 0;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(p + *len, hp_image_bytes(img, f[i].offset, f[i].size), f[i].size);
		*len += f[i].size;
	}
	return p;
}
