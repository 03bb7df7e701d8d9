/*
 * Is it safe to switch code now: no thread executing in, or due to return
 * into, code that is being replaced (or, on revert, removed)?
 */
#ifndef HPAPPLY_SAFETY_H
#define HPAPPLY_SAFETY_H

#include <stddef.h>
#include <stdint.h>

#include "hpapply/proc.h"
#include "hpapply/ptrace.h"

struct busy_range {
	uint64_t lo, hi;
	const char *name;
};

/*
 * Check every stopped thread of tr.  Returns 0 if none is busy, 1 with a
 * description of the first busy thread in why, -1 after a message.
 */
int safety_check(struct tracee *tr, const struct maps *m, const struct busy_range *r, size_t n,
		 char *why, size_t size);

#endif
