/*
 * x86-64 for hpapply: restart normalisation, jumps, call sites, and the
 * machine code of the syscall and commit stubs, assembled by hand here
 * (each instruction's encoding is spelled out next to it).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>

#include "arch/arch.h"

/* Kernel-internal restart codes a stopped system call may show in rax. */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

void arch_resume_state(const regs_t *in, regs_t *out)
{
	*out = *in;
	if ((long)in->orig_rax >= 0) {
		switch (-(long)in->rax) {
		case ERESTARTSYS:
		case ERESTARTNOINTR:
		case ERESTARTNOHAND:
			out->rax = in->orig_rax;
			out->rip = in->rip - 2; /* back onto the `syscall` */
			break;
		case ERESTART_RESTARTBLOCK:
			out->rax = SYS_restart_syscall;
			out->rip = in->rip - 2;
			break;
		default:
			break;
		}
	}
	out->orig_rax = (unsigned long long)-1;
}

uint64_t arch_pc(const regs_t *r)
{
	return r->rip;
}

uint64_t arch_sp(const regs_t *r)
{
	return r->rsp;
}

#define EFLAGS_TF 0x100

bool arch_step_flag(const regs_t *r)
{
	return r->eflags & EFLAGS_TF;
}

void arch_clear_step_flag(regs_t *r)
{
	r->eflags &= ~(unsigned long long)EFLAGS_TF;
}

void arch_syscall_regs(regs_t *r, uint64_t at, long nr, const uint64_t a[6])
{
	r->rax = (unsigned long long)nr;
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
	r->rip = at;
	r->orig_rax = (unsigned long long)-1;
}

long arch_syscall_result(const regs_t *r)
{
	return (long)r->rax;
}

long arch_syscall_nr(const regs_t *r)
{
	return (long)r->orig_rax;
}

/*
 * Bytes left alone below a thread's rsp when a stub runs on its stack:
 * the psABI's red zone is 128 bytes; 512 leaves room to spare.
 */
#define STUB_STACK_GAP 512
#define STACK_ALIGN    16

void arch_stub_regs(regs_t *r, uint64_t at)
{
	r->rsp = (r->rsp - STUB_STACK_GAP) & ~(unsigned long long)(STACK_ALIGN - 1);
	r->rip = at;
	r->orig_rax = (unsigned long long)-1;
}

void arch_fill_trap(uint8_t *code, size_t len)
{
	memset(code, 0xcc, len); /* int3 */
}

size_t arch_landing_pad(const uint8_t *c, size_t len)
{
	/* endbr64: f3 0f 1e fa */
	return len >= 4 && c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa ? 4 : 0;
}

bool arch_jump(uint64_t at, uint64_t to, uint8_t out[ARCH_JUMP_LEN])
{
	int64_t d = (int64_t)(to - (at + 5));

	if (d < INT32_MIN || d > INT32_MAX)
		return false;
	out[0] = 0xe9;
	for (int i = 0; i < 4; i++)
		out[1 + i] = (uint8_t)((uint64_t)d >> (8 * i));
	return true;
}

bool arch_follows_call(const uint8_t *pre, size_t n)
{
	/* call rel32: e8 xx xx xx xx */
	if (n >= 5 && pre[n - 5] == 0xe8)
		return true;
	/* call r/m64: ff /2, 2 to 7 bytes (register, [reg], [reg+d8], [reg+d32], sib) */
	for (size_t len = 2; len <= 7 && len <= n; len++) {
		const uint8_t *p = pre + n - len;
		size_t at = (p[0] >= 0x40 && p[0] <= 0x4f && len > 2) ? 1 : 0; /* REX */

		if (p[at] == 0xff && ((p[at + 1] >> 3) & 7) == 2)
			return true;
	}
	return false;
}

void arch_far_stub(uint64_t target, uint8_t out[ARCH_FAR_STUB_LEN])
{
	out[0] = 0xff; /* jmp *[rip+0] */
	out[1] = 0x25;
	memset(out + 2, 0, 4);
	memcpy(out + 6, &target, 8);
}

/* ---- assembling ----------------------------------------------------------------- */

struct asm_buf {
	uint8_t *p;
	size_t len, size;
	uint64_t at; /* runtime address of p[0] */
	bool overflow;
};

static void emit(struct asm_buf *a, const uint8_t *bytes, size_t n)
{
	if (a->len + n > a->size) {
		a->overflow = true;
		return;
	}
	memcpy(a->p + a->len, bytes, n);
	a->len += n;
}

static void emit_u32(struct asm_buf *a, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	emit(a, b, 4);
}

static void emit_u64(struct asm_buf *a, uint64_t v)
{
	emit_u32(a, (uint32_t)v);
	emit_u32(a, (uint32_t)(v >> 32));
}

/*
 * RIP-relative displacement to target, for an instruction that ends
 * `remaining` bytes after the current position.
 */
static uint32_t rel(const struct asm_buf *a, size_t remaining, uint64_t target)
{
	return (uint32_t)(int32_t)(int64_t)(target - (a->at + a->len + remaining));
}

/* Register numbers in ModRM.reg (low 3 bits), REX.R for r8..r15. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* mov reg, [rip + disp32]: REX.W(+R) 8b modrm(00 reg 101) disp32 */
static void mov_reg_riprel(struct asm_buf *a, int reg, uint64_t target)
{
	uint8_t op[3] = {(uint8_t)(reg >= R8 ? 0x4c : 0x48), 0x8b,
			 (uint8_t)(0x05 | ((reg & 7) << 3))};
	uint32_t d = rel(a, 7, target); /* computed before the 7 bytes are emitted */

	emit(a, op, 3);
	emit_u32(a, d);
}

/* jmp *[rip + disp32]: ff 25 disp32 */
static void jmp_riprel(struct asm_buf *a, uint64_t target)
{
	static const uint8_t op[2] = {0xff, 0x25};
	uint32_t d = rel(a, 6, target);

	emit(a, op, 2);
	emit_u32(a, d);
}

static uint64_t reg_of(const regs_t *r, int reg)
{
	switch (reg) {
	case RAX:
		return r->rax;
	case RCX:
		return r->rcx;
	case RDX:
		return r->rdx;
	case RBX:
		return r->rbx;
	case RSP:
		return r->rsp;
	case RBP:
		return r->rbp;
	case RSI:
		return r->rsi;
	case RDI:
		return r->rdi;
	case R8:
		return r->r8;
	case R9:
		return r->r9;
	case R10:
		return r->r10;
	case R11:
		return r->r11;
	case R12:
		return r->r12;
	case R13:
		return r->r13;
	case R14:
		return r->r14;
	default:
		return r->r15;
	}
}

bool arch_is_sigreturn(const uint8_t *code, size_t len)
{
	/* mov $15 (rt_sigreturn), %rax: 48 c7 c0 0f 00 00 00 ; syscall: 0f 05 */
	static const uint8_t tramp[ARCH_SIGRETURN_LEN] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
							  0x00, 0x00, 0x0f, 0x05};

	return len >= sizeof(tramp) && !memcmp(code, tramp, sizeof(tramp));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

void arch_signal_frame(const uint8_t *frame, uint64_t *pc, uint64_t *sp)
{
	/*
	 * struct rt_sigframe: the return address (8), then struct ucontext:
	 * uc_flags (8), uc_link (8), uc_stack (24), then uc_mcontext, a
	 * struct sigcontext: r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx (15 x
	 * 8), rsp at 120, rip at 128.
	 */
	const uint8_t *mc = frame + 8 + 40;

	*sp = get_u64(mc + 120);
	*pc = get_u64(mc + 128);
}

bool arch_dwarf_reg(const regs_t *r, int regno, uint64_t *val)
{
	/* the psABI's DWARF numbers: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, 16 the return address
	 */
	static const int order[] = {RAX, RDX, RCX, RBX, RSI, RDI, RBP, RSP,
				    R8,	 R9,  R10, R11, R12, R13, R14, R15};

	if (regno == 16) {
		*val = r->rip;
		return true;
	}
	if (regno < 0 || regno >= (int)(sizeof(order) / sizeof(order[0])))
		return false;
	*val = reg_of(r, order[regno]);
	return true;
}

bool arch_is_syscall_stub(const uint8_t *b, size_t n)
{
	regs_t zero;
	uint8_t ref[ARCH_SYSCALL_STUB_LEN];

	/* The code part does not depend on the saved registers. */
	memset(&zero, 0, sizeof(zero));
	if (arch_syscall_stub(&zero, ref, sizeof(ref)) < 70 || n < 70)
		return false;
	return !memcmp(b, ref, 70);
}

size_t arch_syscall_stub(const regs_t *rs, uint8_t *out, size_t size)
{
	/*
	 * The stub is position independent: it only refers to its own data.
	 * The syscall leaves rsp alone and the kernel restores the flags
	 * (from the thread's state at entry, which hpapply set to rs's), so
	 * loading the registers the call used and jumping back is enough.
	 */
	static const int regs[] = {RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11};
	struct asm_buf a = {out, 0, size, 0, false};
	const size_t data = 72; /* code length, rounded up to 8 */
	static const uint8_t syscall_insn[2] = {0x0f, 0x05};

	emit(&a, syscall_insn, 2);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		mov_reg_riprel(&a, regs[i], data + 8 * i);
	jmp_riprel(&a, data + 8 * 9);
	while (a.len < data)
		emit(&a, (const uint8_t[]){0xcc}, 1);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		emit_u64(&a, reg_of(rs, regs[i]));
	emit_u64(&a, rs->rip);
	return a.overflow || a.len > ARCH_SYSCALL_STUB_LEN ? 0 : a.len;
}

/* A rel32 branch (opcode bytes given) to be patched later; returns where its rel32 is. */
static size_t branch32(struct asm_buf *a, const uint8_t *op, size_t oplen)
{
	size_t at;

	emit(a, op, oplen);
	at = a->len;
	emit_u32(a, 0);
	return at;
}

/* Point the rel32 at `at` to the current position. */
static void land(struct asm_buf *a, size_t at)
{
	uint32_t d = (uint32_t)(a->len - (at + 4));

	if (a->overflow)
		return;
	for (int i = 0; i < 4; i++)
		a->p[at + (size_t)i] = (uint8_t)(d >> (8 * i));
}

size_t arch_commit_stub(uint64_t at, const regs_t *rs, const struct arch_write *w, size_t n,
			uint64_t flag, uint64_t sigmask, uint8_t *out, size_t size, size_t *tail)
{
	/* the thread's own entry: /proc/self/mem is empty once the main thread has ended */
	static const char path[24] = "/proc/thread-self/mem";
	/* every general register but rsp, restored from the data area */
	static const int regs[] = {RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8,
				   R9,	R10, R11, R12, R13, R14, R15};
	static const uint8_t jmp32[1] = {0xe9}, js32[2] = {0x0f, 0x88}, jne32[2] = {0x0f, 0x85},
			     jz32[2] = {0x0f, 0x84};
	const size_t nregs = sizeof(regs) / sizeof(regs[0]);
	struct asm_buf a = {out, 0, size, at, false};
	size_t code_len, data_at, mask_at, path_at, table_at, loop_at;
	size_t to_openfail, to_done, to_wfail, to_mark, to_tail, to_tail2;

	/* Pass 1 with a dummy layout finds the code length; pass 2 writes it. */
	for (int pass = 0; pass < 2; pass++) {
		code_len = pass ? (a.len + 15) & ~(size_t)15 : 0;
		data_at = code_len;
		mask_at = data_at + 8 * (nregs + 3);
		path_at = mask_at + 8;
		table_at = path_at + sizeof(path);
		a.len = 0;
		a.overflow = false;
		/*
		 * openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC) into r13.
		 * lea rsi, [rip + path]: 48 8d 35 disp32 ; mov edi, imm32: bf ;
		 * mov edx, imm32: ba ; mov eax, imm32: b8 ; syscall: 0f 05
		 */
		emit(&a, (const uint8_t[]){0x48, 0x8d, 0x35}, 3);
		emit_u32(&a, rel(&a, 4, at + path_at));
		emit(&a, (const uint8_t[]){0xbf}, 1);
		emit_u32(&a, (uint32_t)AT_FDCWD);
		emit(&a, (const uint8_t[]){0xba}, 1);
		emit_u32(&a, O_RDWR | O_CLOEXEC);
		emit(&a, (const uint8_t[]){0xb8}, 1);
		emit_u32(&a, SYS_openat);
		emit(&a, (const uint8_t[]){0x0f, 0x05}, 2);
		/* test rax, rax: 48 85 c0 ; js openfail ; mov r13, rax: 49 89 c5 */
		emit(&a, (const uint8_t[]){0x48, 0x85, 0xc0}, 3);
		to_openfail = branch32(&a, js32, 2);
		emit(&a, (const uint8_t[]){0x49, 0x89, 0xc5}, 3);
		/* lea rbx, [rip + table]: 48 8d 1d disp32 */
		emit(&a, (const uint8_t[]){0x48, 0x8d, 0x1d}, 3);
		emit_u32(&a, rel(&a, 4, at + table_at));
		/* mov r12, n: 49 c7 c4 imm32 */
		emit(&a, (const uint8_t[]){0x49, 0xc7, 0xc4}, 3);
		emit_u32(&a, (uint32_t)n);
		loop_at = a.len;
		/* test r12, r12: 4d 85 e4 ; jz done */
		emit(&a, (const uint8_t[]){0x4d, 0x85, 0xe4}, 3);
		to_done = branch32(&a, jz32, 2);
		/* mov eax, SYS_pwrite64: b8 imm32 ; mov edi, r13d: 44 89 ef */
		emit(&a, (const uint8_t[]){0xb8}, 1);
		emit_u32(&a, SYS_pwrite64);
		emit(&a, (const uint8_t[]){0x44, 0x89, 0xef}, 3);
		/* mov rsi, [rbx+8]: 48 8b 73 08 ; mov rdx, [rbx+16]: 48 8b 53 10 ; mov r10, [rbx]:
		 * 4c 8b 13 */
		emit(&a,
		     (const uint8_t[]){0x48, 0x8b, 0x73, 0x08, 0x48, 0x8b, 0x53, 0x10, 0x4c, 0x8b,
				       0x13},
		     11);
		/* syscall ; cmp rax, [rbx+16]: 48 3b 43 10 ; jne wfail (short or failed write) */
		emit(&a, (const uint8_t[]){0x0f, 0x05, 0x48, 0x3b, 0x43, 0x10}, 6);
		to_wfail = branch32(&a, jne32, 2);
		/* add rbx, 24: 48 83 c3 18 ; dec r12: 49 ff cc ; jmp loop: e9 rel32 */
		emit(&a, (const uint8_t[]){0x48, 0x83, 0xc3, 0x18, 0x49, 0xff, 0xcc}, 7);
		emit(&a, jmp32, 1);
		emit_u32(&a, (uint32_t)(int32_t)((int64_t)loop_at - (int64_t)(a.len + 4)));
		/* done: mov ecx, 1: b9 imm32 ; jmp mark */
		land(&a, to_done);
		emit(&a, (const uint8_t[]){0xb9}, 1);
		emit_u32(&a, 1);
		to_mark = branch32(&a, jmp32, 1);
		/* wfail: mov ecx, 2 */
		land(&a, to_wfail);
		emit(&a, (const uint8_t[]){0xb9}, 1);
		emit_u32(&a, 2);
		/* mark: mov rax, flag: 48 b8 imm64 ; mov byte [rax], cl: 88 08 */
		land(&a, to_mark);
		emit(&a, (const uint8_t[]){0x48, 0xb8}, 2);
		emit_u64(&a, flag);
		emit(&a, (const uint8_t[]){0x88, 0x08}, 2);
		/* mov eax, SYS_close ; mov edi, r13d ; syscall ; jmp tail */
		emit(&a, (const uint8_t[]){0xb8}, 1);
		emit_u32(&a, SYS_close);
		emit(&a, (const uint8_t[]){0x44, 0x89, 0xef}, 3);
		emit(&a, (const uint8_t[]){0x0f, 0x05}, 2);
		to_tail = branch32(&a, jmp32, 1);
		/* openfail: mov rax, flag ; mov byte [rax], 2: c6 00 02 */
		land(&a, to_openfail);
		emit(&a, (const uint8_t[]){0x48, 0xb8}, 2);
		emit_u64(&a, flag);
		emit(&a, (const uint8_t[]){0xc6, 0x00, 0x02}, 3);
		to_tail2 = branch32(&a, jmp32, 1);
		/*
		 * tail: rt_sigprocmask(SIG_SETMASK, &mask, NULL, 8) puts the
		 * thread's own mask back (hpapply blocked every signal for the
		 * stub), so it is right even if hpapply is gone by now.
		 * mov eax, imm32 ; mov edi, 2: bf ; lea rsi, [rip + mask]: 48 8d 35 ;
		 * xor edx, edx: 31 d2 ; mov r10d, 8: 41 ba imm32 ; syscall
		 */
		land(&a, to_tail);
		land(&a, to_tail2);
		*tail = a.len;
		emit(&a, (const uint8_t[]){0xb8}, 1);
		emit_u32(&a, SYS_rt_sigprocmask);
		emit(&a, (const uint8_t[]){0xbf}, 1);
		emit_u32(&a, 2); /* SIG_SETMASK */
		emit(&a, (const uint8_t[]){0x48, 0x8d, 0x35}, 3);
		emit_u32(&a, rel(&a, 4, at + mask_at));
		emit(&a, (const uint8_t[]){0x31, 0xd2, 0x41, 0xba}, 4);
		emit_u32(&a, 8);
		emit(&a, (const uint8_t[]){0x0f, 0x05}, 2);
		/* push qword [rip + flags]: ff 35 disp32 ; popfq: 9d */
		emit(&a, (const uint8_t[]){0xff, 0x35}, 2);
		emit_u32(&a, rel(&a, 4, at + data_at));
		emit(&a, (const uint8_t[]){0x9d}, 1);
		for (size_t i = 0; i < nregs; i++)
			mov_reg_riprel(&a, regs[i], at + data_at + 8 * (1 + i));
		mov_reg_riprel(&a, RSP, at + data_at + 8 * (1 + nregs));
		jmp_riprel(&a, at + data_at + 8 * (2 + nregs));
	}
	while (a.len < code_len)
		emit(&a, (const uint8_t[]){0xcc}, 1);
	/* data: flags, the registers, rsp, rip */
	emit_u64(&a, rs->eflags);
	for (size_t i = 0; i < nregs; i++)
		emit_u64(&a, reg_of(rs, regs[i]));
	emit_u64(&a, rs->rsp);
	emit_u64(&a, rs->rip);
	emit_u64(&a, sigmask);
	emit(&a, (const uint8_t *)path, sizeof(path));
	/* table: {dst, src, len} per write; the source bytes follow it */
	{
		uint64_t blob = at + table_at + 24 * n;

		for (size_t i = 0; i < n; i++) {
			emit_u64(&a, w[i].dst);
			emit_u64(&a, blob);
			emit_u64(&a, w[i].len);
			blob += w[i].len;
		}
	}
	for (size_t i = 0; i < n; i++)
		emit(&a, w[i].bytes, w[i].len);
	return a.overflow ? 0 : a.len;
}
