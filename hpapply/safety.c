/*
 * Checking threads before code is switched.
 *
 * A thread whose instruction pointer is inside a function being replaced
 * would run on in the old code, and might be in the very bytes the
 * redirect overwrites.  A thread with a return address into such a
 * function anywhere on its stack would come back into old code later; on
 * a revert, or when a package replaces another, into code that is unmapped.
 *
 * Each stopped thread's stack is copied in one bulk read
 * (process_vm_readv), from its stack pointer to the end of the mapping
 * that holds it, whatever its depth, and scanned whole in hpapply's
 * memory: an aligned word that points into a checked range and follows a
 * call instruction may be a return address.  A word that points at the
 * sigreturn trampoline begins a signal frame: the pc it saved is where the
 * thread resumes after the handler (checked too, exactly), and the stack
 * it saved is copied and scanned as well; that is how the stack a thread
 * left for its alternate signal stack is found.
 *
 * The scan never misses a frame in what it scans, but stale words (a
 * return address left in a buffer by an earlier call) look the same; so a
 * suspect thread is then unwound precisely from the same copies and the
 * unwind tables (unwind.c), and its frames decide.  If the unwind cannot
 * finish (code without unwind tables, a stack it cannot follow), the
 * suspicion stands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "arch/arch.h"
#include "hpapply/safety.h"
#include "hpapply/unwind.h"
#include "common/cli.h"
#include "common/mem.h"

/* Stacks a thread's signal frames can lead to (its own, alternate ones). */
#define MAX_SEGS 16
/* Beyond this, a mapping holding a stack is not read whole: conservative. */
#define SEG_MAX (1ull << 30)
#define PAGE	4096ull
#define CACHE	512 /* pages of code and unwind tables kept per check */

struct seg {
	uint64_t lo, hi;
	uint8_t *bytes;
};

struct cpage {
	uint64_t addr; /* page address + 1; 0 free */
	bool ok;
	uint8_t *bytes;
};

struct check {
	struct tracee *tr;
	const struct maps *m;
	struct maps own; /* read again when a stack is not in m */
	const struct busy_range *r;
	size_t n;
	struct cpage cache[CACHE];
};

static const struct busy_range *in_range(const struct busy_range *r, size_t n, uint64_t a)
{
	for (size_t i = 0; i < n; i++)
		if (a >= r[i].lo && a < r[i].hi)
			return &r[i];
	return NULL;
}

/* Bulk read of the target's memory; bytes read (short at an unmapped page). */
static size_t vm_read(pid_t pid, uint64_t addr, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		struct iovec local = {(char *)buf + done, n - done};
		struct iovec remote = {(void *)(uintptr_t)(addr + done), n - done};
		ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return done;
}

/* Code and unwind tables: pages cached for the check (code does not change). */
static const struct cpage *page(struct check *c, uint64_t addr)
{
	uint64_t pa = addr & ~(PAGE - 1);
	size_t h = (size_t)((pa / PAGE) * 0x9e3779b97f4a7c15ull >> 55) % CACHE;

	for (size_t k = 0; k < CACHE; k++) {
		struct cpage *p = &c->cache[(h + k) % CACHE];

		if (p->addr == pa + 1)
			return p;
		if (!p->addr) {
			p->bytes = xmalloc(PAGE);
			if (!p->bytes)
				return NULL;
			p->addr = pa + 1;
			p->ok = vm_read(c->tr->view, pa, p->bytes, PAGE) == PAGE;
			return p;
		}
	}
	/* full: start again */
	for (size_t k = 0; k < CACHE; k++) {
		free(c->cache[k].bytes);
		c->cache[k] = (struct cpage){0, false, NULL};
	}
	return page(c, addr);
}

static int read_cached(void *ctx, uint64_t addr, void *buf, size_t n)
{
	struct check *c = ctx;

	while (n) {
		const struct cpage *p = page(c, addr);
		size_t off = (size_t)(addr & (PAGE - 1)), k = PAGE - off < n ? PAGE - off : n;

		if (!p || !p->ok)
			return -1;
		memcpy(buf, p->bytes + off, k);
		buf = (uint8_t *)buf + k;
		addr += k;
		n -= k;
	}
	return 0;
}

/* Is v a return address: do the bytes before it end in a call? */
static bool after_call(struct check *c, uint64_t v)
{
	uint8_t pre[8];

	return v >= sizeof(pre) && read_cached(c, v - sizeof(pre), pre, sizeof(pre)) == 0 &&
	       arch_follows_call(pre, sizeof(pre));
}

static bool executable(const struct maps *m, uint64_t a)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a < m->v[mid].start)
			hi = mid;
		else if (a >= m->v[mid].end)
			lo = mid + 1;
		else
			return m->v[mid].perms[2] == 'x';
	}
	return false;
}

static bool sigreturn_at(struct check *c, uint64_t a)
{
	uint8_t code[ARCH_SIGRETURN_LEN];

	return executable(c->m, a) && read_cached(c, a, code, sizeof(code)) == 0 &&
	       arch_is_sigreturn(code, sizeof(code));
}

/* The mapping holding addr; the mappings are read again once if none does. */
static const struct mapping *holding(struct check *c, uint64_t addr)
{
	const struct mapping *mp = maps_find(c->m, addr);

	if (mp || c->m == &c->own)
		return mp;
	if (proc_maps(c->tr->view, &c->own) < 0)
		return NULL;
	c->m = &c->own;
	return maps_find(c->m, addr);
}

/* What a thread's stacks hold: its segments, and the first suspect found. */
struct thread_scan {
	struct seg seg[MAX_SEGS];
	size_t nseg;
	const struct busy_range *suspect;
	bool exact;	 /* the suspect is a pc a signal interrupted */
	bool incomplete; /* a stack that could not be read whole */
	uint64_t bad_at; /* where */
};

static bool covered(const struct thread_scan *s, uint64_t a)
{
	for (size_t i = 0; i < s->nseg; i++)
		if (a >= s->seg[i].lo && a < s->seg[i].hi)
			return true;
	return false;
}

/* Copy [sp, end of its mapping) as a new segment; false (incomplete) if it cannot be. */
static bool copy_seg(struct check *c, const struct thread *t, struct thread_scan *s, uint64_t sp)
{
	const struct mapping *mp;
	struct seg *g;
	uint64_t hi;

	sp &= ~7ull;
	if (covered(s, sp))
		return true;
	mp = holding(c, sp);
	if (!mp || s->nseg == MAX_SEGS)
		return false;
	hi = mp->end - sp > SEG_MAX ? sp + SEG_MAX : mp->end;
	g = &s->seg[s->nseg];
	g->lo = sp;
	g->bytes = xmalloc(hi - sp ? hi - sp : 1);
	if (!g->bytes)
		return false;
	g->hi = sp + vm_read(t->tid, sp, g->bytes, hi - sp);
	s->nseg++;
	return g->hi == mp->end;
}

/*
 * Scan segment k: return addresses into checked ranges, and signal frames
 * (whose saved pc is checked exactly and whose saved stack is scanned).
 */
static void scan_seg(struct check *c, const struct thread *t, struct thread_scan *s, size_t k)
{
	for (uint64_t a = s->seg[k].lo; a + 8 <= s->seg[k].hi; a += 8) {
		const uint8_t *p = s->seg[k].bytes + (a - s->seg[k].lo);
		const struct busy_range *b;
		uint64_t w, pc, sp;

		memcpy(&w, p, 8);
		/* a return address after a final call is the function's end */
		if (!s->suspect && (b = in_range(c->r, c->n, w - 1)) && after_call(c, w))
			s->suspect = b;
		if (!sigreturn_at(c, w) || s->seg[k].hi - a < ARCH_SIGFRAME_LEN)
			continue;
		arch_signal_frame(p, &pc, &sp);
		if (!s->suspect && (b = in_range(c->r, c->n, pc))) {
			s->suspect = b;
			s->exact = true;
		}
		if (!covered(s, sp & ~7ull) && holding(c, sp)) {
			size_t next = s->nseg;

			if (!copy_seg(c, t, s, sp) && !s->incomplete) {
				s->incomplete = true;
				s->bad_at = sp;
			}
			if (s->nseg > next)
				scan_seg(c, t, s, next);
		}
	}
}

struct confirm {
	struct check *c;
	const struct busy_range *hit;
	bool exact;
};

static int visit(void *arg, uint64_t pc, bool exact)
{
	struct confirm *f = arg;

	f->hit = in_range(f->c->r, f->c->n, exact ? pc : pc - 1);
	f->exact = exact;
	return f->hit != NULL;
}

/*
 * Do thread t's real frames return into a checked range?  1 yes (*hit,
 * *exact), 0 no (every frame seen), -1 the unwind could not finish.
 */
static int confirm(struct check *c, const struct thread *t, struct thread_scan *s,
		   const struct busy_range **hit, bool *exact)
{
	struct unwind_seg segs[MAX_SEGS];
	struct unwind_src src = {c->tr->view, &t->regs, segs, s->nseg, read_cached, c, 0};
	struct confirm f = {c, NULL, false};
	size_t bytes = 0;
	int r;

	for (size_t i = 0; i < s->nseg; i++) {
		segs[i] = (struct unwind_seg){s->seg[i].lo, s->seg[i].hi, s->seg[i].bytes};
		bytes += s->seg[i].hi - s->seg[i].lo;
	}
	/* every frame holds a return address at least: no more frames than words */
	src.max_frames = bytes / 8 + 64;
	r = unwind_walk(&src, visit, &f);
	if (r == 1) {
		*hit = f.hit;
		*exact = f.exact;
	}
	return r;
}

static void free_scan(struct thread_scan *s)
{
	for (size_t i = 0; i < s->nseg; i++)
		free(s->seg[i].bytes);
	s->nseg = 0;
}

/* 0 thread t is not busy; 1 it is (why). */
static int check_thread(struct check *c, const struct thread *t, char *why, size_t size)
{
	struct thread_scan s;
	const struct busy_range *b;
	bool exact = false;
	char comm[32];

	proc_comm(c->tr->pid, t->tid, comm, sizeof(comm));
	b = in_range(c->r, c->n, arch_pc(&t->regs));
	if (b) {
		snprintf(why, size, "thread %d (%s) is executing in %s", (int)t->tid, comm,
			 b->name);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	if (!copy_seg(c, t, &s, arch_sp(&t->regs))) {
		s.incomplete = true;
		s.bad_at = arch_sp(&t->regs);
	}
	if (s.nseg)
		scan_seg(c, t, &s, 0);
	b = s.suspect;
	exact = s.exact;
	/* a suspect (perhaps a stale word), or a stack not read whole: the unwind decides */
	if (b || s.incomplete) {
		int r = confirm(c, t, &s, &b, &exact);

		if (r == 0) { /* every frame seen, none in a checked range */
			b = NULL;
			s.incomplete = false;
		}
		/* -1, incomplete: the suspicion stands, and so does an unread stack */
	}
	free_scan(&s);
	if (b) {
		if (exact)
			snprintf(
				why, size,
				"thread %d (%s) was interrupted in %s by a signal, and its handler "
				"returns there",
				(int)t->tid, comm, b->name);
		else
			snprintf(why, size, "thread %d (%s) will return into %s", (int)t->tid, comm,
				 b->name);
		return 1;
	}
	if (s.incomplete) {
		snprintf(why, size,
			 "thread %d (%s): its stack at 0x%llx cannot be read whole, so what it "
			 "returns into is unknown",
			 (int)t->tid, comm, (unsigned long long)s.bad_at);
		return 1;
	}
	return 0;
}

int safety_check(struct tracee *tr, const struct maps *m, const struct busy_range *r, size_t n,
		 char *why, size_t size)
{
	struct check *c = xcalloc(1, sizeof(*c));
	int ret = 0;

	if (!c)
		return -1;
	c->tr = tr;
	c->m = m;
	c->r = r;
	c->n = n;
	for (size_t i = 0; i < tr->n && !ret; i++) {
		const struct thread *t = &tr->t[i];

		if (t->stopped && !t->gone)
			ret = check_thread(c, t, why, size);
	}
	for (size_t k = 0; k < CACHE; k++)
		free(c->cache[k].bytes);
	if (c->m == &c->own)
		maps_free(&c->own);
	free(c);
	return ret;
}
