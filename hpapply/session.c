/*
 * Session plumbing: the remote call channel on one stopped thread, memfd
 * regions created in the target and filled from here through
 * /proc/PID/fd, and cleanup.
 *
 * Everything created before the commit is recorded; if the session fails,
 * it is unmapped again, so the process is left exactly as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hpapply/blockers.h"
#include "hpapply/seccomp.h"
#include "hpapply/session.h"
#include "hpapply/target.h"
#include "common/cli.h"
#include "common/mem.h"

/* More than the commit stub can run: its loop is a few instructions per write. */
#define MAX_STUB_STEPS 1000000

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/*
 * Descriptors of hpapply's memory files a killed run left open in the
 * target (between creating one and closing it there).  Their names are
 * hpapply's own: nothing else in the process uses them.  The process may
 * have thousands of descriptors: they are listed before the attach, while
 * every thread runs, and only those found are looked at again after it.
 */
static const char leftover_name[] = "/memfd:hpapply";

static bool is_leftover(pid_t view, long fd)
{
	char path[64], link[sizeof(leftover_name)];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)view, fd);
	n = readlink(path, link, sizeof(link));
	return n == (ssize_t)sizeof(link) && !memcmp(link, leftover_name, sizeof(link) - 1);
}

/* Listed before the attach; a process that cannot be listed cannot be attached to either. */
static void find_leftover_fds(struct session *s)
{
	char dir[64];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)s->view);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)) && s->nleftover < MAX_LEFTOVER) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && !*end && is_leftover(s->view, fd))
			s->leftover[s->nleftover++] = fd;
	}
	closedir(d);
}

#define ARG(i) (1u << (i))

/*
 * Every system call hpapply makes in the target, with the arguments it
 * knows in advance: the remote calls of this file (memfd_create, mmap,
 * munmap, close) and those of the commit stub (arch/arch.h: openat of
 * /proc/thread-self/mem, pwrite64, close, rt_sigprocmask; the stub loads
 * 32-bit immediates, so AT_FDCWD arrives zero-extended).
 */
static const struct sc_call injected[] = {
	{"memfd_create", SYS_memfd_create, ARG(1), {0, MFD_CLOEXEC | MFD_ALLOW_SEALING}},
	/* the package's code, read+exec; its variables, a private read+write copy */
	{"mmap",
	 SYS_mmap,
	 ARG(2) | ARG(3) | ARG(5),
	 {0, 0, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE, 0, 0}},
	{"mmap",
	 SYS_mmap,
	 ARG(2) | ARG(3),
	 {0, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED_NOREPLACE}},
	/* the state record, read+write; the commit stub, read+exec; anywhere */
	{"mmap",
	 SYS_mmap,
	 ARG(0) | ARG(2) | ARG(3) | ARG(5),
	 {0, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0}},
	{"mmap",
	 SYS_mmap,
	 ARG(0) | ARG(2) | ARG(3) | ARG(5),
	 {0, 0, PROT_READ | PROT_EXEC, MAP_SHARED, 0, 0}},
	{"munmap", SYS_munmap, 0, {0}},
	{"close", SYS_close, 0, {0}},
	{"openat", SYS_openat, ARG(0) | ARG(2), {(uint32_t)AT_FDCWD, 0, O_RDWR | O_CLOEXEC}},
	{"pwrite64", SYS_pwrite64, 0, {0}},
	{"rt_sigprocmask", SYS_rt_sigprocmask, ARG(0) | ARG(2) | ARG(3), {SIG_SETMASK, 0, 0, 8}},
};

/*
 * Can thread i run hpapply's calls: stopped, and its seccomp state allows
 * them?  0 yes (it stays stopped), 1 no (why; it runs again unless
 * keep_stopped), -1 trouble.
 */
static int usable(struct session *s, size_t i, bool keep_stopped, char *why, size_t size)
{
	int r = tracee_stop(&s->tr, i);

	if (r < 0)
		return -1;
	if (r == 1) {
		snprintf(why, size, "%s", s->tr.why);
		return 1;
	}
	if (s->tr.t[i].gone)
		return 1;
	/* before anything runs in it */
	if (seccomp_check(s->pid, s->tr.t[i].tid, injected, ARRAY_SIZE(injected), why, size) == 0)
		return 0;
	if (keep_stopped)
		return 1;
	return tracee_resume(&s->tr, i) < 0 ? -1 : 1;
}

/*
 * The thread that runs the remote calls and the commit: the main thread
 * if it can be stopped and its seccomp state allows every call hpapply
 * makes (it lives as long as the process), else another one (pthread_exit
 * in main, or the main thread held in the kernel).
 */
static enum outcome pick_caller(struct session *s)
{
	size_t order0 = s->tr.n;
	char why[sizeof(s->tr.why) + 256] = "";

	for (size_t i = 0; i < s->tr.n; i++)
		if (s->tr.t[i].tid == s->pid)
			order0 = i;
	for (size_t k = 0; k <= s->tr.n; k++) {
		size_t i = k == 0 ? order0 : k - 1;
		char w[sizeof(why)] = "";
		int r;

		if (i >= s->tr.n || (k > 0 && i == order0))
			continue;
		r = usable(s, i, false, w, sizeof(w));
		if (r < 0)
			return OUTCOME_TROUBLE;
		if (r == 0) {
			s->caller = i;
			return OUTCOME_OK;
		}
		if (!why[0] && w[0])
			snprintf(why, sizeof(why), "%s", w);
	}
	if (tracee_exited(&s->tr))
		return OUTCOME_TROUBLE;
	if (why[0]) {
		error("process %d: refused: no thread of it can run hpapply's system calls: %s",
		      (int)s->pid, why);
		return OUTCOME_REFUSED;
	}
	error("process %d: no thread to work with", (int)s->pid);
	return OUTCOME_TROUBLE;
}

int session_new_caller(struct session *s, bool keep_stopped)
{
	char why[sizeof(s->tr.why) + 256] = "";

	s->rc.ready = false; /* the old caller's channel: its stub stays in the slack */
	for (size_t i = 0; i < s->tr.n; i++) {
		int r;

		if (i == s->caller || s->tr.t[i].gone)
			continue;
		r = usable(s, i, keep_stopped, why, sizeof(why));
		if (r < 0)
			return -1;
		if (r == 0) {
			s->caller = i;
			return remote_begin(&s->rc, &s->tr, s->caller, s->rc.stub);
		}
	}
	if (tracee_exited(&s->tr))
		return -1;
	return error("process %d: the thread hpapply worked through has ended, and no other can "
		     "take its place%s%s",
		     (int)s->pid, why[0] ? ": " : "", why);
}

enum outcome session_open(struct session *s, pid_t pid, const char *doing)
{
	enum outcome out;
	char why[512];
	uint64_t slack;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->view = proc_view(pid);
	s->op_fd = -1;
	/* known without stopping anything: refused before the attach */
	if (blockers_frozen(pid, s->view, why, sizeof(why)) != BLOCK_NONE) {
		error("process %d: refused: %s", (int)pid, why);
		return OUTCOME_REFUSED;
	}
	find_leftover_fds(s);
	if (tracee_attach(&s->tr, pid, s->view, doing) < 0)
		return OUTCOME_TROUBLE;
	out = pick_caller(s);
	if (out != OUTCOME_OK)
		return out;
	if (proc_maps(s->view, &s->m) < 0) {
		if (!tracee_exited(&s->tr))
			error("process %d: cannot read its mappings: %s", (int)pid,
			      strerror(errno));
		return OUTCOME_TROUBLE;
	}
	if (target_slack(s->view, s->tr.mem, &s->m, REMOTE_AREA, &slack) < 0)
		return OUTCOME_TROUBLE;
	if (remote_begin(&s->rc, &s->tr, s->caller, slack) < 0)
		return OUTCOME_TROUBLE;
	/* From here on s->caller is a valid thread and s->rc.stub the slack. */
	s->opened = true;
	return OUTCOME_OK;
}

int session_call(struct session *s, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		 uint64_t a4, uint64_t a5, long *ret)
{
	uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
	long r;

	if (!s->rc.ready)
		return error("process %d: no remote call channel", (int)s->pid);
	if (remote_call(&s->rc, nr, a, &r) < 0)
		return -1;
	if (ret)
		*ret = r;
	return 0;
}

/* The error of a call's result (-errno), or 0 if it did not fail. */
static int call_error(long r)
{
	return r < 0 && r > -4096 ? (int)-r : 0;
}

/*
 * The remote channel must be open; reopen it on the caller after a commit.
 * The caller may still be on the last instructions of the commit stub
 * (restoring registers): step it, alone and with its signals blocked, to
 * the stub's tail, and do what the tail does from here; the operation
 * region is about to be unmapped.
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
	switch (tracee_stop(&s->tr, s->caller)) {
	case 0:
		break;
	case 1:
		return error("process %d: thread %d cannot be stopped again: %s", (int)s->pid,
			     (int)t->tid, s->tr.why);
	default:
		return -1;
	}
	for (int steps = 0;; steps++) {
		uint64_t pc;

		/* ended (pthread_exit): another thread takes the channel */
		if (t->gone)
			return session_new_caller(s, false);
		pc = arch_pc(&t->regs);
		if (!s->op_addr || pc < s->op_addr || pc >= s->op_addr + s->op_size) {
			/*
			 * Out of the stub: its tail put the thread's own mask
			 * back, and the thread may have changed it since (the
			 * end of a signal handler it was in): leave it alone.
			 */
			tracee_mask_restored(&s->tr, s->caller);
			break;
		}
		if (pc >= s->op_tail) {
			/*
			 * The stub's work is done, perhaps its own mask put back
			 * already: a signal may stop it here again and again.
			 * What is left is what it restores: do it from here.
			 */
			if (tracee_unmask_signals(&s->tr, s->caller) < 0)
				return -1;
			t->regs = t->resume = s->op_resume;
			t->dirty = true;
			break;
		}
		if (steps == MAX_STUB_STEPS)
			return error("process %d: thread %d does not leave the commit stub",
				     (int)s->pid, (int)t->tid);
		/*
		 * Before its tail, its signals are still blocked: no handler
		 * can run on the stub.  It goes one instruction at a time: a
		 * stop requested while it was already stopped would otherwise
		 * stop it again before it runs any.
		 */
		if (tracee_step_held(&s->tr, s->caller) < 0)
			return -1;
	}
	return remote_begin(&s->rc, &s->tr, s->caller, s->rc.stub);
}

int session_memfd(struct session *s, const char *name, const uint8_t *data, size_t len, bool seal,
		  bool keep_local, long *tfd, int *lfd)
{
	char path[64];
	int fd, err;

	*lfd = -1;
	if (strlen(name) + 1 > s->rc.scratch_len)
		return error("memfd name too long: %s", name);
	if (proc_write(s->tr.mem, s->rc.scratch, name, strlen(name) + 1) < 0)
		return error("process %d: creating memory for %s: cannot write its name at 0x%llx: "
			     "%s",
			     (int)s->pid, name, (unsigned long long)s->rc.scratch, strerror(errno));
	if (session_call(s, SYS_memfd_create, s->rc.scratch, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0, 0,
			 0, 0, tfd) < 0)
		return -1;
	if ((err = call_error(*tfd)))
		return error("process %d: creating memory for %s: memfd_create failed in it: %s",
			     (int)s->pid, name, strerror(err));
	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)s->view, *tfd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    (len && pwrite(fd, data, len, 0) != (ssize_t)len) ||
	    (seal && fcntl(fd, F_ADD_SEALS,
			   F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)) {
		/* a short write sets no errno */
		int saved = fd >= 0 && errno == 0 ? ENOSPC : errno;

		if (fd >= 0)
			close(fd);
		session_call(s, SYS_close, (uint64_t)*tfd, 0, 0, 0, 0, 0, NULL);
		return error("process %d: cannot fill memory for %s through %s: %s", (int)s->pid,
			     name, path, strerror(saved));
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
	int err;

	if (at)
		flags |= MAP_FIXED_NOREPLACE;
	if (session_call(s, SYS_mmap, at, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)tfd,
			 offset, &r) < 0)
		return -1;
	if ((err = call_error(r)))
		return error("process %d: cannot map %llu bytes at 0x%llx: mmap failed in it: %s",
			     (int)s->pid, (unsigned long long)len, (unsigned long long)at,
			     strerror(err));
	if ((at && (uint64_t)r != at) || s->ncreated == MAX_CREATED) {
		session_call(s, SYS_munmap, (uint64_t)r, len, 0, 0, 0, 0, NULL);
		if (s->ncreated == MAX_CREATED)
			return error("process %d: more than %d mappings to create", (int)s->pid,
				     MAX_CREATED);
		return error("process %d: 0x%llx is taken", (int)s->pid, (unsigned long long)at);
	}
	s->created[s->ncreated++] = (struct region){(uint64_t)r, len};
	*got = (uint64_t)r;
	return 0;
}

int session_unmap(struct session *s, uint64_t start, uint64_t len)
{
	long r = 0;
	int err;

	if (ensure_channel(s) < 0 || session_call(s, SYS_munmap, start, len, 0, 0, 0, 0, &r) < 0)
		return -1;
	if ((err = call_error(r)))
		return error("process %d: cannot unmap 0x%llx: munmap failed in it: %s",
			     (int)s->pid, (unsigned long long)start, strerror(err));
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

static int close_leftover_fds(struct session *s)
{
	for (size_t i = 0; i < s->nleftover; i++) {
		long fd = s->leftover[i], r = 0;

		/* still ours now that the process is held (a run may have ended meanwhile) */
		if (!is_leftover(s->view, fd))
			continue;
		if (session_call(s, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0, &r) < 0)
			return -1;
		if (call_error(r) && call_error(r) != EBADF)
			return error("process %d: cannot close descriptor %ld: close failed in it: "
				     "%s",
				     (int)s->pid, fd, strerror(call_error(r)));
	}
	return 0;
}

int session_sweep(struct session *s, const struct state *st, uint64_t st_at)
{
	if (close_leftover_fds(s) < 0)
		return -1;
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
	bool channel = s->opened && !s->rc.in_flight && !s->tr.exited &&
		       (s->rc.ready || ensure_channel(s) == 0);
	bool unsure = false;

	/*
	 * A commit that was started but not seen to finish (it timed out, or
	 * the wait for it failed) may have finished since: the stub's last
	 * memory write is the flag.  1: the new state is in effect and the
	 * redirects point into what was created: keep it.  2: the stub ended
	 * after writing only some redirects, which may point into what was
	 * created; 0: the stub may still run.  Either way unmap nothing; the
	 * next run sweeps whatever ends up unused.
	 */
	if (!committed && s->commit_flag && !s->tr.exited) {
		uint8_t done = 0;

		if (proc_read(s->tr.mem, s->commit_flag, &done, 1) == 0 && done == 1) {
			committed = true;
			error("process %d: the commit did finish, late: the new state is in effect "
			      "(see --list)",
			      (int)s->pid);
		} else {
			/* 2: it ended having written part of its redirects into what was created */
			unsure = true;
			error(done == 2 ? "process %d: the redirects written point into new code: "
					  "its "
					  "mappings are left in place"
					: "process %d: the commit stub may still run: its mappings "
					  "are "
					  "left in place",
			      (int)s->pid);
		}
	}
	/* Without the channel, nothing can be unmapped: it all stays. */
	if (channel) {
		/* Before the commit, everything created goes; after it, only the operation. */
		for (size_t i = 0; i < s->ncreated && !unsure; i++)
			if (!committed || s->created[i].start == s->op_addr)
				session_call(s, SYS_munmap, s->created[i].start, s->created[i].size,
					     0, 0, 0, 0, NULL);
		remote_end(&s->rc);
	}
	if (s->op_fd >= 0)
		close(s->op_fd);
	tracee_resume_all(&s->tr);
	tracee_detach(&s->tr);
	maps_free(&s->m);
	return committed;
}
