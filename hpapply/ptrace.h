/*
 * Controlling the target's threads with ptrace, and running system calls
 * inside the target.
 *
 * Threads are attached with PTRACE_SEIZE and stopped with PTRACE_INTERRUPT,
 * never with SIGSTOP: if hpapply dies, the kernel detaches them and they
 * simply run on; nothing is left in a stopped state.
 */
#ifndef HPAPPLY_PTRACE_H
#define HPAPPLY_PTRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/arch.h"

struct thread {
	pid_t tid;
	bool attached, stopped, gone;
	bool interrupted; /* asked to stop (PTRACE_INTERRUPT), the stop not yet collected */
	bool dirty;	  /* registers changed: set resume before continuing */
	int pending;	  /* a signal held back, delivered on resume */
	uint64_t held;	  /* more signals held back (bit sig-1), raised again on resume */
	bool event_stop;  /* stopped by PTRACE_INTERRUPT: a signal cannot be injected there */
	bool masked;	  /* every signal blocked (tracee_mask_signals); mask: the thread's own */
	uint64_t mask;
	regs_t regs;   /* as stopped */
	regs_t resume; /* arch_resume_state(regs): what to resume with */
};

struct tracee {
	pid_t pid;
	pid_t view;	   /* whose /proc entry shows the process (proc_view) */
	const char *doing; /* "the apply", "the revert": for messages */
	struct thread *t;
	size_t n, cap;
	int mem; /* /proc/VIEW/mem */
	/* every thread has ended (the process exited) while hpapply was attached */
	bool exited, exit_said;
	/* why the last stop could not be made (tracee_stop, tracee_stop_all returned 1) */
	char why[256];
	/* SIGCHLD is blocked while attached (ptrace events are awaited with sigtimedwait) */
	sigset_t saved_mask;
	bool mask_saved;
};

/*
 * Block every signal of stopped thread i (its own mask kept), or put its
 * own mask back.  While it runs hpapply's commit stub a signal must
 * neither run a handler on top of the stub nor stop it again and again (a
 * stream of signals would keep it from ever leaving the stub); blocked,
 * they wait.
 */
int tracee_mask_signals(struct tracee *tr, size_t i);
int tracee_unmask_signals(struct tracee *tr, size_t i);
/* Thread i has put its own mask back by itself (the commit stub's tail). */
void tracee_mask_restored(struct tracee *tr, size_t i);
/* The stopped thread i's own signal mask (as it was before any blocking). */
int tracee_sigmask(struct tracee *tr, size_t i, uint64_t *mask);

/*
 * Attach to every thread of pid (not stopping them), reading it through
 * /proc/VIEW.  `doing` names the work in messages ("the apply").  -1
 * after a message.  While attached, SIGCHLD is blocked in the calling
 * thread, and consumed: every wait for a thread is bounded in time, and
 * sleeps until the kernel's SIGCHLD says a tracee stopped or ended.
 */
int tracee_attach(struct tracee *tr, pid_t pid, pid_t view, const char *doing);
/*
 * Stop every thread, attaching to any new ones first.  0 all stopped (or
 * ended); 1 a thread could not be stopped within the time allowed, or is
 * held where it cannot stop (tr->why says which and why; threads already
 * stopped stay so); -1 after a message (the process exited: see
 * tracee_exited).
 */
int tracee_stop_all(struct tracee *tr);
/* Stop one thread (index into tr->t); returns as tracee_stop_all. */
int tracee_stop(struct tracee *tr, size_t i);
/*
 * Has the process exited while attached?  The first time it says so, it
 * also says "process N exited during the apply" (once per tracee).
 */
bool tracee_exited(struct tracee *tr);
/*
 * The same, after looking: threads that ended are reaped and /proc is
 * asked.  For a failure seen elsewhere (memory that cannot be read any
 * more), before saying anything about it.
 */
bool tracee_check_exited(struct tracee *tr);
/* Resume every stopped thread with its resume state, delivering held signals. */
int tracee_resume_all(struct tracee *tr);
/* The same for thread i only. */
int tracee_resume(struct tracee *tr, size_t i);
/* Let one stopped thread run one instruction (or up to its next stop), signals held back. */
int tracee_step_held(struct tracee *tr, size_t i);
/*
 * Detach from every thread (resuming any still stopped) and reap the
 * threads that ended.  A thread that cannot be stopped to be detached
 * (PTRACE_DETACH needs a stopped tracee) stays attached until hpapply
 * exits, when the kernel detaches it, its stop request dropped.
 * tracee_exited() still answers afterwards.
 */
void tracee_detach(struct tracee *tr);

/*
 * Where remote system calls run: the syscall stub written into the slack
 * after an executable segment (bytes no code ever executes), with a few
 * bytes of scratch for string arguments after it.
 */
struct remote {
	struct tracee *tr;
	size_t thread;	  /* index of the thread that runs the calls */
	uint64_t stub;	  /* runtime address of the stub */
	uint64_t scratch; /* runtime address of the scratch bytes */
	size_t scratch_len;
	uint8_t saved[256]; /* the slack's bytes before we wrote there */
	size_t saved_len;
	bool ready;
	/*
	 * A call was started and not seen to finish (the thread did not come
	 * back in time): the thread may still run the stub, which stays.
	 */
	bool in_flight;
};

#define REMOTE_AREA 256

/*
 * Prepare remote calls on a stopped thread: pick slack at `slack` (found
 * by the caller), write the stub for the thread's resume state.
 */
int remote_begin(struct remote *rc, struct tracee *tr, size_t thread, uint64_t slack);
/* Run nr(args) in the target.  Returns 0 and *ret, or -1 after a message. */
int remote_call(struct remote *rc, long nr, const uint64_t args[6], long *ret);
/*
 * Put the slack's bytes back; the thread stays stopped with its resume
 * state.  Not while a call may still run in the stub (in_flight): the stub
 * then stays, for the thread to finish its call through it (the next
 * run of hpapply reuses it).
 */
int remote_end(struct remote *rc);

/*
 * Run the commit stub at `at` on the remote's thread and wait until the
 * byte at `flag` (in the target) reads non-zero: 1, every write of the
 * stub is done (returns 0); 2, the stub could not write (returns 1, no
 * message).  The thread then runs on by itself (it jumped back).  Its
 * signals are blocked meanwhile: no handler runs inside the stub.
 */
int remote_commit(struct remote *rc, uint64_t at, uint64_t flag);

#endif
