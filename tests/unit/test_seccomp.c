/*
 * hpapply's evaluator of seccomp filters (hpapply/seccomp.c): the most
 * restrictive action any path of a classic BPF program can reach for a
 * system call whose number and some arguments are known, the others any
 * value.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "hpapply/seccomp.h"
#include "common/cli.h"

#define ARCH	    AUDIT_ARCH_X86_64
#define LD(field)   BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, field))
#define RET(action) BPF_STMT(BPF_RET | BPF_K, action)

/* mmap with known protection and flags, address and descriptor unknown */
static const struct sc_call mmap_rx = {
	"mmap", SYS_mmap, 1u << 2 | 1u << 3, {0, 0, PROT_READ | PROT_EXEC, MAP_SHARED, 0, 0}};
static const struct sc_call close_any = {"close", SYS_close, 0, {0}};

static uint32_t eval(const struct sock_filter *f, size_t n, const struct sc_call *c, int *depends,
		     int *unknown)
{
	return seccomp_eval(f, n, c, ARCH, depends, unknown);
}

#define EVAL(f, c) eval(f, sizeof(f) / sizeof(f[0]), c, &depends, &unknown)

TestSuite(seccomp_eval, .init = NULL);

Test(seccomp_eval, a_call_the_filter_does_not_name_is_allowed)
{
	struct sock_filter f[] = {
		LD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
		RET(SECCOMP_RET_ERRNO | EPERM),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &mmap_rx), SECCOMP_RET_ALLOW);
	cr_assert_eq(depends, 0);
	cr_assert_eq(unknown, 0);
}

Test(seccomp_eval, the_named_call_gets_its_action_with_its_data)
{
	struct sock_filter f[] = {
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 1),
		RET(SECCOMP_RET_ERRNO | EACCES),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_ERRNO | EACCES);
	cr_assert_eq(depends, 0);
}

Test(seccomp_eval, a_test_of_a_known_argument_is_decided)
{
	/* kill mmap asking for write and exec at once; hpapply's asks read+exec */
	struct sock_filter f[] = {
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 4),
		LD(args[2]),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &mmap_rx), SECCOMP_RET_ALLOW);
}

Test(seccomp_eval, a_test_of_an_unknown_argument_takes_both_ways)
{
	/* trap mmap whose address is not page aligned: the address is unknown */
	struct sock_filter f[] = {
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 3),
		LD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0xfff, 0, 1),
		RET(SECCOMP_RET_TRAP),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &mmap_rx), SECCOMP_RET_TRAP);
	cr_assert_eq(depends, 1);
	cr_assert_eq(unknown, 0);
}

Test(seccomp_eval, the_most_restrictive_path_wins)
{
	/* errno on one side of an unknown branch, kill on the other */
	struct sock_filter f[] = {
		LD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 2, 0, 1),
		RET(SECCOMP_RET_ERRNO | EPERM),
		RET(SECCOMP_RET_KILL_THREAD),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_KILL_THREAD);
}

Test(seccomp_eval, registers_and_scratch_memory_carry_values)
{
	/* nr into M[3], back through X: the filter returns ERRNO | nr */
	struct sock_filter f[] = {
		LD(nr),
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LD | BPF_IMM, 0),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_ERRNO | SYS_close);
	cr_assert_eq(depends, 0);
}

Test(seccomp_eval, an_action_computed_from_an_unknown_value_cannot_be_told)
{
	struct sock_filter f[] = {
		LD(args[0]),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_KILL_PROCESS);
	cr_assert_eq(unknown, 1);
}

Test(seccomp_eval, a_division_by_an_unknown_value_may_end_the_program_with_zero)
{
	struct sock_filter f[] = {
		LD(args[1]),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_IMM, 100),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_KILL_THREAD);
	cr_assert_eq(depends, 1);
}

Test(seccomp_eval, an_instruction_seccomp_rejects_cannot_be_evaluated)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0),
		RET(SECCOMP_RET_ALLOW),
	};
	struct sock_filter off_end[] = {
		BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_KILL_PROCESS);
	cr_assert_eq(unknown, 1);
	cr_assert_eq(EVAL(off_end, &close_any), SECCOMP_RET_KILL_PROCESS);
	cr_assert_eq(unknown, 1);
}

Test(seccomp_eval, many_unknown_branches_are_bounded)
{
	/* 24 tests of unknown words, each path rejoining: 2^24 paths, none kills */
	struct sock_filter f[80];
	size_t n = 0;
	int depends, unknown;

	for (int i = 0; i < 24; i++) {
		f[n++] = (struct sock_filter)LD(args[i % 6]);
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)i, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1);
	}
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	cr_assert_eq(eval(f, n, &close_any, &depends, &unknown), SECCOMP_RET_KILL_PROCESS);
	cr_assert_eq(unknown, 1, "too many paths must be refused, not followed for ever");
}

Test(seccomp_eval, a_branch_whose_two_ways_meet_at_once_is_no_fork)
{
	struct sock_filter f[] = {
		LD(args[0]),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 0),
		RET(SECCOMP_RET_ALLOW),
	};
	int depends, unknown;

	cr_assert_eq(EVAL(f, &close_any), SECCOMP_RET_ALLOW);
	cr_assert_eq(depends, 0);
}
