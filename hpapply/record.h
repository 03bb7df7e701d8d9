/*
 * The state record against the live process.  The record lives in the
 * process, where anything could have changed it or the code it
 * describes; and the objects it patched may have been unloaded since
 * (dlclose), or unloaded and loaded again.  Nothing is written or
 * unmapped on its word until it is checked here.
 */
#ifndef HPAPPLY_RECORD_H
#define HPAPPLY_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hpapply/proc.h"
#include "hpapply/state.h"

enum inst_state {
	INST_LIVE,     /* mapped where the record says, every redirect in place */
	INST_UNLOADED, /* its file is no longer mapped there (dlclose) */
	INST_RELOADED, /* mapped there again, every redirect's bytes the baseline's */
};

/*
 * Check record s (mapped at `at`, 0 if none) against the process seen
 * through /proc/VIEW and its memory file: st[i] for each instance.
 * Returns 0, or 1 when the record does not hold, with why: it is not in
 * hpapply's mapping, a redirect's bytes are neither its jump nor the
 * baseline's, a region it names is not hpapply's mapping.  -1 after a
 * message.
 */
int record_check(pid_t view, int mem, const struct maps *m, const struct state *s, uint64_t at,
		 enum inst_state *st, char *why, size_t size);

/* How many instances are live. */
size_t record_live(const struct state *s, const enum inst_state *st);

/* "unloaded", "loaded again": what happened to an instance that is not live. */
const char *record_state_name(enum inst_state st);

#endif
