/*
 * seccomp: the mode of a thread (/proc/PID/task/TID/status), its filters
 * (PTRACE_SECCOMP_GET_FILTER), and an evaluator of their classic BPF
 * programs for the system calls hpapply would make.
 *
 * A filter sees the call's number, the architecture, the instruction
 * pointer and the six arguments (struct seccomp_data).  hpapply knows the
 * number and most arguments in advance, not all (descriptors, addresses):
 * an unknown value is followed both ways at every branch that tests it,
 * and the most restrictive outcome of all the paths counts.  So a filter
 * that allows mmap only without PROT_WRITE|PROT_EXEC together allows
 * hpapply's (read+exec, read+write), and one that kills on any mmap whose
 * address is not page aligned is refused, since the address is unknown.
 * Several filters: every one must allow the call (the kernel takes the
 * most restrictive action of all).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "arch/arch.h"
#include "hpapply/proc.h"
#include "hpapply/seccomp.h"
#include "common/mem.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000U
#endif

#define MAX_FILTERS 64
#define MAX_INSNS   4096      /* BPF_MAXINSNS */
#define MAX_STEPS   (1 << 20) /* instructions run over all paths of one evaluation */
#define DATA_WORDS  16	      /* struct seccomp_data in 32-bit words */

struct val {
	int known;
	uint32_t v;
};

struct bstate {
	size_t pc;
	int depends; /* a branch on an unknown value was taken on the way */
	struct val a, x, mem[BPF_MEMWORDS];
};

/* Precedence of actions, as the kernel ranks them: lower is more restrictive. */
static int rank(uint32_t ret)
{
	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
		return 0;
	case SECCOMP_RET_KILL_THREAD:
		return 1;
	case SECCOMP_RET_TRAP:
		return 2;
	case SECCOMP_RET_ERRNO:
		return 3;
	case SECCOMP_RET_USER_NOTIF:
		return 4;
	case SECCOMP_RET_TRACE:
		return 5;
	case SECCOMP_RET_LOG:
		return 6;
	case SECCOMP_RET_ALLOW:
		return 7;
	default:
		return 0; /* an unknown action is treated as killing the process */
	}
}

static bool allowed(uint32_t ret)
{
	return rank(ret) >= rank(SECCOMP_RET_LOG);
}

/* The seccomp_data word at byte offset k: number, arch, ip, arguments. */
static struct val data_word(const struct sc_call *c, uint32_t arch, uint32_t k)
{
	uint32_t w = k / 4;

	if (w == 0)
		return (struct val){1, (uint32_t)c->nr};
	if (w == 1)
		return (struct val){1, arch};
	if (w < 4)
		return (struct val){0, 0}; /* the instruction pointer */
	w -= 4;
	if (!(c->known & (1u << (w / 2))))
		return (struct val){0, 0};
	return (struct val){1, (uint32_t)(c->args[w / 2] >> (w % 2 ? 32 : 0))};
}

/* A + operand for one ALU operation; false if seccomp would not accept it. */
static bool alu(uint16_t code, struct val *a, struct val op, bool *div_zero)
{
	uint32_t r = 0;

	*div_zero = false;
	if (BPF_OP(code) == BPF_NEG) {
		a->v = -a->v;
		return true;
	}
	if ((BPF_OP(code) == BPF_DIV || BPF_OP(code) == BPF_MOD) && (!op.known || !op.v))
		*div_zero = true; /* the program returns 0 (kill) if it is 0 */
	if (!a->known || !op.known) {
		/* AND with a known 0 is 0 whatever the other side */
		if (BPF_OP(code) == BPF_AND && ((a->known && !a->v) || (op.known && !op.v))) {
			*a = (struct val){1, 0};
			return true;
		}
		a->known = 0;
		return BPF_OP(code) <= BPF_XOR;
	}
	switch (BPF_OP(code)) {
	case BPF_ADD:
		r = a->v + op.v;
		break;
	case BPF_SUB:
		r = a->v - op.v;
		break;
	case BPF_MUL:
		r = a->v * op.v;
		break;
	case BPF_DIV:
		r = op.v ? a->v / op.v : 0;
		break;
	case BPF_MOD:
		r = op.v ? a->v % op.v : 0;
		break;
	case BPF_OR:
		r = a->v | op.v;
		break;
	case BPF_AND:
		r = a->v & op.v;
		break;
	case BPF_LSH:
		r = op.v < 32 ? a->v << op.v : 0;
		break;
	case BPF_RSH:
		r = op.v < 32 ? a->v >> op.v : 0;
		break;
	case BPF_XOR:
		r = a->v ^ op.v;
		break;
	default:
		return false;
	}
	a->v = r;
	return true;
}

/* 1 taken, 0 not, -1 either (an unknown value). */
static int jump_taken(uint16_t code, struct val a, struct val op)
{
	if (BPF_OP(code) == BPF_JSET && op.known && !op.v)
		return 0;
	if (!a.known || !op.known)
		return -1;
	switch (BPF_OP(code)) {
	case BPF_JEQ:
		return a.v == op.v;
	case BPF_JGT:
		return a.v > op.v;
	case BPF_JGE:
		return a.v >= op.v;
	default: /* BPF_JSET */
		return (a.v & op.v) != 0;
	}
}

struct eval {
	const struct sock_filter *p;
	size_t len;
	const struct sc_call *c;
	uint32_t arch;
	struct bstate *stack;
	size_t depth, cap;
	long steps;
	uint32_t worst;
	int depends, unknown;
};

static void outcome(struct eval *e, uint32_t ret, int depends)
{
	if (rank(ret) < rank(e->worst) || (rank(ret) == rank(e->worst) && !depends)) {
		if (rank(ret) < rank(e->worst))
			e->depends = depends;
		else
			e->depends = e->depends && depends;
		e->worst = ret;
	}
}

static void cannot(struct eval *e)
{
	e->unknown = 1;
	outcome(e, SECCOMP_RET_KILL_PROCESS, 1);
}

static bool push(struct eval *e, const struct bstate *s)
{
	if (grow_array(&e->stack, &e->cap, e->depth, sizeof(*e->stack), 64) < 0)
		return false;
	e->stack[e->depth++] = *s;
	return true;
}

/* Run one path from s until it returns or forks (the other branch pushed). */
static void run_path(struct eval *e, struct bstate s)
{
	for (;;) {
		const struct sock_filter *in;
		struct val op;
		bool dz;
		int t;

		if (s.pc >= e->len || ++e->steps > MAX_STEPS)
			return cannot(e);
		in = &e->p[s.pc];
		op = BPF_SRC(in->code) == BPF_X ? s.x : (struct val){1, in->k};
		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (in->k % 4 || in->k >= 4 * DATA_WORDS)
				return cannot(e);
			s.a = data_word(e->c, e->arch, in->k);
			break;
		case BPF_LD | BPF_W | BPF_LEN:
			s.a = (struct val){1, 4 * DATA_WORDS};
			break;
		case BPF_LDX | BPF_W | BPF_LEN:
			s.x = (struct val){1, 4 * DATA_WORDS};
			break;
		case BPF_LD | BPF_IMM:
			s.a = (struct val){1, in->k};
			break;
		case BPF_LDX | BPF_IMM:
			s.x = (struct val){1, in->k};
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (in->k >= BPF_MEMWORDS)
				return cannot(e);
			if (in->code == (BPF_LD | BPF_MEM))
				s.a = s.mem[in->k];
			else if (in->code == (BPF_LDX | BPF_MEM))
				s.x = s.mem[in->k];
			else
				s.mem[in->k] = in->code == BPF_ST ? s.a : s.x;
			break;
		case BPF_MISC | BPF_TAX:
			s.x = s.a;
			break;
		case BPF_MISC | BPF_TXA:
			s.a = s.x;
			break;
		case BPF_RET | BPF_K:
			return outcome(e, in->k, s.depends);
		case BPF_RET | BPF_A:
			if (!s.a.known)
				return cannot(e);
			return outcome(e, s.a.v, s.depends);
		case BPF_JMP | BPF_JA:
			if (in->k >= e->len - s.pc)
				return cannot(e);
			s.pc += in->k;
			break;
		default:
			if (BPF_CLASS(in->code) == BPF_ALU) {
				if (!alu(in->code, &s.a, op, &dz))
					return cannot(e);
				if (dz) /* a division by a zero X ends the program with 0 */
					outcome(e, SECCOMP_RET_KILL_THREAD, !op.known || s.depends);
				break;
			}
			if (BPF_CLASS(in->code) != BPF_JMP || BPF_OP(in->code) == BPF_JA ||
			    BPF_OP(in->code) > BPF_JSET)
				return cannot(e);
			t = in->jt == in->jf ? 1 : jump_taken(in->code, s.a, op);
			if (t < 0) {
				struct bstate other = s;

				other.depends = s.depends = 1;
				other.pc = s.pc + 1 + in->jf;
				if (!push(e, &other))
					return cannot(e);
				t = 1;
			}
			s.pc += t ? in->jt : in->jf;
			break;
		}
		s.pc++;
	}
}

uint32_t seccomp_eval(const void *prog, size_t len, const struct sc_call *c, uint32_t arch,
		      int *depends, int *unknown)
{
	struct eval e = {prog, len, c, arch, NULL, 0, 0, 0, SECCOMP_RET_ALLOW, 0, 0};
	struct bstate start;

	memset(&start, 0, sizeof(start));
	/* the kernel starts with A, X and the scratch memory zeroed */
	start.a = start.x = (struct val){1, 0};
	for (int i = 0; i < BPF_MEMWORDS; i++)
		start.mem[i] = (struct val){1, 0};
	run_path(&e, start);
	while (e.depth && rank(e.worst) > 0)
		run_path(&e, e.stack[--e.depth]);
	free(e.stack);
	*depends = e.depends;
	*unknown = e.unknown;
	return e.worst;
}

/* "Seccomp:" of the thread's status: 0 none, 1 strict, 2 filter; -1 unknown. */
static int seccomp_mode(pid_t pid, pid_t tid)
{
	char path[96], line[256];
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

/* What the action does to hpapply's call, for messages. */
static void describe(uint32_t ret, char *buf, size_t size)
{
	uint32_t data = ret & SECCOMP_RET_DATA;

	switch (ret & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
		snprintf(buf, size, "kill the process (SECCOMP_RET_KILL_PROCESS)");
		break;
	case SECCOMP_RET_KILL_THREAD:
		snprintf(buf, size, "kill the thread (SECCOMP_RET_KILL_THREAD)");
		break;
	case SECCOMP_RET_TRAP:
		snprintf(buf, size, "raise SIGSYS in it (SECCOMP_RET_TRAP)");
		break;
	case SECCOMP_RET_ERRNO:
		snprintf(buf, size, "make it fail with %s (SECCOMP_RET_ERRNO)",
			 data && data < 4096 ? strerror((int)data) : "an error");
		break;
	case SECCOMP_RET_USER_NOTIF:
		snprintf(buf, size, "hold it for a seccomp supervisor (SECCOMP_RET_USER_NOTIF)");
		break;
	case SECCOMP_RET_TRACE:
		snprintf(buf, size,
			 "hand it to a seccomp tracer, which hpapply is not: it fails "
			 "(SECCOMP_RET_TRACE)");
		break;
	default:
		snprintf(buf, size, "end in action 0x%08x, which the kernel treats as a kill", ret);
		break;
	}
}

/* The filters of a stopped thread, newest first; -1 with errno. */
static int read_filters(pid_t tid, struct sock_filter **f, size_t *len, size_t *n)
{
	*n = 0;
	for (unsigned long i = 0; i < MAX_FILTERS; i++) {
		long count = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, NULL);

		if (count < 0 && errno == ENOENT)
			return 0;
		if (count <= 0 || count > MAX_INSNS) {
			if (count >= 0)
				errno = E2BIG;
			return -1;
		}
		f[i] = xcalloc((size_t)count, sizeof(**f));
		if (!f[i])
			return -1;
		len[i] = (size_t)count;
		(*n)++;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, f[i]) != count)
			return -1;
	}
	errno = E2BIG;
	return -1;
}

int seccomp_check(pid_t pid, pid_t tid, const struct sc_call *calls, size_t n, char *why,
		  size_t size)
{
	struct sock_filter *f[MAX_FILTERS] = {0};
	size_t len[MAX_FILTERS], nf = 0;
	char comm[32], what[160];
	int mode = seccomp_mode(pid, tid), ret = 0;

	proc_comm(pid, tid, comm, sizeof(comm));
	if (mode <= 0)
		return 0; /* 0: none; -1: a kernel without seccomp shows no line */
	if (mode == 1) {
		snprintf(why, size,
			 "thread %d (%s) is in seccomp strict mode: it may only read, write, exit "
			 "and return from signals, and any other call (hpapply's %s) kills it",
			 (int)tid, comm, calls[0].name);
		return 1;
	}
	if (read_filters(tid, f, len, &nf) < 0) {
		int err = errno;

		snprintf(why, size,
			 "thread %d (%s) has a seccomp filter that hpapply cannot read "
			 "(PTRACE_SECCOMP_GET_FILTER: %s%s), so whether it allows hpapply's system "
			 "calls is unknown",
			 (int)tid, comm, strerror(err),
			 err == EACCES || err == EPERM ? "; reading it needs CAP_SYS_ADMIN" : "");
		ret = 1;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		for (size_t k = 0; k < nf && !ret; k++) {
			int depends, unknown;
			uint32_t r = seccomp_eval(f[k], len[k], &calls[i], arch_seccomp_arch(),
						  &depends, &unknown);

			if (allowed(r))
				continue;
			describe(r, what, sizeof(what));
			if (unknown)
				snprintf(why, size,
					 "thread %d (%s): its seccomp filter (%zu instructions) "
					 "cannot be evaluated for %s (an instruction seccomp does "
					 "not accept, or too many paths)",
					 (int)tid, comm, len[k], calls[i].name);
			else
				snprintf(why, size,
					 "thread %d (%s): its seccomp filter %s %s for hpapply's "
					 "%s",
					 (int)tid, comm,
					 depends ? "may, depending on values hpapply cannot know "
						   "in advance,"
						 : "would",
					 what, calls[i].name);
			ret = 1;
		}
	}
	for (size_t k = 0; k < nf; k++)
		free(f[k]);
	return ret;
}
