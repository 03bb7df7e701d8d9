/*
 * Applying and reverting packages in a running process.
 *
 *   verify     the whole package, from one in-memory copy, against the
 *              baseline file the process has mapped (build-id, SHA-256,
 *              baseline bytes) and the process's sequence state
 *   check      every replaced function's bytes in memory against the package
 *   prepare    imports resolved, region placed and relocated; then, with
 *              one thread stopped: code and data mapped (sealed, read+exec
 *              and read+write, never both), the new state record and the
 *              commit stub mapped
 *   commit     all threads stopped and checked (pc and return addresses),
 *              retried with backoff; the commit stub writes every redirect
 *              through /proc/self/mem and marks the new state committed (or
 *              says it could not); what was written is read back; threads
 *              resume
 *   tidy       the old state, the old package's code, the commit stub go
 *
 * A failure before the commit unmaps what was created: the process is as
 * it was.  If hpapply is killed, threads resume by themselves: before the
 * commit the process runs the old code with some unused mappings and
 * perhaps a descriptor (swept by the next run); once the commit stub runs,
 * it runs to the end and puts the thread's signal mask back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "verify/verify.h"
#include "hpapply/apply.h"
#include "hpapply/blockers.h"
#include "hpapply/placement.h"
#include "hpapply/safety.h"
#include "hpapply/session.h"
#include "hpapply/symbols.h"
#include "hpapply/target.h"
#include "common/cli.h"
#include "common/mem.h"
#include "common/outcome.h"

#define MAX_ATTEMPTS 12

/*
 * A failure seen in the process (memory that cannot be read) is said as
 * what it is, unless the process has exited meanwhile: then that is said,
 * once, instead.  -1 either way.
 */
#define fail(o, ...) (tracee_check_exited(&(o)->s.tr) ? -1 : error(__VA_ARGS__))

/* One apply or revert. */
struct op {
	struct session s;
	const char *doing; /* "the apply", "the revert" */
	bool verbose;
	bool committed;
	uint8_t *pkg; /* the one in-memory copy of the package */
	size_t pkg_len;
	const uint8_t *manifest; /* inside pkg */
	size_t manifest_len;
	struct hp_manifest *hint; /* unverified, only to find the baseline */
	struct hp_verified v;
	uint16_t machine;  /* the verified package's, which is hpapply's own */
	struct loaded img; /* the baseline as mapped in the process */
	struct state cur, next;
	uint64_t cur_at, state_at;
	struct plan plan;
	uint64_t region;
	uint8_t *rx, *rw;
	struct arch_write *writes;
	size_t nwrites;
	uint8_t (*before)[ARCH_WRITE_MAX]; /* the bytes at each write's place before the commit */
	struct busy_range *busy;
	size_t nbusy;
	int64_t pause_ns;
};

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- what is in memory -------------------------------------------------------------- */

/*
 * The bytes of a replaced function as the baseline had them: memory, with
 * any jump the applied package wrote there taken back out.
 */
static int baseline_bytes(int mem, const struct state *st, uint64_t addr, uint32_t size,
			  uint8_t *out)
{
	if (proc_read(mem, addr, out, size) < 0)
		return -1;
	for (uint32_t i = 0; i < st->nr; i++) {
		const struct redirect *r = &st->r[i];

		if (r->addr >= addr && r->addr + r->len <= addr + size)
			memcpy(out + (r->addr - addr), r->saved, r->len);
	}
	return 0;
}

/*
 * Every replaced function's bytes in the process against the package.
 * Bytes that differ are a refusal; memory that cannot be read is trouble.
 */
static enum outcome check_memory(struct op *o)
{
	const struct hp_manifest *m = o->v.manifest;
	uint64_t base = o->img.base;

	for (uint32_t i = 0; i < m->nfuncs; i++) {
		uint8_t *b = xmalloc(m->funcs[i].size), h[32];
		enum outcome out = OUTCOME_OK;

		if (!b)
			return OUTCOME_TROUBLE;
		if (baseline_bytes(o->s.tr.mem, &o->cur, base + m->funcs[i].offset,
				   m->funcs[i].size, b) < 0) {
			fail(o, "process %d: checking the code: cannot read %s at 0x%llx: %s",
			     (int)o->s.pid, m->funcs[i].name,
			     (unsigned long long)(base + m->funcs[i].offset), strerror(errno));
			out = OUTCOME_TROUBLE;
		} else if (hp_sha256(b, m->funcs[i].size, h) < 0) {
			error("%s: cannot hash its bytes", m->funcs[i].name);
			out = OUTCOME_TROUBLE;
		} else if (memcmp(h, m->funcs[i].sha256, 32)) {
			error("%s: its bytes in the process differ from the baseline's",
			      m->funcs[i].name);
			out = OUTCOME_REFUSED;
		}
		free(b);
		if (out != OUTCOME_OK)
			return out;
	}
	return OUTCOME_OK;
}

/* ---- building the new state -------------------------------------------------------------- */

/*
 * The redirects of the new package, and the restores of functions it
 * drops.  A function too short for the redirect is a refusal.
 */
static enum outcome plan_redirects(struct op *o)
{
	const struct hp_manifest *m = o->v.manifest;

	o->next.r = xcalloc(m->nfuncs + 1, sizeof(*o->next.r));
	o->writes = xcalloc(m->nfuncs + o->cur.nr + 1, sizeof(*o->writes));
	if (!o->next.r || !o->writes)
		return OUTCOME_TROUBLE;
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		struct redirect *r = &o->next.r[o->next.nr++];
		uint64_t entry = o->img.base + m->funcs[i].offset;
		uint8_t head[16] = {0};
		uint32_t skip;

		if (baseline_bytes(o->s.tr.mem, &o->cur, entry,
				   m->funcs[i].size < 16 ? m->funcs[i].size : 16, head) < 0) {
			fail(o, "process %d: planning the redirects: cannot read %s at 0x%llx: %s",
			     (int)o->s.pid, m->funcs[i].name, (unsigned long long)entry,
			     strerror(errno));
			return OUTCOME_TROUBLE;
		}
		/* keep the landing pad: indirect branches must still find it */
		skip = (uint32_t)arch_landing_pad(head, m->funcs[i].size);
		if (m->funcs[i].size < skip + ARCH_JUMP_LEN) {
			error("%s is %u bytes: too short for the %d-byte redirect",
			      m->funcs[i].name, m->funcs[i].size, skip + ARCH_JUMP_LEN);
			return OUTCOME_REFUSED;
		}
		r->addr = entry + skip;
		r->len = ARCH_JUMP_LEN;
		memcpy(r->saved, head + skip, ARCH_JUMP_LEN);
		if (!arch_jump(r->addr,
			       layout_code_at(&o->plan, o->region, o->v.payload->replaced[i]),
			       r->written)) {
			error("%s: new code out of reach", m->funcs[i].name);
			return OUTCOME_TROUBLE;
		}
		r->func = entry;
		r->func_size = m->funcs[i].size;
		r->name = xstrdup(m->funcs[i].name);
		if (!r->name)
			return OUTCOME_TROUBLE;
		o->writes[o->nwrites++] = (struct arch_write){r->addr, r->written, r->len};
	}
	/* a function the applied package replaced and this one does not: restored */
	for (uint32_t i = 0; i < o->cur.nr; i++) {
		bool kept = false;

		for (uint32_t k = 0; k < o->next.nr && !kept; k++)
			kept = o->next.r[k].addr == o->cur.r[i].addr;
		if (!kept)
			o->writes[o->nwrites++] = (struct arch_write){
				o->cur.r[i].addr, o->cur.r[i].saved, o->cur.r[i].len};
	}
	return OUTCOME_OK;
}

static char *signer_text(const struct hp_signer_info *s)
{
	return xasprintf("%s (%s, %s)", s->subject, s->key, s->digest);
}

static int fill_state(struct op *o)
{
	const struct hp_manifest *m = o->v.manifest;
	struct state *n = &o->next;

	n->generation = o->cur.generation + 1;
	n->floor = o->cur.floor;
	if (m->sequence > n->floor)
		n->floor = m->sequence;
	if (m->min_sequence > n->floor)
		n->floor = m->min_sequence;
	n->seq = m->sequence;
	n->min_seq = m->min_sequence;
	n->applied_at = (int64_t)time(NULL);
	n->package_id = xstrdup(m->package_id);
	n->signer = signer_text(&o->v.signer);
	n->manifest = xmalloc(o->manifest_len + 1);
	if (!n->package_id || !n->signer || !n->manifest)
		return -1;
	memcpy(n->manifest, o->manifest, o->manifest_len);
	n->manifest[o->manifest_len] = 0;
	memcpy(n->build_id, m->build_id, m->build_id_len);
	n->build_id_len = (uint32_t)m->build_id_len;
	n->image_base = o->img.base;
	n->regions = xcalloc(2, sizeof(*n->regions));
	if (!n->regions)
		return -1;
	n->regions[n->nregions++] = (struct region){o->region, o->plan.rx_size + o->plan.rw_size};
	return 0;
}

/* ---- the prepare step -------------------------------------------------------------------- */

static int map_package(struct op *o)
{
	char name[200];
	uint8_t *both;
	long tfd;
	int lfd;
	uint64_t got;
	int ret = -1;

	snprintf(name, sizeof(name), "hpapply:%s", o->v.manifest->package_id);
	both = xmalloc(o->plan.rx_size + o->plan.rw_size);
	if (!both)
		return -1;
	memcpy(both, o->rx, o->plan.rx_size);
	memcpy(both + o->plan.rx_size, o->rw, o->plan.rw_size);
	if (session_memfd(&o->s, name, both, o->plan.rx_size + o->plan.rw_size, true, false, &tfd,
			  &lfd) < 0)
		goto out;
	/* code and constants shared read+exec from a sealed file: never writable */
	if (session_map(&o->s, tfd, o->region, o->plan.rx_size, PROT_READ | PROT_EXEC, MAP_SHARED,
			0, &got) < 0)
		goto close;
	/* new variables: a private copy, read+write, not executable */
	if (o->plan.rw_size &&
	    session_map(&o->s, tfd, o->region + o->plan.rx_size, o->plan.rw_size,
			PROT_READ | PROT_WRITE, MAP_PRIVATE, o->plan.rx_size, &got) < 0)
		goto close;
	ret = 0;
close:
	session_call(&o->s, SYS_close, (uint64_t)tfd, 0, 0, 0, 0, 0, NULL);
out:
	free(both);
	return ret;
}

/* The new state record (not yet committed) and the operation region. */
static int map_state_and_op(struct op *o)
{
	uint8_t *rec;
	size_t len;
	long tfd;
	int lfd;
	int ret;

	if (state_encode(&o->next, &rec, &len) < 0)
		return -1;
	ret = session_memfd(&o->s, "hpapply-state", rec, len, false, false, &tfd, &lfd);
	free(rec);
	if (ret < 0)
		return -1;
	/* the target's descriptor goes whether or not the mapping worked */
	ret = session_map(&o->s, tfd, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, 0, &o->state_at);
	session_call(&o->s, SYS_close, (uint64_t)tfd, 0, 0, 0, 0, 0, NULL);
	if (ret < 0)
		return -1;
	/* the commit stub is written (and rewritten on retries) through our descriptor */
	o->s.op_size = 4096 * (1 + (o->nwrites * 48) / 4096);
	if (session_memfd(&o->s, "hpapply-op", NULL, 0, false, true, &tfd, &o->s.op_fd) < 0)
		return -1;
	ret = -1;
	if (ftruncate(o->s.op_fd, (off_t)o->s.op_size) < 0) {
		error("process %d: cannot size the operation region: %s", (int)o->s.pid,
		      strerror(errno));
		goto close;
	}
	if (session_map(&o->s, tfd, 0, o->s.op_size, PROT_READ | PROT_EXEC, MAP_SHARED, 0,
			&o->s.op_addr) < 0)
		goto close;
	ret = 0;
close:
	session_call(&o->s, SYS_close, (uint64_t)tfd, 0, 0, 0, 0, 0, NULL);
	return ret;
}

/* ---- the commit step ------------------------------------------------------------------------ */

static int write_commit_stub(struct op *o)
{
	struct thread *t = &o->s.tr.t[o->s.caller];
	uint8_t *code;
	uint64_t mask;
	size_t n, tail = 0;

	if (tracee_sigmask(&o->s.tr, o->s.caller, &mask) < 0)
		return -1;
	code = xcalloc(o->s.op_size, 1);
	if (!code)
		return -1;
	n = arch_commit_stub(o->s.op_addr, &t->resume, o->writes, o->nwrites,
			     o->state_at + STATE_COMMITTED_AT, mask, code, o->s.op_size, &tail);
	if (!n || pwrite(o->s.op_fd, code, n, 0) != (ssize_t)n) {
		free(code);
		return error("cannot write the commit stub");
	}
	free(code);
	o->s.op_tail = o->s.op_addr + tail;
	o->s.op_resume = t->resume;
	return 0;
}

static int check_written(struct op *o)
{
	for (size_t i = 0; i < o->nwrites; i++) {
		uint8_t b[ARCH_WRITE_MAX];

		if (proc_read(o->s.tr.mem, o->writes[i].dst, b, o->writes[i].len) < 0)
			return fail(
				o,
				"process %d: after the commit: cannot read the code at 0x%llx: %s",
				(int)o->s.pid, (unsigned long long)o->writes[i].dst,
				strerror(errno));
		if (memcmp(b, o->writes[i].bytes, o->writes[i].len))
			return error(
				"process %d: after the commit: the code at 0x%llx does not read "
				"back as written",
				(int)o->s.pid, (unsigned long long)o->writes[i].dst);
	}
	return 0;
}

/*
 * The bytes at each write's place, read before the stop (code does not
 * change by itself; if something else changes it meanwhile, a failed
 * commit looks partial, and what it mapped is kept: the safe side).
 */
static int read_before(struct op *o)
{
	if (!o->before && !(o->before = xcalloc(o->nwrites + 1, sizeof(*o->before))))
		return -1;
	for (size_t i = 0; i < o->nwrites; i++) {
		if (o->writes[i].len > ARCH_WRITE_MAX)
			return error("process %d: a write of %llu bytes at 0x%llx is too long",
				     (int)o->s.pid, (unsigned long long)o->writes[i].len,
				     (unsigned long long)o->writes[i].dst);
		if (proc_read(o->s.tr.mem, o->writes[i].dst, o->before[i], o->writes[i].len) < 0)
			return fail(
				o,
				"process %d: before the commit: cannot read the code at 0x%llx: %s",
				(int)o->s.pid, (unsigned long long)o->writes[i].dst,
				strerror(errno));
	}
	return 0;
}

/*
 * The stub could not open /proc/self/mem in the target, or a write through
 * it failed.  If nothing was written, the session is undone as for any
 * failure before the commit; if some was, its mappings stay (the redirects
 * written point into them).
 */
static int commit_failed(struct op *o)
{
	for (size_t i = 0; i < o->nwrites; i++) {
		uint8_t b[ARCH_WRITE_MAX];

		if (proc_read(o->s.tr.mem, o->writes[i].dst, b, o->writes[i].len) < 0)
			return fail(o,
				    "process %d: after a failed commit: cannot read the code at "
				    "0x%llx: %s",
				    (int)o->s.pid, (unsigned long long)o->writes[i].dst,
				    strerror(errno));
		if (memcmp(b, o->before[i], o->writes[i].len))
			return error("process %d: the commit stub wrote only part of the redirects "
				     "through /proc/self/mem",
				     (int)o->s.pid);
	}
	o->s.commit_flag = 0; /* the stub is done and changed nothing */
	return error("process %d: it cannot write its own code through /proc/self/mem; nothing "
		     "was changed",
		     (int)o->s.pid);
}

/*
 * Why no attempt can be made now, known without stopping anything: a
 * thread in vfork() or uninterruptible sleep (worth waiting for), or a
 * frozen cgroup (not: *final).  false if none.
 */
static bool held_now(struct op *o, char *why, size_t size, bool *final)
{
	*final = blockers_frozen(o->s.pid, o->s.view, why, size) != BLOCK_NONE;
	return *final || blockers_threads(o->s.pid, why, size) != BLOCK_NONE;
}

/*
 * One attempt: stop everything, check, and commit if no thread is busy.
 * 0 committed, 1 busy or a thread could not be stopped (why; *final if
 * waiting cannot help), -1 trouble.  Every thread runs again afterwards.
 */
static int attempt(struct op *o, bool first, char *why, size_t size, bool *final)
{
	int64_t t0;
	int r;

	*final = false;
	if (held_now(o, why, size, final))
		return 1;
	t0 = now_ns();
	r = tracee_stop_all(&o->s.tr);
	if (r < 0)
		return -1;
	if (r == 1) {
		snprintf(why, size, "%s", o->s.tr.why);
		*final = blockers_frozen(o->s.pid, o->s.view, why, size) != BLOCK_NONE;
	} else {
		r = safety_check(&o->s.tr, &o->s.m, o->busy, o->nbusy, why, size);
		if (r < 0)
			return -1;
	}
	if (r == 0) {
		int c;

		if (!first && write_commit_stub(o) < 0)
			return -1;
		/* from here the stub may run to its end even if we lose track of it */
		o->s.commit_flag = o->state_at + STATE_COMMITTED_AT;
		c = remote_commit(&o->s.rc, o->s.op_addr, o->s.commit_flag);
		if (c < 0)
			return -1;
		if (c == 1) {
			commit_failed(o);
			return -1;
		}
		o->committed = true;
		if (check_written(o) < 0)
			return -1;
	}
	if (tracee_resume_all(&o->s.tr) < 0)
		return -1;
	o->pause_ns = now_ns() - t0;
	return r;
}

/*
 * Stop everything, check, commit, resume; retry with backoff while a
 * thread is busy in what is being replaced, or cannot be stopped.  A
 * thread that stays so is a refusal; so is a frozen cgroup, at once.
 */
static enum outcome commit(struct op *o)
{
	char why[512] = "";
	int64_t backoff_us = 1000;

	/*
	 * The caller thread has stayed stopped since the session began, so its
	 * resume state is known: the stub is written before everything stops.
	 * After a retry resumed it, it is written again inside the stop.
	 */
	if (write_commit_stub(o) < 0 || read_before(o) < 0)
		return OUTCOME_TROUBLE;
	for (int n = 1; n <= MAX_ATTEMPTS; n++) {
		bool final;
		int r = attempt(o, n == 1, why, sizeof(why), &final);

		if (r < 0)
			return OUTCOME_TROUBLE;
		if (r == 0)
			return OUTCOME_OK;
		if (final) {
			error("process %d: refused: %s", (int)o->s.pid, why);
			return OUTCOME_REFUSED;
		}
		if (o->verbose)
			fprintf(stderr, "hpapply: attempt %d: %s; retrying\n", n, why);
		usleep((useconds_t)backoff_us);
		backoff_us = backoff_us * 2 > 200000 ? 200000 : backoff_us * 2;
	}
	error("process %d: refused: %s, after %d attempts", (int)o->s.pid, why, MAX_ATTEMPTS);
	return OUTCOME_REFUSED;
}

/* ---- apply ------------------------------------------------------------------------------------
 */

static int read_package(struct op *o, const char *path)
{
	struct hp_error e;
	struct hp_hpk pkg;
	char msg[200];

	if (hp_read_file(path, HP_HPK_MAX_FILE, &o->pkg, &o->pkg_len, &e) < 0)
		return error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
	/* Only to find the baseline; hp_verify checks everything from this same copy. */
	if (hp_hpk_read(o->pkg, o->pkg_len, &pkg, &e) == 0) {
		o->manifest = pkg.manifest;
		o->manifest_len = pkg.manifest_len;
		hp_manifest_parse(pkg.manifest, pkg.manifest_len, &o->hint, &e);
	}
	return 0;
}

/*
 * The whole package against the baseline the process has mapped and its
 * sequence state.  hp_verify checks the baseline's machine is the
 * package's; hpapply patches processes of its own machine only.
 */
static enum outcome verify(struct op *o, const struct apply_opts *a)
{
	struct hp_verify_opts vo = {.ca_file = a->ca,
				    .crl_file = a->crl,
				    .target = &o->img.img,
				    .have_state = true,
				    .applied_seq = o->cur.seq,
				    .floor = o->cur.floor};

	if (hp_verify(o->pkg, o->pkg_len, &vo, &o->v) < 0 || !o->v.payload) {
		if (o->v.cls == HP_V_TROUBLE) {
			error("%s: cannot verify: %s", a->package, o->v.message);
			return OUTCOME_TROUBLE;
		}
		error("%s: refused (%s): %s", a->package, hp_vclass_name(o->v.cls), o->v.message);
		return OUTCOME_REFUSED;
	}
	o->machine = arch_machine(o->v.manifest->arch);
	if (o->machine != arch_host_machine()) {
		error("%s: refused (target): the package is for %s, and hpapply patches %s "
		      "processes",
		      a->package, o->v.manifest->arch, arch_name(arch_host_machine()));
		return OUTCOME_REFUSED;
	}
	return OUTCOME_OK;
}

/* Thread-pointer offsets only mean something in the program itself. */
static enum outcome check_tls(struct op *o)
{
	const struct hp_payload *pl = o->v.payload;

	for (uint32_t i = 0; i < pl->ncode && !o->img.is_main; i++)
		for (uint32_t k = 0; k < pl->code[i].nrelocs; k++)
			if (pl->code[i].relocs[k].target == HP_PT_CONST) {
				error("%s: thread-local offsets of a program, but %s is a shared "
				      "library here",
				      pl->code[i].name, o->img.path);
				return OUTCOME_REFUSED;
			}
	return OUTCOME_OK;
}

/* Resolve the imports, lay the package out, pick its region and relocate it. */
static int place(struct op *o)
{
	const struct hp_payload *pl = o->v.payload;
	uint64_t *imports = xcalloc(pl->nimports + 1, sizeof(*imports));
	int ret = -1;

	if (!imports)
		return -1;
	if (symbols_resolve(o->s.view, &o->s.m, pl, imports) == 0 &&
	    layout_plan(pl, o->machine, &o->plan) == 0 &&
	    layout_place(&o->plan, &o->s.m, o->img.lo, o->img.hi, &o->region) == 0 &&
	    layout_fill(&o->plan, pl, o->region, o->img.base, imports, &o->rx, &o->rw) == 0)
		ret = 0;
	free(imports);
	return ret;
}

/*
 * Everything up to the commit: the process's code checked, the package
 * placed, and its code, data and new state mapped in the process.
 */
static enum outcome prepare(struct op *o)
{
	enum outcome out = check_tls(o);

	if (out == OUTCOME_OK)
		out = check_memory(o);
	if (out == OUTCOME_OK && place(o) < 0)
		out = OUTCOME_TROUBLE;
	if (out == OUTCOME_OK)
		out = plan_redirects(o);
	if (out == OUTCOME_OK &&
	    (fill_state(o) < 0 || map_package(o) < 0 || map_state_and_op(o) < 0))
		out = OUTCOME_TROUBLE;
	return out;
}

/*
 * Busy ranges: the code of the package being replaced or reverted, and
 * (when applying) the functions whose entries get rewritten.
 */
static int busy_ranges(struct op *o, bool functions)
{
	size_t n = o->next.nr + o->cur.nr + o->cur.nregions;

	o->busy = xcalloc(n + 1, sizeof(*o->busy));
	if (!o->busy)
		return -1;
	for (uint32_t i = 0; functions && i < o->next.nr; i++)
		o->busy[o->nbusy++] = (struct busy_range){
			o->next.r[i].func, o->next.r[i].func + o->next.r[i].func_size,
			o->next.r[i].name};
	for (uint32_t i = 0; functions && i < o->cur.nr; i++)
		o->busy[o->nbusy++] = (struct busy_range){o->cur.r[i].func,
							  o->cur.r[i].func + o->cur.r[i].func_size,
							  o->cur.r[i].name};
	for (uint32_t i = 0; i < o->cur.nregions; i++)
		o->busy[o->nbusy++] = (struct busy_range){
			o->cur.regions[i].start, o->cur.regions[i].start + o->cur.regions[i].size,
			"the applied package's code"};
	return 0;
}

/* After the commit: the old state and the old package's regions go. */
static void tidy(struct op *o)
{
	const struct mapping *old = o->cur_at ? maps_find(&o->s.m, o->cur_at) : NULL;

	if (old)
		session_unmap(&o->s, old->start, old->end - old->start);
	for (uint32_t i = 0; i < o->cur.nregions; i++)
		session_unmap(&o->s, o->cur.regions[i].start, o->cur.regions[i].size);
}

static void op_free(struct op *o)
{
	hp_verified_free(&o->v);
	hp_manifest_free(o->hint);
	state_free(&o->cur);
	state_free(&o->next);
	loaded_free(&o->img);
	plan_free(&o->plan);
	free(o->pkg);
	free(o->rx);
	free(o->rw);
	free(o->writes);
	free(o->before);
	free(o->busy);
}

/*
 * End the session and free the operation; the outcome stays, unless the
 * process exited meanwhile (trouble).  A commit that finished late
 * (session_close says so) is still trouble: nothing checked what it
 * wrote, nor tidied after it.
 */
static enum outcome finish(struct op *o, enum outcome out)
{
	session_close(&o->s, o->committed);
	/* a process that exited meanwhile runs nothing, patched or not (said once) */
	if (out != OUTCOME_OK && tracee_check_exited(&o->s.tr))
		out = OUTCOME_TROUBLE;
	if (tracee_exited(&o->s.tr))
		out = OUTCOME_TROUBLE;
	op_free(o);
	return out;
}

/* Is all of [start, start + size) mapped by hpapply's own mappings? */
static bool all_ours(const struct maps *m, uint64_t start, uint64_t size)
{
	if (start + size < start)
		return false;
	for (uint64_t a = start; a < start + size;) {
		const struct mapping *mp = maps_find(m, a);

		if (!mp || !state_is_ours(mp))
			return false;
		a = mp->end;
	}
	return true;
}

/*
 * The state record lives in the process, where anything could have changed
 * it (or the code it describes).  Nothing is written or unmapped on its
 * word unless it still holds: the record is in one of hpapply's mappings,
 * the object it names is loaded at its base, every redirect's bytes are
 * the jump it says was written, and every region is hpapply's mapping.
 * Otherwise refuse, with the process untouched.
 */
static enum outcome check_state(struct op *o)
{
	const struct state *c = &o->cur;
	const struct mapping *at = o->cur_at ? maps_find(&o->s.m, o->cur_at) : NULL;
	struct loaded img;
	int r;

	if (o->cur_at && (!at || !state_is_ours(at))) {
		error("process %d: its state record at 0x%llx is not in hpapply's mapping",
		      (int)o->s.pid, (unsigned long long)o->cur_at);
		return OUTCOME_REFUSED;
	}
	if (!c->nr && !c->nregions)
		return OUTCOME_OK;
	r = target_find(o->s.view, &o->s.m, c->build_id, c->build_id_len, &img);
	if (r < 0)
		return OUTCOME_TROUBLE;
	if (r == 0 && img.base != c->image_base)
		r = 1;
	loaded_free(&img);
	if (r == 1 && tracee_check_exited(&o->s.tr))
		return OUTCOME_TROUBLE;
	if (r == 1) {
		error("process %d: the object the applied package %s patched is no longer loaded "
		      "at 0x%llx: refusing to write or unmap anything",
		      (int)o->s.pid, c->package_id, (unsigned long long)c->image_base);
		return OUTCOME_REFUSED;
	}
	for (uint32_t i = 0; i < c->nr; i++) {
		const struct redirect *rd = &c->r[i];
		uint8_t b[sizeof(rd->written)];

		if (rd->len > sizeof(b) || proc_read(o->s.tr.mem, rd->addr, b, rd->len) < 0 ||
		    memcmp(b, rd->written, rd->len)) {
			error("process %d: the state record says %s at 0x%llx is redirected, but "
			      "the "
			      "bytes there are not that redirect (changed by something else?): "
			      "refusing to write or unmap anything",
			      (int)o->s.pid, rd->name, (unsigned long long)rd->addr);
			return OUTCOME_REFUSED;
		}
	}
	for (uint32_t i = 0; i < c->nregions; i++)
		if (!all_ours(&o->s.m, c->regions[i].start, c->regions[i].size)) {
			error("process %d: the state record names 0x%llx-0x%llx as the applied "
			      "package's code, but that is not hpapply's mapping: refusing to "
			      "write "
			      "or unmap anything",
			      (int)o->s.pid, (unsigned long long)c->regions[i].start,
			      (unsigned long long)(c->regions[i].start + c->regions[i].size));
			return OUTCOME_REFUSED;
		}
	return OUTCOME_OK;
}

/*
 * Attach, read and check the current state, sweep leftovers of killed
 * runs.  A state record that no longer holds is a refusal.
 */
static enum outcome begin(struct op *o, pid_t pid)
{
	enum outcome out;
	int r;

	out = session_open(&o->s, pid, o->doing);
	if (out != OUTCOME_OK)
		return out;
	r = state_read(pid, o->s.tr.mem, &o->s.m, &o->cur, &o->cur_at);
	if (r < 0)
		return OUTCOME_TROUBLE;
	if (r == 1)
		o->cur_at = 0;
	out = check_state(o);
	if (out != OUTCOME_OK)
		return out;
	return session_sweep(&o->s, &o->cur, o->cur_at) < 0 ? OUTCOME_TROUBLE : OUTCOME_OK;
}

/*
 * Commit (with its retries) and tidy up after it; a thread that stayed
 * busy is a refusal.  The caller thread keeps its resume state.
 */
static enum outcome switch_code(struct op *o, struct apply_result *res)
{
	enum outcome out;

	remote_end(&o->s.rc);
	out = commit(o);
	if (out != OUTCOME_OK)
		return out;
	tidy(o);
	res->pause_ns = o->pause_ns;
	return OUTCOME_OK;
}

/*
 * The process's object with the package's build-id.  If there is none,
 * the package is still verified, to say whether it is valid at all, and
 * the answer is a refusal.
 */
static enum outcome find_baseline(struct op *o, const struct apply_opts *a)
{
	struct hp_verify_opts vo = {.ca_file = a->ca, .crl_file = a->crl};
	int r = o->hint ? target_find(o->s.view, &o->s.m, o->hint->build_id, o->hint->build_id_len,
				      &o->img)
			: 1;

	if (r < 0)
		return OUTCOME_TROUBLE;
	if (r == 0)
		return OUTCOME_OK;
	/* its files cannot be read once it has exited */
	if (tracee_check_exited(&o->s.tr))
		return OUTCOME_TROUBLE;
	if (hp_verify(o->pkg, o->pkg_len, &vo, &o->v) < 0)
		error("%s: refused (%s): %s", a->package, hp_vclass_name(o->v.cls), o->v.message);
	else
		error("%s: refused (target): process %d has no object with the package's build-id "
		      "loaded",
		      a->package, (int)a->pid);
	return OUTCOME_REFUSED;
}

enum outcome do_apply(const struct apply_opts *a, struct apply_result *res)
{
	struct op o;
	enum outcome out;

	memset(&o, 0, sizeof(o));
	o.doing = "the apply";
	o.verbose = a->verbose;
	if (read_package(&o, a->package) < 0)
		return OUTCOME_TROUBLE;
	if (!proc_alive(a->pid)) {
		op_free(&o);
		error("process %d: no such process", (int)a->pid);
		return OUTCOME_TROUBLE;
	}
	out = begin(&o, a->pid);
	if (out == OUTCOME_OK)
		out = find_baseline(&o, a);
	if (out == OUTCOME_OK)
		out = verify(&o, a);
	if (out == OUTCOME_OK)
		out = prepare(&o);
	if (out == OUTCOME_OK && busy_ranges(&o, true) < 0)
		out = OUTCOME_TROUBLE;
	if (out == OUTCOME_OK)
		out = switch_code(&o, res);
	if (out == OUTCOME_OK)
		snprintf(res->summary, sizeof(res->summary),
			 "process %d: applied %s (sequence %llu): %u functions redirected to new "
			 "code at 0x%llx",
			 (int)a->pid, o.v.manifest->package_id,
			 (unsigned long long)o.v.manifest->sequence, o.next.nr,
			 (unsigned long long)o.region);
	return finish(&o, out);
}

/* The new state of a revert: nothing applied, the floor kept; the saved bytes go back. */
static int plan_revert(struct op *o)
{
	o->next.generation = o->cur.generation + 1;
	o->next.floor = o->cur.floor;
	o->next.package_id = xstrdup("");
	o->writes = xcalloc(o->cur.nr + 1, sizeof(*o->writes));
	if (!o->next.package_id || !o->writes)
		return -1;
	for (uint32_t i = 0; i < o->cur.nr; i++)
		o->writes[o->nwrites++] =
			(struct arch_write){o->cur.r[i].addr, o->cur.r[i].saved, o->cur.r[i].len};
	return 0;
}

enum outcome do_revert(pid_t pid, bool verbose, struct apply_result *res)
{
	struct op o;
	enum outcome out;

	memset(&o, 0, sizeof(o));
	o.doing = "the revert";
	o.verbose = verbose;
	if (!proc_alive(pid)) {
		error("process %d: no such process", (int)pid);
		return OUTCOME_TROUBLE;
	}
	out = begin(&o, pid);
	if (out == OUTCOME_OK && !o.cur.seq) {
		error("process %d: nothing is applied", (int)pid);
		out = OUTCOME_REFUSED;
	}
	/* only the package's code is busy: threads in the baseline may go on */
	if (out == OUTCOME_OK &&
	    (plan_revert(&o) < 0 || map_state_and_op(&o) < 0 || busy_ranges(&o, false) < 0))
		out = OUTCOME_TROUBLE;
	if (out == OUTCOME_OK)
		out = switch_code(&o, res);
	if (out == OUTCOME_OK)
		snprintf(res->summary, sizeof(res->summary),
			 "process %d: reverted %s: %u functions run the baseline code again",
			 (int)pid, o.cur.package_id, o.cur.nr);
	return finish(&o, out);
}
