/*
 * pathutil.c - normalise the path of a static-file request before it is
 * joined to the document root.
 */
#include <string.h>
#include "api.h"

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
