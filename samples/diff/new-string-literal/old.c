/*
 * reply.c - format replies of the line protocol spoken by the cache daemon
 * ("+OK", ":42", "-ERR 404 no such key", "$5 hello").  Every function
 * returns the number of bytes written (without the NUL) or -1 if the
 * reply does not fit.
 */
#include <stdio.h>
#include <string.h>
#include "api.h"

static int fits(int r, size_t n)
{
	return r >= 0 && (size_t)r < n ? r : -1;
}

int reply_ok(char *buf, size_t n)
{
	return fits(snprintf(buf, n, "+OK\r\n"), n);
}

int reply_int(char *buf, size_t n, long v)
{
	return fits(snprintf(buf, n, ":%ld\r\n", v), n);
}

int reply_error(char *buf, size_t n, int code, const char *detail)
{
	if (code < 100 || code > 999)
		code = 500;
	return fits(snprintf(buf, n, "-ERR %d %s\r\n", code, detail), n);
}

int reply_bulk(char *buf, size_t n, const char *data, size_t len)
{
	int hdr = snprintf(buf, n, "$%zu ", len);

	if (hdr < 0 || (size_t)hdr + len + 3 > n)
		return -1;
	memcpy(buf + hdr, data, len);
	memcpy(buf + hdr + len, "\r\n", 3);
	return hdr + (int)len + 2;
}
