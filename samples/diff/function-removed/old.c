/*
 * pathutil.c - normalise the path of a static-file request before it is
 * joined to the document root.
 */
#include <string.h>
#include "api.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode %XX escapes in place.  Kept for old clients that double-encode;
 * decoding after the ".." check is what made "%2e%2e/" traversal possible.
 */
int legacy_unescape(char *s);	/* still exported for the old CGI shim */

int legacy_unescape(char *s)
{
	char *w = s;
	int n = 0;

	for (; *s; s++, w++) {
		if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*w = (char)(hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
			n++;
		} else {
			*w = *s;
		}
	}
	*w = '\0';
	return n;
}

/* Collapse "//" and "/./"; returns length or -1 if it does not fit. */
int path_normalize(const char *in, char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return -1;
	while (*in) {
		if (in[0] == '/' && (in[1] == '/' || (in[1] == '.' && (in[2] == '/' || in[2] == '\0')))) {
			in += in[1] == '/' ? 1 : 2;
			continue;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = *in++;
	}
	out[o] = '\0';
	if (legacy_unescape(out) > 0)
		o = strlen(out);
	return (int)o;
}

/* 1 if the path has no ".." component. */
int path_is_safe(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return 0;
		p += 2;
	}
	return 1;
}
