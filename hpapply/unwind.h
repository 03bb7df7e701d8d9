/*
 * Precise stack unwinding of a stopped thread of the target, from copies
 * of its registers and stacks that the caller took in bulk, with the
 * unwind tables (.eh_frame) of the objects it runs in.  unwind.c is the
 * only libunwind user.
 */
#ifndef HPAPPLY_UNWIND_H
#define HPAPPLY_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arch.h"

/* A copy of [lo, hi) of the target's memory. */
struct unwind_seg {
	uint64_t lo, hi;
	const uint8_t *bytes;
};

struct unwind_src {
	pid_t pid;	    /* whose mappings and files hold the unwind tables */
	const regs_t *regs; /* the thread's registers, as stopped */
	const struct unwind_seg *segs;
	size_t nsegs;
	/* Any other memory (code, unwind tables): n bytes at addr, 0 or -1. */
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t n);
	void *ctx;
	size_t max_frames;
};

/*
 * Walk the thread's frames, innermost first, calling visit(arg, pc,
 * exact) for each frame after the first: pc is a return address, or, when
 * exact, the pc a signal interrupted (where the thread resumes when the
 * handler returns).  A visit that returns non-zero stops the walk.
 *
 * Returns 0 when the walk reached the outermost frame, 1 when a visit
 * stopped it, -1 when it stopped early: code without unwind tables, a
 * corrupt stack, memory not in the copies and not readable, max_frames.
 * One walk at a time per thread of hpapply.
 */
int unwind_walk(const struct unwind_src *src, int (*visit)(void *arg, uint64_t pc, bool exact),
		void *arg);

#endif
