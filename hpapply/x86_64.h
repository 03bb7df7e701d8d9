/*
 * Everything hpapply knows about x86-64, in one place: registers, the
 * redirect jump, endbr64, call sites (for return addresses on stacks), and
 * the machine code of the two stubs hpapply runs inside the target.
 */
#ifndef HPAPPLY_X86_64_H
#define HPAPPLY_X86_64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

typedef struct user_regs_struct regs_t;

/* Bytes of the redirect jump (jmp rel32). */
#define ARCH_JUMP_LEN 5
/* Bytes a function's entry may keep before the jump (endbr64). */
#define ARCH_ENDBR_LEN 4

/*
 * Normalise a stopped thread's registers so that resuming them is a plain
 * return to user space: a system call interrupted with one of the kernel's
 * restart codes is rewound to execute again (what the kernel itself would
 * do), and orig_rax is cleared so nothing else fiddles with them.
 */
void arch_resume_state(const regs_t *in, regs_t *out);

/* Program counter, stack pointer. */
uint64_t arch_pc(const regs_t *r);
uint64_t arch_sp(const regs_t *r);
/* The trace flag (single stepping) set in these registers? */
bool arch_step_flag(const regs_t *r);
/* Clear it. */
void arch_clear_step_flag(regs_t *r);

/* Set up regs for system call nr(args...) executed at `at`; flags and stack kept. */
void arch_syscall_regs(regs_t *r, uint64_t at, long nr, const uint64_t args[6]);
/* The system call's result after it ran. */
long arch_syscall_result(const regs_t *r);

/* Is there an endbr64 at code[0..4)? */
bool arch_has_endbr(const uint8_t *code, size_t len);

/* `jmp to` placed at `at`: ARCH_JUMP_LEN bytes into out.  false if out of reach. */
bool arch_jump(uint64_t at, uint64_t to, uint8_t out[ARCH_JUMP_LEN]);

/*
 * Could `ret` be a return address: do the bytes before it (code[0..pre_len)
 * ending right at `ret`) end in a call instruction?
 */
bool arch_follows_call(const uint8_t *pre, size_t pre_len);

/* An absolute-jump stub: jmp *[rip+0] followed by the target (14 bytes). */
#define ARCH_FAR_STUB_LEN 14
void arch_far_stub(uint64_t target, uint8_t out[ARCH_FAR_STUB_LEN]);

/*
 * The syscall stub: `syscall`, then restore every register the call or its
 * set-up changed from a saved state and jump back to the saved pc.  If
 * hpapply dies while a thread is inside it, the thread finishes the call
 * and goes on as if it had never been stopped.  Data follows the code.
 */
#define ARCH_SYSCALL_STUB_LEN 152
/* Do these bytes begin with a syscall stub (left by a killed hpapply)? */
bool arch_is_syscall_stub(const uint8_t *b, size_t n);
size_t arch_syscall_stub(const regs_t *resume, uint8_t *out, size_t size);

/*
 * The commit stub: it opens /proc/self/mem, then for each entry of a table
 * pwrite64(fd, src, len, dst) (patching code through it), then stores 1 in
 * the flag byte (which marks the new state record committed), then
 * close(fd).  If the open fails, or a write does not write all its bytes,
 * it stores 2 instead and writes no further entry.  Last it puts the
 * thread's signal mask back to `sigmask` (hpapply blocks every signal
 * while it runs), restores every register and the flags from `resume`
 * and jumps back.  It runs to completion even if hpapply dies meanwhile,
 * and then leaves no descriptor open and no signal blocked.  Code and
 * table are laid out for runtime address `at`; returns the bytes written
 * to out (0 if size is too small), and in *tail the offset of the tail
 * (from the mask onwards: all that is left there is to go back).
 */
#define ARCH_WRITE_MAX 16 /* bytes in one write: a redirect, or the bytes it replaced */
struct arch_write {
	uint64_t dst;	     /* where in the target */
	const uint8_t *bytes; /* what to write there (copied into the stub) */
	uint64_t len;
};

size_t arch_commit_stub(uint64_t at, const regs_t *resume, const struct arch_write *w, size_t n,
			uint64_t commit_flag, uint64_t sigmask, uint8_t *out, size_t size,
			size_t *tail);

#endif
