/*
 * The .hpk container: a POSIX ustar archive in one canonical form.
 *
 * Every member is a regular file in a plain ustar header (magic "ustar\0",
 * version "00", no prefix, no link name), its data padded with zeros to
 * 512 bytes; the archive ends with exactly two zero blocks and the file
 * ends there.  Anything else, a GNU long-name header, a symlink, an extra
 * or missing member, a member out of order, bytes after the end, is
 * refused: auditors open packages with tar, and a lenient reader would let
 * tar and the verifier see different contents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/buf.h"
#include "format/hpk.h"

#define BLOCK 512u

static const char *const member_names[] = {"MANIFEST", "MANIFEST.sig", "payload.zst"};

/* ---- writing ----------------------------------------------------------------- */

/* Octal, zero-padded to width-1 digits, NUL-terminated. */
static void put_octal(uint8_t *field, size_t width, uint64_t v)
{
	field[width - 1] = 0;
	for (size_t i = width - 1; i-- > 0;) {
		field[i] = (uint8_t)('0' + (v & 7));
		v >>= 3;
	}
}

static void header(uint8_t h[BLOCK], const char *name, uint64_t size, uint64_t mtime)
{
	unsigned sum = 0;

	memset(h, 0, BLOCK);
	memcpy(h, name, strlen(name));
	put_octal(h + 100, 8, 0644);
	put_octal(h + 108, 8, 0);
	put_octal(h + 116, 8, 0);
	put_octal(h + 124, 12, size);
	put_octal(h + 136, 12, mtime);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6); /* with its NUL */
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	put_octal(h + 329, 8, 0);
	put_octal(h + 337, 8, 0);
	for (size_t i = 0; i < BLOCK; i++)
		sum += h[i];
	put_octal(h + 148, 7, sum);
	h[155] = ' ';
}

static void put_member(struct hp_wbuf *wb, const char *name, const uint8_t *data, size_t len,
		       uint64_t mtime)
{
	uint8_t h[BLOCK];

	header(h, name, len, mtime);
	hp_put_bytes(wb, h, BLOCK);
	hp_put_bytes(wb, data, len);
	hp_put_zeros(wb, (BLOCK - len % BLOCK) % BLOCK);
}

int hp_hpk_write(const struct hp_hpk *in, uint8_t **out, size_t *len, struct hp_error *e)
{
	struct hp_wbuf wb;

	*out = NULL;
	if (in->manifest_len > HP_HPK_MAX_MANIFEST || in->sig_len > HP_HPK_MAX_SIG ||
	    in->payload_len > HP_HPK_MAX_PAYLOAD || in->mtime >= 077777777777ull)
		return hp_fail(e, HP_ELIMIT, HP_NO_OFFSET, "package member size");
	hp_wbuf_init(&wb);
	put_member(&wb, member_names[0], in->manifest, in->manifest_len, in->mtime);
	if (in->sig)
		put_member(&wb, member_names[1], in->sig, in->sig_len, in->mtime);
	put_member(&wb, member_names[2], in->payload, in->payload_len, in->mtime);
	hp_put_zeros(&wb, 2 * BLOCK);
	if (wb.failed) {
		hp_wbuf_free(&wb);
		return hp_fail(e, HP_ENOMEM, HP_NO_OFFSET, "writing the package");
	}
	*out = hp_wbuf_take(&wb, len);
	return 0;
}

/* ---- reading ----------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* An octal field: digits, then NUL (or space) padding to the end. */
static bool get_octal(const uint8_t *f, size_t width, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	if (f[0] < '0' || f[0] > '7')
		return false;
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
		if (*v >> 60)
			return false;
		*v = (*v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < width; i++)
		if (f[i] != 0 && f[i] != ' ')
			return false;
	return true;
}

/* A NUL-padded text field equal to `want`. */
static bool field_is(const uint8_t *f, size_t width, const char *want)
{
	size_t n = strlen(want);

	return n <= width && !memcmp(f, want, n) && all_zero(f + n, width - n);
}

static int check_header(const uint8_t *h, size_t at, const char *want, uint64_t *size,
			uint64_t *mtime, struct hp_error *e)
{
	uint64_t mode, stored;
	unsigned calc = 0;
	char what[64];

	for (size_t i = 0; i < BLOCK; i++)
		calc += (i >= 148 && i < 156) ? ' ' : h[i];
	if (!get_octal(h + 148, 8, &stored) || stored != calc)
		return hp_fail(e, HP_ECHECKSUM, at + 148, "member header checksum");
	if (memcmp(h + 257, "ustar\0", 6) || memcmp(h + 263, "00", 2))
		return hp_fail(e, HP_EMAGIC, at + 257, "member header: not a POSIX ustar header");
	if (h[156] != '0')
		return hp_fail(e, HP_EVALUE, at + 156,
			       "member type: only regular files are allowed");
	if (!all_zero(h + 345, 155) || !all_zero(h + 157, 100))
		return hp_fail(e, HP_EVALUE, at + 157, "member header: prefix or link name set");
	if (!field_is(h, 100, want)) {
		snprintf(what, sizeof(what), "member name: expected %s", want);
		return hp_fail(e, HP_EORDER, at, what);
	}
	if (!get_octal(h + 100, 8, &mode) || (mode & ~0777ull))
		return hp_fail(e, HP_EVALUE, at + 100, "member mode");
	if (!get_octal(h + 124, 12, size))
		return hp_fail(e, HP_EVALUE, at + 124, "member size");
	if (!get_octal(h + 136, 12, mtime) || *mtime >= 077777777777ull)
		return hp_fail(e, HP_EVALUE, at + 136, "member time");
	/*
	 * One canonical header per (name, size, time): anything else that tar
	 * ignores (owner names, mode, a space for the checksum's NUL, octal
	 * fields padded with spaces) would be bytes the signature does not
	 * cover that two readers could see differently.
	 */
	if (*size < 077777777777ull) {
		uint8_t canon[BLOCK];

		header(canon, want, *size, *mtime);
		if (!memcmp(canon, h, BLOCK))
			return 0;
	}
	return hp_fail(e, HP_EVALUE, at, "member header is not in canonical form");
}

int hp_hpk_read(const uint8_t *buf, size_t len, struct hp_hpk *out, struct hp_error *e)
{
	static const size_t limits[] = {HP_HPK_MAX_MANIFEST, HP_HPK_MAX_SIG, HP_HPK_MAX_PAYLOAD};
	size_t pos = 0;
	int slot = 0;

	memset(out, 0, sizeof(*out));
	if (len % BLOCK)
		return hp_fail(e, HP_ETRUNC, len - len % BLOCK,
			       "archive length is not a whole number of blocks");
	while (slot < 3) {
		const uint8_t *h = buf + pos;
		uint64_t size = 0, mtime = 0;
		const char *want = member_names[slot];

		if (len - pos < BLOCK)
			return hp_fail(e, HP_ETRUNC, pos, "archive ends before payload.zst");
		if (all_zero(h, BLOCK))
			return hp_fail(e, HP_EORDER, pos,
				       slot ? "archive ends before payload.zst"
					    : "archive is empty");
		/* MANIFEST.sig is optional: an unsigned package goes on to payload.zst */
		if (slot == 1 && field_is(h, 100, member_names[2]))
			want = member_names[slot = 2];
		if (check_header(h, pos, want, &size, &mtime, e) < 0)
			return -1;
		if (size > limits[slot])
			return hp_fail(e, HP_ELIMIT, pos + 124, "member size");
		pos += BLOCK;
		if (size > len - pos)
			return hp_fail(e, HP_ETRUNC, pos, "member data");
		if (slot == 0) {
			out->manifest = buf + pos;
			out->manifest_len = size;
			out->mtime = mtime;
		} else if (mtime != out->mtime) {
			return hp_fail(e, HP_EVALUE, pos - BLOCK + 136,
				       "member time differs from MANIFEST's");
		} else if (slot == 1) {
			out->sig = buf + pos;
			out->sig_len = size;
		} else {
			out->payload = buf + pos;
			out->payload_len = size;
		}
		pos += size;
		size = (BLOCK - size % BLOCK) % BLOCK;
		if (size > len - pos || !all_zero(buf + pos, size))
			return hp_fail(e, HP_EVALUE, pos, "member padding is not zero");
		pos += size;
		slot++;
	}
	if (len - pos < 2 * BLOCK || !all_zero(buf + pos, 2 * BLOCK)) {
		if (len - pos >= BLOCK && !all_zero(buf + pos, BLOCK))
			return hp_fail(e, HP_EORDER, pos, "member after payload.zst");
		return hp_fail(e, HP_ETRUNC, pos, "archive end blocks");
	}
	pos += 2 * BLOCK;
	if (pos != len)
		return hp_fail(e, HP_ETRAILING, pos, "after the archive end");
	return 0;
}
