/*
 * One hpapply session with a target process: attached threads, the remote
 * call channel, and the mappings created so far (removed again if the
 * session fails before its commit).
 */
#ifndef HPAPPLY_SESSION_H
#define HPAPPLY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hpapply/proc.h"
#include "hpapply/ptrace.h"
#include "hpapply/state.h"
#include "common/outcome.h"

#define MAX_CREATED  64
#define MAX_LEFTOVER 16 /* descriptors a killed run may have left, closed per run */

struct session {
	pid_t pid;
	pid_t view; /* whose /proc entry shows the process (proc_view) */
	struct maps m;
	struct tracee tr;
	struct remote rc;
	size_t caller; /* thread running remote calls and the commit */
	struct region created[MAX_CREATED];
	size_t ncreated;
	int op_fd; /* our fd of the operation region's memfd, or -1 */
	uint64_t op_addr, op_size;
	bool opened; /* the remote call channel was opened once */
	/* the committed byte of the new state once its commit stub started, or 0 */
	uint64_t commit_flag;
	/*
	 * Where the stub's tail starts (its own mask put back, registers
	 * restored, the jump back), and the state it restores the caller to.
	 */
	uint64_t op_tail;
	regs_t op_resume;
	/* descriptors of hpapply's memory files seen open before the attach */
	long leftover[MAX_LEFTOVER];
	size_t nleftover;
};

/*
 * Attach, stop one thread and open the remote call channel; `doing` names
 * the work in messages ("the apply").  Refused, with nothing changed, when
 * no thread can be stopped (a frozen cgroup, every thread held in the
 * kernel: blockers.h) or the process's seccomp state forbids the system
 * calls hpapply runs in it; trouble otherwise.
 */
enum outcome session_open(struct session *s, pid_t pid, const char *doing);
/*
 * The thread running the remote calls has ended (pthread_exit): make
 * another stoppable thread whose seccomp state allows hpapply's calls the
 * caller, with a channel of its own.  keep_stopped: every thread is
 * stopped (a commit attempt) and stays so.  -1 after a message if none can.
 */
int session_new_caller(struct session *s, bool keep_stopped);

/*
 * Remove what was created (unless committed), close the channel, detach.
 * Returns whether the commit took effect: a commit reported as failed may
 * still have finished (its stub ran on after hpapply gave up waiting).
 */
bool session_close(struct session *s, bool committed);

/*
 * A remote system call: 0 and, in *ret if not NULL, its result (-errno if
 * it failed in the target); -1 after a message if it could not be run.
 */
int session_call(struct session *s, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		 uint64_t a4, uint64_t a5, long *ret);

/*
 * A named memfd in the target holding data[0..len), optionally sealed
 * against writes.  *tfd is the target's descriptor, *lfd ours (or -1 if
 * keep_local is false).
 */
int session_memfd(struct session *s, const char *name, const uint8_t *data, size_t len, bool seal,
		  bool keep_local, long *tfd, int *lfd);
/* Map (a part of) a memfd of the target; at 0 lets the kernel choose. */
int session_map(struct session *s, long tfd, uint64_t at, uint64_t len, int prot, int flags,
		uint64_t offset, uint64_t *got);
int session_unmap(struct session *s, uint64_t start, uint64_t len);

/*
 * Remove what killed runs left: hpapply mappings no current state refers
 * to, and descriptors of hpapply's memory files still open in the target.
 */
int session_sweep(struct session *s, const struct state *st, uint64_t st_at);

#endif
