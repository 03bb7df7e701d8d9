/*
 * numparse.c - strict parsing of numeric configuration values.  The reason
 * of the last failure is kept per thread, like errno.
 */
#include "api.h"

static __thread enum np_err last_error;
static __thread unsigned calls;

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long acc = 0;

	calls++;
	if (*s == '\0') {
		last_error = NP_EMPTY;
		return -1;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9') {
			last_error = NP_JUNK;
			return -1;
		}
		acc = acc * 10 + (unsigned long)(*s - '0');
		if (acc > max) {
			last_error = NP_RANGE;
			return -1;
		}
	}
	last_error = NP_OK;
	*v = acc;
	return 0;
}

int np_parse_port(const char *s, unsigned *port)
{
	unsigned long v;

	if (parse_uint(s, 65535, &v) < 0)
		return -1;
	if (v == 0) {		/* port 0 means "any port" to bind(): refuse */
		last_error = NP_RANGE;
		return -1;
	}
	*port = (unsigned)v;
	return 0;
}

int np_parse_percent(const char *s, unsigned *pct)
{
	unsigned long v;

	if (parse_uint(s, 100, &v) < 0)
		return -1;
	*pct = (unsigned)v;
	return 0;
}

enum np_err np_last_error(void)
{
	return last_error;
}

unsigned np_calls(void)
{
	return calls;
}
