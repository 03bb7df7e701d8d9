/*
 * Widening short branches that leave a function.
 *
 * Without -ffunction-sections the assembler relaxes a tail call to a
 * nearby static function into a short jump (x86-64's "jmp rel8", eb xx)
 * with no relocation.  Once the function is copied elsewhere no 8-bit
 * displacement can reach the old target, so the emitted code uses the
 * 32-bit form instead (insn_widen_branch() re-encodes it).  Growing one
 * instruction moves everything after it, which can push an internal short
 * branch out of range in turn: the layout is recomputed until it settles
 * (it only ever grows, so it terminates).
 */
#include <stdlib.h>
#include <string.h>

#include "hpdiff/diff.h"
#include "common/cli.h"
#include "common/mem.h"

/* Index of the instruction starting at `off`; ninsns for the end; -1 otherwise. */
static long insn_index(const struct func *f, int64_t off)
{
	long lo = 0, hi = f->ninsns;

	if (off == (int64_t)f->size)
		return f->ninsns;
	while (lo < hi) {
		long mid = (lo + hi) / 2;

		if ((int64_t)f->insns[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->ninsns && (int64_t)f->insns[lo].off == off ? lo : -1;
}

static bool intra_target(const struct func *f, const struct insn *in, long *k)
{
	int64_t t = insn_rel_target(in);

	if (!in->rel_size || t < 0 || t > (int64_t)f->size)
		return false;
	*k = insn_index(f, t);
	return true;
}

struct wide {
	uint8_t bytes[16];
	uint8_t len, rel_off;
	bool on;
};

static void put_le(uint8_t *p, int64_t v, int size)
{
	for (int i = 0; i < size; i++)
		p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

/* Lay out instruction offsets; returns the new size. */
static uint32_t layout(const struct func *f, const struct wide *w, uint32_t *newoff)
{
	uint32_t cur = 0;

	for (long i = 0; i < f->ninsns; i++) {
		newoff[i] = cur;
		cur += w[i].on ? w[i].len : f->insns[i].len;
	}
	newoff[f->ninsns] = cur;
	return cur;
}

static int mark(const struct func *f, struct wide *w, const char **why)
{
	uint16_t machine = f->obj->elf.machine;

	for_each_ref(f, r)
	{
		long i;

		if (r->size != 1)
			continue;
		/* The field is inside its instruction: find the instruction start. */
		for (i = 0; i < f->ninsns && f->insns[i].off + f->insns[i].len <= r->off; i++)
			;
		if (i == f->ninsns || insn_widen_branch(machine, f->code, &f->insns[i], w[i].bytes,
							&w[i].len, &w[i].rel_off) < 0) {
			*why = insn_widen_refusal(machine, true);
			return -1;
		}
		w[i].on = true;
	}
	return 0;
}

/* Widen internal short branches until every displacement fits. */
static int settle(const struct func *f, struct wide *w, uint32_t *newoff, const char **why)
{
	uint16_t machine = f->obj->elf.machine;
	bool changed = true;

	while (changed) {
		changed = false;
		layout(f, w, newoff);
		for (long i = 0; i < f->ninsns; i++) {
			const struct insn *in = &f->insns[i];
			long k;
			int64_t disp;

			if (w[i].on || in->rel_size != 1 || !intra_target(f, in, &k))
				continue;
			if (k < 0) {
				*why = "a branch targets the middle of an instruction";
				return -1;
			}
			disp = (int64_t)newoff[k] - (newoff[i] + in->len);
			if (disp >= -128 && disp <= 127)
				continue;
			if (insn_widen_branch(machine, f->code, in, w[i].bytes, &w[i].len,
					      &w[i].rel_off) < 0) {
				*why = insn_widen_refusal(machine, false);
				return -1;
			}
			w[i].on = true;
			changed = true;
		}
	}
	return 0;
}

static int emit_code(struct func *f, const struct wide *w, const uint32_t *newoff, const char **why)
{
	uint32_t size = newoff[f->ninsns];
	uint8_t *out = xcalloc(size, 1);

	if (!out)
		return -1;
	for (long i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];
		uint8_t len = w[i].on ? w[i].len : in->len;
		uint8_t rel_off = w[i].on ? w[i].rel_off : in->rel_off;
		uint8_t rel_size = w[i].on ? INSN_WIDE_REL_SIZE : in->rel_size;
		long k;

		memcpy(out + newoff[i], w[i].on ? w[i].bytes : f->code + in->off, len);
		if (!intra_target(f, in, &k))
			continue;
		if (k < 0) {
			free(out);
			*why = "a branch targets the middle of an instruction";
			return -1;
		}
		put_le(out + newoff[i] + rel_off, (int64_t)newoff[k] - (newoff[i] + len), rel_size);
	}
	f->wcode = out;
	f->wsize = size;
	return 0;
}

static int build_map(struct func *f, const struct wide *w, const uint32_t *newoff)
{
	f->wmap = xcalloc(f->size + 1, sizeof(*f->wmap));
	if (!f->wmap)
		return -1;
	for (long i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];

		for (uint32_t k = 0; k < in->len; k++) {
			uint32_t inner = k;

			/* Offsets at or after the displacement move with it. */
			if (w[i].on && k >= in->rel_off)
				inner = w[i].rel_off + (k - in->rel_off);
			else if (w[i].on && k >= in->rel_off - 1u)
				inner = w[i].rel_off - 1;
			f->wmap[in->off + k] = newoff[i] + inner;
		}
	}
	f->wmap[f->size] = f->wsize;
	return 0;
}

int widen_branches(struct func *f, const char **why)
{
	struct wide *w = NULL;
	uint32_t *newoff = NULL;
	int ret = -1;

	*why = NULL;
	if (f->ninsns <= 0) {
		*why = "the function does not decode, so its short branches cannot be widened";
		return 1;
	}
	w = xcalloc((size_t)f->ninsns, sizeof(*w));
	newoff = xcalloc((size_t)f->ninsns + 1, sizeof(*newoff));
	if (!w || !newoff)
		goto out;
	if (mark(f, w, why) < 0 || settle(f, w, newoff, why) < 0 ||
	    emit_code(f, w, newoff, why) < 0 || build_map(f, w, newoff) < 0) {
		ret = *why ? 1 : -1; /* a reason means refused; none means out of memory */
		goto out;
	}
	ret = 0;
out:
	if (ret) {
		free(f->wcode);
		f->wcode = NULL;
	}
	free(w);
	free(newoff);
	return ret;
}

int64_t emitted_offset(const struct func *f, int64_t off)
{
	if (!f->wmap || off < 0 || off > (int64_t)f->size)
		return off;
	return f->wmap[off];
}
