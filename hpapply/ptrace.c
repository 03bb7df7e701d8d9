/*
 * Threads of the target under ptrace, and system calls run inside it.
 *
 * Remote calls go through the syscall stub (arch/arch.h): the thread's
 * registers are pointed at it with the call's arguments, and its resume
 * state is baked into the stub.  hpapply watches the call's entry and exit
 * (PTRACE_SYSCALL) and then puts the resume state back itself; if hpapply
 * is killed at any moment in between, the thread runs the rest of the stub
 * and resumes exactly where it was stopped.
 */
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hpapply/proc.h"
#include "hpapply/ptrace.h"
#include "common/cli.h"
#include "common/mem.h"

#define COMMIT_TIMEOUT_NS (5ull * 1000 * 1000 * 1000)

/*
 * A thread's general registers, as the architecture's regs_t lays them out
 * (the NT_PRSTATUS register set: PTRACE_GETREGS exists on some machines only).
 */
static long get_regs(pid_t tid, regs_t *r)
{
	struct iovec io = {r, sizeof(*r)};

	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &io);
}

static long set_regs(pid_t tid, const regs_t *r)
{
	struct iovec io = {(void *)r, sizeof(*r)};

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &io);
}

static int add_thread(struct tracee *tr, pid_t tid)
{
	if (grow_array(&tr->t, &tr->cap, tr->n, sizeof(*tr->t), 16) < 0)
		return -1;
	memset(&tr->t[tr->n], 0, sizeof(tr->t[0]));
	tr->t[tr->n].tid = tid;
	tr->n++;
	return 0;
}

/* Is the thread gone, or a zombie or dead task on its way out? */
static bool thread_exiting(pid_t pid, pid_t tid)
{
	char path[64], buf[256], *state;
	FILE *f;
	bool exiting = true;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (state = strrchr(buf, ')')) && state[1] == ' ')
		exiting = state[2] == 'Z' || state[2] == 'X' || state[2] == 'x';
	fclose(f);
	return exiting;
}

/* Seize threads that are not attached yet; true in *more if any were new. */
static int seize_new(struct tracee *tr, bool *more)
{
	pid_t *tids;
	size_t n;

	*more = false;
	if (proc_tasks(tr->pid, &tids, &n) < 0)
		return error("process %d: %s", (int)tr->pid, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t k = 0; k < tr->n && !known; k++)
			known = tr->t[k].tid == tids[i];
		if (known)
			continue;
		if (ptrace(PTRACE_SEIZE, tids[i], 0, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
			int err = errno;
			pid_t tid = tids[i];

			/* a thread in the middle of exiting refuses to be traced: let it go */
			if (err == ESRCH || (err == EPERM && thread_exiting(tr->pid, tid)))
				continue;
			free(tids);
			return error("process %d: cannot attach to thread %d: %s%s", (int)tr->pid,
				     (int)tid, strerror(err),
				     err == EPERM ? " (traced by a debugger, or not permitted)"
						  : "");
		}
		if (add_thread(tr, tids[i]) < 0) {
			free(tids);
			return -1;
		}
		tr->t[tr->n - 1].attached = true;
		*more = true;
	}
	free(tids);
	return 0;
}

int tracee_attach(struct tracee *tr, pid_t pid)
{
	bool more;

	memset(tr, 0, sizeof(*tr));
	tr->pid = pid;
	tr->mem = -1;
	if (!proc_alive(pid))
		return error("process %d: no such process", (int)pid);
	tr->mem = proc_mem_open(pid);
	if (tr->mem < 0)
		return error("process %d: cannot open its memory: %s", (int)pid, strerror(errno));
	return seize_new(tr, &more);
}

/*
 * A signal arrived while the thread was stopped or ran hpapply's code: hold
 * it, to be delivered when the thread resumes (t->pending), or raised again
 * then if a different one is already pending.  Handlers never run on the
 * stubs.
 */
static void hold_signal(struct thread *t, int sig)
{
	if (!t->pending)
		t->pending = sig;
	else if (sig != t->pending && sig >= 1 && sig <= 64)
		t->held |= 1ull << (sig - 1);
}

/* Queue the held signals again, once the thread resumes or is detached. */
static void raise_held(struct tracee *tr, struct thread *t)
{
	for (int sig = 1; t->held && sig <= 64; sig++)
		if (t->held & (1ull << (sig - 1))) {
			syscall(SYS_tgkill, (int)tr->pid, (int)t->tid, sig);
			t->held &= ~(1ull << (sig - 1));
		}
}

/* Is this SIGTRAP stop the kernel's, after a single step (not a signal someone sent)? */
static bool step_trap(const struct thread *t, int st)
{
	siginfo_t si;

	return WSTOPSIG(st) == SIGTRAP && ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) == 0 &&
	       si.si_code > 0;
}

/*
 * Wait for tid to stop; records registers.  1 if the thread is gone.
 * `stepping`: the trap that ends a single step is no signal to hold.
 */
static int wait_stopped_as(struct tracee *tr, struct thread *t, bool stepping)
{
	int st;

	for (;;) {
		pid_t w = waitpid(t->tid, &st, __WALL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			t->gone = true;
			t->attached = t->stopped = false;
			return 1;
		}
		if (WIFSTOPPED(st))
			break;
	}
	/* A signal that arrived first is delivered when the thread resumes. */
	if ((st >> 16) == 0 && WSTOPSIG(st) != (SIGTRAP | 0x80) && !(stepping && step_trap(t, st)))
		hold_signal(t, WSTOPSIG(st));
	t->event_stop = (st >> 16) != 0;
	t->stopped = true;
	if (get_regs(t->tid, &t->regs) < 0)
		return error("process %d: thread %d: cannot read registers: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	arch_resume_state(&t->regs, &t->resume);
	t->dirty = false;
	return 0;
}

static int wait_stopped(struct tracee *tr, struct thread *t)
{
	return wait_stopped_as(tr, t, false);
}

int tracee_step_held(struct tracee *tr, size_t i)
{
	struct thread *t = &tr->t[i];
	bool had_tf = arch_step_flag(&t->resume);

	if (!t->stopped || t->gone)
		return 0;
	if (t->dirty && set_regs(t->tid, &t->resume) < 0)
		return error("process %d: thread %d: cannot restore registers: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	if (ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0) < 0) {
		if (errno == ESRCH) {
			t->gone = true;
			return 0;
		}
		return error("process %d: thread %d: cannot step it: %s", (int)tr->pid, (int)t->tid,
			     strerror(errno));
	}
	t->stopped = false;
	t->dirty = false;
	if (wait_stopped_as(tr, t, true) < 0)
		return -1;
	/*
	 * The kernel hides the trace flag it set for the step, except when the
	 * instruction was a popf it did not get to run (another stop came
	 * first): then it shows, and written back it would stay set for good.
	 */
	if (!t->gone && !had_tf && arch_step_flag(&t->regs)) {
		arch_clear_step_flag(&t->regs);
		arch_clear_step_flag(&t->resume);
		t->dirty = true;
	}
	return 0;
}

int tracee_stop(struct tracee *tr, size_t i)
{
	struct thread *t = &tr->t[i];

	if (t->stopped || t->gone)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
		if (errno == ESRCH) {
			t->gone = true;
			return 0;
		}
		return error("process %d: thread %d: cannot stop it: %s", (int)tr->pid, (int)t->tid,
			     strerror(errno));
	}
	return wait_stopped(tr, t) < 0 ? -1 : 0;
}

int tracee_stop_all(struct tracee *tr)
{
	bool more = true;

	/* Interrupt everyone first, then collect: the stops overlap. */
	while (more) {
		for (size_t i = 0; i < tr->n; i++)
			if (!tr->t[i].stopped && !tr->t[i].gone &&
			    ptrace(PTRACE_INTERRUPT, tr->t[i].tid, 0, 0) < 0 && errno == ESRCH)
				tr->t[i].gone = true;
		for (size_t i = 0; i < tr->n; i++)
			if (!tr->t[i].stopped && !tr->t[i].gone && wait_stopped(tr, &tr->t[i]) < 0)
				return -1;
		/* A thread may have been created while we stopped the others. */
		if (seize_new(tr, &more) < 0)
			return -1;
	}
	return 0;
}

/*
 * A signal given to PTRACE_CONT or PTRACE_DETACH is only delivered from a
 * signal-delivery or syscall stop; from PTRACE_INTERRUPT's stop the kernel
 * drops it.  There, it is raised again instead.
 */
static int deliverable(struct thread *t)
{
	if (t->pending && t->event_stop) {
		t->held |= 1ull << (t->pending - 1);
		t->pending = 0;
	}
	return t->pending;
}

int tracee_mask_signals(struct tracee *tr, size_t i)
{
	struct thread *t = &tr->t[i];
	uint64_t all = ~0ull; /* SIGKILL and SIGSTOP stay deliverable: the kernel sees to it */

	if (t->masked)
		return 0;
	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(t->mask), &t->mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(all), &all) < 0)
		return error("process %d: thread %d: cannot block its signals: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	t->masked = true;
	return 0;
}

int tracee_unmask_signals(struct tracee *tr, size_t i)
{
	struct thread *t = &tr->t[i];

	if (!t->masked || t->gone)
		return 0;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(t->mask), &t->mask) < 0 && errno != ESRCH)
		return error("process %d: thread %d: cannot restore its signal mask: %s",
			     (int)tr->pid, (int)t->tid, strerror(errno));
	t->masked = false;
	return 0;
}

void tracee_mask_restored(struct tracee *tr, size_t i)
{
	tr->t[i].masked = false;
}

int tracee_sigmask(struct tracee *tr, size_t i, uint64_t *mask)
{
	struct thread *t = &tr->t[i];

	if (t->masked) {
		*mask = t->mask;
		return 0;
	}
	if (ptrace(PTRACE_GETSIGMASK, t->tid, sizeof(*mask), mask) < 0)
		return error("process %d: thread %d: cannot read its signal mask: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	return 0;
}

static int resume(struct tracee *tr, struct thread *t, bool deliver)
{
	if (!t->stopped || t->gone)
		return 0;
	/* a thread let go runs with its own mask (tracee_step_held keeps it blocked) */
	if (deliver && t->masked && tracee_unmask_signals(tr, (size_t)(t - tr->t)) < 0)
		return -1;
	if (t->dirty && set_regs(t->tid, &t->resume) < 0)
		return error("process %d: thread %d: cannot restore registers: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	if (ptrace(PTRACE_CONT, t->tid, 0, (void *)(long)(deliver ? deliverable(t) : 0)) < 0 &&
	    errno != ESRCH)
		return error("process %d: thread %d: cannot resume it: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	if (deliver) {
		t->pending = 0;
		raise_held(tr, t);
	}
	t->stopped = false;
	t->dirty = false;
	return 0;
}

int tracee_resume_all(struct tracee *tr)
{
	int ret = 0;

	for (size_t i = 0; i < tr->n; i++)
		if (resume(tr, &tr->t[i], true) < 0)
			ret = -1;
	return ret;
}

void tracee_detach(struct tracee *tr)
{
	for (size_t i = 0; i < tr->n; i++) {
		struct thread *t = &tr->t[i];

		if (!t->attached || t->gone)
			continue;
		/* PTRACE_DETACH wants a stopped tracee. */
		if (!t->stopped)
			tracee_stop(tr, i);
		if (t->stopped)
			tracee_unmask_signals(tr, i);
		if (t->stopped && t->dirty)
			set_regs(t->tid, &t->resume);
		ptrace(PTRACE_DETACH, t->tid, 0, (void *)(long)(t->stopped ? deliverable(t) : 0));
		if (!t->stopped && t->pending)
			t->held |= 1ull << (t->pending - 1);
		raise_held(tr, t);
		t->attached = t->stopped = false;
	}
	if (tr->mem >= 0)
		close(tr->mem);
	free(tr->t);
	memset(tr, 0, sizeof(*tr));
	tr->mem = -1;
}

/* ---- remote calls ------------------------------------------------------------- */

static int write_stub(struct remote *rc)
{
	struct thread *t = &rc->tr->t[rc->thread];
	uint8_t code[ARCH_SYSCALL_STUB_LEN];
	size_t n = arch_syscall_stub(&t->resume, code, sizeof(code));

	if (!n)
		return error("cannot assemble the syscall stub");
	if (proc_write(rc->tr->mem, rc->stub, code, n) < 0)
		return error("process %d: cannot write at 0x%llx: %s", (int)rc->tr->pid,
			     (unsigned long long)rc->stub, strerror(errno));
	return 0;
}

int remote_begin(struct remote *rc, struct tracee *tr, size_t thread, uint64_t slack)
{
	memset(rc, 0, sizeof(*rc));
	rc->tr = tr;
	rc->thread = thread;
	rc->stub = slack;
	rc->scratch = slack + ARCH_SYSCALL_STUB_LEN;
	rc->scratch_len = REMOTE_AREA - ARCH_SYSCALL_STUB_LEN;
	rc->saved_len = REMOTE_AREA;
	if (proc_read(tr->mem, slack, rc->saved, rc->saved_len) < 0)
		return error("process %d: cannot read at 0x%llx: %s", (int)tr->pid,
			     (unsigned long long)slack, strerror(errno));
	/* A stub a killed hpapply left there was written over zeros. */
	if (arch_is_syscall_stub(rc->saved, rc->saved_len))
		memset(rc->saved, 0, rc->saved_len);
	if (write_stub(rc) < 0)
		return -1;
	rc->ready = true;
	return 0;
}

/*
 * Run the thread to its next syscall stop, into *r.  Signals are held
 * (hold_signal), not delivered: a handler would run on the stub's
 * registers, and its own system calls would look like the remote call's.
 */
static int run_to_syscall_stop(struct remote *rc, regs_t *r)
{
	struct thread *t = &rc->tr->t[rc->thread];
	int st;

	for (;;) {
		pid_t w;

		if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
			return error("process %d: thread %d: %s", (int)rc->tr->pid, (int)t->tid,
				     strerror(errno));
		do
			w = waitpid(t->tid, &st, __WALL);
		while (w < 0 && errno == EINTR);
		if (w < 0 || !WIFSTOPPED(st)) {
			t->gone = true;
			return error("process %d: thread %d ended during a remote call",
				     (int)rc->tr->pid, (int)t->tid);
		}
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			t->event_stop = false; /* a signal can be injected from a syscall stop */
			break;
		}
		/* a signal-delivery stop: hold the signal; other stops: go on */
		if ((st >> 16) == 0)
			hold_signal(t, WSTOPSIG(st));
	}
	if (get_regs(t->tid, r) < 0)
		return error("process %d: thread %d: cannot read registers: %s", (int)rc->tr->pid,
			     (int)t->tid, strerror(errno));
	return 0;
}

/* Is this result the kernel's note that the call is restarted (after a signal)? */
static bool restarted(long ret)
{
	return ret == -512 || ret == -513 || ret == -514; /* ERESTARTSYS, ..NOINTR, ..NOHAND */
}

int remote_call(struct remote *rc, long nr, const uint64_t args[6], long *ret)
{
	struct thread *t = &rc->tr->t[rc->thread];
	regs_t r = t->resume;

	arch_syscall_regs(&r, rc->stub, nr, args);
	if (set_regs(t->tid, &r) < 0)
		return error("process %d: thread %d: cannot set registers: %s", (int)rc->tr->pid,
			     (int)t->tid, strerror(errno));
	t->dirty = true;
	/*
	 * Entry and exit stops, both at the stub's `syscall` with nr.  A call
	 * a (held) signal interrupted is restarted by the kernel: its exit
	 * says so, and another entry follows.
	 */
	do {
		for (int stop = 0; stop < 2; stop++) {
			if (run_to_syscall_stop(rc, &r) < 0)
				return -1;
			/* the stub begins with its system call instruction: the pc is past it */
			if (arch_pc(&r) != rc->stub + ARCH_SYSCALL_INSN_LEN ||
			    arch_syscall_nr(&r) != nr)
				return error(
					"process %d: thread %d: a system call stop that is not "
					"hpapply's (%lld at 0x%llx)",
					(int)rc->tr->pid, (int)t->tid,
					(long long)arch_syscall_nr(&r),
					(unsigned long long)arch_pc(&r));
		}
		*ret = arch_syscall_result(&r);
	} while (restarted(*ret));
	/* Back to the resume state now, rather than through the stub's tail. */
	if (set_regs(t->tid, &t->resume) < 0)
		return error("process %d: thread %d: cannot restore registers: %s",
			     (int)rc->tr->pid, (int)t->tid, strerror(errno));
	return 0;
}

int remote_end(struct remote *rc)
{
	if (!rc->ready)
		return 0;
	rc->ready = false;
	if (proc_write(rc->tr->mem, rc->stub, rc->saved, rc->saved_len) < 0)
		return error("process %d: cannot restore the bytes at 0x%llx: %s", (int)rc->tr->pid,
			     (unsigned long long)rc->stub, strerror(errno));
	return 0;
}

int remote_commit(struct remote *rc, uint64_t at, uint64_t flag)
{
	struct thread *t = &rc->tr->t[rc->thread];
	struct timespec start, now;
	regs_t r = t->resume;
	uint8_t done = 0;

	/* On the thread's stack below its red zone: the stub may push there. */
	arch_stub_regs(&r, at);
	/*
	 * Signals are blocked until the thread is out of the stub (ensure_channel
	 * puts its mask back): no handler runs on the stub, and no stream of
	 * signals keeps stopping it.  Those held already wait too.
	 */
	if (tracee_mask_signals(rc->tr, rc->thread) < 0)
		return -1;
	if (set_regs(t->tid, &r) < 0 || ptrace(PTRACE_CONT, t->tid, 0, 0) < 0) {
		int saved = errno;

		/* still stopped where it was, the stub not started: its own mask goes back */
		set_regs(t->tid, &t->resume);
		tracee_unmask_signals(rc->tr, rc->thread);
		return error("process %d: thread %d: cannot start the commit: %s", (int)rc->tr->pid,
			     (int)t->tid, strerror(saved));
	}
	t->stopped = false;
	t->dirty = false; /* the stub restores the resume state itself */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int st;
		pid_t w;

		/* the flag first: a thread that ends right after the commit still did it */
		if (proc_read(rc->tr->mem, flag, &done, 1) < 0)
			return error("process %d: cannot read the commit flag: %s",
				     (int)rc->tr->pid, strerror(errno));
		if (done)
			return done == 1 ? 0 : 1;
		w = waitpid(t->tid, &st, __WALL | WNOHANG);
		if (w == t->tid && WIFSTOPPED(st)) {
			/* a signal arrived while committing: hold it */
			if ((st >> 16) == 0)
				hold_signal(t, WSTOPSIG(st));
			ptrace(PTRACE_CONT, t->tid, 0, 0);
		} else if (w == t->tid) {
			t->gone = true;
			if (proc_read(rc->tr->mem, flag, &done, 1) == 0 && done)
				return done == 1 ? 0 : 1;
			return error("process %d: thread %d ended during the commit",
				     (int)rc->tr->pid, (int)t->tid);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)(now.tv_sec - start.tv_sec) * 1000000000ull + (uint64_t)now.tv_nsec -
			    (uint64_t)start.tv_nsec >
		    COMMIT_TIMEOUT_NS)
			return error("process %d: the commit did not finish", (int)rc->tr->pid);
		/* the stub takes microseconds: yield rather than sleep (timer slack is 50 us) */
		sched_yield();
	}
}
