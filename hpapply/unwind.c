/*
 * Unwinding a stopped thread from copies of its registers and stack,
 * through libunwind's remote interface with accessors of our own: memory
 * comes from the copies (and, for code and unwind tables, the caller's
 * reader), registers from the copy, and the unwind tables are found by
 * libunwind-ptrace's find_proc_info, which reads /proc/PID/maps and the
 * mapped files and never stops or reads the thread itself.  So the walk
 * costs no system call per word, and the thread may run again meanwhile.
 */
#include <libunwind-ptrace.h>
#include <string.h>

#include "hpapply/unwind.h"

/*
 * libunwind hands its find_proc_info's own argument (the UPT handle) to
 * the memory accessor it calls from there: the walk's state is found here
 * instead.
 */
static __thread const struct unwind_src *cur;
static __thread void *upt;

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	(void)as;
	(void)arg;
	if (write)
		return -UNW_EINVAL;
	for (size_t i = 0; i < cur->nsegs; i++) {
		const struct unwind_seg *s = &cur->segs[i];

		if (addr >= s->lo && addr < s->hi && s->hi - addr >= sizeof(*val)) {
			memcpy(val, s->bytes + (addr - s->lo), sizeof(*val));
			return 0;
		}
	}
	return cur->read(cur->ctx, addr, val, sizeof(*val)) == 0 ? 0 : -UNW_EINVAL;
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	uint64_t v;

	(void)as;
	(void)arg;
	if (write || !arch_dwarf_reg(cur->regs, (int)reg, &v))
		return -UNW_EBADREG;
	*val = v;
	return 0;
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need,
			  void *arg)
{
	(void)arg;
	return _UPT_find_proc_info(as, ip, pi, need, upt);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)arg;
	_UPT_put_unwind_info(as, pi, upt);
}

/* Unwind information registered at run time (JIT compilers): not looked for. */
static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil, void *arg)
{
	(void)as;
	(void)dil;
	(void)arg;
	return -UNW_ENOINFO;
}

static int resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;
}

static int get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
			 unw_word_t *off, void *arg)
{
	(void)as;
	(void)addr;
	(void)buf;
	(void)len;
	(void)off;
	(void)arg;
	return -UNW_ENOINFO;
}

static bool is_sigreturn(const struct unwind_src *src, uint64_t pc)
{
	uint8_t code[ARCH_SIGRETURN_LEN];

	return src->read(src->ctx, pc, code, sizeof(code)) == 0 &&
	       arch_is_sigreturn(code, sizeof(code));
}

static unw_accessors_t accessors = {find_proc_info, put_unwind_info, get_dyn_info_list_addr,
				    access_mem,	    access_reg,	     access_fpreg,
				    resume,	    get_proc_name};

int unwind_walk(const struct unwind_src *src, int (*visit)(void *arg, uint64_t pc, bool exact),
		void *arg)
{
	unw_addr_space_t as;
	unw_cursor_t cursor;
	int ret = -1;

	as = unw_create_addr_space(&accessors, 0);
	if (!as)
		return -1;
	upt = _UPT_create(src->pid);
	if (!upt) {
		unw_destroy_addr_space(as);
		return -1;
	}
	cur = src;
	if (unw_init_remote(&cursor, as, NULL) == 0) {
		bool exact = false;

		for (size_t n = 0; n < src->max_frames; n++) {
			unw_word_t pc;
			int step;

			if (unw_get_reg(&cursor, UNW_REG_IP, &pc) < 0)
				break;
			if (n > 0 && visit(arg, pc, exact)) {
				ret = 1;
				break;
			}
			/*
			 * A return address at the sigreturn trampoline: the frame
			 * past it is the context a signal interrupted, its pc exact.
			 */
			exact = is_sigreturn(src, pc);
			step = unw_step(&cursor);
			if (step == 0) {
				ret = 0; /* the outermost frame */
				break;
			}
			if (step < 0)
				break;
		}
	}
	cur = NULL;
	_UPT_destroy(upt);
	upt = NULL;
	unw_destroy_addr_space(as);
	return ret;
}
