/*
 * Checking threads before code is switched.
 *
 * A thread whose instruction pointer is inside a function being replaced
 * would run on in the old code, and might be in the very bytes the
 * redirect overwrites.  A thread with a return address into such a
 * function on its stack would come back into old code later.
 *
 * Stacks are first scanned from the stack pointer to the end of the
 * stack's mapping: an aligned word that points into a checked range and
 * follows a call instruction may be a return address.  That never misses a
 * real frame, but stale words (a return address left in a buffer by an
 * earlier call) look the same; so a suspect thread is then unwound
 * precisely from the unwind tables, and its frames decide.  If the unwind
 * cannot finish (code without unwind tables), the suspicion stands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpapply/safety.h"
#include "hpapply/unwind.h"
#include "common/cli.h"
#include "common/mem.h"

#define STACK_SCAN_MAX (8ull << 20)
#define CHUNK	       65536

#define MAX_FRAMES 1024

static const struct busy_range *in_range(const struct busy_range *r, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= r[i].lo && a < r[i].hi)
			return &r[i];
	return NULL;
}

/* Is v a return address: do the bytes before it end in a call? */
static bool after_call(int mem, uint64_t v)
{
	uint8_t pre[8];

	if (v < sizeof(pre) || proc_read(mem, v - sizeof(pre), pre, sizeof(pre)) < 0)
		return false;
	return arch_follows_call(pre, sizeof(pre));
}

static int scan_stack(struct tracee *tr, const struct maps *m, const struct thread *t,
		      const struct busy_range *r, size_t n, const struct busy_range **hit)
{
	uint64_t sp = arch_sp(&t->regs) & ~7ull, end;
	const struct mapping *st = maps_find(m, sp);
	uint64_t *buf;

	*hit = NULL;
	if (!st)
		return 0; /* a stack pointer outside any mapping: nothing to scan */
	end = st->end - sp > STACK_SCAN_MAX ? sp + STACK_SCAN_MAX : st->end;
	buf = xmalloc(CHUNK);
	if (!buf)
		return -1;
	for (uint64_t at = sp; at < end && !*hit; at += CHUNK) {
		size_t len = end - at > CHUNK ? CHUNK : (size_t)(end - at);

		if (proc_read(tr->mem, at, buf, len) < 0)
			break;
		for (size_t i = 0; i < len / 8 && !*hit; i++) {
			/* a return address after a final call is the function's end */
			const struct busy_range *b = in_range(r, n, buf[i] - 1);

			if (b && after_call(tr->mem, buf[i]))
				*hit = b;
		}
	}
	free(buf);
	return 0;
}

/* The scan suspects thread t: do its real frames return into a checked range? */
static const struct busy_range *confirm(const struct thread *t, const struct busy_range *r,
					size_t n, const struct busy_range *suspect)
{
	uint64_t *pcs = xmalloc(MAX_FRAMES * sizeof(*pcs));
	const struct busy_range *hit = NULL;
	size_t frames;

	if (!pcs)
		return suspect;
	if (unwind_thread(t->tid, pcs, MAX_FRAMES, &frames) < 0) {
		free(pcs);
		return suspect; /* incomplete: stay conservative */
	}
	for (size_t i = 1; i < frames && !hit; i++)
		hit = in_range(r, n, pcs[i] - 1);
	free(pcs);
	return hit;
}

int safety_check(struct tracee *tr, const struct maps *m, const struct busy_range *r, size_t n,
		 char *why, size_t size)
{
	for (size_t i = 0; i < tr->n; i++) {
		const struct thread *t = &tr->t[i];
		const struct busy_range *b;
		char comm[32];

		if (!t->stopped || t->gone)
			continue;
		b = in_range(r, n, arch_pc(&t->regs));
		if (b) {
			snprintf(why, size, "thread %d (%s) is executing in %s", (int)t->tid,
				 proc_comm(tr->pid, t->tid, comm, sizeof(comm)), b->name);
			return 1;
		}
		if (scan_stack(tr, m, t, r, n, &b) < 0)
			return -1;
		if (b)
			b = confirm(t, r, n, b);
		if (b) {
			snprintf(why, size, "thread %d (%s) will return into %s", (int)t->tid,
				 proc_comm(tr->pid, t->tid, comm, sizeof(comm)), b->name);
			return 1;
		}
	}
	return 0;
}
