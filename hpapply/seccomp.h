/*
 * Would the target's seccomp state let a thread make the system calls
 * hpapply runs in it?  Decided before any is run: a call a filter forbids
 * may kill the process (SECCOMP_RET_KILL_*), raise SIGSYS in it, fail, or
 * wait for a supervisor that never answers.
 */
#ifndef HPAPPLY_SECCOMP_H
#define HPAPPLY_SECCOMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A system call as hpapply makes it: its number, and its arguments where
 * they are known in advance (bit i of `known` for args[i]); an unknown
 * argument stands for any value.
 */
struct sc_call {
	const char *name;
	long nr;
	uint8_t known;
	uint64_t args[6];
};

/*
 * Check thread tid of pid (stopped by hpapply's ptrace: the filters are
 * read with PTRACE_SECCOMP_GET_FILTER) for each call.  0 every call is
 * allowed (SECCOMP_RET_ALLOW or _LOG on every path the filters can take);
 * 1 not, or it cannot be told (strict mode, a filter that cannot be read
 * or evaluated): why says which thread, call and what would happen.
 */
int seccomp_check(pid_t pid, pid_t tid, const struct sc_call *calls, size_t n, char *why,
		  size_t size);

/*
 * Evaluate one classic BPF seccomp program (len instructions, as struct
 * sock_filter) for call c with architecture `arch`.  Returns the action of
 * the most restrictive path it can take (SECCOMP_RET_* with its data), and
 * in *depends whether that depends on an unknown argument or the
 * instruction pointer.  A program it cannot evaluate (an instruction
 * seccomp does not accept, too many paths) gives SECCOMP_RET_KILL_PROCESS
 * with *unknown set.
 */
uint32_t seccomp_eval(const void *prog, size_t len, const struct sc_call *c, uint32_t arch,
		      int *depends, int *unknown);

#endif
