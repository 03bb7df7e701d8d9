/*
 * Unwinding a traced thread with libunwind's ptrace accessors.  Used only
 * to confirm what the conservative stack scan (safety.c) suspects, so its
 * cost (registers and memory read word by word through ptrace) is paid
 * only in that rare case.
 */
#include <libunwind-ptrace.h>

#include "hpapply/unwind.h"

#define MAX_FRAMES 4096

int unwind_thread(pid_t tid, uint64_t *pcs, size_t max, size_t *n)
{
	unw_addr_space_t as;
	unw_cursor_t cursor;
	void *ui;
	int ret = -1, step = 1;

	*n = 0;
	as = unw_create_addr_space(&_UPT_accessors, 0);
	if (!as)
		return -1;
	ui = _UPT_create(tid);
	if (!ui) {
		unw_destroy_addr_space(as);
		return -1;
	}
	if (unw_init_remote(&cursor, as, ui) == 0) {
		while (step > 0 && *n < max && *n < MAX_FRAMES) {
			unw_word_t pc;

			if (unw_get_reg(&cursor, UNW_REG_IP, &pc) < 0)
				break;
			pcs[(*n)++] = pc;
			step = unw_step(&cursor);
		}
		/* 0: the outermost frame was reached; anything else is incomplete */
		ret = step == 0 ? 0 : -1;
	}
	_UPT_destroy(ui);
	unw_destroy_addr_space(as);
	return ret;
}
