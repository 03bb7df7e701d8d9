/*
 * Checked allocation for the tools; see mem.h.  Failures are said once,
 * here, through error().
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/mem.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		error("out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		error("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		error("out of memory");
	return q;
}

int grow_array(void *arrayp, size_t *cap, size_t n, size_t item, size_t first)
{
	size_t c = *cap;
	void *v;

	if (n < c)
		return 0;
	while (c <= n) {
		if (c > SIZE_MAX / 2)
			return error("out of memory");
		c = c ? c * 2 : first ? first : 1;
	}
	if (item && c > SIZE_MAX / item)
		return error("out of memory");
	/* the pointer is copied, not read as a void *: arrayp may point to any T * */
	memcpy(&v, arrayp, sizeof(v));
	v = xrealloc(v, c * item);
	if (!v)
		return -1;
	memset((char *)v + *cap * item, 0, (c - *cap) * item);
	memcpy(arrayp, &v, sizeof(v));
	*cap = c;
	return 0;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		error("out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		error("out of memory");
		return NULL;
	}
	return s;
}
