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
#include <pthread.h>
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

#include "hpapply/blockers.h"
#include "hpapply/proc.h"
#include "hpapply/ptrace.h"
#include "common/cli.h"
#include "common/mem.h"

#define SEC ((int64_t)1000 * 1000 * 1000)
#define MS  ((int64_t)1000 * 1000)
/* The commit stub takes microseconds; this is for a thread kept from running it. */
#define COMMIT_TIMEOUT_NS (5 * SEC)
/* A runnable thread stops within a few scheduling periods, even on a loaded machine. */
#define STOP_TIMEOUT_NS (1 * SEC)
/* After this long, a thread that has not stopped is asked why (blockers.h). */
#define STOP_ASK_NS (20 * MS)
/* A system call hpapply runs in the target: mmap, close, memfd_create. */
#define CALL_TIMEOUT_NS (2 * SEC)
/* The longest sleep between looks when no SIGCHLD comes (one could go to another thread). */
#define POLL_NS (2 * MS)

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * SEC + t.tv_nsec;
}

/*
 * Sleep until the kernel's SIGCHLD says a tracee stopped or ended, for
 * at most ns (and POLL_NS).  SIGCHLD is blocked while attached, so one
 * that came since the last look is still pending: nothing is missed.
 */
static void await_event(int64_t ns)
{
	sigset_t set;
	struct timespec ts;

	if (ns <= 0)
		return;
	if (ns > POLL_NS)
		ns = POLL_NS;
	ts.tv_sec = (time_t)(ns / SEC);
	ts.tv_nsec = (long)(ns % SEC);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigtimedwait(&set, NULL, &ts);
}

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

bool tracee_exited(struct tracee *tr)
{
	if (tr->exited && !tr->exit_said) {
		tr->exit_said = true;
		error("process %d exited during %s", (int)tr->pid, tr->doing);
	}
	return tr->exited;
}

/*
 * Thread t has ended, its end reaped (or no longer ours), or it is a
 * zombie whose end cannot be reaped yet.  A leader's end reaped means the
 * whole process has ended: the kernel reports a traced leader's end only
 * after every other thread's.  A leader that is a zombie may have called
 * pthread_exit while the others run on.
 */
static void thread_ended(struct tracee *tr, struct thread *t, bool reaped)
{
	t->gone = true;
	t->attached = t->stopped = t->interrupted = false;
	if (!tr->exited && ((reaped && t->tid == tr->pid) || proc_ended(tr->pid)))
		tr->exited = true;
}

static void thread_gone(struct tracee *tr, struct thread *t)
{
	thread_ended(tr, t, true);
}

/*
 * A thread that does not stop may have ended without its end being
 * reported yet (a leader that called pthread_exit stays a zombie until
 * the last thread ends): it runs no code any more; true if so.
 */
static bool ended_unreaped(struct tracee *tr, struct thread *t)
{
	char st = proc_thread_state(tr->pid, t->tid);

	if (st && st != 'Z' && st != 'X' && st != 'x')
		return false;
	thread_ended(tr, t, false);
	return true;
}

/*
 * Reap thread t if it has ended; a stop it has to report stays queued
 * (WNOWAIT looks without taking).  True if it has ended.
 */
static bool reap_if_ended(struct tracee *tr, struct thread *t)
{
	siginfo_t si;
	int st;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)t->tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0) {
		if (errno != ECHILD)
			return false;
		thread_gone(tr, t);
		return true;
	}
	if (si.si_pid != t->tid ||
	    (si.si_code != CLD_EXITED && si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED))
		return false;
	waitpid(t->tid, &st, __WALL | WNOHANG);
	thread_gone(tr, t);
	return true;
}

/* Reap every other attached thread that has ended. */
static void reap_others(struct tracee *tr, const struct thread *except)
{
	for (size_t k = 0; k < tr->n; k++)
		if (&tr->t[k] != except && tr->t[k].attached && !tr->t[k].gone)
			reap_if_ended(tr, &tr->t[k]);
}

/*
 * Wait for thread t to report a stop (0, status in *st) or its end (1),
 * until `deadline` (2).  Meanwhile the ends of the other threads are
 * reaped: a traced thread that ended stays a zombie until its tracer
 * waits for it, and a traced leader's end (the whole process's, after
 * _exit in one thread) is reported only once all the others were reaped,
 * so waiting for the leader alone would wait forever.
 */
static int wait_thread(struct tracee *tr, struct thread *t, int *st, int64_t deadline)
{
	for (bool woke = false;; woke = true) {
		pid_t w = waitpid(t->tid, st, __WALL | WNOHANG);
		int64_t left;

		if (w < 0 && errno == EINTR)
			continue;
		if (w == t->tid && WIFSTOPPED(*st)) {
			t->interrupted = false;
			return 0;
		}
		if (w != 0) { /* ended (reaped now), or not ours any more (ECHILD) */
			thread_gone(tr, t);
			return 1;
		}
		if (woke)
			reap_others(tr, t);
		left = deadline - now_ns();
		if (left <= 0)
			return 2;
		await_event(left);
	}
}

bool tracee_check_exited(struct tracee *tr)
{
	if (!tr->pid)
		return false; /* never attached */
	if (!tr->exited) {
		reap_others(tr, NULL);
		if (!tr->exited && proc_ended(tr->pid))
			tr->exited = true;
	}
	return tracee_exited(tr);
}

/* Seize threads that are not attached yet; true in *more if any were new. */
static int seize_new(struct tracee *tr, bool *more)
{
	pid_t *tids;
	size_t n;

	*more = false;
	if (proc_tasks(tr->pid, &tids, &n) < 0) {
		if (errno == ENOENT || errno == ESRCH) {
			tr->exited = true;
			tracee_exited(tr);
			return -1;
		}
		return error("process %d: cannot list its threads: %s", (int)tr->pid,
			     strerror(errno));
	}
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t k = 0; k < tr->n && !known; k++)
			known = tr->t[k].tid == tids[i];
		if (known)
			continue;
		if (ptrace(PTRACE_SEIZE, tids[i], 0, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
			int err = errno;
			pid_t tid = tids[i];
			char st = proc_thread_state(tr->pid, tid);

			/* a thread in the middle of exiting refuses to be traced: let it go */
			if (err == ESRCH || (err == EPERM && (!st || st == 'Z' || st == 'X')))
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

int tracee_attach(struct tracee *tr, pid_t pid, pid_t view, const char *doing)
{
	sigset_t chld;
	bool more;

	memset(tr, 0, sizeof(*tr));
	tr->pid = pid;
	tr->view = view;
	tr->doing = doing;
	tr->mem = -1;
	if (!proc_alive(pid))
		return error("process %d: no such process", (int)pid);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &chld, &tr->saved_mask) == 0)
		tr->mask_saved = true;
	tr->mem = proc_mem_open(view);
	if (tr->mem < 0 && (errno == ENOENT || errno == ESRCH || proc_ended(pid)))
		return error("process %d: no such process", (int)pid);
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
 * Thread t reported stop status st: it is stopped; record its registers.
 * `stepping`: the trap that ends a single step is no signal to hold.
 * 1 if it ended meanwhile (killed while stopped).
 */
static int got_stop(struct tracee *tr, struct thread *t, int st, bool stepping)
{
	/* A signal that arrived first is delivered when the thread resumes. */
	if ((st >> 16) == 0 && WSTOPSIG(st) != (SIGTRAP | 0x80) && !(stepping && step_trap(t, st)))
		hold_signal(t, WSTOPSIG(st));
	t->event_stop = (st >> 16) != 0;
	t->stopped = true;
	if (get_regs(t->tid, &t->regs) < 0) {
		if (errno == ESRCH && reap_if_ended(tr, t))
			return 1;
		return error("process %d: thread %d: cannot read registers: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	}
	arch_resume_state(&t->regs, &t->resume);
	t->dirty = false;
	return 0;
}

/*
 * Why thread t has not stopped after `waited` ns: a reason in tr->why
 * and true if it is held where it cannot stop (or the time is up).
 */
static bool cannot_stop(struct tracee *tr, const struct thread *t, int64_t waited)
{
	char comm[32];

	if (blockers_frozen(tr->pid, tr->view, tr->why, sizeof(tr->why)) != BLOCK_NONE ||
	    blockers_thread(tr->pid, t->tid, tr->why, sizeof(tr->why)) != BLOCK_NONE)
		return true;
	if (waited < STOP_TIMEOUT_NS)
		return false;
	snprintf(tr->why, sizeof(tr->why), "thread %d (%s) did not stop within %lld ms (state %c)",
		 (int)t->tid, proc_comm(tr->pid, t->tid, comm, sizeof(comm)),
		 (long long)(STOP_TIMEOUT_NS / MS), proc_thread_state(tr->pid, t->tid));
	return true;
}

/*
 * Collect the stops of every interrupted thread; 0 when all are stopped
 * (or gone), 1 when one cannot stop (tr->why), -1 after a message.  Ended
 * threads are reaped on the way.
 */
static int collect_stops(struct tracee *tr)
{
	int64_t start = now_ns(), ask = start + STOP_ASK_NS;

	for (bool woke = false;; woke = true) {
		const struct thread *late = NULL;

		for (size_t i = 0; i < tr->n; i++) {
			struct thread *t = &tr->t[i];
			int st;
			pid_t w;

			if (!t->attached || t->gone)
				continue;
			if (t->stopped) {
				/* a stopped thread dies too when another calls _exit */
				if (woke)
					reap_if_ended(tr, t);
				continue;
			}
			w = waitpid(t->tid, &st, __WALL | WNOHANG);
			if (w == t->tid && WIFSTOPPED(st)) {
				t->interrupted = false;
				if (got_stop(tr, t, st, false) < 0)
					return -1;
			} else if (w != 0 && !(w < 0 && errno == EINTR)) {
				thread_gone(tr, t);
			} else if (!late) {
				late = t;
			}
		}
		if (tracee_exited(tr))
			return -1;
		if (!late)
			return 0;
		if (now_ns() >= ask) {
			/* the ones that ended, unreaped, run no code: nothing to wait for */
			late = NULL;
			for (size_t i = 0; i < tr->n; i++) {
				struct thread *t = &tr->t[i];

				if (t->attached && !t->gone && !t->stopped &&
				    !ended_unreaped(tr, t) && !late)
					late = t;
			}
			if (tracee_exited(tr))
				return -1;
			if (!late)
				return 0;
			if (cannot_stop(tr, late, now_ns() - start))
				return 1;
			ask = now_ns() + STOP_ASK_NS / 2;
		}
		await_event(ask - now_ns());
	}
}

static void interrupt(struct tracee *tr, struct thread *t)
{
	if (t->stopped || t->gone || t->interrupted)
		return;
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0)
		t->interrupted = true;
	else if (errno == ESRCH)
		reap_if_ended(tr, t); /* ended, or ending: its end is reaped when it comes */
}

int tracee_stop(struct tracee *tr, size_t i)
{
	struct thread *t = &tr->t[i];
	int64_t start = now_ns();

	if (t->stopped || t->gone)
		return 0;
	if (blockers_thread(tr->pid, t->tid, tr->why, sizeof(tr->why)) != BLOCK_NONE)
		return 1; /* not even asked: it would stop only when that ends */
	interrupt(tr, t);
	for (;;) {
		int st, r = wait_thread(tr, t, &st, now_ns() + STOP_ASK_NS);

		if (r == 0)
			return got_stop(tr, t, st, false) < 0 ? -1 : 0;
		if (r == 1)
			return tracee_exited(tr) ? -1 : 0;
		if (ended_unreaped(tr, t))
			return tracee_exited(tr) ? -1 : 0;
		if (cannot_stop(tr, t, now_ns() - start))
			return 1;
	}
}

int tracee_stop_all(struct tracee *tr)
{
	bool more = true;

	/* Interrupt everyone first, then collect: the stops overlap. */
	while (more) {
		int r;

		for (size_t i = 0; i < tr->n; i++)
			interrupt(tr, &tr->t[i]);
		r = collect_stops(tr);
		if (r != 0)
			return r;
		/* A thread may have been created while we stopped the others. */
		if (seize_new(tr, &more) < 0)
			return -1;
	}
	return 0;
}
int tracee_step_held(struct tracee *tr, size_t i)
{
	struct thread *t = &tr->t[i];
	bool had_tf = arch_step_flag(&t->resume);
	int st, r;

	if (!t->stopped || t->gone)
		return 0;
	if (t->dirty && set_regs(t->tid, &t->resume) < 0)
		return error("process %d: thread %d: cannot restore registers: %s", (int)tr->pid,
			     (int)t->tid, strerror(errno));
	if (ptrace(PTRACE_SINGLESTEP, t->tid, 0, 0) < 0) {
		if (errno == ESRCH && reap_if_ended(tr, t))
			return tracee_exited(tr) ? -1 : 0;
		return error("process %d: thread %d: cannot step it: %s", (int)tr->pid, (int)t->tid,
			     strerror(errno));
	}
	t->stopped = false;
	t->dirty = false;
	r = wait_thread(tr, t, &st, now_ns() + STOP_TIMEOUT_NS);
	if (r == 1)
		return tracee_exited(tr) ? -1 : 0;
	if (r == 2) {
		/* one instruction did not end: it is held in the kernel (frozen?) */
		if (!cannot_stop(tr, t, STOP_TIMEOUT_NS))
			snprintf(tr->why, sizeof(tr->why), "it does not come back");
		return error("process %d: thread %d: a single step did not end within %lld ms: %s",
			     (int)tr->pid, (int)t->tid, (long long)(STOP_TIMEOUT_NS / MS), tr->why);
	}
	if (got_stop(tr, t, st, true) < 0)
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

/* A thread asked to stop that has stopped since, with no one waiting: collect it. */
static void collect_late(struct tracee *tr, struct thread *t)
{
	int st;
	pid_t w;

	if (!t->interrupted || t->stopped || t->gone)
		return;
	w = waitpid(t->tid, &st, __WALL | WNOHANG);
	if (w == t->tid && WIFSTOPPED(st)) {
		t->interrupted = false;
		got_stop(tr, t, st, false);
	} else if (w != 0) {
		thread_gone(tr, t);
	}
}

static int resume(struct tracee *tr, struct thread *t, bool deliver)
{
	collect_late(tr, t);
	if (!t->stopped || t->gone)
		return 0;
	/* a thread let go runs with its own mask (tracee_step_held keeps it blocked) */
	if (deliver && t->masked && tracee_unmask_signals(tr, (size_t)(t - tr->t)) < 0)
		return -1;
	if (t->dirty && set_regs(t->tid, &t->resume) < 0 && errno != ESRCH)
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

int tracee_resume(struct tracee *tr, size_t i)
{
	return resume(tr, &tr->t[i], true);
}

int tracee_resume_all(struct tracee *tr)
{
	int ret = 0;

	for (size_t i = 0; i < tr->n; i++)
		if (resume(tr, &tr->t[i], true) < 0)
			ret = -1;
	return ret;
}

/* Reap the ends of the threads of a process that exited, for a while. */
static void reap_all(struct tracee *tr)
{
	int64_t deadline = now_ns() + STOP_TIMEOUT_NS;

	for (;;) {
		bool left = false;

		for (size_t i = 0; i < tr->n; i++)
			if (tr->t[i].attached && !tr->t[i].gone && !reap_if_ended(tr, &tr->t[i]))
				left = true;
		if (!left || now_ns() >= deadline)
			return;
		await_event(deadline - now_ns());
	}
}

void tracee_detach(struct tracee *tr)
{
	for (size_t i = 0; i < tr->n && !tr->exited; i++) {
		struct thread *t = &tr->t[i];

		collect_late(tr, t);
		if (!t->attached || t->gone)
			continue;
		/* PTRACE_DETACH wants a stopped tracee: one held in the kernel stays attached */
		if (!t->stopped && tracee_stop(tr, i) != 0)
			continue;
		if (t->gone)
			continue;
		tracee_unmask_signals(tr, i);
		if (t->dirty)
			set_regs(t->tid, &t->resume);
		ptrace(PTRACE_DETACH, t->tid, 0, (void *)(long)deliverable(t));
		raise_held(tr, t);
		t->attached = t->stopped = false;
	}
	if (tr->exited)
		reap_all(tr);
	if (tr->mem >= 0)
		close(tr->mem);
	if (tr->mask_saved)
		pthread_sigmask(SIG_SETMASK, &tr->saved_mask, NULL);
	free(tr->t);
	tr->t = NULL;
	tr->n = tr->cap = 0;
	tr->mem = -1;
	tr->mask_saved = false;
	/* pid, and whether it exited, stay for the caller to ask */
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

/* The name of a system call hpapply runs, for messages. */
static const char *call_name(long nr)
{
	switch (nr) {
	case SYS_memfd_create:
		return "memfd_create";
	case SYS_mmap:
		return "mmap";
	case SYS_munmap:
		return "munmap";
	case SYS_close:
		return "close";
	default:
		return "system call";
	}
}

/*
 * Run the thread to its next syscall stop, into *r.  Signals are held
 * (hold_signal), not delivered: a handler would run on the stub's
 * registers, and its own system calls would look like the remote call's.
 * A thread that does not get there in time is left to finish the call
 * through the stub by itself (rc->in_flight).
 */
static int run_to_syscall_stop(struct remote *rc, long nr, regs_t *r)
{
	struct tracee *tr = rc->tr;
	struct thread *t = &tr->t[rc->thread];
	int64_t deadline = now_ns() + CALL_TIMEOUT_NS;
	int st;

	for (;;) {
		int w;

		if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0) {
			if (errno == ESRCH && reap_if_ended(tr, t) && tracee_exited(tr))
				return -1;
			return error("process %d: thread %d: cannot run the %s: %s", (int)tr->pid,
				     (int)t->tid, call_name(nr), strerror(errno));
		}
		t->stopped = false;
		w = wait_thread(tr, t, &st, deadline);
		if (w == 1) {
			if (tracee_exited(tr))
				return -1;
			return error("process %d: thread %d ended during the %s hpapply ran in it",
				     (int)tr->pid, (int)t->tid, call_name(nr));
		}
		if (w == 2) {
			/* the stub puts its registers back by itself: leave them */
			rc->in_flight = true;
			t->dirty = false;
			if (!cannot_stop(tr, t, STOP_TIMEOUT_NS))
				snprintf(tr->why, sizeof(tr->why), "it does not come back");
			return error(
				"process %d: thread %d did not finish the %s hpapply ran in it "
				"within %lld ms (%s); it finishes it by itself when it can",
				(int)tr->pid, (int)t->tid, call_name(nr),
				(long long)(CALL_TIMEOUT_NS / MS), tr->why);
		}
		t->stopped = true;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			t->event_stop = false; /* a signal can be injected from a syscall stop */
			break;
		}
		/* a signal-delivery stop: hold the signal; other stops: go on */
		if ((st >> 16) == 0)
			hold_signal(t, WSTOPSIG(st));
	}
	if (get_regs(t->tid, r) < 0)
		return error("process %d: thread %d: cannot read registers: %s", (int)tr->pid,
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
			if (run_to_syscall_stop(rc, nr, &r) < 0)
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
	if (!rc->ready || rc->in_flight)
		return 0;
	rc->ready = false;
	if (proc_write(rc->tr->mem, rc->stub, rc->saved, rc->saved_len) < 0) {
		if (tracee_check_exited(rc->tr))
			return -1;
		return error("process %d: cannot restore the bytes at 0x%llx under hpapply's "
			     "system call stub: %s",
			     (int)rc->tr->pid, (unsigned long long)rc->stub, strerror(errno));
	}
	return 0;
}

int remote_commit(struct remote *rc, uint64_t at, uint64_t flag)
{
	struct thread *t = &rc->tr->t[rc->thread];
	int64_t deadline;
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
	deadline = now_ns() + COMMIT_TIMEOUT_NS;
	for (;;) {
		int st;
		pid_t w;

		/* the flag first: a thread that ends right after the commit still did it */
		if (proc_read(rc->tr->mem, flag, &done, 1) < 0) {
			reap_others(rc->tr, NULL);
			if (tracee_exited(rc->tr))
				return -1;
			return error("process %d: cannot read the commit flag: %s",
				     (int)rc->tr->pid, strerror(errno));
		}
		if (done)
			return done == 1 ? 0 : 1;
		w = waitpid(t->tid, &st, __WALL | WNOHANG);
		if (w == t->tid && WIFSTOPPED(st)) {
			/* a signal arrived while committing: hold it */
			if ((st >> 16) == 0)
				hold_signal(t, WSTOPSIG(st));
			ptrace(PTRACE_CONT, t->tid, 0, 0);
		} else if (w != 0 && !(w < 0 && errno == EINTR)) {
			thread_gone(rc->tr, t);
			if (proc_read(rc->tr->mem, flag, &done, 1) == 0 && done)
				return done == 1 ? 0 : 1;
			if (tracee_exited(rc->tr))
				return -1;
			return error("process %d: thread %d ended during the commit",
				     (int)rc->tr->pid, (int)t->tid);
		}
		if (now_ns() > deadline) {
			if (!cannot_stop(rc->tr, t, COMMIT_TIMEOUT_NS))
				snprintf(rc->tr->why, sizeof(rc->tr->why), "it does not come back");
			return error(
				"process %d: thread %d did not finish the commit within %lld ms "
				"(%s)",
				(int)rc->tr->pid, (int)t->tid, (long long)(COMMIT_TIMEOUT_NS / MS),
				rc->tr->why);
		}
		/* the stub takes microseconds: yield rather than sleep (timer slack is 50 us) */
		sched_yield();
	}
}
