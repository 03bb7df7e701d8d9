/*
 * Session plumbing: the remote call channel on one stopped thread, memfd
 * regions created in the target and filled from here through
 * /proc/PID/fd, and cleanup.
 *
 * Everything created before the commit is recorded; if the session fails,
 * it is unmapped again, so the process is left exactly as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "session.h"
#include "target.h"
#include "util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int session_open(struct session *s, pid_t pid)
{
	uint64_t slack;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->op_fd = -1;
	if (tracee_attach(&s->tr, pid) < 0)
		return -1;
	/*
	 * The main thread runs the calls: it lives as long as the process.
	 * Only if it has ended (pthread_exit from main) does another one do.
	 */
	s->caller = s->tr.n;
	for (size_t i = 0; i < s->tr.n; i++)
		if (s->tr.t[i].tid == pid)
			s->caller = i;
	if (s->caller < s->tr.n && tracee_stop(&s->tr, s->caller) < 0)
		return -1;
	if (s->caller == s->tr.n || s->tr.t[s->caller].gone) {
		for (s->caller = 0; s->caller < s->tr.n; s->caller++) {
			if (tracee_stop(&s->tr, s->caller) < 0)
				return -1;
			if (!s->tr.t[s->caller].gone)
				break;
		}
	}
	if (s->caller == s->tr.n)
		return error("process %d: no thread to work with", (int)pid);
	if (proc_maps(pid, &s->m) < 0)
		return error("process %d: cannot read its mappings: %s", (int)pid, strerror(errno));
	if (target_slack(pid, s->tr.mem, &s->m, REMOTE_AREA, &slack) < 0)
		return -1;
	if (remote_begin(&s->rc, &s->tr, s->caller, slack) < 0)
		return -1;
	/* From here on s->caller is a valid thread and s->rc.stub the slack. */
	s->opened = true;
	return 0;
}

int session_call(struct session *s, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3, uint64_t a4, uint64_t a5, long *ret)
{
	uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	long r;

	if (!s->rc.ready)
		return error("process %d: no remote call channel", (int)s->pid);
	if (remote_call(&s->rc, nr, a, &r) < 0)
		return -1;
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	if (ret)
		*ret = r;
	return 0;
}

/*
 * The remote channel must be open; reopen it on the caller after a commit.
 * The caller may still be on the last instructions of the commit stub
 * (restoring registers): let it run, alone and with its signals held back,
 * until it is out of the operation region, which is about to be unmapped.
 */
static int ensure_channel(struct session *s)
{
	struct thread *t;

	if (s->rc.ready)
		return 0;
	/* Never opened (session_open failed): no caller thread, no slack. */
	if (!s->opened)
		return error("process %d: no remote call channel", (int)s->pid);
	t = &s->tr.t[s->caller];
	for (int tries = 0;; tries++) {
		uint64_t pc;

		if (tracee_stop(&s->tr, s->caller) < 0)
			return -1;
		if (t->gone)
			return error("process %d: thread %d has ended", (int)s->pid, (int)t->tid);
		pc = arch_pc(&t->regs);
		if (!s->op_addr || pc < s->op_addr || pc >= s->op_addr + s->op_size) {
			/* out of the stub (remote_commit blocked its signals) */
			if (tracee_unmask_signals(&s->tr, s->caller) < 0)
				return -1;
			break;
		}
		if (tries == 1000)
			return error("process %d: thread %d does not leave the commit stub",
				     (int)s->pid, (int)t->tid);
		/* its signals stay held: a handler must not run with the stub below it */
		if (tracee_run_held(&s->tr, s->caller) < 0)
			return -1;
		sched_yield();
	}
	return remote_begin(&s->rc, &s->tr, s->caller, s->rc.stub);
}

int session_memfd(struct session *s, const char *name, const uint8_t *data, size_t len,
		  bool seal, bool keep_local, long *tfd, int *lfd)
{
	char path[64];
	int fd;

	*lfd = -1;
	if (strlen(name) + 1 > s->rc.scratch_len)
		return error("memfd name too long: %s", name);
	if (proc_write(s->tr.mem, s->rc.scratch, name, strlen(name) + 1) < 0 ||
	    session_call(s, SYS_memfd_create, s->rc.scratch, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0, 0,
			 0, 0, tfd) < 0)
		return error("process %d: cannot create memory for %s: %s", (int)s->pid, name,
			     strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)s->pid, *tfd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    (len && pwrite(fd, data, len, 0) != (ssize_t)len) ||
	    (seal && fcntl(fd, F_ADD_SEALS,
			   F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		session_call(s, SYS_close, (uint64_t)*tfd, 0, 0, 0, 0, 0, NULL);
		return error("process %d: cannot fill memory for %s: %s", (int)s->pid, name,
			     strerror(saved));
	}
	if (keep_local)
		*lfd = fd;
	else
		close(fd);
	return 0;
}

int session_map(struct session *s, long tfd, uint64_t at, uint64_t len, int prot, int flags,
		uint64_t offset, uint64_t *got)
{
	long r = 0;

	if (at)
		flags |= MAP_FIXED_NOREPLACE;
	if (session_call(s, SYS_mmap, at, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)tfd,
			 offset, &r) < 0)
		return error("process %d: cannot map %llu bytes at 0x%llx: %s", (int)s->pid,
			     (unsigned long long)len, (unsigned long long)at, strerror(errno));
	if (at && (uint64_t)r != at) {
		session_call(s, SYS_munmap, (uint64_t)r, len, 0, 0, 0, 0, NULL);
		return error("process %d: 0x%llx is taken", (int)s->pid, (unsigned long long)at);
	}
	if (s->ncreated < MAX_CREATED)
		s->created[s->ncreated++] = (struct region){(uint64_t)r, len};
	*got = (uint64_t)r;
	return 0;
}

int session_unmap(struct session *s, uint64_t start, uint64_t len)
{
	if (ensure_channel(s) < 0)
		return -1;
	if (session_call(s, SYS_munmap, start, len, 0, 0, 0, 0, NULL) < 0)
		return error("process %d: cannot unmap 0x%llx: %s", (int)s->pid,
			     (unsigned long long)start, strerror(errno));
	return 0;
}

int session_self_mem(struct session *s, uint64_t probe)
{
	static const char path[] = "/proc/self/mem";
	uint8_t byte;
	long fd, n = 0;
	int ok, err;

	if (proc_write(s->tr.mem, s->rc.scratch, path, sizeof(path)) < 0 ||
	    session_call(s, SYS_openat, (uint64_t)AT_FDCWD, s->rc.scratch, O_RDWR | O_CLOEXEC, 0,
			 0, 0, &fd) < 0)
		return error("process %d: cannot open /proc/self/mem in it: %s", (int)s->pid,
			     strerror(errno));
	/* Rewrite one byte of code with its own value: the commit will work. */
	ok = proc_read(s->tr.mem, probe, &byte, 1) == 0 &&
	     proc_write(s->tr.mem, s->rc.scratch, &byte, 1) == 0 &&
	     session_call(s, SYS_pwrite64, (uint64_t)fd, s->rc.scratch, 1, probe, 0, 0, &n) == 0 &&
	     n == 1;
	err = errno;
	if (session_call(s, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0, NULL) < 0 && ok)
		return error("process %d: cannot close its /proc/self/mem: %s", (int)s->pid,
			     strerror(errno));
	if (!ok)
		return error("process %d: it cannot write its own code through /proc/self/mem: %s",
			     (int)s->pid, strerror(err));
	return 0;
}

static bool referenced(const struct state *st, uint64_t st_at, const struct mapping *m)
{
	if (m->start == st_at)
		return true;
	for (uint32_t i = 0; i < st->nregions; i++)
		if (m->start >= st->regions[i].start &&
		    m->start < st->regions[i].start + st->regions[i].size)
			return true;
	return false;
}

int session_sweep(struct session *s, const struct state *st, uint64_t st_at)
{
	/*
	 * Never committed, or replaced by a later commit and already checked
	 * unused then: nothing can run in these or point into them.
	 */
	for (size_t i = 0; i < s->m.n; i++) {
		const struct mapping *m = &s->m.v[i];

		if (state_is_ours(m) && !referenced(st, st_at, m) &&
		    session_unmap(s, m->start, m->end - m->start) < 0)
			return -1;
	}
	return 0;
}

bool session_close(struct session *s, bool committed)
{
	/*
	 * If session_open failed, the channel was never opened: nothing was
	 * created in the target, and there may be no thread to work with
	 * (the attach itself may have failed).  Only resume and detach.
	 * Otherwise reopening it also brings the caller out of the commit
	 * stub, if it is still in there.
	 */
	bool channel = s->opened && (s->rc.ready || ensure_channel(s) == 0);
	bool unsure = false;

	/*
	 * A commit that was started but not seen to finish (it timed out, or
	 * the wait for it failed) may have finished since: the stub's last
	 * write is the committed byte.  Set, the new state is in effect and
	 * the redirects point into what was created: keep it.  Not set, the
	 * stub may still run (a thread in a signal handler it interrupted):
	 * unmap nothing; the next run sweeps whatever ends up unused.
	 */
	if (!committed && s->commit_flag) {
		uint8_t done = 0;

		if (proc_read(s->tr.mem, s->commit_flag, &done, 1) == 0 && done) {
			committed = true;
			error("process %d: the commit did finish, late: the new state is in effect "
			      "(see --list)",
			      (int)s->pid);
		} else {
			unsure = true;
			error("process %d: the commit stub may still run: its mappings are left "
			      "in place",
			      (int)s->pid);
		}
	}
	/* Without the channel, nothing can be unmapped: it all stays. */
	if (channel) {
		/* Before the commit, everything created goes; after it, only the operation. */
		for (size_t i = 0; i < s->ncreated && !unsure; i++)
			if (!committed || s->created[i].start == s->op_addr)
				session_call(s, SYS_munmap, s->created[i].start, s->created[i].size, 0,
					     0, 0, 0, NULL);
		remote_end(&s->rc);
	}
	if (s->op_fd >= 0)
		close(s->op_fd);
	tracee_resume_all(&s->tr);
	tracee_detach(&s->tr);
	maps_free(&s->m);
	return committed;
}
