/*
 * reqline.c - split an HTTP/1.x request line ("GET /path HTTP/1.1") into
 * its parts.  All functions take the raw buffer and its length; the buffer
 * is not NUL terminated.
 */
#include <string.h>
#include "api.h"

static int is_tchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Copy the method token into out (NUL terminated); return its length. */
int reqline_method(const char *buf, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return -1;
	while (n < len && is_tchar((unsigned char)buf[n]))
		n++;
	if (n == 0 || n == len || buf[n] != ' ')
		return -1;
	if (n >= outlen)
		return -1;	/* CVE-style fix: method longer than caller's buffer */
	memcpy(out, buf, n);
	out[n] = '\0';
	return (int)n;
}

/* Copy the request target into out (NUL terminated); return its length. */
int reqline_target(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *sp = memchr(buf, ' ', len);
	const char *end;
	size_t n;

	if (sp == NULL)
		return -1;
	sp++;
	end = memchr(sp, ' ', len - (size_t)(sp - buf));
	if (end == NULL)
		end = buf + len;
	n = (size_t)(end - sp);
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, sp, n);
	out[n] = '\0';
	return (int)n;
}

/* Return 10 for HTTP/1.0, 11 for HTTP/1.1, -1 otherwise. */
int reqline_version(const char *buf, size_t len)
{
	const char *v;

	if (len < 8)
		return -1;
	v = buf + len - 8;
	if (memcmp(v, "HTTP/1.", 7) != 0)
		return -1;
	if (v[7] == '0')
		return 10;
	if (v[7] == '1')
		return 11;
	return -1;
}
