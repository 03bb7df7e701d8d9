/*
 * The architecture layer: every question generic code asks about the
 * instruction set, its relocations and a live thread's registers, answered
 * by one folder per architecture (arch/x86_64/ today).  Outside arch/ no
 * code names a relocation type, a register, an opcode or an ELF machine
 * number; adding AArch64 means a new folder implementing this header.
 *
 *   relocations  how a relocation type computes its value and how wide it is
 *                (arch/x86_64/reloc.c)
 *   linking      what the linker made of an object's code: relaxed
 *                instructions, PLT entries, TLS offsets (link.c)
 *   decoding     a neutral view of instructions for the differ (decode.c,
 *                the only user of the zydis decoder)
 *   live code    registers of a stopped thread, the redirect jump, and the
 *                stubs hpapply runs inside a target (stubs.c)
 */
#ifndef HP_ARCH_H
#define HP_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

/* ---- relocations ---------------------------------------------------- */

/* How a relocation's value is formed (S symbol, A addend, P place). */
enum hp_reloc_calc {
	HP_CALC_NONE = 0, /* type not supported by the formats */
	HP_CALC_ABS,	  /* S + A */
	HP_CALC_PCREL,	  /* S + A - P */
	HP_CALC_GOTPCREL, /* address of a slot holding S, + A - P */
	HP_CALC_TPOFF,	  /* S + A relative to the thread pointer (local exec) */
	HP_CALC_GOTTPOFF, /* address of a slot holding S's TP offset, + A - P */
	HP_CALC_DTPOFF,	  /* S + A relative to the module's TLS block */
	HP_CALC_TLSGD,	  /* general / local dynamic TLS sequences */
	HP_CALC_SIZE,	  /* symbol size + A */
};

struct hp_reloc_desc {
	const char *name; /* "R_X86_64_PC32" */
	uint8_t size;	  /* field width in bytes */
	bool is_signed;	  /* value must fit the field as signed */
	enum hp_reloc_calc calc;
};

/* ---- machines ------------------------------------------------------- */

/*
 * Is this ELF e_machine one the tools understand?  The machine always comes
 * from the input (an object's or image's header, a package's arch key).
 */
bool arch_supported(uint16_t machine);

/* The arch name packages carry for a machine ("x86_64"), or NULL. */
const char *arch_name(uint16_t machine);

/* The machine of an arch name a package carries, or 0 if none is supported. */
uint16_t arch_machine(const char *name);

/* The machine hpapply's own process runs (the processes it can patch). */
uint16_t arch_host_machine(void);

/*
 * The architecture number (AUDIT_ARCH_*) a seccomp filter sees in
 * seccomp_data.arch for the system calls of arch_host_machine()'s
 * processes, made the way hpapply's stubs make them.
 */
uint32_t arch_seccomp_arch(void);

/* ---- relocation questions ------------------------------------------- */

/* Description of a relocation type, or NULL if the formats do not carry it. */
const struct hp_reloc_desc *hp_reloc_describe(uint16_t machine, uint32_t type);

/* "R_X86_64_PC32", or "type N" in buf for unknown types. */
const char *hp_reloc_name(uint16_t machine, uint32_t type, char *buf, size_t size);

/* For a type the formats do not carry: " (what produces it: what to do)", or "". */
const char *hp_reloc_hint(uint16_t machine, uint32_t type);

/* The "no relocation" type (a placeholder the psABI allows with symbol 0). */
bool arch_reloc_is_none(uint16_t machine, uint32_t type);

/* Is the field S + A - P (a direct branch, a PC-relative address)? */
bool arch_reloc_pc_relative(uint16_t machine, uint32_t type);

/* Does the instruction load the target's address from a GOT slot (S is the slot's)? */
bool arch_reloc_got_load(uint16_t machine, uint32_t type);

/* Is it a thread-pointer offset, direct (TPOFF) or through a GOT slot (GOTTPOFF)? */
bool arch_reloc_tp_offset(uint16_t machine, uint32_t type);

/*
 * The same type for comparing two objects: types that compute the same
 * value for a direct call or jump (PLT32 and PC32 on x86-64) give one answer.
 */
uint32_t arch_reloc_canonical(uint16_t machine, uint32_t type);

/*
 * The plain PC-relative type of a field of `size` bytes (4: PC32, 1: PC8 on
 * x86-64), used for operands the assembler resolved without a relocation,
 * and for references turned PC-relative.  0 if there is none.
 */
uint32_t arch_reloc_pcrel_type(uint16_t machine, unsigned size);

/*
 * The absolute type of a field of `size` bytes (8: R_X86_64_64); zero_ext
 * asks for a zero-extended field (R_X86_64_32) rather than a sign-extended
 * one (R_X86_64_32S).  0 if there is none.
 */
uint32_t arch_reloc_abs_type(uint16_t machine, unsigned size, bool zero_ext);

/*
 * Dynamic relocations of a linked image: a GOT or PLT slot filled with a
 * symbol's address (GLOB_DAT, JUMP_SLOT), an IFUNC resolved at load
 * (IRELATIVE), a symbol's thread-pointer offset (TPOFF64).
 */
enum arch_dyn_reloc {
	ARCH_DYN_OTHER = 0,
	ARCH_DYN_SLOT,	    /* a slot holding the symbol's address */
	ARCH_DYN_IRELATIVE, /* a slot holding an IFUNC resolver's result */
	ARCH_DYN_TPOFF,	    /* a slot holding the symbol's TP offset */
};
enum arch_dyn_reloc arch_dyn_reloc_kind(uint16_t machine, uint32_t type);

/*
 * How far past a PC-relative field of this type its instruction usually
 * ends: what compilers fold into the addend of a reference from code (4 for
 * x86-64's PC32 and PLT32, whose rel32 field ends the instruction).  Used
 * to guess where such a reference points before anything is decoded; 0 for
 * types with no such bias.
 */
unsigned arch_reloc_pc_bias(uint16_t machine, uint32_t type);

/*
 * Does the instruction load a thread-pointer offset from a GOT slot
 * (initial exec: GOTTPOFF on x86-64)?  With arch_reloc_got_load(): the
 * instruction reads an 8-byte value from a slot, which the loader provides.
 */
bool arch_reloc_got_tp_load(uint16_t machine, uint32_t type);

/*
 * Is the field a call's (or tail jump's) target, which may be reached
 * through a PLT entry or another jump stub rather than directly (PLT32 on
 * x86-64)?  A field that takes a function's address (PC32) must get the
 * function itself.
 */
bool arch_reloc_plt_call(uint16_t machine, uint32_t type);

/* ---- linking: what the linker made of an object's code (hppack) ---- */

/*
 * Besides the field itself, may the linker rewrite the instruction around
 * a field of this type (relaxing a GOT load or a TLS access to a cheaper
 * form)?  true with the bytes it may rewrite in [field + *from, field + *to);
 * false if only the field's own bytes change.
 */
bool arch_link_rewrites(uint16_t machine, uint32_t type, int *from, int *to);

/*
 * Does code[0, len), at address addr in a PLT, begin with the indirect jump
 * through a GOT slot that a PLT entry makes?  Its length, with the slot's
 * address in *slot; 0 if not.  Calling that jump behaves as the whole entry.
 */
size_t arch_plt_jump(uint16_t machine, const uint8_t *code, size_t len, uint64_t addr,
		     uint64_t *slot);

/*
 * The thread-pointer offset of the thread-local at offset `off` in an
 * executable's TLS block (PT_TLS: memsz bytes aligned to align), fixed when
 * the executable is linked.
 */
int64_t arch_tls_tp_offset(uint16_t machine, uint64_t off, uint64_t memsz, uint64_t align);

/* ---- decoding ------------------------------------------------------- */

enum insn_type {
	INSN_OTHER = 0,
	INSN_CALL,	/* direct call */
	INSN_JUMP,	/* direct unconditional jump */
	INSN_JUMP_COND, /* direct conditional jump (incl. loop/jrcxz) */
	INSN_CALL_INDIRECT,
	INSN_JUMP_INDIRECT,
	INSN_RETURN,
	INSN_NOP,
	INSN_TRAP, /* int3, ud2: never falls through */
	INSN_ENDBR,
};

struct insn {
	uint32_t off; /* from the start of the decoded buffer */
	uint8_t len;
	uint8_t type; /* enum insn_type */
	/*
	 * The PC-relative field, if any: a branch displacement or a
	 * RIP-relative memory displacement.  rel_size is 0 when there is none.
	 */
	uint8_t rel_off, rel_size;
	int64_t rel_value; /* the displacement, sign-extended */
};

/* Target of the PC-relative field, as an offset from the buffer start. */
static inline int64_t insn_rel_target(const struct insn *in)
{
	return (int64_t)in->off + in->len + in->rel_value;
}

/*
 * Decode all of code[0, size), instructions of `machine` (an object's
 * e_machine).  Returns the number of instructions and sets *out (malloc'ed),
 * or -1 if some byte sequence is not an instruction or an instruction runs
 * past the end (*bad_off says where; 0 for a machine this build cannot
 * decode).
 */
long insn_decode_all(uint16_t machine, const uint8_t *code, size_t size, struct insn **out,
		     size_t *bad_off);

/*
 * Is `in` what compilers and assemblers fill the space between functions
 * with (nops of any length, a one-byte trap), rather than code?
 */
bool insn_is_padding(uint16_t machine, const struct insn *in);

/*
 * Assembly text of the instruction at code[0, len) (AT&T syntax on x86-64),
 * as if it were at address `addr` (branch targets print as addresses).
 * Returns buf, holding "(bad)" if the bytes do not decode.
 */
const char *insn_format(uint16_t machine, const uint8_t *code, size_t len, uint64_t addr, char *buf,
			size_t size);

/* -- asked by hpdiff -- */

/* Width of the displacement of a branch insn_widen_branch() re-encoded. */
#define INSN_WIDE_REL_SIZE 4

/*
 * Re-encode a branch with an 8-bit displacement (jmp rel8, jcc rel8) in
 * its 32-bit form, keeping its prefixes; the new displacement is zero.
 * Writes at most 16 bytes to out; sets *len and *rel_off (the displacement
 * is the last INSN_WIDE_REL_SIZE bytes).  Returns -1 for branches that have
 * no 32-bit form (loop, jrcxz).
 */
int insn_widen_branch(uint16_t machine, const uint8_t *code, const struct insn *in, uint8_t *out,
		      uint8_t *len, uint8_t *rel_off);

/*
 * Why a short branch cannot be widened, a static sentence for messages:
 * `leaves` for an 8-bit field that leaves the function (it is not a branch
 * insn_widen_branch() widens), otherwise for one inside the function that
 * widening its neighbours would put out of reach.
 */
const char *insn_widen_refusal(uint16_t machine, bool leaves);

/* -- asked by hppack -- */

/*
 * New code that takes the address of another module's variable with a
 * 4-byte PC-relative field (code built with -fPIE expects the program to
 * hold a copy of the variable, which a baseline that never used it does
 * not have): can the instruction load that address from an 8-byte slot
 * instead, in the same bytes?  For x86-64's `lea sym(%rip), %reg`, which
 * becomes `mov slot(%rip), %reg` (the reverse of the linker's GOTPCRELX
 * relaxation).  If so, code[0, size) is rewritten in place and the return
 * is the relocation type of the field (arch_reloc_got_load() says yes to
 * it), with in *bias how far the field ends before its instruction does
 * (what the field's addend holds besides the target's offset).  0 for any
 * other instruction, code unchanged: one that reads or writes the
 * variable itself, which a slot of its address cannot serve.
 */
uint32_t insn_address_from_slot(uint16_t machine, uint8_t *code, size_t size, uint32_t field,
				int64_t *bias);

/* ---- live code: registers, redirects, stubs ---------------------- */

typedef struct user_regs_struct regs_t;

/* Bytes of the redirect jump (jmp rel32). */
#define ARCH_JUMP_LEN 5

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

/* `jmp to` placed at `at`: ARCH_JUMP_LEN bytes into out.  false if out of reach. */
bool arch_jump(uint64_t at, uint64_t to, uint8_t out[ARCH_JUMP_LEN]);

/*
 * Could `ret` be a return address: do the bytes before it (code[0..pre_len)
 * ending right at `ret`) end in a call instruction?
 */
bool arch_follows_call(const uint8_t *pre, size_t pre_len);

/*
 * Signal frames on a thread's stack.  A handler returns to the sigreturn
 * trampoline: the frame the kernel built begins with that return address,
 * and holds the interrupted context (its pc is where the thread resumes
 * once the handler returns, exactly, not a return address).
 */
#define ARCH_SIGRETURN_LEN 9   /* bytes arch_is_sigreturn looks at */
#define ARCH_SIGFRAME_LEN  184 /* bytes of a frame arch_signal_frame reads */
/* Do these bytes begin with the sigreturn trampoline (mov $15, %rax; syscall)? */
bool arch_is_sigreturn(const uint8_t *code, size_t len);
/*
 * The interrupted pc and stack pointer of the signal frame at frame[0]
 * (ARCH_SIGFRAME_LEN bytes, its first word the trampoline's address).
 */
void arch_signal_frame(const uint8_t *frame, uint64_t *pc, uint64_t *sp);

/*
 * Register `regno` of a stopped thread in DWARF's numbering for the
 * machine (which libunwind's follows): false if regs_t does not hold it.
 */
bool arch_dwarf_reg(const regs_t *r, int regno, uint64_t *val);

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
 * The commit stub: it opens /proc/thread-self/mem, then for each entry of a table
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
	uint64_t dst;	      /* where in the target */
	const uint8_t *bytes; /* what to write there (copied into the stub) */
	uint64_t len;
};

size_t arch_commit_stub(uint64_t at, const regs_t *resume, const struct arch_write *w, size_t n,
			uint64_t commit_flag, uint64_t sigmask, uint8_t *out, size_t size,
			size_t *tail);

/* -- asked by hpapply (hpapply/ptrace.c, placement.c, apply.c) -- */

/*
 * Bytes of the system call instruction the syscall stub begins with: at a
 * syscall stop inside the stub, the pc is this far past the stub's start.
 */
#define ARCH_SYSCALL_INSN_LEN 2

/* The system call number a syscall stop (entry or exit) reports; -1 if none. */
long arch_syscall_nr(const regs_t *r);

/*
 * Point r, a stopped thread's resume state, at code to run at `at` on the
 * thread's own stack: the pc at `at`; the stack pointer below the red zone
 * (the bytes under it the interrupted code may be using), aligned as at a
 * call; no system call to restart.  The other registers are kept.
 */
void arch_stub_regs(regs_t *r, uint64_t at);

/*
 * How far a package's region may be from the baseline image: the reach of
 * the redirect jump and of the PC-relative fields between them (rel32: 2 GiB).
 */
#define ARCH_NEAR_REACH (1ull << 31)

/* Where user space ends: no mapping goes at or above it (47-bit addresses). */
#define ARCH_USER_END 0x7ffffffff000ull

/* Fill code[0, len) with instructions that trap (int3): padding between functions. */
void arch_fill_trap(uint8_t *code, size_t len);

/*
 * Bytes at a function's entry code[0, len) that the redirect goes after: a
 * landing pad indirect branches must still find (endbr64: 4), or 0.
 */
size_t arch_landing_pad(const uint8_t *code, size_t len);

#endif
