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
#include "hpapply/record.h"
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

/* One instance of the baseline in the process, and the package's region for it. */
struct inst {
	struct loaded img;
	uint64_t region;
	uint8_t *rx, *rw;
};

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
	uint16_t machine; /* the verified package's, which is hpapply's own */
	/* every instance of the baseline in the process, in[0] the one verified against */
	struct inst *in;
	size_t nin;
	struct state cur, next;
	enum inst_state *cur_st; /* what became of each instance cur names */
	bool cur_applied;	 /* cur is applied to an instance still loaded */
	uint64_t cur_at, state_at;
	struct plan plan;
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

/* Is redirect r of the applied package in place (its instance still loaded)? */
static bool live(const struct op *o, const struct redirect *r)
{
	return o->cur_st && o->cur_st[r->instance] == INST_LIVE;
}

/*
 * The bytes of a replaced function as the baseline had them: memory, with
 * any jump the applied package wrote there taken back out.
 */
static int baseline_bytes(const struct op *o, uint64_t addr, uint32_t size, uint8_t *out)
{
	if (proc_read(o->s.tr.mem, addr, out, size) < 0)
		return -1;
	for (uint32_t i = 0; i < o->cur.nr; i++) {
		const struct redirect *r = &o->cur.r[i];

		if (live(o, r) && r->addr >= addr && r->addr + r->len <= addr + size)
			memcpy(out + (r->addr - addr), r->saved, r->len);
	}
	return 0;
}

/*
 * Every replaced function's bytes in the process, in every instance,
 * against the package.  Bytes that differ are a refusal; memory that
 * cannot be read is trouble.
 */
static enum outcome check_memory(struct op *o)
{
	const struct hp_manifest *m = o->v.manifest;

	for (size_t k = 0; k < o->nin; k++)
		for (uint32_t i = 0; i < m->nfuncs; i++) {
			uint64_t at = o->in[k].img.base + m->funcs[i].offset;
			uint8_t *b = xmalloc(m->funcs[i].size), h[32];
			enum outcome out = OUTCOME_OK;

			if (!b)
				return OUTCOME_TROUBLE;
			if (baseline_bytes(o, at, m->funcs[i].size, b) < 0) {
				fail(o,
				     "process %d: checking the code: cannot read %s at 0x%llx: %s",
				     (int)o->s.pid, m->funcs[i].name, (unsigned long long)at,
				     strerror(errno));
				out = OUTCOME_TROUBLE;
			} else if (hp_sha256(b, m->funcs[i].size, h) < 0) {
				error("%s: cannot hash its bytes", m->funcs[i].name);
				out = OUTCOME_TROUBLE;
			} else if (memcmp(h, m->funcs[i].sha256, 32)) {
				error("%s: its bytes in the process differ from the baseline's%s",
				      m->funcs[i].name,
				      o->nin > 1 ? " (in one of the instances)" : "");
				out = OUTCOME_REFUSED;
			}
			free(b);
			if (out != OUTCOME_OK)
				return out;
		}
	return OUTCOME_OK;
}

/* ---- building the new state -------------------------------------------------------------- */

/* The redirect of function i of the package in instance k, into *r. */
static enum outcome plan_redirect(struct op *o, size_t k, uint32_t i, struct redirect *r)
{
	const struct hp_manifest *m = o->v.manifest;
	uint64_t entry = o->in[k].img.base + m->funcs[i].offset;
	uint8_t head[16] = {0};
	uint32_t skip;

	if (baseline_bytes(o, entry, m->funcs[i].size < 16 ? m->funcs[i].size : 16, head) < 0) {
		fail(o, "process %d: planning the redirects: cannot read %s at 0x%llx: %s",
		     (int)o->s.pid, m->funcs[i].name, (unsigned long long)entry, strerror(errno));
		return OUTCOME_TROUBLE;
	}
	/* keep the landing pad: indirect branches must still find it */
	skip = (uint32_t)arch_landing_pad(head, m->funcs[i].size);
	if (m->funcs[i].size < skip + ARCH_JUMP_LEN) {
		error("%s is %u bytes: too short for the %d-byte redirect", m->funcs[i].name,
		      m->funcs[i].size, skip + ARCH_JUMP_LEN);
		return OUTCOME_REFUSED;
	}
	r->instance = (uint32_t)k;
	r->addr = entry + skip;
	r->len = ARCH_JUMP_LEN;
	memcpy(r->saved, head + skip, ARCH_JUMP_LEN);
	if (!arch_jump(r->addr,
		       layout_code_at(&o->plan, o->in[k].region, o->v.payload->replaced[i]),
		       r->written)) {
		error("%s: new code out of reach", m->funcs[i].name);
		return OUTCOME_TROUBLE;
	}
	r->func = entry;
	r->func_size = m->funcs[i].size;
	r->name = xstrdup(m->funcs[i].name);
	return r->name ? OUTCOME_OK : OUTCOME_TROUBLE;
}

/*
 * The redirects of the new package in every instance, and the restores of
 * functions it drops (where the applied package's redirects are still in
 * place: never at the addresses of an instance unloaded since).  A
 * function too short for the redirect is a refusal.
 */
static enum outcome plan_redirects(struct op *o)
{
	const struct hp_manifest *m = o->v.manifest;
	size_t n = (size_t)m->nfuncs * o->nin;

	o->next.r = xcalloc(n + 1, sizeof(*o->next.r));
	o->writes = xcalloc(n + o->cur.nr + 1, sizeof(*o->writes));
	if (!o->next.r || !o->writes)
		return OUTCOME_TROUBLE;
	for (size_t k = 0; k < o->nin; k++)
		for (uint32_t i = 0; i < m->nfuncs; i++) {
			struct redirect *r = &o->next.r[o->next.nr++];
			enum outcome out = plan_redirect(o, k, i, r);

			if (out != OUTCOME_OK)
				return out;
			o->writes[o->nwrites++] = (struct arch_write){r->addr, r->written, r->len};
		}
	/* a function the applied package replaced and this one does not: restored */
	for (uint32_t i = 0; i < o->cur.nr; i++) {
		bool kept = !live(o, &o->cur.r[i]);

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
	n->inst = xcalloc(o->nin, sizeof(*n->inst));
	n->regions = xcalloc(o->nin, sizeof(*n->regions));
	if (!n->inst || !n->regions)
		return -1;
	for (size_t k = 0; k < o->nin; k++) {
		const struct loaded *l = &o->in[k].img;

		n->inst[n->ninst++] = (struct instance){l->base, l->dev, l->inode};
		n->regions[n->nregions++] =
			(struct region){o->in[k].region, o->plan.rx_size + o->plan.rw_size};
	}
	return 0;
}

/* ---- the prepare step -------------------------------------------------------------------- */

/* The package's code and data for instance k, in its region. */
static int map_package(struct op *o, const struct inst *in)
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
	memcpy(both, in->rx, o->plan.rx_size);
	memcpy(both + o->plan.rx_size, in->rw, o->plan.rw_size);
	if (session_memfd(&o->s, name, both, o->plan.rx_size + o->plan.rw_size, true, false, &tfd,
			  &lfd) < 0)
		goto out;
	/* code and constants shared read+exec from a sealed file: never writable */
	if (session_map(&o->s, tfd, in->region, o->plan.rx_size, PROT_READ | PROT_EXEC, MAP_SHARED,
			0, &got) < 0)
		goto close;
	/* new variables: a private copy, read+write, not executable */
	if (o->plan.rw_size &&
	    session_map(&o->s, tfd, in->region + o->plan.rx_size, o->plan.rw_size,
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
	/* the thread that was to run the commit has ended meanwhile: another one does */
	if (r == 0 && o->s.tr.t[o->s.caller].gone) {
		if (session_new_caller(&o->s, true) < 0 || remote_end(&o->s.rc) < 0)
			return -1;
		first = false;
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
				    .target = &o->in[0].img.img,
				    .have_state = true,
				    .applied_seq = o->cur_applied ? o->cur.seq : 0,
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
	/* the other instances: the very file verified (a copy under another name, or the same) */
	for (size_t k = 1; k < o->nin; k++)
		if (o->in[k].img.len != o->in[0].img.len ||
		    memcmp(o->in[k].img.file, o->in[0].img.file, o->in[0].img.len)) {
			error("%s: refused (target): %s at 0x%llx has the package's build-id, but "
			      "its file differs from %s's",
			      a->package, o->in[k].img.path, (unsigned long long)o->in[k].img.base,
			      o->in[0].img.path);
			return OUTCOME_REFUSED;
		}
	return OUTCOME_OK;
}

/* Thread-pointer offsets only mean something in the program itself. */
static enum outcome check_tls(struct op *o)
{
	const struct hp_payload *pl = o->v.payload;

	for (size_t n = 0; n < o->nin; n++)
		for (uint32_t i = 0; i < pl->ncode && !o->in[n].img.is_main; i++)
			for (uint32_t k = 0; k < pl->code[i].nrelocs; k++)
				if (pl->code[i].relocs[k].target == HP_PT_CONST) {
					error("%s: thread-local offsets of a program, but %s is a "
					      "shared library here",
					      pl->code[i].name, o->in[n].img.path);
					return OUTCOME_REFUSED;
				}
	return OUTCOME_OK;
}

/*
 * An import resolves to the first definition found (symbols.c).  When the
 * object defining it is loaded more than once (dlmopen namespaces each
 * have their own C library), which copy an instance's calls would reach
 * cannot be told from outside: refused, naming them.
 */
static enum outcome check_imports(struct op *o, const uint64_t *imports)
{
	const struct hp_payload *pl = o->v.payload;
	enum outcome out = OUTCOME_OK;
	struct loaded *v;
	size_t n;

	if (!pl->nimports)
		return OUTCOME_OK;
	if (target_objects(o->s.view, &o->s.m, &v, &n) < 0)
		return OUTCOME_TROUBLE;
	for (uint32_t i = 0; i < pl->nimports && out == OUTCOME_OK; i++)
		for (size_t k = 0; k < n && out == OUTCOME_OK; k++) {
			if (!imports[i] || imports[i] < v[k].lo || imports[i] >= v[k].hi)
				continue;
			for (size_t j = 0; j < n && out == OUTCOME_OK; j++)
				if (j != k && v[j].dev == v[k].dev && v[j].inode == v[k].inode) {
					error("process %d: refused: the package calls %s, defined "
					      "in "
					      "%s, which is loaded more than once (at 0x%llx and "
					      "0x%llx: dlmopen namespaces?): which copy the new "
					      "code "
					      "must call cannot be told",
					      (int)o->s.pid, pl->imports[i].name, v[k].path,
					      (unsigned long long)v[k].base,
					      (unsigned long long)v[j].base);
					out = OUTCOME_REFUSED;
				}
		}
	objects_free(v, n);
	return out;
}

/*
 * Resolve the imports, lay the package out, and per instance pick its
 * region (apart from the others') and relocate it.
 */
static enum outcome place(struct op *o)
{
	const struct hp_payload *pl = o->v.payload;
	uint64_t *imports = xcalloc(pl->nimports + 1, sizeof(*imports));
	struct region_span *taken = xcalloc(o->nin + 1, sizeof(*taken));
	enum outcome out = OUTCOME_TROUBLE;

	if (!imports || !taken)
		goto out;
	if (symbols_resolve(o->s.view, &o->s.m, pl, imports) < 0)
		goto out;
	out = check_imports(o, imports);
	if (out != OUTCOME_OK)
		goto out;
	out = OUTCOME_TROUBLE;
	if (layout_plan(pl, o->machine, &o->plan) < 0)
		goto out;
	for (size_t k = 0; k < o->nin; k++) {
		struct inst *in = &o->in[k];
		struct maps m;
		int r;

		if (maps_copy_reserved(&o->s.m, taken, k, &m) < 0)
			goto out;
		r = layout_place(&o->plan, &m, in->img.lo, in->img.hi, &in->region);
		maps_free(&m);
		if (r < 0 || layout_fill(&o->plan, pl, in->region, in->img.base, imports, &in->rx,
					 &in->rw) < 0)
			goto out;
		taken[k] = (struct region_span){in->region,
						in->region + o->plan.rx_size + o->plan.rw_size};
	}
	out = OUTCOME_OK;
out:
	free(imports);
	free(taken);
	return out;
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
	if (out == OUTCOME_OK)
		out = place(o);
	if (out == OUTCOME_OK)
		out = plan_redirects(o);
	if (out == OUTCOME_OK && fill_state(o) < 0)
		out = OUTCOME_TROUBLE;
	for (size_t k = 0; k < o->nin && out == OUTCOME_OK; k++)
		if (map_package(o, &o->in[k]) < 0)
			out = OUTCOME_TROUBLE;
	if (out == OUTCOME_OK && map_state_and_op(o) < 0)
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
		if (live(o, &o->cur.r[i]))
			o->busy[o->nbusy++] = (struct busy_range){
				o->cur.r[i].func, o->cur.r[i].func + o->cur.r[i].func_size,
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
	for (size_t k = 0; k < o->nin; k++) {
		loaded_free(&o->in[k].img);
		free(o->in[k].rx);
		free(o->in[k].rw);
	}
	free(o->in);
	free(o->cur_st);
	plan_free(&o->plan);
	free(o->pkg);
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

/*
 * The state record lives in the process, where anything could have changed
 * it (or the code it describes).  Nothing is written or unmapped on its
 * word unless it still holds (record.c): refused otherwise, the process
 * untouched.  An instance unloaded since, or loaded again (running the
 * baseline), is no longer patched: its redirects are never written back,
 * and if no instance is left, nothing is applied any more (the floor
 * stays).
 */
static enum outcome check_state(struct op *o)
{
	char why[512];
	int r;

	o->cur_st = xcalloc(o->cur.ninst + 1, sizeof(*o->cur_st));
	if (!o->cur_st)
		return OUTCOME_TROUBLE;
	r = record_check(o->s.view, o->s.tr.mem, &o->s.m, &o->cur, o->cur_at, o->cur_st, why,
			 sizeof(why));
	if (r < 0)
		return OUTCOME_TROUBLE;
	if (r == 1) {
		if (tracee_check_exited(&o->s.tr))
			return OUTCOME_TROUBLE;
		error("process %d: %s: refusing to write or unmap anything", (int)o->s.pid, why);
		return OUTCOME_REFUSED;
	}
	o->cur_applied = o->cur.seq && record_live(&o->cur, o->cur_st) > 0;
	if (o->verbose && o->cur.seq && !o->cur_applied)
		fprintf(stderr,
			"hpapply: process %d: %s was applied to a baseline no longer loaded\n",
			(int)o->s.pid, o->cur.package_id);
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
	struct loaded *v = NULL;
	int r = o->hint ? target_find_all(o->s.view, &o->s.m, o->hint->build_id,
					  o->hint->build_id_len, &v, &o->nin)
			: 1;

	if (r < 0)
		return OUTCOME_TROUBLE;
	if (r == 0) {
		o->in = xcalloc(o->nin, sizeof(*o->in));
		if (!o->in) {
			objects_free(v, o->nin);
			o->nin = 0;
			return OUTCOME_TROUBLE;
		}
		for (size_t k = 0; k < o->nin; k++)
			o->in[k].img = v[k];
		free(v);
		return OUTCOME_OK;
	}
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

/* What was applied, and where: each instance on a line of its own. */
static void summarize(const struct op *o, struct apply_result *res)
{
	const struct hp_manifest *m = o->v.manifest;
	size_t len;

	if (o->nin == 1) {
		snprintf(res->summary, sizeof(res->summary),
			 "process %d: applied %s (sequence %llu): %u functions redirected to new "
			 "code at 0x%llx",
			 (int)o->s.pid, m->package_id, (unsigned long long)m->sequence, o->next.nr,
			 (unsigned long long)o->in[0].region);
		return;
	}
	snprintf(res->summary, sizeof(res->summary),
		 "process %d: applied %s (sequence %llu): %u functions redirected in each of "
		 "%zu instances of the baseline",
		 (int)o->s.pid, m->package_id, (unsigned long long)m->sequence, m->nfuncs, o->nin);
	for (size_t k = 0; k < o->nin; k++) {
		len = strlen(res->summary);
		snprintf(res->summary + len, sizeof(res->summary) - len,
			 "\n  instance %s at 0x%llx: new code at 0x%llx", o->in[k].img.path,
			 (unsigned long long)o->in[k].img.base,
			 (unsigned long long)o->in[k].region);
	}
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
		summarize(&o, res);
	return finish(&o, out);
}

/*
 * The new state of a revert: nothing applied, the floor kept; the saved
 * bytes go back where the redirects are in place (not in an instance
 * unloaded since).
 */
static int plan_revert(struct op *o)
{
	o->next.generation = o->cur.generation + 1;
	o->next.floor = o->cur.floor;
	o->next.package_id = xstrdup("");
	o->writes = xcalloc(o->cur.nr + 1, sizeof(*o->writes));
	if (!o->next.package_id || !o->writes)
		return -1;
	for (uint32_t i = 0; i < o->cur.nr; i++)
		if (live(o, &o->cur.r[i]))
			o->writes[o->nwrites++] = (struct arch_write){
				o->cur.r[i].addr, o->cur.r[i].saved, o->cur.r[i].len};
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
	} else if (out == OUTCOME_OK && !o.cur_applied) {
		error("process %d: nothing is applied: %s was applied to %s, no longer loaded",
		      (int)pid, o.cur.package_id,
		      o.cur.ninst > 1 ? "instances of a baseline" : "a baseline");
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
			 "process %d: reverted %s: %zu functions run the baseline code again",
			 (int)pid, o.cur.package_id, o.nwrites);
	return finish(&o, out);
}
